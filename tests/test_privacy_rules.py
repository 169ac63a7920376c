"""The personal-data rules (bot/domain/privacy.py): deadlines in working days, what a request is
due by, which purpose is still to ask. Pure, fuzzed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.privacy import (
    Deadlines,
    Purpose,
    RequestKind,
    add_working_days,
    allows,
    extended_due,
    missing_purpose,
    on_a_working_day,
    request_times,
)
from bot.domain.work_calendar import WorkCalendar, to_local, vietnam_calendar

moments = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=VIETNAM)
)
DEADLINES = Deadlines(ack_working_days=2, view_days=10, withdraw_days=15, delete_days=20)
CALENDAR = vietnam_calendar(range(2020, 2032))
WEEKENDS_ONLY = WorkCalendar()


def day(moment: datetime) -> date:
    return to_local(moment).date()


def test_two_working_days_after_a_friday_is_the_tuesday() -> None:
    friday = datetime(2021, 5, 28, 16, 0, tzinfo=VIETNAM)
    assert add_working_days(friday, 2, CALENDAR) == datetime(2021, 6, 1, 16, 0, tzinfo=VIETNAM)


def test_public_holidays_are_not_working_days() -> None:
    before_tet = datetime(2026, 2, 13, 10, 0, tzinfo=VIETNAM)  # Friday before Tết Bính Ngọ
    # 16/02–20/02/2026 are the Tết holidays: two working days on is Tuesday 24/02, not 17/02
    assert add_working_days(before_tet, 2, CALENDAR) == datetime(2026, 2, 24, 10, 0, tzinfo=VIETNAM)
    assert add_working_days(before_tet, 2, WEEKENDS_ONLY).day == 17
    reunification = datetime(2025, 4, 29, 9, 0, tzinfo=VIETNAM)  # Tuesday; 30/4–4/5 off
    assert day(add_working_days(reunification, 1, CALENDAR)) == date(2025, 5, 5)
    saturday = datetime(2025, 4, 25, 9, 0, tzinfo=VIETNAM)  # Friday; Saturday 26/4 is worked
    assert day(add_working_days(saturday, 1, CALENDAR)) == date(2025, 4, 26)
    national_day = datetime(2025, 8, 29, 9, 0, tzinfo=VIETNAM)  # Friday; 1/9 and 2/9 off
    assert day(add_working_days(national_day, 1, CALENDAR)) == date(2025, 9, 3)
    district = WorkCalendar(extra_days_off=frozenset({date(2021, 5, 31)}))  # declared off
    friday = datetime(2021, 5, 28, 16, 0, tzinfo=VIETNAM)
    assert day(add_working_days(friday, 1, district)) == date(2021, 6, 1)


def test_a_deadline_that_falls_in_tet_moves_to_the_next_working_day() -> None:
    made = datetime(2026, 2, 6, 11, 0, tzinfo=VIETNAM)  # ten days on is Monday 16/02: Tết
    times = request_times(made, RequestKind.CORRECT, DEADLINES, timedelta(days=2), CALENDAR)
    assert times.due == datetime(2026, 2, 23, 11, 0, tzinfo=VIETNAM)  # Monday after Tết
    assert times.remind == datetime(2026, 2, 21, 11, 0, tzinfo=VIETNAM)
    unchanged = request_times(made, RequestKind.CORRECT, DEADLINES, timedelta(0), WEEKENDS_ONLY)
    assert unchanged.due == made + timedelta(days=10)
    once_more = extended_due(datetime(2025, 8, 22, 9, 0, tzinfo=VIETNAM), 10, CALENDAR)
    assert day(once_more) == date(2025, 9, 3)  # 1/9 falls on Quốc khánh; 2/9 too


@given(moments, st.integers(min_value=0, max_value=60))
def test_working_days_land_on_a_working_day_and_count_exactly(start: datetime, days: int) -> None:
    end = add_working_days(start, days, CALENDAR)
    assert end.time() == start.time()
    if days:
        assert CALENDAR.is_working_day(day(end))
    between = [day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)]
    assert sum(CALENDAR.is_working_day(d) for d in between) == days
    holidays_only = WorkCalendar(holidays=CALENDAR.holidays)  # no make-up Saturday counted
    assert add_working_days(start, days, holidays_only) >= add_working_days(
        start, days, WEEKENDS_ONLY
    )  # holidays only push it later


@given(moments, st.sampled_from(RequestKind), st.integers(min_value=0, max_value=30))
def test_a_request_is_reminded_before_it_is_due_on_a_working_day(
    now: datetime, kind: RequestKind, before_days: int
) -> None:
    times = request_times(now, kind, DEADLINES, timedelta(days=before_days), CALENDAR)
    assert now <= times.remind <= times.due
    plain = now + timedelta(days=DEADLINES.days_for(kind))
    assert CALENDAR.is_working_day(day(times.due))
    assert plain <= times.due and times.due == on_a_working_day(plain, CALENDAR)
    between = [day(plain + timedelta(days=i)) for i in range((times.due - plain).days)]
    assert not any(CALENDAR.is_working_day(d) for d in between)  # the first working day
    assert times.ack_due > now and CALENDAR.is_working_day(day(times.ack_due))


def test_the_deadline_of_each_kind_is_its_setting() -> None:
    assert [DEADLINES.days_for(k) for k in RequestKind] == [10, 20, 15, 15]


@given(st.dictionaries(st.sampled_from([p.value for p in Purpose]), st.text(max_size=10)))
def test_silence_is_not_consent(decisions: dict[str, str]) -> None:
    missing = missing_purpose(decisions)
    for purpose in Purpose:
        if allows(decisions, purpose):
            assert decisions[purpose.value] in ("granted", "notified")
        if purpose.value not in decisions:
            assert not allows(decisions, purpose) and missing is not None
    assert missing is None or missing.value not in decisions
