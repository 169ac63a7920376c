"""Read a date, or a date and time, the way Vietnamese staff type it, relative to `now`.

Accepted (case, diacritics and extra spaces ignored; date and time in either order, with the
filler words `ngày`, `lúc`, `vào` anywhere):

* dates: `26/05/2021`, `26/5/2021`, `26-05-2021`, `26.05.2021`, `26/05/21`, `2021-05-26`,
  `ngày 26 tháng 5 năm 2021`, `26/5` and `26 tháng 5` (without a year: the next occurrence that is
  today or later), `hôm nay`/`nay`, `mai`/`ngày mai`, `mốt`/`ngày mốt`/`ngày kia`, `hôm qua`,
  `bây giờ` (now, with its time), weekdays `thứ 2`…`thứ 7`, `thứ hai`…`thứ bảy`, `t2`…`t7`,
  `chủ nhật`, `cn`;
* times: `17:30`, `17h30`, `17h`, `17g30`, `17 giờ 30 (phút)`, `5 giờ rưỡi`, `5pm`, with an
  optional `sáng`, `trưa`, `chiều`, `tối`, `đêm` (`5h chiều` = 17:00, `8h tối` = 20:00).

Choices:

* A weekday means its next occurrence strictly after today, except that today's own weekday
  means today when a time is typed and that time still lies ahead of `now` (at or after it).
* A time typed without a date means its next occurrence: today if it still lies ahead (at or
  after `now`, to the minute), else tomorrow.
* A qualifier without a time (`sáng mai`) is accepted and ignored: the result has no time.

`parse_when` never raises: every failure is a `ParseFailure` with a `ParseError` code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot.domain.clock import VIETNAM
from bot.domain.text import fold

MAX_LENGTH = 100
_MIN_YEAR, _MAX_YEAR = 1900, 2200


class ParseError(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    UNRECOGNISED = "unrecognised"
    NO_SUCH_DATE = "no_such_date"
    BAD_TIME = "bad_time"


@dataclass(frozen=True, slots=True)
class ParsedWhen:
    value: datetime  # tz-aware, in VIETNAM
    has_time: bool


@dataclass(frozen=True, slots=True)
class ParseFailure:
    reason: ParseError


class _Failed(Exception):
    """Internal: carries a ParseError out of the helpers; never escapes parse_when."""

    def __init__(self, reason: ParseError) -> None:
        super().__init__(reason.value)
        self.reason = reason


_N = r"[0-9]"
_DATE = re.compile(
    rf"(?<![0-9])(?P<iy>{_N}{{4}})-(?P<im>{_N}{{1,2}})-(?P<id>{_N}{{1,2}})(?![0-9])"
    rf"|(?<![0-9])(?P<d>{_N}{{1,2}})(?P<sep>[/.\-])(?P<m>{_N}{{1,2}})"
    rf"(?:(?P=sep)(?P<y>{_N}{{4}}|{_N}{{2}}))?(?![0-9]|[/.\-][0-9])"
    rf"|\b(?:ngay\s*)?(?P<wd>{_N}{{1,2}})\s*thang\s*(?P<wm>{_N}{{1,2}})(?:\s*nam\s*(?P<wy>{_N}{{4}}))?(?![0-9])"
    r"|\b(?:thu\s*(?P<thu>[2-7]|hai|ba|tu|bon|nam|sau|bay)|t(?P<t>[2-7])|(?P<sun>chu\s*nhat|cn))\b"
    r"|\b(?P<rel>hom\s+nay|bay\s+gio|ngay\s+mai|ngay\s+kia|ngay\s+mot|hom\s+qua|hom\s+kia|nay|mai|mot)\b"
)
_TIME = re.compile(
    rf"(?<![0-9])(?P<h>{_N}{{1,2}})\s*"
    rf"(?:(?::|h|g|gio)\s*(?P<m>{_N}{{1,2}})\s*(?:phut|p)?|(?P<unit>h|g|gio)(?:\s*(?P<half>ruoi))?|(?=\s*(?:am|pm)\b))"
    r"(?:\s*(?P<ampm>am|pm))?(?![0-9a-z])"
)
_QUALIFIER = re.compile(r"\b(?:sang|trua|chieu|toi|dem)\b")
_FILLER = frozenset({"ngay", "luc", "vao"})
_PUNCTUATION = re.compile(r"[,;]+")
_WEEKDAY_WORDS = {"hai": 0, "ba": 1, "tu": 2, "bon": 2, "nam": 3, "sau": 4, "bay": 5}
_RELATIVE_DAYS = {
    "hom nay": 0, "nay": 0, "bay gio": 0, "ngay mai": 1, "mai": 1,
    "ngay kia": 2, "ngay mot": 2, "mot": 2, "hom qua": -1, "hom kia": -2,
}  # fmt: skip


def parse_when(
    text: str, now: datetime, *, default_time: time | None = None
) -> ParsedWhen | ParseFailure:
    """`26/05/2021 17:30`, `17h 26/5`, `mai 7h`, `thứ 7`… → ParsedWhen, else ParseFailure."""
    if not isinstance(text, str):
        return ParseFailure(ParseError.UNRECOGNISED)
    stripped = text.strip()
    if not stripped:
        return ParseFailure(ParseError.EMPTY)
    if len(stripped) > MAX_LENGTH:
        return ParseFailure(ParseError.TOO_LONG)
    try:
        return _parse(fold(_PUNCTUATION.sub(" ", stripped)), _local(now), default_time)
    except _Failed as failure:
        return ParseFailure(failure.reason)
    except (ValueError, OverflowError):
        return ParseFailure(ParseError.NO_SUCH_DATE)


def format_short(moment: datetime) -> str:
    """`26/05/2021 17:30`, in Vietnam time when the moment is tz-aware."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM)
    return moment.strftime("%d/%m/%Y %H:%M")


def _local(now: datetime) -> datetime:
    return now.replace(tzinfo=VIETNAM) if now.tzinfo is None else now.astimezone(VIETNAM)


@dataclass(frozen=True, slots=True)
class _Pieces:
    date_match: re.Match[str] | None
    time_match: re.Match[str] | None
    qualifier: str | None


def _parse(folded: str, now: datetime, default_time: time | None) -> ParsedWhen:
    pieces = _split(folded)
    if pieces.date_match is None and pieces.time_match is None:
        raise _Failed(ParseError.UNRECOGNISED)
    clock = _clock(pieces.time_match, pieces.qualifier) if pieces.time_match else None
    if pieces.date_match is not None and pieces.date_match["rel"] == "bay gio":
        return _right_now(now, clock)
    day = _day(pieces.date_match, clock, now) if pieces.date_match else _day_for_time(clock, now)
    chosen = clock if clock is not None else default_time if default_time is not None else time()
    value = datetime.combine(day, chosen.replace(tzinfo=None), tzinfo=VIETNAM)
    return ParsedWhen(value, has_time=clock is not None)


def _split(folded: str) -> _Pieces:
    """Find at most one date, one time and one qualifier; anything else left over is an error."""
    date_match, rest = _single(_DATE, folded)
    time_match, rest = _single(_TIME, rest)
    qualifiers = _QUALIFIER.findall(rest)
    if len(qualifiers) > 1:
        raise _Failed(ParseError.UNRECOGNISED)
    rest = _QUALIFIER.sub(" ", rest)
    if any(word not in _FILLER for word in rest.split()):
        raise _Failed(ParseError.UNRECOGNISED)
    return _Pieces(date_match, time_match, qualifiers[0] if qualifiers else None)


def _single(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    found = list(pattern.finditer(text))
    if len(found) > 1:
        raise _Failed(ParseError.UNRECOGNISED)
    if not found:
        return None, text
    match = found[0]
    return match, f"{text[: match.start()]} {text[match.end() :]}"


# --- times -----------------------------------------------------------------------------------


def _clock(match: re.Match[str], qualifier: str | None) -> time:
    minute = 30 if match["half"] else int(match["m"] or 0)
    hour = (
        _am_pm(int(match["h"]), match["ampm"])
        if match["ampm"]
        else _apply_qualifier(int(match["h"]), qualifier)
    )
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _Failed(ParseError.BAD_TIME)
    return time(hour, minute)


def _apply_qualifier(hour: int, qualifier: str | None) -> int:
    """`5h chiều` → 17, `8h tối` → 20, `1h trưa` → 13, `12h đêm` → 0, `2h sáng` → 2.

    A 24-hour time stays as it is (`17h chiều`), except that `17h sáng` is a contradiction; an
    impossible hour comes back as -1 and is rejected as BAD_TIME by the caller.
    """
    if qualifier is None or hour > 12:
        return -1 if qualifier == "sang" and hour > 12 else hour
    if qualifier == "sang":
        return hour
    if qualifier == "trua":
        return hour + 12 if hour < 6 else hour
    if qualifier == "dem":
        return 0 if hour == 12 else hour + 12 if hour >= 6 else hour
    return hour + 12 if 1 <= hour <= 11 else hour  # chiều, tối


def _am_pm(hour: int, marker: str) -> int:
    """`12am` → 0, `5pm` → 17, `12pm` → 12; hours above 12 are rejected."""
    if not 1 <= hour <= 12:
        return -1
    return hour % 12 + (12 if marker == "pm" else 0)


# --- dates -----------------------------------------------------------------------------------


def _day(match: re.Match[str], clock: time | None, now: datetime) -> date:
    today = now.date()
    if match["rel"]:
        return today + timedelta(days=_RELATIVE_DAYS[" ".join(match["rel"].split())])
    weekday = _weekday(match)
    if weekday is not None:
        return _next_weekday(weekday, clock, now)
    if match["iy"]:
        return _calendar_date(int(match["iy"]), int(match["im"]), int(match["id"]))
    day, month, year = _day_month_year(match)
    if year is None:
        return _next_occurrence(day, month, today)
    return _calendar_date(year, month, day)


def _day_month_year(match: re.Match[str]) -> tuple[int, int, int | None]:
    if match["wd"]:
        return int(match["wd"]), int(match["wm"]), int(match["wy"]) if match["wy"] else None
    year_text = match["y"]
    if year_text is None:
        return int(match["d"]), int(match["m"]), None
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    return int(match["d"]), int(match["m"]), year


def _calendar_date(year: int, month: int, day: int) -> date:
    if not _MIN_YEAR <= year <= _MAX_YEAR or not 1 <= month <= 12:
        raise _Failed(ParseError.NO_SUCH_DATE)
    try:
        return date(year, month, day)
    except ValueError:
        raise _Failed(ParseError.NO_SUCH_DATE) from None


def _next_occurrence(day: int, month: int, today: date) -> date:
    """`26/5` → this year's 26 May if it is today or later, else next year's."""
    this_year = _calendar_date(today.year, month, day)
    return this_year if this_year >= today else _calendar_date(today.year + 1, month, day)


def _weekday(match: re.Match[str]) -> int | None:
    """Monday = 0 … Sunday = 6; `thứ 2` is Monday, `thứ 7` Saturday."""
    if match["sun"]:
        return 6
    number = match["thu"] or match["t"]
    if number is None:
        return None
    return _WEEKDAY_WORDS[number] if number in _WEEKDAY_WORDS else int(number) - 2


def _next_weekday(weekday: int, clock: time | None, now: datetime) -> date:
    today = now.date()
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and not (clock is not None and clock >= _minute(now)):
        ahead = 7
    return today + timedelta(days=ahead)


def _day_for_time(clock: time | None, now: datetime) -> date:
    if clock is not None and clock < _minute(now):
        return now.date() + timedelta(days=1)
    return now.date()


def _right_now(now: datetime, clock: time | None) -> ParsedWhen:
    """`bây giờ` is the present minute; with a time it cannot also be typed."""
    if clock is not None:
        raise _Failed(ParseError.UNRECOGNISED)
    return ParsedWhen(now.replace(second=0, microsecond=0), has_time=True)


def _minute(now: datetime) -> time:
    return now.time().replace(second=0, microsecond=0)
