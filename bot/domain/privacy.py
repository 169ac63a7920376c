"""Personal-data rules: the purposes a person consents to, the requests they may make and the
deadlines the office has to answer them (Law 91/2025/QH15; the numbers are settings). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.work_calendar import WorkCalendar, to_local


class Purpose(StrEnum):
    DIRECTORY = "directory"  # (a) the staff list and travel requests
    HEALTH = "health"  # (b) sensitive: return declarations, symptoms, cases, monitoring


PURPOSES = (Purpose.DIRECTORY, Purpose.HEALTH)


class Decision(StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    NOTIFIED = "notified"  # state duty: the notice was shown, nothing was asked


ALLOWS = frozenset({Decision.GRANTED.value, Decision.NOTIFIED.value})


class RequestKind(StrEnum):
    CORRECT = "correct"
    DELETE = "delete"
    WITHDRAW = "withdraw"
    OBJECT = "object"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Days the office has per kind of request, and to acknowledge any of them."""

    ack_working_days: int
    view_days: int  # view, correct, copy
    withdraw_days: int  # withdraw, restrict, object
    delete_days: int

    def days_for(self, kind: RequestKind) -> int:
        return {
            RequestKind.CORRECT: self.view_days,
            RequestKind.DELETE: self.delete_days,
            RequestKind.WITHDRAW: self.withdraw_days,
            RequestKind.OBJECT: self.withdraw_days,
        }[kind]


def add_working_days(start: datetime, days: int, calendar: WorkCalendar) -> datetime:
    """`days` working days after `start`, at the same time of day: weekends, public holidays
    (Tết, 30/4, 2/9…) and the district's days off are skipped, make-up Saturdays count."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if calendar.is_working_day(to_local(moment).date()):
            left -= 1
    return moment


def on_a_working_day(moment: datetime, calendar: WorkCalendar) -> datetime:
    """A deadline counted in days that ends on a day off ends on the next working day instead
    (Civil Code 2015 Art 148.5), at the same time of day."""
    while not calendar.is_working_day(to_local(moment).date()):
        moment += timedelta(days=1)
    return moment


@dataclass(frozen=True, slots=True)
class RequestTimes:
    ack_due: datetime
    due: datetime
    remind: datetime


def request_times(
    now: datetime,
    kind: RequestKind,
    deadlines: Deadlines,
    remind_before: timedelta,
    calendar: WorkCalendar,
) -> RequestTimes:
    """When a request made `now` must be acknowledged and answered, and when to remind."""
    due = on_a_working_day(now + timedelta(days=deadlines.days_for(kind)), calendar)
    return RequestTimes(
        add_working_days(now, deadlines.ack_working_days, calendar),
        due,
        max(now, due - remind_before),
    )


def extended_due(due: datetime, days: int, calendar: WorkCalendar) -> datetime:
    """The one extension: `days` more, landing on a working day like the first deadline."""
    return on_a_working_day(due + timedelta(days=days), calendar)


def missing_purpose(decisions: dict[str, str]) -> Purpose | None:
    """The first purpose without a decision under the current notice (silence is no consent)."""
    return next((p for p in PURPOSES if p.value not in decisions), None)


def allows(decisions: dict[str, str], purpose: Purpose) -> bool:
    return decisions.get(purpose.value) in ALLOWS
