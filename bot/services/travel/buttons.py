"""The travel feature's buttons: the request conversation (`tv:`), decisions (`ap:`), approving
everything at once (`apall`) and the requester's own actions (`rq:`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Self

from bot.domain.provinces import all_provinces
from bot.services.kernel.buttons import (
    ActionOn,
    ButtonData,
    Choice,
    Codec,
    Numbered,
    Signal,
    date_part,
    month_part,
    ref_part,
    time_part,
)
from bot.services.kernel.pickers import CalendarButtons, ProvinceButtons

FIELDS = ("dest", "address", "dep", "ret", "purpose", "case_area")
CASE_ANSWERS = ("yes", "no", "unknown")
DATE_FIELDS = ("dep", "ret")
MAX_PAGES = 100


@dataclass(frozen=True)
class TravelSignal(Signal):
    """`tv:noop` (an inert label), and the summary's send, edit and cancel."""

    PREFIX = "tv"
    WORDS = ("noop", "ok", "ed", "no")


INERT = TravelSignal("noop")


@dataclass(frozen=True)
class TravelProvince(Numbered):
    PREFIX = "tv"
    VERB = "p"
    BELOW = len(all_provinces())


@dataclass(frozen=True)
class TravelPage(Numbered):
    PREFIX = "tv"
    VERB = "pg"
    BELOW = MAX_PAGES


@dataclass(frozen=True)
class CaseAreaAnswer(Choice):
    PREFIX = "tv"
    VERB = "ca"
    VALUES = CASE_ANSWERS


@dataclass(frozen=True)
class EditField(Choice):
    PREFIX = "tv"
    VERB = "ef"
    VALUES = FIELDS


@dataclass(frozen=True)
class CalendarMonth(ButtonData):
    """`tv:cal:dep:202605`: show that month's calendar for the departure or the return."""

    PREFIX = "tv"
    field: str
    month: date

    def parts(self) -> tuple[str | int, ...]:
        return ("cal", self.field, f"{self.month:%Y%m}")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("cal", field, text) if field in DATE_FIELDS and (month := month_part(text)):
                return cls(field, month)
        return None


@dataclass(frozen=True)
class CalendarDay(ButtonData):
    """`tv:day:dep:20260526`: this day for the departure or the return."""

    PREFIX = "tv"
    field: str
    day: date

    def parts(self) -> tuple[str | int, ...]:
        return ("day", self.field, f"{self.day:%Y%m%d}")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("day", field, text) if field in DATE_FIELDS and (day := date_part(text)):
                return cls(field, day)
        return None


@dataclass(frozen=True)
class QuickTime(ButtonData):
    """`tv:t:dep:0730`: this time of day for the departure or the return."""

    PREFIX = "tv"
    field: str
    at: time

    def parts(self) -> tuple[str | int, ...]:
        return ("t", self.field, f"{self.at:%H%M}")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("t", field, text) if field in DATE_FIELDS and (at := time_part(text)):
                return cls(field, at)
        return None


TravelButton = (
    TravelSignal
    | TravelProvince
    | TravelPage
    | CaseAreaAnswer
    | EditField
    | CalendarMonth
    | CalendarDay
    | QuickTime
)


@dataclass(frozen=True)
class Decide(ButtonData):
    """`ap:12:y` / `ap:12:n`: approve or deny request 12."""

    PREFIX = "ap"
    request_id: int
    approve: bool

    def parts(self) -> tuple[str | int, ...]:
        return (self.request_id, "y" if self.approve else "n")

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case (text, ("y" | "n") as choice) if (ref := ref_part(text)) is not None:
                return cls(ref, choice == "y")
        return None


@dataclass(frozen=True)
class ApproveAll(ButtonData):
    """`apall` asks to approve every waiting request; `apall:y` confirms."""

    PREFIX = "apall"
    confirmed: bool

    def parts(self) -> tuple[str | int, ...]:
        return ("y",) if self.confirmed else ()

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        return {(): cls(False), ("y",): cls(True)}.get(parts)


@dataclass(frozen=True)
class RequestAction(ActionOn):
    """`rq:x:12` cancel, `rq:am` / `rq:ch` change the dates, `rq:keep` keep it under a ban,
    `rq:why` give the special reason a ban that started later asks for."""

    PREFIX = "rq"
    ACTIONS = ("x", "am", "ch", "keep", "why")


TRAVEL = Codec[TravelButton](
    "tv",
    (TravelSignal, TravelProvince, TravelPage, CaseAreaAnswer, EditField)
    + (CalendarMonth, CalendarDay, QuickTime),
)
DECISIONS = Codec("ap", (Decide,))
APPROVE_ALL = Codec("apall", (ApproveAll,))
REQUESTS = Codec("rq", (RequestAction,))

PROVINCES = ProvinceButtons(TravelProvince, TravelPage, INERT)
CALENDAR = CalendarButtons(CalendarMonth, CalendarDay, QuickTime, INERT)
