"""The duty roster's buttons (`dy:`): a unit head adding a shift (the person, the day, from and
to) or swapping one. A decoded button only names an object: the desk checks in the database
that the presser may change that unit's roster now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Self

from bot.services.kernel.buttons import (
    SEPARATOR,
    ActionOn,
    ButtonData,
    Codec,
    Numbered,
    OnPerson,
    Signal,
    date_part,
    month_part,
    time_part,
)
from bot.services.kernel.pickers import PEOPLE_PAGES, CalendarButtons, PeopleButtons

TIME_FIELDS = ("f", "t")  # from, to


@dataclass(frozen=True)
class AddShift(ButtonData):
    """`dy:add:HB-TH`: «➕ Add a shift» to the roster of unit HB-TH."""

    PREFIX = "dy"
    unit_id: str

    def parts(self) -> tuple[str | int, ...]:
        return ("add", self.unit_id)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("add", *rest) if rest and (unit_id := SEPARATOR.join(rest)).strip():
                return cls(unit_id)
        return None


@dataclass(frozen=True)
class ShiftAction(ActionOn):
    """`dy:sw:12`: swap shift 12 to another person."""

    PREFIX = "dy"
    ACTIONS = ("sw",)


@dataclass(frozen=True)
class DutyPerson(OnPerson):
    """`dy:p:TH-004`: this person takes the shift."""

    PREFIX = "dy"


@dataclass(frozen=True)
class DutyPage(Numbered):
    PREFIX = "dy"
    VERB = "pg"
    BELOW = PEOPLE_PAGES


@dataclass(frozen=True)
class DutySignal(Signal):
    """`dy:_` an inert label of the calendar, `dy:x` stop adding or swapping."""

    PREFIX = "dy"
    WORDS = ("_", "x")


@dataclass(frozen=True)
class DutyMonth(ButtonData):
    """`dy:m:202105`: that month's calendar for the shift's day."""

    PREFIX = "dy"
    month: date

    def parts(self) -> tuple[str | int, ...]:
        return ("m", f"{self.month:%Y%m}")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("m", text) if month := month_part(text):
                return cls(month)
        return None


@dataclass(frozen=True)
class DutyDay(ButtonData):
    """`dy:d:20210527`: the shift starts that day."""

    PREFIX = "dy"
    day: date

    def parts(self) -> tuple[str | int, ...]:
        return ("d", f"{self.day:%Y%m%d}")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("d", text) if day := date_part(text):
                return cls(day)
        return None


@dataclass(frozen=True)
class DutyTime(ButtonData):
    """`dy:t:f:0600` the shift is from 06:00, `dy:t:t:1400` to 14:00."""

    PREFIX = "dy"
    field: str
    at: time

    def parts(self) -> tuple[str | int, ...]:
        return ("t", self.field, f"{self.at:%H%M}")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("t", field, text) if field in TIME_FIELDS and (at := time_part(text)):
                return cls(field, at)
        return None


DutyButton = (
    AddShift | ShiftAction | DutyPerson | DutyPage | DutySignal | DutyMonth | DutyDay | DutyTime
)
DUTY_BUTTONS = Codec[DutyButton](
    "dy",
    (AddShift, ShiftAction, DutyPerson, DutyPage, DutySignal, DutyMonth, DutyDay, DutyTime),
)
INERT = DutySignal("_")
CALENDAR = CalendarButtons(
    month=lambda _field, month: DutyMonth(month),
    day=lambda _field, day: DutyDay(day),
    time=DutyTime,
    inert=INERT,
)
PEOPLE = PeopleButtons(pick=lambda person: DutyPerson(person.staff_id), turn=DutyPage)


@dataclass(frozen=True)
class PassUp(ActionOn):
    """`vt:up:7`: «⏫ Beyond my authority» on alert 7 (a duty officer); `vt:take:3`: a district
    leader takes referral 3."""

    PREFIX = "vt"
    ACTIONS = ("up", "take")


PASS_UP = Codec[PassUp]("vt", (PassUp,))
