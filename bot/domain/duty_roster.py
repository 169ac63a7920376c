"""duty.csv (shared/FORMATS.md): the 24/7 duty roster, one row per shift, and who is on duty at
a moment. Pure: the rows come in as a `Table`, the zone is passed in; every problem is collected."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from bot.domain.directory import Directory
from bot.domain.directory_files import Table, _check_columns, _cleaned, _missing_values, _Report
from bot.domain.models import Problem
from bot.domain.phones import normalize_phone

ROSTER_REQUIRED = ("unit_id", "date", "from", "to", "staff_id")
ROSTER_OPTIONAL = ("phone",)
ROSTER_COLUMNS = (*ROSTER_REQUIRED, *ROSTER_OPTIONAL)
EXAMPLE_SHIFT = ("VD", "26/05/2021", "22:00", "06:00", "VD-001", "0912 000 999")


def is_roster_header(header: Sequence[str]) -> bool:
    """A sheet is a duty roster by its headers (codes or the template's Vietnamese ones): the
    shift's day and hours, and no name column (a staff file)."""
    return set(ROSTER_REQUIRED) <= set(header) and "full_name" not in header


def outside_units(table: Table, scope: Collection[str]) -> list[Problem]:
    """Rows of a unit admin's roster for units they do not manage."""
    problems = []
    for row, values in table.rows:
        unit_id = (values.get("unit_id") or "").strip()
        if unit_id and unit_id not in scope:
            problems.append(Problem(table.file, row, "unit_id", f"outside your units: '{unit_id}'"))
    return problems


@dataclass(frozen=True, slots=True)
class Shift:
    unit_id: str
    starts_at: datetime
    ends_at: datetime  # after starts_at; a shift may cross midnight
    staff_id: str
    phone: str | None  # a duty phone for the shift; None: the person's own


@dataclass(frozen=True, slots=True)
class RosterLoad:
    shifts: list[Shift]  # empty when there are problems
    problems: list[Problem]
    warnings: list[str]


def load_roster(table: Table, directory: Directory, tz: tzinfo) -> RosterLoad:
    report = _Report()
    if not _check_columns(table, ROSTER_REQUIRED, ROSTER_OPTIONAL, report):
        return RosterLoad([], report.problems, report.warnings)
    shifts = []
    for row, raw in table.rows:
        values = _cleaned(raw, (*ROSTER_REQUIRED, *ROSTER_OPTIONAL))
        shift = _shift_from_row(table.file, row, values, directory, tz, report)
        if shift is not None:
            shifts.append(shift)
    if report.problems:
        return RosterLoad([], report.problems, report.warnings)
    return RosterLoad(shifts, [], report.warnings)


def _shift_from_row(
    file: str,
    row: int,
    values: dict[str, str],
    directory: Directory,
    tz: tzinfo,
    report: _Report,
) -> Shift | None:
    broken = _missing_values(file, row, values, ROSTER_REQUIRED, report)
    day = _day(values["date"])
    if values["date"] and day is None:
        report.problem(file, row, "date", f"not a date dd/mm/yyyy: '{values['date'][:20]}'")
    start, end = _clock(values["from"]), _clock(values["to"])
    for column, parsed in (("from", start), ("to", end)):
        if values[column] and parsed is None:
            report.problem(file, row, column, f"not a time HH:MM: '{values[column][:20]}'")
    broken |= _unit_or_staff_problem(file, row, values, directory, report)
    phone = normalize_phone(values["phone"]) if values["phone"] else None
    if values["phone"] and phone is None:
        report.problem(file, row, "phone", f"not a Vietnamese phone number: '{values['phone']}'")
        broken = True
    if broken or day is None or start is None or end is None:
        return None
    starts_at, ends_at = _span(day, start, end, tz)
    return Shift(values["unit_id"], starts_at, ends_at, values["staff_id"], phone)


def make_shift(unit_id: str, day: date, start: time, end: time, staff_id: str, tz: tzinfo) -> Shift:
    """A shift set in the chat, read as a roster row is: `end` not after `start` is the next day."""
    starts_at, ends_at = _span(day, start, end, tz)
    return Shift(unit_id, starts_at, ends_at, staff_id, None)


def parse_clock(text: str) -> time | None:
    """A typed time of day, HH:MM (or H:MM), as a roster cell is read."""
    return _clock(text.strip()[:8])


@lru_cache(maxsize=4096)  # a roster repeats a few shift times over many units
def _span(day: date, start: time, end: time, tz: tzinfo) -> tuple[datetime, datetime]:
    starts_at = datetime.combine(day, start, tz)
    ends_at = datetime.combine(day, end, tz)
    if ends_at <= starts_at:  # `to` not after `from`: the shift ends the next day
        ends_at = datetime.combine(day + timedelta(days=1), end, tz)
    return starts_at, ends_at


def _unit_or_staff_problem(
    file: str, row: int, values: dict[str, str], directory: Directory, report: _Report
) -> bool:
    unit_id, staff_id = values["unit_id"], values["staff_id"]
    if unit_id and unit_id not in directory.units:
        report.problem(file, row, "unit_id", f"unit '{unit_id}' is not in the directory")
        return True
    person = directory.person(staff_id) if staff_id else None
    if staff_id and (person is None or not person.active):
        report.problem(file, row, "staff_id", f"'{staff_id[:40]}' is not an active staff member")
        return True
    if person is not None and unit_id:
        allowed = {unit_id, *directory.ancestor_ids(unit_id)}
        if person.unit_id not in allowed:
            reason = f"'{staff_id}' is in unit '{person.unit_id}', not '{unit_id}' or a unit above"
            report.problem(file, row, "staff_id", reason)
            return True
    return not unit_id or not staff_id


@lru_cache(maxsize=1024)
def _day(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _clock(text: str) -> time | None:
    hours, colon, minutes = text.partition(":")
    if not (colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        return None
    if len(hours) > 2 or int(hours) > 23 or int(minutes) > 59:
        return None
    return time(int(hours), int(minutes))


def roster_days(shifts: Iterable[Shift]) -> set[tuple[str, date]]:
    """The (unit, day) pairs a roster file covers: an import replaces those days' shifts."""
    return {(s.unit_id, s.starts_at.date()) for s in shifts}


def next_on_duty(shifts: Sequence[Shift], told: Collection[str] = ()) -> list[str]:
    """Who is on duty for the nearest unit (`shifts` ordered from the person's unit up) with
    someone not yet told: a unit in a gap passes the alert up at once, and each escalation goes
    one unit further up."""
    for unit_id in dict.fromkeys(s.unit_id for s in shifts):
        fresh = [s.staff_id for s in shifts if s.unit_id == unit_id and s.staff_id not in told]
        if fresh:
            return list(dict.fromkeys(fresh))
    return []


GAP_NOTICE_HOUR = 16  # from 16:00 the next day's roster is checked and its gaps told to the head


def uncovered(
    shifts: Iterable[Shift], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) that no shift covers, in order."""
    gaps: list[tuple[datetime, datetime]] = []
    reached = start
    for shift in sorted(shifts, key=lambda s: s.starts_at):
        if shift.starts_at > reached:
            gaps.append((reached, min(shift.starts_at, end)))
        reached = max(reached, shift.ends_at)
        if reached >= end:
            break
    if reached < end:
        gaps.append((reached, end))
    return [(a, b) for a, b in gaps if a < b]
