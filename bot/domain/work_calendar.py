"""Working days and working hours (giờ hành chính) in Vietnam.

Public holidays, lunar Tết included, come from the `holidays` package; a district may declare
extra days off and make-up working days (a Saturday worked to bridge a holiday). Pure: nothing
here reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from types import MappingProxyType

import holidays as holidays_package

from bot.domain.clock import VIETNAM

SATURDAY = 5
DEFAULT_WORK_START = time(8, 0)
DEFAULT_WORK_END = time(17, 0)
_NO_NAMES: Mapping[date, str] = MappingProxyType({})


@dataclass(frozen=True)
class WorkCalendar:
    work_start: time = DEFAULT_WORK_START
    work_end: time = DEFAULT_WORK_END
    holidays: frozenset[date] = frozenset()
    extra_days_off: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    holiday_names: Mapping[date, str] = field(
        default_factory=lambda: _NO_NAMES, compare=False, hash=False, repr=False
    )

    def is_day_off(self, d: date) -> bool:
        """A public holiday or a declared day off that is not also a make-up working day."""
        return (d in self.holidays or d in self.extra_days_off) and d not in self.makeup_workdays

    def is_weekend(self, d: date) -> bool:
        """Saturday or Sunday, unless declared a make-up working day."""
        return d.weekday() >= SATURDAY and d not in self.makeup_workdays

    def is_working_day(self, d: date) -> bool:
        """Mon–Fri that is no holiday or declared day off, or any declared make-up working day."""
        if d in self.makeup_workdays:
            return True
        return d.weekday() < SATURDAY and not self.is_day_off(d)

    def is_working_time(self, moment: datetime) -> bool:
        """On a working day, work_start <= time < work_end (Vietnam wall-clock time)."""
        local = to_local(moment)
        return self.is_working_day(local.date()) and self.work_start <= local.time() < self.work_end

    def holiday_name(self, d: date) -> str | None:
        """The public holiday's name (Vietnamese by default), else None; declared days are unnamed."""
        return self.holiday_names.get(d) if d in self.holidays else None


HOLIDAY_LANGUAGES = {"vi": "vi", "en": "en_US"}  # the reader's language → the package's


def public_holidays_during(
    start: datetime, end: datetime, language: str | None = "vi"
) -> list[tuple[date, str]]:
    """The public holidays (with their names, in `language`) on the days the stay [start, end)
    touches, in Vietnam time, in order: what makes a trip on them need approval."""
    first = to_local(start).date()
    last = to_local(end - timedelta(microseconds=1)).date() if end > start else first
    if (last - first).days > 366:
        last = first + timedelta(days=366)
    names, _ = _official(
        tuple(range(first.year, last.year + 1)), HOLIDAY_LANGUAGES.get(language or "vi", "vi")
    )
    return sorted((d, name) for d, name in names.items() if first <= d <= last)


def to_local(moment: datetime) -> datetime:
    """Vietnam wall-clock time as a naive datetime; a naive moment is taken as Vietnam time."""
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(VIETNAM).replace(tzinfo=None)
    except OverflowError:  # within hours of datetime.min / datetime.max
        return datetime.max if moment.year > 1 else datetime.min


def vietnam_calendar(
    years: Iterable[int],
    *,
    work_start: time = DEFAULT_WORK_START,
    work_end: time = DEFAULT_WORK_END,
    extra_days_off: frozenset[date] = frozenset(),
    makeup_workdays: frozenset[date] = frozenset(),
    language: str = "vi",
) -> WorkCalendar:
    """The calendar for these years: the package's public holidays and official make-up
    working days (e.g. Saturday 26/04/2025), plus the district's own declarations."""
    names, official_workdays = _official(tuple(sorted(set(years))), language)
    return WorkCalendar(
        work_start=work_start,
        work_end=work_end,
        holidays=frozenset(names),
        extra_days_off=frozenset(extra_days_off),
        makeup_workdays=frozenset(makeup_workdays) | official_workdays,
        holiday_names=names,
    )


@cache
def _official(years: tuple[int, ...], language: str) -> tuple[Mapping[date, str], frozenset[date]]:
    """Public holidays with their names, and official weekend make-up working days."""
    official = holidays_package.country_holidays("VN", years=years, language=language)
    workdays: Iterable[date] = getattr(official, "weekend_workdays", frozenset())
    names = MappingProxyType(dict(official.items()))
    return names, frozenset(d for d in workdays if d.year in years)
