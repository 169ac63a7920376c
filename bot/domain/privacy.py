"""Personal-data rules: the purposes a person consents to, the requests they may make and the
deadlines the office has to answer them (Law 91/2025/QH15; the numbers are settings). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


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


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday) after `start`, at the same time of day."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


@dataclass(frozen=True, slots=True)
class RequestTimes:
    ack_due: datetime
    due: datetime
    remind: datetime


def request_times(
    now: datetime, kind: RequestKind, deadlines: Deadlines, remind_before: timedelta
) -> RequestTimes:
    """When a request made `now` must be acknowledged and answered, and when to remind."""
    due = now + timedelta(days=deadlines.days_for(kind))
    return RequestTimes(
        add_working_days(now, deadlines.ack_working_days), due, max(now, due - remind_before)
    )


def missing_purpose(decisions: dict[str, str]) -> Purpose | None:
    """The first purpose without a decision under the current notice (silence is no consent)."""
    return next((p for p in PURPOSES if p.value not in decisions), None)


def allows(decisions: dict[str, str], purpose: Purpose) -> bool:
    return decisions.get(purpose.value) in ALLOWS
