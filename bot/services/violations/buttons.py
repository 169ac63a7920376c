"""The violations feature's buttons (`vl:`): record a violation on the person of trip N (from a
head's reminder) or on a person named by staff id (from /unit), then its kind."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.violations import KINDS
from bot.services.kernel.buttons import ActionOn, Choice, Codec, OnPerson, Signal


@dataclass(frozen=True)
class ViolationOn(ActionOn):
    """`vl:t:12`: a violation by the person of trip 12."""

    PREFIX = "vl"
    ACTIONS = ("t",)


@dataclass(frozen=True)
class ViolationPerson(OnPerson):
    """`vl:p:<staff id>`: a violation by that person."""

    PREFIX = "vl"


@dataclass(frozen=True)
class ViolationKind(Choice):
    PREFIX = "vl"
    VERB = "k"
    VALUES = KINDS


@dataclass(frozen=True)
class ViolationCancel(Signal):
    PREFIX = "vl"
    WORDS = ("x",)


ViolationButton = ViolationOn | ViolationPerson | ViolationKind | ViolationCancel
VIOLATIONS = Codec[ViolationButton](
    "vl", (ViolationOn, ViolationPerson, ViolationKind, ViolationCancel)
)
