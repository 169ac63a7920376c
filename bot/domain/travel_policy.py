"""The travel policy (DOMAIN rules 1–2): which trips out of the city need approval.

Default mode: a trip needs approval when any instant of [departure, return) lies on a Saturday,
Sunday, public holiday or declared day off (unless a make-up working day) or outside working
hours. The check is exact, day segment by day segment, not by sampling. Ban mode: every trip is
an exception that needs approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot.domain.clock import VIETNAM
from bot.domain.work_calendar import WorkCalendar, to_local

DEPARTURE_GRACE = timedelta(minutes=5)
_MAX_TIMEDELTA_DAYS = 999_999_999


class PolicyMode(StrEnum):
    APPROVAL_OUTSIDE_HOURS = "approval_outside_hours"
    BAN = "ban"


@dataclass(frozen=True, slots=True)
class PolicyPeriod:
    mode: PolicyMode
    effective_from: datetime
    until: datetime | None  # None = until further notice

    def covers(self, moment: datetime) -> bool:
        return self.effective_from <= moment and (self.until is None or moment < self.until)


def policy_at(
    periods: Sequence[PolicyPeriod],
    moment: datetime,
    default: PolicyMode = PolicyMode.APPROVAL_OUTSIDE_HOURS,
) -> PolicyMode:
    """The mode of the latest-starting period covering `moment`; on a tie, the later in the list."""
    covering = [(p.effective_from, i, p) for i, p in enumerate(periods) if p.covers(moment)]
    return max(covering, key=lambda item: item[:2])[2].mode if covering else default


def policy_for_trip(
    periods: Sequence[PolicyPeriod],
    departure: datetime,
    return_at: datetime,
    default: PolicyMode = PolicyMode.APPROVAL_OUTSIDE_HOURS,
) -> PolicyMode:
    """The mode a trip is judged by: BAN if a ban is in force at any moment of [departure,
    return), whenever the request is made (a ban set ahead covers the trips inside it)."""
    moments = {departure}
    for period in periods:
        for edge in (period.effective_from, period.until):
            if edge is not None and departure < edge < return_at:
                moments.add(edge)
    modes = {policy_at(periods, moment, default) for moment in moments}
    return PolicyMode.BAN if PolicyMode.BAN in modes else policy_at(periods, departure, default)


def in_force_or_scheduled(
    periods: Sequence[PolicyPeriod], now: datetime
) -> tuple[PolicyPeriod | None, list[PolicyPeriod]]:
    """The period in force now (None: the default mode) and those that start later, in order.

    A period that has ended, or that a later-starting one replaced before it began, is left out.
    """
    covering = [(p.effective_from, i, p) for i, p in enumerate(periods) if p.covers(now)]
    current = max(covering, key=lambda item: item[:2])[2] if covering else None
    later = sorted(
        (p for p in periods if p.effective_from > now and (p.until is None or p.until > now)),
        key=lambda p: p.effective_from,
    )
    return current, later


class TripClass(StrEnum):
    WORK_TRIP = "work_trip"  # wholly inside working hours: recorded, head informed, no approval
    NEEDS_APPROVAL = "needs_approval"
    EXCEPTION_UNDER_BAN = "exception_under_ban"


class ApprovalReason(StrEnum):
    BAN = "ban"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # a public holiday or a declared day off; see holiday_dates
    OUTSIDE_HOURS = "outside_hours"  # part of the trip is on a working day, outside its hours


@dataclass(frozen=True, slots=True)
class TripAssessment:
    trip_class: TripClass
    reasons: tuple[ApprovalReason, ...]
    holiday_dates: tuple[date, ...] = ()
    first_non_working_moment: datetime | None = None  # tz-aware, Vietnam time


@dataclass(frozen=True, slots=True)
class _Segment:
    """The part of the trip on one calendar day, in Vietnam wall-clock time: [start, end)."""

    day: date
    start: datetime
    end: datetime


def assess_trip(
    departure: datetime, return_at: datetime, mode: PolicyMode, calendar: WorkCalendar
) -> TripAssessment:
    """Classify the trip [departure, return_at); an empty or reversed trip is a work trip."""
    segments = list(_segments(to_local(departure), to_local(return_at)))
    reasons = _reasons(segments, calendar)
    holiday_dates = tuple(s.day for s in segments if calendar.is_day_off(s.day))
    first = _first_non_working(segments, calendar)
    if mode is PolicyMode.BAN:
        return TripAssessment(
            TripClass.EXCEPTION_UNDER_BAN, (ApprovalReason.BAN, *reasons), holiday_dates, first
        )
    trip_class = TripClass.WORK_TRIP if first is None else TripClass.NEEDS_APPROVAL
    return TripAssessment(trip_class, reasons, holiday_dates, first)


def _segments(start: datetime, end: datetime) -> list[_Segment]:
    segments: list[_Segment] = []
    while start < end:
        midnight = _next_midnight(start)
        segments.append(_Segment(start.date(), start, min(end, midnight)))
        start = midnight
    return segments


def _next_midnight(moment: datetime) -> datetime:
    if moment.date() == date.max:
        return datetime.max
    return datetime.combine(moment.date() + timedelta(days=1), time.min)


def _reasons(segments: list[_Segment], calendar: WorkCalendar) -> tuple[ApprovalReason, ...]:
    found: list[ApprovalReason] = []
    if any(calendar.is_weekend(s.day) for s in segments):
        found.append(ApprovalReason.WEEKEND)
    if any(calendar.is_day_off(s.day) for s in segments):
        found.append(ApprovalReason.HOLIDAY)
    if any(calendar.is_working_day(s.day) and _outside(s, calendar) for s in segments):
        found.append(ApprovalReason.OUTSIDE_HOURS)
    return tuple(found)


def _working_hours(segment: _Segment, calendar: WorkCalendar) -> tuple[datetime, datetime]:
    return (
        datetime.combine(segment.day, calendar.work_start.replace(tzinfo=None)),
        datetime.combine(segment.day, calendar.work_end.replace(tzinfo=None)),
    )


def _outside(segment: _Segment, calendar: WorkCalendar) -> bool:
    """Part of this working-day segment lies outside [work_start, work_end)."""
    return _first_outside(segment, calendar) is not None


def _first_outside(segment: _Segment, calendar: WorkCalendar) -> datetime | None:
    """The first instant of the segment outside working hours, if any (days not considered)."""
    opens, closes = _working_hours(segment, calendar)
    if segment.start < opens or segment.start >= closes:
        return segment.start
    return closes if segment.end > closes else None


def _first_non_working(segments: list[_Segment], calendar: WorkCalendar) -> datetime | None:
    for segment in segments:
        if not calendar.is_working_day(segment.day):
            return _aware(segment.start)
        moment = _first_outside(segment, calendar)
        if moment is not None:
            return _aware(moment)
    return None


def _aware(local: datetime) -> datetime:
    return local.replace(tzinfo=VIETNAM)


# --- validation ------------------------------------------------------------------------------


class TripError(StrEnum):
    DEPARTURE_IN_PAST = "departure_in_past"
    RETURN_BEFORE_DEPARTURE = "return_before_departure"  # also: return equal to departure
    TOO_LONG = "too_long"


class PurposeError(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"


def validate_trip(
    departure: datetime, return_at: datetime, now: datetime, max_trip_days: int = 30
) -> list[TripError]:
    """Errors in the order the user should fix them; empty when the trip is acceptable.

    The departure may lie up to 5 minutes in the past (typing takes time). Naive datetimes are
    taken as Vietnam time. Never raises.
    """
    departure, return_at, now = _as_aware(departure), _as_aware(return_at), _as_aware(now)
    errors: list[TripError] = []
    if now - departure > DEPARTURE_GRACE:
        errors.append(TripError.DEPARTURE_IN_PAST)
    if return_at <= departure:
        errors.append(TripError.RETURN_BEFORE_DEPARTURE)
    elif return_at - departure > timedelta(days=min(max(max_trip_days, 0), _MAX_TIMEDELTA_DAYS)):
        errors.append(TripError.TOO_LONG)
    return errors


def _as_aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=VIETNAM) if moment.tzinfo is None else moment


def validate_purpose(text: str, max_len: int = 1000) -> PurposeError | None:
    """EMPTY when nothing but white space is left, TOO_LONG above `max_len` characters (trimmed)."""
    trimmed = text.strip() if isinstance(text, str) else ""
    if not trimmed:
        return PurposeError.EMPTY
    return PurposeError.TOO_LONG if len(trimmed) > max_len else None
