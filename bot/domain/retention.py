"""Retention and breach deadlines as pure rules: what is past its time, when to remind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Kept(StrEnum):
    """The kinds of records the purge deletes, in the order it goes through them: a kind whose
    records another deletes along with its own comes first (so the dry run counts the same)."""

    REFERRALS = "referrals"  # alerts a duty officer passed up to the leaders, with their note
    HEALTH = "health"  # symptom reports, their alerts
    OUTSIDE_REPORTS = "outside_reports"  # case reports prepared for bodies outside the bot
    CASES = "cases"  # case reports, their contact trees and alerts
    MEASURES = "measures"  # testing and isolation on return: the test results
    RETURNS = "returns"  # return declarations
    MONITORING = "monitoring"  # monitorings and their check-ins
    TRAVEL = "travel"  # travel requests
    LEAVERS = "leavers"  # the health data of people who left the office (after the above)
    BUTTON_LINKS = "button_links"  # which message carries whose buttons, once settled
    OUTBOX = "outbox"  # messages already sent (or given up)
    DIRECTIVE_COPIES = "directive_copies"  # each person's copy of a directive
    DIRECTIVE_READS = "directive_reads"  # who received a directive, when they read it
    ABSENCES = "absences"  # declared absences (leave), after their last day
    DRAFTS = "drafts"  # conversations left half-way: a request, a declaration, a directive
    CONSENTS = "consents"  # the consent ledger: superseded decisions, and a leaver's
    VIOLATIONS = "violations"  # violations heads recorded on their staff
    DUTY_SHIFTS = "duty_shifts"  # the duty roster's shifts, after their end
    PRIVACY_REQUESTS = "privacy_requests"  # people's data requests, once closed
    UPLOADS = "uploads"  # directory files sent in the chat (their rows, the file gone)
    UPDATES = "updates"  # handled update ids (the redelivery check) and their inbox rows
    FAILED_UPDATES = "failed_updates"  # updates given up after their attempts (with their body)
    CHANNEL_CHOICES = "channel_choices"  # the messenger a person chose, once they left
    PENDING_CHOICES = "pending_choices"  # the numbered choices last offered in a chat
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
    violations: int
    duty_shifts: int
    privacy_requests: int
    uploads: int
    updates: int
    failed_updates: int

    def days(self, kind: Kept) -> int:
        shared = {
            Kept.CASES: self.health,
            Kept.REFERRALS: self.health,
            Kept.OUTSIDE_REPORTS: self.health,
            Kept.MEASURES: self.health,
            Kept.DIRECTIVE_COPIES: self.audit,
            Kept.CHANNEL_CHOICES: self.leavers,
            Kept.PENDING_CHOICES: self.drafts,
            Kept.BUTTON_LINKS: self.outbox,
        }
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
