"""The health feature's buttons: the /symptoms conversation (`sy:`), acknowledging an alert
(`ha:`), its details under minimal messages (`hx:`), the daily check-in (`mc:`), ending a
monitoring (`mo:`), the /case conversation (`cs:`) and ending a listed area (`ar:`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Self

from bot.domain.health import Symptom
from bot.services.kernel.buttons import (
    ActionOn,
    ButtonData,
    Choice,
    Codec,
    Numbered,
    OnPerson,
    Signal,
    date_part,
    ref_part,
)
from bot.services.kernel.pickers import PEOPLE_PAGES

CONTACT_ANSWERS = ("yes", "no", "unknown")
LEVELS = ("F0", "F1")
SCENARIOS = ("PA1", "PA2")
ONSET_DAYS = 3  # today, yesterday, two days ago


# --- /symptoms ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SymptomToggle(Choice):
    PREFIX = "sy"
    VERB = "t"
    VALUES = tuple(s.value for s in Symptom)


@dataclass(frozen=True)
class SymptomSignal(Signal):
    """`sy:next` after the symptoms, `sy:notemp` no temperature measured, `sy:no` cancel."""

    PREFIX = "sy"
    WORDS = ("next", "notemp", "no")


@dataclass(frozen=True)
class Onset(Numbered):
    """`sy:onset:1`: the symptoms began that many days ago."""

    PREFIX = "sy"
    VERB = "onset"
    BELOW = ONSET_DAYS


@dataclass(frozen=True)
class ContactAnswer(Choice):
    PREFIX = "sy"
    VERB = "c"
    VALUES = CONTACT_ANSWERS


SymptomButton = SymptomToggle | SymptomSignal | Onset | ContactAnswer
SYMPTOMS = Codec[SymptomButton]("sy", (SymptomToggle, SymptomSignal, Onset, ContactAnswer))


# --- alerts and monitoring ----------------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledge(ButtonData):
    """`ha:7`: «received» on health alert 7."""

    PREFIX = "ha"
    alert_id: int

    def parts(self) -> tuple[str | int, ...]:
        return (self.alert_id,)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case (text,) if (ref := ref_part(text)) is not None:
                return cls(ref)
        return None


@dataclass(frozen=True)
class Checkin(ButtonData):
    """`mc:3:20210601:y`: the answer to monitoring 3's check-in of that day (y: symptoms)."""

    PREFIX = "mc"
    monitoring_id: int
    day: date
    symptoms: bool

    def parts(self) -> tuple[str | int, ...]:
        return (self.monitoring_id, f"{self.day:%Y%m%d}", "y" if self.symptoms else "n")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case (ref_text, day_text, ("y" | "n") as answer) if (
                ref := ref_part(ref_text)
            ) is not None and (day := date_part(day_text)):
                return cls(ref, day, answer == "y")
        return None


@dataclass(frozen=True)
class MonitoringAction(ActionOn):
    """`mo:end:3`: end monitoring 3 early."""

    PREFIX = "mo"
    ACTIONS = ("end",)


@dataclass(frozen=True)
class HealthDetail(ActionOn):
    """`hx:a:7` the details of alert 7, `hx:r:12` of symptom report 12 (minimal messages)."""

    PREFIX = "hx"
    ACTIONS = ("a", "r")


ACKNOWLEDGE = Codec("ha", (Acknowledge,))
DETAILS = Codec("hx", (HealthDetail,))
CHECKINS = Codec("mc", (Checkin,))
MONITORINGS = Codec("mo", (MonitoringAction,))


# --- /case and /areas ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseAddContact(ActionOn):
    """`cs:add:5`: add a contact of case-tree node 5."""

    PREFIX = "cs"
    ACTIONS = ("add",)


@dataclass(frozen=True)
class CasePerson(OnPerson):
    """`cs:p:<staff id>`: the person the case is about, from the directory."""

    PREFIX = "cs"


@dataclass(frozen=True)
class CaseSignal(Signal):
    """`cs:ext`: someone outside the directory."""

    PREFIX = "cs"
    WORDS = ("ext",)


@dataclass(frozen=True)
class CasePeoplePage(Numbered):
    """`cs:more:1`: that page of the names matching the typed one."""

    PREFIX = "cs"
    VERB = "more"
    BELOW = PEOPLE_PAGES


@dataclass(frozen=True)
class CaseLevelChoice(Choice):
    PREFIX = "cs"
    VERB = "l"
    VALUES = LEVELS


@dataclass(frozen=True)
class CaseScenario(Choice):
    PREFIX = "cs"
    VERB = "s"
    VALUES = SCENARIOS


CaseButton = (
    CaseAddContact | CasePerson | CaseSignal | CasePeoplePage | CaseLevelChoice | CaseScenario
)
CASES = Codec[CaseButton](
    "cs", (CaseAddContact, CasePerson, CaseSignal, CasePeoplePage, CaseLevelChoice, CaseScenario)
)


@dataclass(frozen=True)
class AreaAction(ActionOn):
    """`ar:end:4`: area 4 is no longer listed."""

    PREFIX = "ar"
    ACTIONS = ("end",)


AREAS = Codec("ar", (AreaAction,))
