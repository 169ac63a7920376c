"""The returns feature's buttons (`rt:`): answers about one's own trip, the head's reminders, and
the return declaration (provinces visited, symptoms, contacts)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.provinces import all_provinces
from bot.services.kernel.buttons import ActionOn, Choice, Codec, Numbered, Signal
from bot.services.kernel.pickers import ProvinceButtons
from bot.services.travel.buttons import INERT, MAX_PAGES

SYMPTOMS = ("fever", "cough", "breath", "pneumonia", "sore_throat", "tiredness")
CONTACTS = ("covid_patient", "case_area", "symptomatic")
OWN_TRIP_ACTIONS = ("b", "t", "d", "n", "ok")
OVERSEER_ACTIONS = ("nag", "ask")


@dataclass(frozen=True)
class TripAction(ActionOn):
    """On trip N: `b` back now, `t` back at another time, `d` delayed, `n` did not happen,
    `ok` declared; for the head, `nag` (remind to declare) and `ask` (ask again if back)."""

    PREFIX = "rt"
    ACTIONS = OWN_TRIP_ACTIONS + OVERSEER_ACTIONS


@dataclass(frozen=True)
class MeasureAction(ActionOn):
    """After trip N from an area requiring a test: `neg` / `pos` the person's result; for the
    head, `tnag` (remind them to send it)."""

    PREFIX = "rt"
    ACTIONS = ("neg", "pos", "tnag")


@dataclass(frozen=True)
class DeclarationStep(Signal):
    """`rt:pd`, `rt:sd`, `rt:cd`: the provinces, symptoms or contacts are complete."""

    PREFIX = "rt"
    WORDS = ("pd", "sd", "cd")


@dataclass(frozen=True)
class SymptomToggle(Choice):
    PREFIX = "rt"
    VERB = "s"
    VALUES = SYMPTOMS


@dataclass(frozen=True)
class ContactToggle(Choice):
    PREFIX = "rt"
    VERB = "c"
    VALUES = CONTACTS


@dataclass(frozen=True)
class ReturnProvince(Numbered):
    PREFIX = "rt"
    VERB = "p"
    BELOW = len(all_provinces())


@dataclass(frozen=True)
class ReturnPage(Numbered):
    PREFIX = "rt"
    VERB = "pg"
    BELOW = MAX_PAGES


DeclarationButton = DeclarationStep | SymptomToggle | ContactToggle | ReturnProvince | ReturnPage
ReturnButton = TripAction | MeasureAction | DeclarationButton
RETURNS = Codec[ReturnButton](
    "rt",
    (
        TripAction,
        MeasureAction,
        DeclarationStep,
        SymptomToggle,
        ContactToggle,
        ReturnProvince,
        ReturnPage,
    ),
)
PROVINCES = ProvinceButtons(ReturnProvince, ReturnPage, INERT)
