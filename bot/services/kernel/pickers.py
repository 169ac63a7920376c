"""Inline pickers: provinces (paged), a month calendar, quick times. Callback data stays short."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time

from bot.domain.outgoing import Button
from bot.domain.provinces import Province, all_provinces
from bot.i18n import Translator
from bot.services.kernel.buttons import ButtonData

PROVINCES_PER_PAGE = 10
QUICK_TIMES = ("06:00", "07:30", "12:00", "17:00", "19:00")

Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class ProvinceButtons:
    """The feature's button kinds behind a province picker: pick a province, turn a page, and
    an inert label."""

    pick: Callable[[int], ButtonData]
    turn: Callable[[int], ButtonData]
    inert: ButtonData


@dataclass(frozen=True)
class CalendarButtons:
    """The feature's button kinds behind a calendar and the quick times, for a field."""

    month: Callable[[str, date], ButtonData]
    day: Callable[[str, date], ButtonData]
    time: Callable[[str, time], ButtonData]
    inert: ButtonData


def province_index(province: Province) -> int:
    return all_provinces().index(province)


def province_picker(t: Translator, page: int, home: str, kinds: ProvinceButtons) -> Keyboard:
    choices = [p for p in all_provinces() if p.name != home]
    pages = max(1, -(-len(choices) // PROVINCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = choices[page * PROVINCES_PER_PAGE : (page + 1) * PROVINCES_PER_PAGE]
    rows = [
        tuple(Button(p.name, kinds.pick(province_index(p)).encode()) for p in shown[i : i + 2])
        for i in range(0, len(shown), 2)
    ]
    nav = []
    if page > 0:
        nav.append(Button("«", kinds.turn(page - 1).encode()))
    nav.append(Button(t._("page {page}/{pages}", page=page + 1, pages=pages), kinds.inert.encode()))
    if page < pages - 1:
        nav.append(Button("»", kinds.turn(page + 1).encode()))
    return (*rows, tuple(nav))


def matches_keyboard(provinces: list[Province], kinds: ProvinceButtons) -> Keyboard:
    return tuple((Button(p.name, kinds.pick(province_index(p)).encode()),) for p in provinces)


def month_calendar(
    t: Translator, field: str, month: date, today: date, kinds: CalendarButtons
) -> Keyboard:
    """A month grid; days before today are shown but not pickable."""
    inert = kinds.inert.encode()
    header = (Button(t._("{month}/{year}", month=month.month, year=month.year), inert),)
    weekdays = tuple(Button(name, inert) for name in _weekday_initials(t))
    rows: list[tuple[Button, ...]] = [header, weekdays]
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        rows.append(tuple(_day_button(field, day, month, today, kinds) for day in week))
    previous = _shift_month(month, -1)
    following = _shift_month(month, 1)
    nav = []
    if (previous.year, previous.month) >= (today.year, today.month):
        nav.append(Button("«", kinds.month(field, previous).encode()))
    nav.append(Button("»", kinds.month(field, following).encode()))
    rows.append(tuple(nav))
    return tuple(rows)


def time_picker(field: str, kinds: CalendarButtons) -> Keyboard:
    return (
        tuple(
            Button(clock, kinds.time(field, time.fromisoformat(clock)).encode())
            for clock in QUICK_TIMES
        ),
    )


def _day_button(field: str, day: date, month: date, today: date, kinds: CalendarButtons) -> Button:
    if day.month != month.month or day < today:
        return Button(" ", kinds.inert.encode())
    return Button(str(day.day), kinds.day(field, day).encode())


def _shift_month(month: date, step: int) -> date:
    index = month.year * 12 + month.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def _weekday_initials(t: Translator) -> tuple[str, ...]:
    if t.language == "vi":
        return ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
    return ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
