from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.travel_policy import (
    ApprovalReason,
    PolicyMode,
    PolicyPeriod,
    PurposeError,
    TripAssessment,
    TripClass,
    TripError,
    assess_trip,
    policy_at,
    validate_purpose,
    validate_trip,
)
from bot.domain.work_calendar import WorkCalendar, vietnam_calendar

NORMAL = PolicyMode.APPROVAL_OUTSIDE_HOURS
BAN = PolicyMode.BAN
CAL = vietnam_calendar(range(2020, 2027))


def at(day: int, month: int, hour: int = 0, minute: int = 0, year: int = 2021) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


# --- the working calendar ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2021, 1, 1), "Tết Dương lịch"),
        (date(2021, 2, 10), "29 Tết"),
        (date(2021, 2, 11), "Giao thừa Tết Nguyên Đán"),
        (date(2021, 2, 12), "Tết Nguyên Đán"),
        (date(2021, 2, 15), "Mùng bốn Tết Nguyên Đán"),
        (date(2021, 4, 21), "Ngày Giỗ Tổ Hùng Vương"),  # 10/3 lunar
        (date(2021, 4, 30), "Ngày Chiến thắng"),
        (date(2021, 5, 1), "Ngày Quốc tế Lao động"),
        (date(2021, 9, 2), "Quốc khánh"),
        (date(2021, 9, 3), "Quốc khánh"),
    ],
)
def test_public_holidays_from_the_package(day: date, name: str) -> None:
    assert CAL.holiday_name(day) == name
    assert not CAL.is_working_day(day)


def test_tet_2021_is_ten_february_to_sixteen_february() -> None:
    tet = [date(2021, 2, 9) + timedelta(days=i) for i in range(9)]
    assert [CAL.is_working_day(d) for d in tet] == [True] + [False] * 7 + [True]
    assert [d for d in tet if CAL.holiday_name(d)] == tet[1:8]


def test_observed_labour_day_2021_is_a_day_off() -> None:
    assert CAL.holiday_name(date(2021, 5, 3)) is not None  # 1 May fell on a Saturday
    assert not CAL.is_working_day(date(2021, 5, 3))


def test_holiday_names_in_english() -> None:
    calendar = vietnam_calendar([2021], language="en_US")
    assert calendar.holiday_name(date(2021, 2, 12)) == "Lunar New Year"


def test_ordinary_days() -> None:
    assert CAL.is_working_day(date(2021, 5, 26))  # Wednesday
    assert not CAL.is_working_day(date(2021, 5, 29))  # Saturday
    assert not CAL.is_working_day(date(2021, 5, 30))  # Sunday
    assert CAL.holiday_name(date(2021, 5, 26)) is None
    assert CAL.holiday_name(date(2021, 5, 29)) is None


def test_official_make_up_saturday_2025() -> None:
    assert CAL.is_working_day(date(2025, 4, 26))  # worked for the Friday 02/05/2025 bridge
    assert not CAL.is_working_day(date(2025, 5, 2))


def test_declared_days() -> None:
    calendar = vietnam_calendar(
        [2021],
        extra_days_off=frozenset({date(2021, 5, 26)}),
        makeup_workdays=frozenset({date(2021, 5, 29), date(2021, 5, 1)}),
    )
    assert not calendar.is_working_day(date(2021, 5, 26))
    assert calendar.holiday_name(date(2021, 5, 26)) is None  # declared, not a public holiday
    assert calendar.is_working_day(date(2021, 5, 29))  # a make-up Saturday
    assert calendar.is_working_day(date(2021, 5, 1))  # a make-up day wins over a holiday
    assert not calendar.is_day_off(date(2021, 5, 1))


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (at(26, 5, 8, 0), True),
        (at(26, 5, 7, 59), False),
        (at(26, 5, 16, 59), True),
        (at(26, 5, 17, 0), False),
        (at(29, 5, 10, 0), False),  # Saturday
        (at(30, 4, 10, 0), False),  # a holiday
        (datetime(2021, 5, 26, 1, 0, tzinfo=UTC), True),  # 08:00 in Vietnam
        (datetime(2021, 5, 26, 10, 0, tzinfo=UTC), False),  # 17:00 in Vietnam
    ],
)
def test_is_working_time(moment: datetime, working: bool) -> None:
    assert CAL.is_working_time(moment) is working


def test_custom_working_hours() -> None:
    calendar = WorkCalendar(work_start=time(7, 30), work_end=time(16, 30))
    assert calendar.is_working_time(at(26, 5, 7, 30))
    assert not calendar.is_working_time(at(26, 5, 16, 30))
    assert calendar.is_working_day(date(2021, 4, 30))  # an empty calendar knows no holidays


# --- policy periods ----------------------------------------------------------------------------


def test_policy_at() -> None:
    ban = PolicyPeriod(BAN, at(9, 5), None)
    relaxed = PolicyPeriod(NORMAL, at(1, 6), at(8, 6))
    periods = [ban, relaxed]
    assert policy_at([], at(26, 5)) is NORMAL
    assert policy_at([], at(26, 5), default=BAN) is BAN
    assert policy_at(periods, at(8, 5, 23, 59)) is NORMAL  # before the ban
    assert policy_at(periods, at(9, 5)) is BAN  # from the first instant
    assert policy_at(periods, at(1, 6)) is NORMAL  # the latest-starting period wins
    assert policy_at(periods, at(8, 6)) is BAN  # `until` is exclusive; the ban still runs
    assert policy_at([PolicyPeriod(BAN, at(9, 5), at(31, 5))], at(31, 5)) is NORMAL


def test_policy_tie_goes_to_the_later_period() -> None:
    first, second = PolicyPeriod(NORMAL, at(9, 5), None), PolicyPeriod(BAN, at(9, 5), None)
    assert policy_at([first, second], at(10, 5)) is BAN
    assert policy_at([second, first], at(10, 5)) is NORMAL


# --- assessing trips ---------------------------------------------------------------------------


def test_inside_working_hours_is_a_work_trip() -> None:
    assessment = assess_trip(at(25, 5, 16), at(25, 5, 17), NORMAL, CAL)  # Tuesday
    assert assessment == TripAssessment(TripClass.WORK_TRIP, (), (), None)


def test_one_minute_past_closing_needs_approval() -> None:
    assessment = assess_trip(at(25, 5, 16), at(25, 5, 17, 1), NORMAL, CAL)
    assert assessment.trip_class is TripClass.NEEDS_APPROVAL
    assert assessment.reasons == (ApprovalReason.OUTSIDE_HOURS,)
    assert assessment.first_non_working_moment == at(25, 5, 17)


def test_before_opening_needs_approval() -> None:
    assessment = assess_trip(at(25, 5, 7, 59), at(25, 5, 9), NORMAL, CAL)
    assert assessment.reasons == (ApprovalReason.OUTSIDE_HOURS,)
    assert assessment.first_non_working_moment == at(25, 5, 7, 59)


def test_across_midnight_needs_approval() -> None:
    assessment = assess_trip(at(25, 5, 9), at(26, 5, 9), NORMAL, CAL)
    assert assessment.trip_class is TripClass.NEEDS_APPROVAL
    assert assessment.reasons == (ApprovalReason.OUTSIDE_HOURS,)
    assert assessment.first_non_working_moment == at(25, 5, 17)


def test_weekend_trip() -> None:
    assessment = assess_trip(at(29, 5, 7), at(30, 5, 18), NORMAL, CAL)
    assert assessment.trip_class is TripClass.NEEDS_APPROVAL
    assert assessment.reasons == (ApprovalReason.WEEKEND,)
    assert assessment.first_non_working_moment == at(29, 5, 7)


def test_friday_evening_to_monday() -> None:
    assessment = assess_trip(at(28, 5, 16), at(31, 5, 9), NORMAL, CAL)
    assert assessment.reasons == (ApprovalReason.WEEKEND, ApprovalReason.OUTSIDE_HOURS)
    assert assessment.first_non_working_moment == at(28, 5, 17)


def test_holiday_trip_lists_the_holidays() -> None:
    assessment = assess_trip(at(29, 4, 9), at(4, 5, 12), NORMAL, CAL)
    assert assessment.trip_class is TripClass.NEEDS_APPROVAL
    assert set(assessment.reasons) == {
        ApprovalReason.WEEKEND, ApprovalReason.HOLIDAY, ApprovalReason.OUTSIDE_HOURS,
    }  # fmt: skip
    assert assessment.holiday_dates == (date(2021, 4, 30), date(2021, 5, 1), date(2021, 5, 3))
    assert assessment.first_non_working_moment == at(29, 4, 17)


def test_working_hours_on_a_holiday_need_approval() -> None:
    assessment = assess_trip(at(21, 4, 9), at(21, 4, 11), NORMAL, CAL)  # Hùng Kings' day
    assert assessment.reasons == (ApprovalReason.HOLIDAY,)
    assert assessment.holiday_dates == (date(2021, 4, 21),)
    assert assessment.first_non_working_moment == at(21, 4, 9)


def test_declared_days_change_the_outcome() -> None:
    calendar = vietnam_calendar(
        [2021],
        extra_days_off=frozenset({date(2021, 5, 26)}),
        makeup_workdays=frozenset({date(2021, 5, 29)}),
    )
    on_day_off = assess_trip(at(26, 5, 9), at(26, 5, 10), NORMAL, calendar)
    assert on_day_off.reasons == (ApprovalReason.HOLIDAY,)
    assert on_day_off.holiday_dates == (date(2021, 5, 26),)
    on_makeup = assess_trip(at(29, 5, 9), at(29, 5, 16), NORMAL, calendar)
    assert on_makeup.trip_class is TripClass.WORK_TRIP


def test_ban_makes_every_trip_an_exception() -> None:
    work = assess_trip(at(25, 5, 9), at(25, 5, 10), BAN, CAL)
    assert work.trip_class is TripClass.EXCEPTION_UNDER_BAN
    assert work.reasons == (ApprovalReason.BAN,)
    weekend = assess_trip(at(29, 5, 9), at(29, 5, 10), BAN, CAL)
    assert weekend.reasons == (ApprovalReason.BAN, ApprovalReason.WEEKEND)


def test_times_in_other_zones_are_read_as_vietnam_time() -> None:
    # 01:00–09:00 UTC is 08:00–16:00 in Vietnam.
    departure = datetime(2021, 5, 25, 1, 0, tzinfo=UTC)
    assessment = assess_trip(departure, departure + timedelta(hours=8), NORMAL, CAL)
    assert assessment.trip_class is TripClass.WORK_TRIP
    late = assess_trip(departure, departure + timedelta(hours=9, minutes=1), NORMAL, CAL)
    assert late.first_non_working_moment == at(25, 5, 17)


def test_empty_trip_is_not_assessed_as_needing_approval() -> None:
    assert assess_trip(at(29, 5, 9), at(29, 5, 9), NORMAL, CAL).trip_class is TripClass.WORK_TRIP


# --- validation --------------------------------------------------------------------------------

NOW = at(26, 5, 9)


@pytest.mark.parametrize(
    ("departure", "return_at", "errors"),
    [
        (at(29, 5, 7), at(30, 5, 18), []),
        (NOW - timedelta(minutes=5), at(26, 5, 12), []),  # typing time is forgiven
        (NOW - timedelta(minutes=5, seconds=1), at(26, 5, 12), [TripError.DEPARTURE_IN_PAST]),
        (at(29, 5, 7), at(29, 5, 7), [TripError.RETURN_BEFORE_DEPARTURE]),
        (at(29, 5, 7), at(28, 5, 7), [TripError.RETURN_BEFORE_DEPARTURE]),
        (at(29, 5, 7), at(28, 6, 7), []),  # exactly 30 days
        (at(29, 5, 7), at(28, 6, 7, 1), [TripError.TOO_LONG]),
        (
            at(20, 5, 7),
            at(19, 5, 7),
            [TripError.DEPARTURE_IN_PAST, TripError.RETURN_BEFORE_DEPARTURE],
        ),
        (at(20, 5, 7), at(20, 7, 7), [TripError.DEPARTURE_IN_PAST, TripError.TOO_LONG]),
    ],
)
def test_validate_trip(departure: datetime, return_at: datetime, errors: list[TripError]) -> None:
    assert validate_trip(departure, return_at, NOW) == errors


def test_validate_trip_max_days() -> None:
    assert validate_trip(at(29, 5, 7), at(31, 5, 7), NOW, max_trip_days=2) == []
    assert validate_trip(at(29, 5, 7), at(31, 5, 8), NOW, max_trip_days=2) == [TripError.TOO_LONG]
    assert validate_trip(at(29, 5, 7), at(29, 5, 7, 1), NOW, max_trip_days=0) == [
        TripError.TOO_LONG
    ]
    assert validate_trip(at(29, 5, 7), at(29, 5, 8, year=2121), NOW, max_trip_days=10**12) == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Thăm gia đình", None),
        ("  Thăm gia đình  ", None),
        ("", PurposeError.EMPTY),
        (" \n\t ", PurposeError.EMPTY),
        ("x" * 1000, None),
        ("x" * 1001, PurposeError.TOO_LONG),
        ("  " + "x" * 1000 + "  ", None),  # measured after trimming
    ],
)
def test_validate_purpose(text: str, error: PurposeError | None) -> None:
    assert validate_purpose(text) is error


def test_validate_purpose_max_len() -> None:
    assert validate_purpose("abcd", max_len=3) is PurposeError.TOO_LONG
    assert validate_purpose("abc", max_len=3) is None


# --- properties --------------------------------------------------------------------------------

_MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(VIETNAM)
)
_MINUTE_MOMENTS = _MOMENTS.map(lambda d: d.replace(second=0, microsecond=0))
_DURATIONS = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=40))


@given(_MOMENTS, _DURATIONS, _DURATIONS)
def test_a_trip_touching_a_weekend_needs_approval(
    instant: datetime, before: timedelta, after: timedelta
) -> None:
    weekend_instant = instant + timedelta(days=(5 - instant.weekday()) % 7)  # move to a Saturday
    weekend_instant += timedelta(days=instant.weekday() % 2)  # … or a Sunday
    assume(weekend_instant.year < 2027 and not CAL.is_working_day(weekend_instant.date()))
    departure = weekend_instant - before + timedelta(microseconds=1)
    assessment = assess_trip(departure, weekend_instant + after, NORMAL, CAL)
    assert assessment.trip_class is TripClass.NEEDS_APPROVAL
    assert ApprovalReason.WEEKEND in assessment.reasons
    first = assessment.first_non_working_moment
    assert first is not None and departure <= first <= weekend_instant


@given(_MOMENTS, _DURATIONS)
def test_any_trip_under_a_ban_is_an_exception(departure: datetime, duration: timedelta) -> None:
    assessment = assess_trip(departure, departure + duration, BAN, CAL)
    assert assessment.trip_class is TripClass.EXCEPTION_UNDER_BAN
    assert assessment.reasons[0] is ApprovalReason.BAN


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)),
    st.integers(min_value=8 * 60, max_value=17 * 60),
    st.integers(min_value=8 * 60, max_value=17 * 60),
)
def test_a_trip_inside_one_working_day_is_a_work_trip(day: date, a: int, b: int) -> None:
    assume(day.weekday() < 5 and CAL.holiday_name(day) is None and a != b)
    start = datetime.combine(day, time(8), tzinfo=VIETNAM) + timedelta(minutes=min(a, b) - 8 * 60)
    end = start + timedelta(minutes=abs(a - b))
    assert assess_trip(start, end, NORMAL, CAL) == TripAssessment(TripClass.WORK_TRIP, (), (), None)


def _minute_oracle(departure: datetime, return_at: datetime) -> datetime | None:
    """The first minute of the trip that is not working time, by walking minute after minute."""
    moment = departure
    while moment < return_at:
        if not CAL.is_working_time(moment):
            return moment
        moment += timedelta(minutes=1)
    return None


@given(_MINUTE_MOMENTS, st.integers(min_value=1, max_value=3 * 24 * 60))
def test_exact_check_agrees_with_a_minute_by_minute_walk(departure: datetime, minutes: int) -> None:
    # Working hours start and end on whole minutes, so for whole-minute trips a walk over
    # every minute is an exact (if slow) oracle.
    return_at = departure + timedelta(minutes=minutes)
    assessment = assess_trip(departure, return_at, NORMAL, CAL)
    expected = _minute_oracle(departure, return_at)
    assert assessment.first_non_working_moment == expected
    assert (assessment.trip_class is TripClass.WORK_TRIP) == (expected is None)
    assert bool(assessment.reasons) == (expected is not None)


_ZONES = st.sampled_from(
    [VIETNAM, UTC, timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))]
)
_ANY_MOMENT = st.datetimes(timezones=_ZONES)


@given(
    _ANY_MOMENT, st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=400))
)
def test_assess_trip_never_raises(departure: datetime, duration: timedelta) -> None:
    try:
        return_at = departure + duration
    except OverflowError:
        return
    for mode in PolicyMode:
        assessment = assess_trip(departure, return_at, mode, CAL)
        assert isinstance(assessment.trip_class, TripClass)


@given(
    st.datetimes(timezones=st.none() | _ZONES),
    st.datetimes(timezones=st.none() | _ZONES),
    st.datetimes(timezones=st.none() | _ZONES),
    st.integers(min_value=-10, max_value=10**12),
)
def test_validate_trip_never_raises(
    departure: datetime, return_at: datetime, now: datetime, max_days: int
) -> None:
    errors = validate_trip(departure, return_at, now, max_days)
    assert len(errors) == len(set(errors)) <= 2
    assert not {TripError.RETURN_BEFORE_DEPARTURE, TripError.TOO_LONG} <= set(errors)


@given(st.text(max_size=1200))
def test_validate_purpose_never_raises(text: str) -> None:
    error = validate_purpose(text)
    assert (error is PurposeError.EMPTY) == (not text.strip())


# --- issue 14 (B): bans set ahead, what /policy shows ---------------------------------------


def test_item6_a_ban_set_ahead_judges_every_trip_that_overlaps_it() -> None:
    from bot.domain.travel_policy import policy_for_trip

    ban = PolicyPeriod(PolicyMode.BAN, at(9, 5), None)
    normal = PolicyMode.APPROVAL_OUTSIDE_HOURS
    assert policy_for_trip([ban], at(10, 5, 9), at(10, 5, 16)) is PolicyMode.BAN
    assert policy_for_trip([ban], at(8, 5, 20), at(9, 5, 8)) is PolicyMode.BAN  # runs into it
    assert policy_for_trip([ban], at(7, 5, 9), at(8, 5, 16)) is normal
    lifted = [ban, PolicyPeriod(normal, at(20, 5), None)]
    assert policy_for_trip(lifted, at(21, 5, 9), at(21, 5, 16)) is normal
    assert policy_for_trip(lifted, at(19, 5, 9), at(21, 5, 16)) is PolicyMode.BAN


@given(
    st.integers(0, 240),
    st.integers(1, 240),
    st.integers(0, 240),
    st.one_of(st.none(), st.integers(1, 240)),
)
def test_item6_policy_for_trip_is_ban_exactly_when_some_moment_is_banned(
    dep_h: int, length_h: int, start_h: int, ban_h: int | None
) -> None:
    from bot.domain.travel_policy import policy_for_trip

    base = at(1, 5)
    start = base + timedelta(hours=start_h)
    until = None if ban_h is None else start + timedelta(hours=ban_h)
    periods = [PolicyPeriod(PolicyMode.BAN, start, until)]
    departure = base + timedelta(hours=dep_h)
    return_at = departure + timedelta(hours=length_h)
    hours = [departure + timedelta(minutes=30 * i) for i in range(length_h * 2)]
    banned = any(policy_at(periods, moment) is PolicyMode.BAN for moment in hours)
    assert (policy_for_trip(periods, departure, return_at) is PolicyMode.BAN) == banned


def test_item7_in_force_or_scheduled_leaves_out_what_has_ended() -> None:
    from bot.domain.travel_policy import in_force_or_scheduled

    ended = PolicyPeriod(PolicyMode.BAN, at(9, 5), at(20, 5))
    now_normal = PolicyPeriod(PolicyMode.APPROVAL_OUTSIDE_HOURS, at(20, 5), None)
    later = PolicyPeriod(PolicyMode.BAN, at(1, 6), at(15, 6))
    current, scheduled = in_force_or_scheduled([later, ended, now_normal], at(26, 5))
    assert current == now_normal and scheduled == [later]
    assert in_force_or_scheduled([ended], at(26, 5)) == (None, [])
