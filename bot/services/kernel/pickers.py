"""Inline pickers: provinces (paged), a month calendar, quick times. Callback data stays short."""

from __future__ import annotations

import calendar
from datetime import date

from bot.domain.outgoing import Button
from bot.domain.provinces import Province, all_provinces
from bot.i18n import Translator

PROVINCES_PER_PAGE = 10
QUICK_TIMES = ("06:00", "07:30", "12:00", "17:00", "19:00")

Keyboard = tuple[tuple[Button, ...], ...]


def province_index(province: Province) -> int:
    return all_provinces().index(province)


def province_picker(t: Translator, page: int, home: str, prefix: str = "tv") -> Keyboard:
    choices = [p for p in all_provinces() if p.name != home]
    pages = max(1, -(-len(choices) // PROVINCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = choices[page * PROVINCES_PER_PAGE : (page + 1) * PROVINCES_PER_PAGE]
    rows = [
        tuple(Button(p.name, f"{prefix}:p:{province_index(p)}") for p in shown[i : i + 2])
        for i in range(0, len(shown), 2)
    ]
    nav = []
    if page > 0:
        nav.append(Button("«", f"{prefix}:pg:{page - 1}"))
    nav.append(Button(t._("page {page}/{pages}", page=page + 1, pages=pages), "tv:noop"))
    if page < pages - 1:
        nav.append(Button("»", f"{prefix}:pg:{page + 1}"))
    return (*rows, tuple(nav))


def matches_keyboard(provinces: list[Province], prefix: str = "tv") -> Keyboard:
    return tuple((Button(p.name, f"{prefix}:p:{province_index(p)}"),) for p in provinces)


def month_calendar(t: Translator, field: str, month: date, today: date) -> Keyboard:
    """A month grid; days before today are shown but not pickable."""
    header = (Button(t._("{month}/{year}", month=month.month, year=month.year), "tv:noop"),)
    weekdays = tuple(Button(name, "tv:noop") for name in _weekday_initials(t))
    rows: list[tuple[Button, ...]] = [header, weekdays]
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        rows.append(tuple(_day_button(field, day, month, today) for day in week))
    previous = _shift_month(month, -1)
    following = _shift_month(month, 1)
    nav = []
    if (previous.year, previous.month) >= (today.year, today.month):
        nav.append(Button("«", f"tv:cal:{field}:{previous:%Y%m}"))
    nav.append(Button("»", f"tv:cal:{field}:{following:%Y%m}"))
    rows.append(tuple(nav))
    return tuple(rows)


def time_picker(field: str) -> Keyboard:
    return (
        tuple(Button(clock, f"tv:t:{field}:{clock.replace(':', '')}") for clock in QUICK_TIMES),
    )


def parse_month(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), 1)
    except ValueError:
        return None


def parse_day(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _day_button(field: str, day: date, month: date, today: date) -> Button:
    if day.month != month.month or day < today:
        return Button(" ", "tv:noop")
    return Button(str(day.day), f"tv:day:{field}:{day:%Y%m%d}")


def _shift_month(month: date, step: int) -> date:
    index = month.year * 12 + month.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def _weekday_initials(t: Translator) -> tuple[str, ...]:
    if t.language == "vi":
        return ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
    return ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
