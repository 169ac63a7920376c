"""The 24-hour declaration window: quiet hours, the schedule, the sweep, return checks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.reminders import (
    DEFAULT_QUIET,
    NO_QUIET_HOURS,
    Due,
    QuietHours,
    ReminderKind,
    ScheduledReminder,
    declaration_schedule,
    due_next_only,
    due_now,
    escalation_due,
    next_daily_after,
    return_checks,
    shift_out_of_quiet,
)

H = timedelta(hours=1)
REMIND = ReminderKind.DECLARATION_REMINDER
OVERDUE = ReminderKind.OVERDUE
DAILY = ReminderKind.DAILY_AFTER_OVERDUE


def vn(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VIETNAM)


def times_of(schedule: list[ScheduledReminder]) -> list[tuple[datetime, ReminderKind]]:
    return [(r.at, r.kind) for r in schedule]


# --------------------------------------------------------------------------- quiet hours


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (vn(2021, 5, 26, 21, 59), vn(2021, 5, 26, 21, 59)),  # before quiet hours: unchanged
        (vn(2021, 5, 26, 22, 0), vn(2021, 5, 27, 6, 0)),  # 22:00 itself is quiet
        (vn(2021, 5, 26, 23, 30), vn(2021, 5, 27, 6, 0)),  # evening: next morning
        (vn(2021, 5, 27, 0, 0), vn(2021, 5, 27, 6, 0)),  # after midnight: same morning
        (vn(2021, 5, 27, 5, 59), vn(2021, 5, 27, 6, 0)),
        (vn(2021, 5, 27, 6, 0), vn(2021, 5, 27, 6, 0)),  # 06:00 is not quiet
        (vn(2021, 1, 31, 23, 0), vn(2021, 2, 1, 6, 0)),  # month end
        (vn(2023, 2, 28, 22, 30), vn(2023, 3, 1, 6, 0)),  # no 29/02 in 2023
        (vn(2024, 2, 28, 22, 30), vn(2024, 2, 29, 6, 0)),  # leap year
        (vn(2024, 2, 29, 23, 0), vn(2024, 3, 1, 6, 0)),
        (vn(2021, 12, 31, 22, 0), vn(2022, 1, 1, 6, 0)),  # year end
    ],
)
def test_shift_out_of_quiet(moment: datetime, expected: datetime) -> None:
    assert shift_out_of_quiet(moment) == expected


def test_shift_out_of_quiet_reads_the_vietnamese_wall_clock() -> None:
    # 16:30 UTC is 23:30 in Hanoi: quiet, moved to 06:00 Hanoi = 23:00 UTC.
    moved = shift_out_of_quiet(datetime(2021, 5, 26, 16, 30, tzinfo=UTC))
    assert moved == vn(2021, 5, 27, 6, 0)
    assert moved.utcoffset() == timedelta(hours=7)
    # 10:00 UTC is 17:00 in Hanoi: not quiet, whatever the UTC clock says.
    assert shift_out_of_quiet(datetime(2021, 5, 26, 10, 0, tzinfo=UTC)).hour == 10


def test_quiet_hours_not_crossing_midnight_and_none_at_all() -> None:
    lunch = QuietHours(time(12, 0), time(13, 30))
    assert shift_out_of_quiet(vn(2021, 5, 26, 12, 15), lunch) == vn(2021, 5, 26, 13, 30)
    assert shift_out_of_quiet(vn(2021, 5, 26, 23, 0), lunch) == vn(2021, 5, 26, 23, 0)
    assert shift_out_of_quiet(vn(2021, 5, 26, 23, 0), NO_QUIET_HOURS) == vn(2021, 5, 26, 23, 0)


def test_shift_out_of_quiet_in_a_zone_with_daylight_saving() -> None:
    paris = ZoneInfo("Europe/Paris")
    quiet = QuietHours(time(1, 0), time(2, 30), paris)  # 02:30 does not exist on 28/03/2021
    moved = shift_out_of_quiet(datetime(2021, 3, 28, 1, 30, tzinfo=paris), quiet)
    assert moved == datetime(2021, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST, just after the gap
    assert not quiet.contains(moved)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        shift_out_of_quiet(datetime(2021, 5, 26, 23, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        declaration_schedule(datetime(2021, 5, 26, 8, 0))


# --------------------------------------------------------------------------- the schedule


def test_schedule_in_the_day() -> None:
    schedule = declaration_schedule(vn(2021, 5, 26, 8, 0))
    assert times_of(schedule) == [
        (vn(2021, 5, 26, 10, 0), REMIND),
        (vn(2021, 5, 26, 20, 0), REMIND),
        (vn(2021, 5, 27, 6, 0), REMIND),  # 04:00 is quiet
        (vn(2021, 5, 27, 8, 0), OVERDUE),
    ]
    assert [r.seq for r in schedule] == [1, 2, 3, 4]


def test_arrival_at_2130_moves_the_2_hour_reminder_to_0600() -> None:
    schedule = declaration_schedule(vn(2021, 5, 26, 21, 30))
    assert times_of(schedule) == [
        (vn(2021, 5, 27, 6, 0), REMIND),  # 23:30 is quiet
        (vn(2021, 5, 27, 9, 30), REMIND),
        (vn(2021, 5, 27, 17, 30), REMIND),
        (vn(2021, 5, 27, 21, 30), OVERDUE),
    ]


def test_reminders_moved_to_the_same_morning_are_sent_once() -> None:
    schedule = declaration_schedule(vn(2021, 5, 26, 20, 0), offsets=(2 * H, 5 * H, 12 * H))
    assert times_of(schedule) == [
        (vn(2021, 5, 27, 6, 0), REMIND),  # 22:00 and 01:00 both move to 06:00
        (vn(2021, 5, 27, 8, 0), REMIND),
        (vn(2021, 5, 27, 20, 0), OVERDUE),
    ]


def test_a_reminder_pushed_past_the_deadline_comes_before_the_night_instead() -> None:
    # Arrival at 02:00: the 20 h reminder (22:00) would move to 06:00, after the 02:00 deadline.
    schedule = declaration_schedule(vn(2021, 5, 26, 2, 0))
    assert times_of(schedule) == [
        (vn(2021, 5, 26, 6, 0), REMIND),
        (vn(2021, 5, 26, 14, 0), REMIND),
        (vn(2021, 5, 26, 21, 59), REMIND),
        (vn(2021, 5, 27, 2, 0), OVERDUE),  # the head is told at 02:00: OVERDUE is never moved
    ]


def test_a_reminder_with_no_time_left_is_dropped() -> None:
    # Arrival 22:10, 3 h window: the 1 h reminder falls at 23:10 and there is no waking hour
    # before the 01:10 deadline.
    schedule = declaration_schedule(vn(2021, 5, 26, 22, 10), offsets=(H,), window=3 * H)
    assert times_of(schedule) == [(vn(2021, 5, 27, 1, 10), OVERDUE)]
    assert schedule[0].seq == 1


def test_offsets_reaching_the_deadline_are_dropped() -> None:
    schedule = declaration_schedule(vn(2021, 5, 26, 8, 0), offsets=(24 * H, 30 * H, 2 * H))
    assert times_of(schedule) == [
        (vn(2021, 5, 26, 10, 0), REMIND),
        (vn(2021, 5, 27, 8, 0), OVERDUE),
    ]


@pytest.mark.parametrize(
    ("arrival", "deadline"),
    [
        (vn(2021, 1, 31, 21, 30), vn(2021, 2, 1, 21, 30)),
        (vn(2023, 2, 28, 21, 30), vn(2023, 3, 1, 21, 30)),
        (vn(2024, 2, 28, 21, 30), vn(2024, 2, 29, 21, 30)),
        (vn(2024, 2, 29, 21, 30), vn(2024, 3, 1, 21, 30)),
    ],
)
def test_schedule_across_month_ends(arrival: datetime, deadline: datetime) -> None:
    morning = (arrival + timedelta(days=1)).replace(hour=6, minute=0)
    assert times_of(declaration_schedule(arrival)) == [
        (morning, REMIND),
        (deadline - 12 * H, REMIND),
        (deadline - 4 * H, REMIND),
        (deadline, OVERDUE),
    ]
    assert morning.date() == deadline.date()


def test_the_deadline_is_24_real_hours_even_given_in_utc() -> None:
    schedule = declaration_schedule(datetime(2021, 5, 26, 14, 30, tzinfo=UTC))  # 21:30 Hanoi
    assert schedule[-1].at == vn(2021, 5, 27, 21, 30)
    assert schedule[0].at == vn(2021, 5, 27, 6, 0)


def test_bad_offsets_and_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        declaration_schedule(vn(2021, 5, 26, 8), offsets=(timedelta(0),))
    with pytest.raises(ValueError, match="window"):
        declaration_schedule(vn(2021, 5, 26, 8), window=-H)


_arrivals = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(VIETNAM)
)
_offsets = st.lists(
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=30)), max_size=6
)
_windows = st.timedeltas(min_value=timedelta(minutes=30), max_value=timedelta(hours=48))


@given(_arrivals, _offsets, _windows)
def test_schedule_is_sorted_and_never_in_quiet_hours(
    arrival: datetime, offsets: list[timedelta], window: timedelta
) -> None:
    schedule = declaration_schedule(arrival, offsets, window)
    assert [r.seq for r in schedule] == list(range(1, len(schedule) + 1))
    assert all(a.at < b.at for a, b in pairwise(schedule))
    *reminders, overdue = schedule
    assert overdue.kind is OVERDUE and overdue.at == arrival + window
    for reminder in reminders:
        assert reminder.kind is REMIND
        assert arrival < reminder.at < overdue.at
        assert not DEFAULT_QUIET.contains(reminder.at)


# --------------------------------------------------------------------------- daily after


def test_daily_reminders_come_at_the_deadline_clock_time() -> None:
    overdue_at = vn(2021, 5, 27, 17, 30)
    first = next_daily_after(overdue_at, overdue_at, base_seq=4)
    assert (first.at, first.kind, first.seq) == (vn(2021, 5, 28, 17, 30), DAILY, 5)
    tenth = next_daily_after(overdue_at, vn(2021, 6, 5, 18, 0), base_seq=4)
    assert (tenth.at, tenth.seq) == (vn(2021, 6, 6, 17, 30), 14)


def test_daily_reminders_leave_quiet_hours_and_cross_month_ends() -> None:
    overdue_at = vn(2024, 2, 27, 23, 0)  # 23:00 is quiet: every daily goes out at 06:00
    first = next_daily_after(overdue_at, overdue_at)
    assert first.at == vn(2024, 2, 29, 6, 0)  # day 1 is 28/02 23:00 → 29/02 06:00
    second = next_daily_after(overdue_at, first.at)
    assert (second.at, second.seq) == (vn(2024, 3, 1, 6, 0), 2)


@given(_arrivals, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_next_daily_after_is_the_first_one_after(overdue_at: datetime, gap: timedelta) -> None:
    after = overdue_at + gap
    daily = next_daily_after(overdue_at, after)
    assert daily.at > after
    assert not DEFAULT_QUIET.contains(daily.at)
    if daily.seq > 1:
        previous = next_daily_after(overdue_at, overdue_at + timedelta(days=daily.seq - 1) - H)
        assert previous.seq == daily.seq - 1
        assert previous.at <= after


# --------------------------------------------------------------------------- the sweep

ARRIVAL = vn(2021, 5, 26, 8, 0)
# 10:00, 20:00, 06:00 (+1), OVERDUE 08:00 (+1)
SCHEDULE = declaration_schedule(ARRIVAL)


def test_nothing_due_before_the_first_reminder() -> None:
    due = due_now(SCHEDULE, vn(2021, 5, 26, 9, 0), None)
    assert due.to_send == ()
    assert due.next_at == vn(2021, 5, 26, 10, 0)
    assert due.new_last_seq is None


def test_a_reminder_is_sent_once_when_due() -> None:
    due = due_now(SCHEDULE, vn(2021, 5, 26, 10, 0), None)
    assert due.to_send == (SCHEDULE[0],)
    assert (due.next_at, due.new_last_seq) == (vn(2021, 5, 26, 20, 0), 1)
    again = due_now(SCHEDULE, vn(2021, 5, 26, 10, 5), due.new_last_seq)
    assert again.to_send == ()
    assert again.next_at == vn(2021, 5, 26, 20, 0)


def test_three_hours_of_downtime_skipping_two_reminders_sends_one() -> None:
    schedule = declaration_schedule(ARRIVAL, offsets=(H, 2 * H, 12 * H))
    # The sweep ran at 08:30, then the bot was down until 11:30: 09:00 and 10:00 were missed.
    due = due_now(schedule, vn(2021, 5, 26, 11, 30), None)
    assert due.to_send == (schedule[1],)
    assert due.to_send[0].at == vn(2021, 5, 26, 10, 0)
    assert due.new_last_seq == 2  # the 09:00 one is handled too: never sent late
    assert due.next_at == vn(2021, 5, 26, 20, 0)


def test_the_overdue_is_always_sent_and_stale_reminders_are_not() -> None:
    # Down from 05:00 to 09:00 next day: the 06:00 reminder and the 08:00 deadline both passed.
    due = due_now(SCHEDULE, vn(2021, 5, 27, 9, 0), 2)
    assert due.to_send == (SCHEDULE[3],)
    assert due.to_send[0].kind is OVERDUE
    assert due.new_last_seq == 4
    assert due.next_at == vn(2021, 5, 28, 8, 0)  # the first daily reminder


def test_after_days_of_downtime_overdue_and_only_the_latest_daily_are_sent() -> None:
    due = due_now(SCHEDULE, vn(2021, 5, 30, 9, 0), 1)
    assert [(r.kind, r.at) for r in due.to_send] == [
        (OVERDUE, vn(2021, 5, 27, 8, 0)),
        (DAILY, vn(2021, 5, 30, 8, 0)),
    ]
    assert due.new_last_seq == 4 + 3
    assert due.next_at == vn(2021, 5, 31, 8, 0)


def test_daily_reminders_continue_one_a_day() -> None:
    first = due_now(SCHEDULE, vn(2021, 5, 28, 8, 0), 4)
    assert [(r.kind, r.seq) for r in first.to_send] == [(DAILY, 5)]
    assert first.next_at == vn(2021, 5, 29, 8, 0)
    again = due_now(SCHEDULE, vn(2021, 5, 28, 20, 0), first.new_last_seq)
    assert again.to_send == ()
    assert again.new_last_seq == 5


def test_a_schedule_without_overdue_ends() -> None:
    schedule = [ScheduledReminder(vn(2021, 5, 26, 10, 0), REMIND, 1)]
    due = due_now(schedule, vn(2021, 5, 27, 0, 0), None)
    assert due.to_send == (schedule[0],)
    assert due.next_at is None
    assert due_now(schedule, vn(2021, 5, 28, 0, 0), 1) == Due((), None, 1)


_sweep_gaps = st.lists(
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=40)),
    min_size=1,
    max_size=25,
)


@given(_arrivals, _offsets, _windows, _sweep_gaps)
def test_sweeping_at_any_times_sends_sensibly(
    arrival: datetime, offsets: list[timedelta], window: timedelta, gaps: list[timedelta]
) -> None:
    schedule = declaration_schedule(arrival, offsets, window)
    deadline = schedule[-1].at
    now, last, sent = arrival, None, []
    for gap in gaps:
        now += gap
        due = due_now(schedule, now, last)
        assert all(r.at <= now for r in due.to_send)  # never early
        assert sum(r.kind is not OVERDUE for r in due.to_send) <= 1  # no burst
        assert due.next_at is None or due.next_at > now
        assert due.next_at is not None  # a schedule with an OVERDUE keeps going daily
        assert all(not DEFAULT_QUIET.contains(r.at) for r in due.to_send if r.kind is not OVERDUE)
        assert all(not (r.kind is REMIND and r.at <= now and deadline <= now) for r in due.to_send)
        sent.extend(due.to_send)
        last = due.new_last_seq
    seqs = [r.seq for r in sent]
    assert seqs == sorted(set(seqs))  # nothing twice, in order
    assert [r.kind for r in sent].count(OVERDUE) == (1 if now >= deadline else 0)


# --------------------------------------------------------------------------- return checks


def test_return_checks_in_the_day() -> None:
    checks = return_checks(vn(2021, 5, 30, 8, 0))
    assert checks == (vn(2021, 5, 30, 14, 0), vn(2021, 5, 31, 8, 0))
    ask_at, tell_head_at = checks
    assert (checks.ask_at, checks.tell_head_at) == (ask_at, tell_head_at)


def test_return_checks_ask_after_quiet_hours_but_tell_the_head_at_any_hour() -> None:
    ask_at, tell_head_at = return_checks(vn(2021, 1, 31, 18, 0))  # 00:00 on 01/02 is quiet
    assert ask_at == vn(2021, 2, 1, 6, 0)
    assert tell_head_at == vn(2021, 2, 1, 18, 0)
    _, at_night = return_checks(vn(2024, 2, 28, 23, 30))
    assert at_night == vn(2024, 2, 29, 23, 30)


def test_return_checks_refuse_a_grace_beyond_the_head_time() -> None:
    with pytest.raises(ValueError, match="grace"):
        return_checks(vn(2021, 5, 30, 8, 0), grace=24 * H)


# --------------------------------------------------------------------------- escalation


def test_escalation_after_fifteen_minutes_without_acknowledgement() -> None:
    created = vn(2021, 5, 26, 23, 50)  # at night too: alerts ignore quiet hours
    assert not escalation_due(created, now=created + timedelta(minutes=14, seconds=59))
    assert escalation_due(created, now=created + timedelta(minutes=15))
    assert escalation_due(created, 5, now=created + timedelta(minutes=5))
    assert not escalation_due(created, 30, now=created + timedelta(minutes=29))


def test_escalation_compares_instants_not_wall_clocks() -> None:
    created = datetime(2021, 5, 26, 16, 50, tzinfo=UTC)  # 23:50 in Hanoi
    assert escalation_due(created, now=vn(2021, 5, 27, 0, 5))
    assert not escalation_due(created, now=vn(2021, 5, 27, 0, 4))


@given(
    _arrivals,
    _offsets,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=60)),
    st.integers(min_value=0, max_value=8),
)
def test_the_sweeps_shortcut_agrees_with_due_now(
    arrival: datetime, offsets: list[timedelta], elapsed: timedelta, handled: int
) -> None:
    schedule = declaration_schedule(arrival, offsets)
    last = handled if handled else None
    quick = due_next_only(schedule, arrival + elapsed, last)
    if quick is not None:
        assert quick == due_now(schedule, arrival + elapsed, last)
