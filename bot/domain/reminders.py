"""When to remind: the 24-hour health-declaration window, return checks, alert escalation.

DOMAIN.md rule 4: on coming back a person declares their health within 24 hours of arriving.
The database stores the schedule; a sweep asks `due_now` what to send now and when to look
again. Pure: the current time is always passed in, timezone-aware. Spans of time ("24 hours")
are measured on the absolute time line (UTC); "the same clock time" and quiet hours are read on
the wall clock of the zone (Asia/Ho_Chi_Minh, which has no daylight saving, but the arithmetic
would stay right in a zone that has).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import NamedTuple

from bot.domain.clock import VIETNAM

DEFAULT_OFFSETS: tuple[timedelta, ...] = (
    timedelta(hours=2),
    timedelta(hours=12),
    timedelta(hours=20),
)
DECLARATION_WINDOW = timedelta(hours=24)
RETURN_GRACE = timedelta(hours=6)
TELL_HEAD_AFTER = timedelta(hours=24)
ACK_MINUTES = 15
REMIND_AGAIN_AFTER = timedelta(hours=1)
"""A head's «remind them» reaches a person at most once in this time (the rest get feedback)."""
# A reminder that quiet hours would push past the deadline is sent this long before they start.
BEFORE_QUIET = timedelta(minutes=1)
_TICK = timedelta(microseconds=1)


# --------------------------------------------------------------------------- time helpers


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def _add(moment: datetime, span: timedelta, zone: tzinfo) -> datetime:
    """`moment + span` on the absolute time line, expressed in `zone`."""
    return (moment.astimezone(UTC) + span).astimezone(zone)


def _wall(day: date, clock: time, zone: tzinfo) -> datetime:
    """The instant that reads `day clock` in `zone` (a time skipped by DST moves on past it)."""
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC).astimezone(zone)


# --------------------------------------------------------------------------- quiet hours


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Nobody is reminded from `start` (included) to `end` (excluded), wall clock in `zone`.

    The span may cross midnight (22:00–06:00, the default) or not (12:00–13:30);
    `start == end` means no quiet hours at all.
    """

    start: time = time(22, 0)
    end: time = time(6, 0)
    zone: tzinfo = VIETNAM

    def contains(self, moment: datetime) -> bool:
        clock = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end


DEFAULT_QUIET = QuietHours()
NO_QUIET_HOURS = QuietHours(time(0, 0), time(0, 0))


def shift_out_of_quiet(moment: datetime, quiet: QuietHours = DEFAULT_QUIET) -> datetime:
    """`moment` itself, or when it falls in quiet hours the end of them (the next 06:00)."""
    _require_aware(moment, "moment")
    if not quiet.contains(moment):
        return moment
    local = moment.astimezone(quiet.zone)
    day = local.date()
    if local.time() >= quiet.end:  # evening side of a span over midnight
        day += timedelta(days=1)
    return _wall(day, quiet.end, quiet.zone)


def _last_call_before(moment: datetime, quiet: QuietHours) -> datetime:
    """For `moment` in quiet hours: just before those quiet hours began (21:59 by default)."""
    local = moment.astimezone(quiet.zone)
    day = local.date()
    if quiet.start > quiet.end and local.time() < quiet.end:
        day -= timedelta(days=1)  # the morning side: they began the evening before
    return _add(_wall(day, quiet.start, quiet.zone), -BEFORE_QUIET, quiet.zone)


# --------------------------------------------------------------------------- the schedule


class ReminderKind(StrEnum):
    DECLARATION_REMINDER = "declaration_reminder"  # to the person, before the deadline
    OVERDUE = "overdue"  # to the unit head, at the deadline
    DAILY_AFTER_OVERDUE = "daily_after_overdue"  # to the person, each day after the deadline


PERSON_KINDS = frozenset({ReminderKind.DECLARATION_REMINDER, ReminderKind.DAILY_AFTER_OVERDUE})


@dataclass(frozen=True, slots=True)
class ScheduledReminder:
    """One reminder. `seq` grows with `at`; the sweep stores the last `seq` it handled."""

    at: datetime
    kind: ReminderKind
    seq: int


def declaration_schedule(
    arrival: datetime,
    offsets: Sequence[timedelta] = DEFAULT_OFFSETS,
    window: timedelta = DECLARATION_WINDOW,
    quiet: QuietHours = DEFAULT_QUIET,
) -> list[ScheduledReminder]:
    """The reminders for a person who arrived at `arrival`, sorted, with seq 1, 2, 3, ….

    * DECLARATION_REMINDER at `arrival + offset` for each offset, moved out of quiet hours to
      their end. If that move would put it at or after the deadline, it is sent instead just
      before the quiet hours begin (21:59), so the last reminder still comes in time; if that is
      not after the arrival and the reminder before it, it is dropped. An offset that reaches the
      deadline by itself is dropped, and reminders moved to the same time are sent once.
    * OVERDUE at exactly `arrival + window` (the deadline), never moved: the unit head is told.
    * DAILY_AFTER_OVERDUE reminders are not listed (there is no last one); `due_now` and
      `next_daily_after` generate them from the OVERDUE entry.
    """
    _require_aware(arrival, "arrival")
    _require_positive(window, "window")
    deadline = _add(arrival, window, quiet.zone)
    times: list[datetime] = []
    for offset in sorted(offsets):
        _require_positive(offset, "offset")
        previous = times[-1] if times else arrival
        at = _reminder_time(_add(arrival, offset, quiet.zone), previous, deadline, quiet)
        if at is not None:
            times.append(at)
    schedule = [
        ScheduledReminder(at, ReminderKind.DECLARATION_REMINDER, seq)
        for seq, at in enumerate(times, start=1)
    ]
    schedule.append(ScheduledReminder(deadline, ReminderKind.OVERDUE, len(times) + 1))
    return schedule


def _require_positive(span: timedelta, name: str) -> None:
    if span <= timedelta(0):
        raise ValueError(f"{name} must be positive, got {span}")


def _reminder_time(
    raw: datetime, after: datetime, deadline: datetime, quiet: QuietHours
) -> datetime | None:
    """`raw` moved out of quiet hours, kept strictly between `after` and `deadline`, or None."""
    if raw >= deadline:
        return None
    moved = shift_out_of_quiet(raw, quiet)
    if moved >= deadline:
        moved = _last_call_before(raw, quiet)
    return moved if moved > after else None


def _daily_at(overdue_at: datetime, day: int, quiet: QuietHours) -> datetime:
    """Day `day` (1, 2, …) after the deadline, same wall-clock time, moved out of quiet hours."""
    local = overdue_at.astimezone(quiet.zone)
    clock = local.time()
    return shift_out_of_quiet(_wall(local.date() + timedelta(days=day), clock, quiet.zone), quiet)


def _first_daily_after(overdue_at: datetime, after: datetime, quiet: QuietHours) -> int:
    """The smallest day number whose daily reminder is strictly after `after`."""
    day = max(1, (after - overdue_at).days - 2)  # a moved reminder is < 1 day late: start near
    while _daily_at(overdue_at, day, quiet) <= after:
        day += 1
    return day


def next_daily_after(
    overdue_at: datetime,
    after: datetime,
    quiet: QuietHours = DEFAULT_QUIET,
    base_seq: int = 0,
) -> ScheduledReminder:
    """The first DAILY_AFTER_OVERDUE reminder strictly after `after`.

    Day k is at the deadline's wall-clock time k days later, moved out of quiet hours; its seq
    is `base_seq + k` (pass the OVERDUE's seq so numbering continues the schedule).
    """
    _require_aware(overdue_at, "overdue_at")
    _require_aware(after, "after")
    day = _first_daily_after(overdue_at, after, quiet)
    at = _daily_at(overdue_at, day, quiet)
    return ScheduledReminder(at, ReminderKind.DAILY_AFTER_OVERDUE, base_seq + day)


# --------------------------------------------------------------------------- the sweep


@dataclass(frozen=True, slots=True)
class Due:
    """What a sweep sends now (sorted by seq), when to look again, and the seq to store."""

    to_send: tuple[ScheduledReminder, ...]
    next_at: datetime | None
    new_last_seq: int | None


def due_now(
    schedule: Sequence[ScheduledReminder],
    now: datetime,
    last_sent_seq: int | None,
    quiet: QuietHours = DEFAULT_QUIET,
) -> Due:
    """Which reminders to send at `now`, given that everything up to `last_sent_seq` is handled.

    After downtime only the latest person reminder that is past is sent, never a burst of stale
    ones, and a DECLARATION_REMINDER is stale once the deadline has passed. An OVERDUE that is
    past and not yet handled is always sent (the unit head must hear of it), at most once. So
    `to_send` holds at most one person reminder plus possibly the OVERDUE. Everything past,
    sent or skipped, is marked handled in `new_last_seq`. Once the schedule holds an OVERDUE,
    DAILY_AFTER_OVERDUE reminders follow it each day, so `next_at` is None only for a schedule
    without one, when all of it is handled. Stop sweeping when the person has declared.
    """
    _require_aware(now, "now")
    handled = 0 if last_sent_seq is None else last_sent_seq
    entries = _with_dailies(sorted(schedule, key=lambda r: r.seq), now, quiet)
    pending = [r for r in entries if r.seq > handled]
    past = [r for r in pending if r.at <= now]
    future = [r for r in pending if r.at > now]
    new_last = max((r.seq for r in past), default=last_sent_seq)
    next_at = min((r.at for r in future), default=None)
    return Due(_pick(past), next_at, new_last)


def due_next_only(
    schedule: Sequence[ScheduledReminder], now: datetime, last_sent_seq: int | None
) -> Due | None:
    """`due_now`'s answer, cheaply, in the common case: exactly the next person reminder is due
    and the entry after it is still ahead. None otherwise (ask `due_now`). For a sweep of
    thousands; `schedule` as `declaration_schedule` returns it (seq 1, 2, … in order)."""
    handled = 0 if last_sent_seq is None else last_sent_seq
    if handled + 1 >= len(schedule):
        return None
    entry, following = schedule[handled], schedule[handled + 1]
    if entry.seq != handled + 1 or entry.kind is not ReminderKind.DECLARATION_REMINDER:
        return None
    if not entry.at <= now < following.at:
        return None
    return Due((entry,), following.at, entry.seq)


def _with_dailies(
    entries: list[ScheduledReminder], now: datetime, quiet: QuietHours
) -> list[ScheduledReminder]:
    """The schedule plus the latest daily reminder at or before `now` and the next one after."""
    overdue = next((r for r in entries if r.kind is ReminderKind.OVERDUE), None)
    if overdue is None or overdue.at > now:
        return entries  # dailies come after the overdue step, which is itself still ahead
    upcoming = next_daily_after(overdue.at, now, quiet, base_seq=overdue.seq)
    day = upcoming.seq - overdue.seq
    dailies = [upcoming]
    if day > 1:
        at = _daily_at(overdue.at, day - 1, quiet)
        dailies.insert(0, ScheduledReminder(at, ReminderKind.DAILY_AFTER_OVERDUE, upcoming.seq - 1))
    return [*entries, *dailies]


def _pick(past: list[ScheduledReminder]) -> tuple[ScheduledReminder, ...]:
    overdue = [r for r in past if r.kind is ReminderKind.OVERDUE]
    people = [r for r in past if r.kind in PERSON_KINDS]
    if overdue:
        people = [r for r in people if r.kind is ReminderKind.DAILY_AFTER_OVERDUE]
    latest = people[-1:] if people else []
    return tuple(sorted([*overdue, *latest], key=lambda r: r.seq))


# --------------------------------------------------------------------------- return checks


class ReturnChecks(NamedTuple):
    ask_at: datetime  # ask the person whether they are back (moved out of quiet hours)
    tell_head_at: datetime  # tell the unit head the return is still not reported (not moved)


def return_checks(
    planned_return: datetime,
    grace: timedelta = RETURN_GRACE,
    quiet: QuietHours = DEFAULT_QUIET,
    tell_head_after: timedelta = TELL_HEAD_AFTER,
) -> ReturnChecks:
    """When to ask "are you back?" and when to tell the head, for an unreported return.

    The person is asked `grace` after the planned return, moved out of quiet hours like every
    person reminder (and, like `declaration_schedule`, sent just before quiet hours instead if
    the move would reach the head's time; with no such time left the person is asked when the
    head is told). The head is told 24 hours after the planned return, at any hour, like an
    OVERDUE.
    """
    _require_aware(planned_return, "planned_return")
    if not timedelta(0) <= grace < tell_head_after:
        raise ValueError(f"grace must be in [0, {tell_head_after}), got {grace}")
    tell_head_at = _add(planned_return, tell_head_after, quiet.zone)
    raw = _add(planned_return, grace, quiet.zone)
    ask_at = _reminder_time(raw, planned_return - _TICK, tell_head_at, quiet)
    return ReturnChecks(ask_at or tell_head_at, tell_head_at)


# --------------------------------------------------------------------------- escalation


def escalation_due(created_at: datetime, ack_minutes: int = ACK_MINUTES, *, now: datetime) -> bool:
    """True when an alert created at `created_at` is `ack_minutes` old or older at `now`.

    The caller asks only about alerts nobody has acknowledged. Quiet hours do not apply: cases
    and urgent symptoms go up the chain 24/7 (rules 6 and 7).
    """
    _require_aware(created_at, "created_at")
    _require_aware(now, "now")
    if ack_minutes < 0:
        raise ValueError(f"ack_minutes must not be negative, got {ack_minutes}")
    return now - created_at >= timedelta(minutes=ack_minutes)
