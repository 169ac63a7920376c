"""duty.csv parsing (bot/domain/duty_roster.py): shifts crossing midnight, every problem listed,
any text never raising, and who is on duty for the nearest unit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.directory import Directory
from bot.domain.directory_files import Table
from bot.domain.duty_roster import (
    ROSTER_OPTIONAL,
    ROSTER_REQUIRED,
    Shift,
    load_roster,
    next_on_duty,
    roster_days,
    uncovered,
)
from bot.domain.models import Staff, Unit, UnitKind
from bot.services.duty.desk import may_set_roster, may_take

HEADER = [*ROSTER_REQUIRED, *ROSTER_OPTIONAL]  # unit_id date from to staff_id phone
DIRECTORY = Directory(
    [
        Unit("W", "Phường mẫu", UnitKind.WARD, None, None),
        Unit("S", "Trường mẫu", UnitKind.SCHOOL, "W", None),
    ],
    [
        Staff("W-1", "Người Một", "+84912000001", "W", "staff"),
        Staff("S-1", "Người Hai", "+84912000002", "S", "staff"),
        Staff("OFF", "Người Ba", "+84912000003", "S", "staff", active=False),
    ],
    [],
)


def table(rows: list[list[str]]) -> Table:
    numbered: list[tuple[int, Mapping[str, str]]] = [
        (n, dict(zip(HEADER, row, strict=False))) for n, row in enumerate(rows, 2)
    ]
    return Table("duty.csv", HEADER, numbered)


def at(day: int, hour: int) -> datetime:
    return datetime(2021, 5, day, hour, 0, tzinfo=VIETNAM)


def test_a_night_shift_ends_the_next_morning_and_a_unit_above_may_staff_it() -> None:
    loaded = load_roster(
        table(
            [
                ["S", "25/05/2021", "22:00", "06:00", "W-1", "0912 999 001"],
                ["S", "26/05/2021", "6:00", "14:00", "S-1", ""],
            ]
        ),
        DIRECTORY,
        VIETNAM,
    )
    assert loaded.problems == []
    assert loaded.shifts == [
        Shift("S", at(25, 22), at(26, 6), "W-1", "+84912999001"),
        Shift("S", at(26, 6), at(26, 14), "S-1", None),
    ]
    assert roster_days(loaded.shifts) == {("S", at(25, 0).date()), ("S", at(26, 0).date())}


def test_every_problem_is_listed_and_nothing_is_kept() -> None:
    loaded = load_roster(
        table(
            [
                ["W", "31/02/2021", "24:00", "6h", "S-1", ""],
                ["X", "26/05/2021", "08:00", "12:00", "W-1", ""],
                ["S", "26/05/2021", "08:00", "12:00", "OFF", "123"],
                ["S", "", "", "", "", ""],
            ]
        ),
        DIRECTORY,
        VIETNAM,
    )
    shown = [str(p) for p in loaded.problems]
    assert loaded.shifts == []
    for expected in (
        "duty.csv:2: date",
        "duty.csv:2: from",
        "duty.csv:2: to",
        "duty.csv:2: staff_id: 'S-1' is in unit 'S'",
        "duty.csv:3: unit_id",
        "duty.csv:4: staff_id: 'OFF' is not an active",
        "duty.csv:4: phone",
        "duty.csv:5: date: empty",
        "duty.csv:5: staff_id: empty",
    ):
        assert any(p.startswith(expected) for p in shown), (expected, shown)


@given(st.lists(st.lists(st.text(max_size=12), min_size=6, max_size=6), max_size=5))
def test_any_text_never_raises(rows: list[list[str]]) -> None:
    loaded = load_roster(table(rows), DIRECTORY, VIETNAM)
    assert not (loaded.shifts and loaded.problems)
    for shift in loaded.shifts:
        assert timedelta(0) < shift.ends_at - shift.starts_at <= timedelta(days=1)


def test_the_nearest_unit_with_someone_on_duty_gets_the_alert_then_the_next_one_up() -> None:
    above = Shift("W", at(26, 0), at(26, 8), "W-1", None)
    own = Shift("S", at(26, 0), at(26, 8), "S-1", None)
    assert next_on_duty([own, above]) == ["S-1"]
    assert next_on_duty([above]) == ["W-1"], "a gap in one's own unit goes up at once"
    assert next_on_duty([own, above], {"S-1"}) == ["W-1"], "an escalation goes one unit up"
    assert next_on_duty([own, above], {"S-1", "W-1"}) == []
    assert next_on_duty([]) == []


def test_uncovered_hours_of_a_day() -> None:
    night = Shift("S", at(25, 22), at(26, 6), "S-1", None)
    day = Shift("S", at(26, 6), at(26, 14), "S-1", None)
    overlapping = Shift("S", at(26, 12), at(26, 18), "W-1", None)
    start, end = at(26, 0), at(27, 0)
    assert uncovered([night, day], start, end) == [(at(26, 14), end)]
    assert uncovered([overlapping, night, day], start, end) == [(at(26, 18), end)]
    assert uncovered([], start, end) == [(start, end)]
    assert uncovered([day], start, end) == [(start, at(26, 6)), (at(26, 14), end)]


def test_who_may_set_a_units_roster_and_who_may_be_on_it() -> None:
    heads = Directory(
        [
            Unit("W", "Phường mẫu", UnitKind.WARD, None, None),
            Unit("S", "Trường mẫu", UnitKind.SCHOOL, "W", None),
            Unit("T", "Trạm mẫu", UnitKind.PUBLIC_SERVICE, "W", None),
        ],
        [
            Staff("W-1", "Chủ tịch", "+84912000001", "W", "top", roles=frozenset({"unit_head"})),
            Staff(
                "S-1", "Hiệu trưởng", "+84912000002", "S", "head", roles=frozenset({"unit_head"})
            ),
            Staff(
                "T-1", "Trạm trưởng", "+84912000003", "T", "head", roles=frozenset({"unit_head"})
            ),
            Staff("S-2", "Giáo viên", "+84912000004", "S", "staff"),
            Staff("A-1", "Quản trị", "+84912000005", "T", "staff", roles=frozenset({"admin"})),
        ],
        [],
    )
    person = heads.staff
    assert may_set_roster(heads, person["S-1"], "S") and may_set_roster(heads, person["W-1"], "S")
    assert may_set_roster(heads, person["A-1"], "S"), "a district admin"
    assert not may_set_roster(heads, person["T-1"], "S"), "the head of another unit"
    assert not may_set_roster(heads, person["S-2"], "S") and not may_set_roster(
        heads, person["S-1"], "W"
    )
    assert not may_set_roster(heads, person["S-1"], "NOPE")
    assert may_take(heads, "S", "S-2") and may_take(heads, "S", "W-1")
    assert not may_take(heads, "S", "T-1") and not may_take(heads, "S", "NOBODY")
