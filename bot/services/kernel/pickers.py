"""Inline pickers: provinces (paged), people found by name (paged), a month calendar, quick
times. Callback data stays short."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, time

from bot.domain.directory import Directory
from bot.domain.models import Staff
from bot.domain.provinces import Province, all_provinces
from bot.i18n import Translator
from bot.outgoing import Button
from bot.services.kernel.buttons import ButtonData

PROVINCES_PER_PAGE = 10
PEOPLE_PER_PAGE = 6
PEOPLE_PAGES = 50  # 300 names: past that, a longer name is the better search
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


@dataclass(frozen=True)
class PeopleButtons:
    """The feature's button kinds behind a people picker: pick a person, turn a page."""

    pick: Callable[[Staff], ButtonData]
    turn: Callable[[int], ButtonData]


def check_box(ticked: bool) -> str:
    """The one check-box style of every toggle button: `☑️ ` ticked, `⬜ ` not."""
    return "☑️ " if ticked else "⬜ "


def province_index(province: Province) -> int:
    return all_provinces().index(province)


def province_picker(t: Translator, page: int, home: str, kinds: ProvinceButtons) -> Keyboard:
    choices = [p for p in all_provinces() if p.name != home]
    pages = max(1, -(-len(choices) // PROVINCES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = choices[page * PROVINCES_PER_PAGE : (page + 1) * PROVINCES_PER_PAGE]
    rows = [
        tuple(Button(p.label, kinds.pick(province_index(p)).encode()) for p in shown[i : i + 2])
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
    return tuple((Button(p.label, kinds.pick(province_index(p)).encode()),) for p in provinces)


def people_page(
    directory: Directory, text: str, page: int, units: Collection[str] | None
) -> tuple[list[Staff], bool]:
    """Page `page` of the people whose name matches `text` (best first), and whether more follow."""
    page = min(max(page, 0), PEOPLE_PAGES - 1)
    end = (page + 1) * PEOPLE_PER_PAGE
    found = directory.search(text, limit=end + 1, units=units)
    more = len(found) > end and page < PEOPLE_PAGES - 1
    return found[page * PEOPLE_PER_PAGE : end], more


def people_picker(
    t: Translator,
    directory: Directory,
    shown: list[Staff],
    page: int,
    more: bool,
    kinds: PeopleButtons,
) -> Keyboard:
    """One button per person (name — unit), then «Back» / «More» to page through the matches:
    nobody is left out silently because six others came first."""
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                f"{person.full_name} — {_unit_name(directory, person)}", kinds.pick(person).encode()
            ),
        )
        for person in shown
    ]
    nav = []
    if page > 0:
        nav.append(Button(t._("◀ Back"), kinds.turn(page - 1).encode()))
    if more:
        nav.append(Button(t._("More names ▶"), kinds.turn(page + 1).encode()))
    if nav:
        rows.append(tuple(nav))
    return tuple(rows)


def _unit_name(directory: Directory, person: Staff) -> str:
    unit = directory.unit(person.unit_id)
    return unit.name if unit else person.unit_id


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
