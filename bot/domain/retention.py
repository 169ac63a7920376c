"""Retention and breach deadlines as pure rules: what is past its time, when to remind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Kept(StrEnum):
    """The kinds of records the purge deletes, in the order it goes through them."""

    HEALTH = "health"  # symptom reports, their alerts
    CASES = "cases"  # case reports, their contact trees and alerts
    RETURNS = "returns"  # return declarations
    MONITORING = "monitoring"  # monitorings and their check-ins
    TRAVEL = "travel"  # travel requests
    LEAVERS = "leavers"  # the health data of people who left the office (after the above)
    OUTBOX = "outbox"  # messages already sent (or given up)
    DIRECTIVE_COPIES = "directive_copies"  # each person's copy of a directive
    DIRECTIVE_READS = "directive_reads"  # who received a directive, when they read it
    ABSENCES = "absences"  # declared absences (leave), after their last day
    DRAFTS = "drafts"  # conversations left half-way: a request, a declaration, a directive
    CONSENTS = "consents"  # the consent ledger: superseded decisions, and a leaver's
    AUDIT = "audit"  # audit entries
    RECORDS = "records"  # breach records and the purge's own entries
    EXPORTS = "exports"  # exported files


@dataclass(frozen=True)
class RetentionDays:
    health: int
    returns: int
    monitoring: int
    travel: int
    audit: int
    outbox: int
    exports: int
    leavers: int
    records: int
    directive_reads: int
    absences: int
    drafts: int
    consents: int

    def days(self, kind: Kept) -> int:
        shared = {Kept.CASES: self.health, Kept.DIRECTIVE_COPIES: self.audit}
        return shared.get(kind) or int(getattr(self, kind.value))


def cutoffs(now: datetime, days: RetentionDays) -> dict[Kept, datetime]:
    """For each kind, the moment before which its records are past their time."""
    return {kind: now - timedelta(days=days.days(kind)) for kind in Kept}


def breach_moments(deadline: datetime, left: Sequence[timedelta]) -> list[datetime]:
    """When the officer and the admins are reminded: at each time left before the deadline
    (72 h left is the moment of detection), then at the deadline itself."""
    return sorted({deadline - amount for amount in left if amount > timedelta(0)} | {deadline})


def next_breach_reminder(
    deadline: datetime, left: Sequence[timedelta], now: datetime
) -> datetime | None:
    """The first reminder moment after `now`; None once the deadline is behind it. Moments
    already passed are covered by the message sent now (one message, not a burst)."""
    return next((at for at in breach_moments(deadline, left) if at > now), None)
