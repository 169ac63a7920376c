"""The purge: each day at RETENTION_PURGE_HOUR, what is past its time is deleted in batches.

Each batch is its own short transaction (RETENTION_BATCH records and what hangs on them), and
the event loop runs between batches, so people's steps keep flowing while a year of history
goes. One audit entry per run holds the counts, never the data. Which instance runs the day's
purge is decided by a conditional update of its planned time (`retention_runs`); deleting is
idempotent, so a run cut short is finished by the next one.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.retention import Kept, RetentionDays, cutoffs
from bot.i18n import Translator
from bot.services.kernel.feature import Feature
from storage.engine import Database
from storage.repos import AuditRepo
from storage.retention_repo import RetentionRepo

PURGE_ACTION = "privacy.purge"
LEAVERS_PER_BATCH_SHARE = 10  # a leaver has many rows: fewer people per batch
CHECKPOINT_EVERY = 8  # batches between checkpoints of the write-ahead log
HOLD_TARGET = 0.04  # seconds: a batch that held the lock longer halves the next one
SMALLEST_BATCH = 10
FIRST_BATCH = 50


def retention_days(settings: Settings) -> RetentionDays:
    return RetentionDays(
        health=settings.retention_health_days,
        returns=settings.retention_returns_days,
        monitoring=settings.retention_monitoring_days,
        travel=settings.retention_travel_days,
        audit=settings.retention_audit_days,
        outbox=settings.retention_outbox_days,
        exports=settings.retention_exports_days,
        leavers=settings.retention_leavers_days,
        records=settings.retention_records_days,
        directive_reads=settings.retention_directive_reads_days,
        absences=settings.retention_absences_days,
        drafts=settings.retention_drafts_days,
        consents=settings.retention_consents_days,
        violations=settings.retention_violations_days,
        duty_shifts=settings.retention_duty_shifts_days,
        privacy_requests=settings.retention_privacy_requests_days,
        uploads=settings.retention_uploads_days,
        updates=settings.retention_updates_days,
        failed_updates=settings.retention_failed_updates_days,
    )


@dataclass
class PurgeOutcome:
    counts: dict[Kept, int] = field(default_factory=lambda: dict.fromkeys(Kept, 0))
    batches: int = 0
    longest_hold: float = 0.0  # seconds: the longest transaction (write lock) of the run
    holds: dict[Kept, float] = field(default_factory=dict)  # the longest, per kind


def label(t: Translator, kind: Kept) -> str:
    labels = {
        Kept.HEALTH: t._("symptom reports"),
        Kept.REFERRALS: t._("alerts passed up to the leaders (with their note)"),
        Kept.OUTSIDE_REPORTS: t._("case reports prepared for outside bodies"),
        Kept.CASES: t._("case reports"),
        Kept.MEASURES: t._("tests and isolation on return (test results)"),
        Kept.RETURNS: t._("return declarations"),
        Kept.MONITORING: t._("medical monitorings (with their check-ins)"),
        Kept.TRAVEL: t._("travel requests"),
        Kept.LEAVERS: t._("people who left (their health data)"),
        Kept.OUTBOX: t._("messages already sent"),
        Kept.DIRECTIVE_COPIES: t._("copies of directives sent"),
        Kept.DIRECTIVE_READS: t._("directive recipients and their reads"),
        Kept.ABSENCES: t._("declared absences"),
        Kept.DRAFTS: t._("conversations left unfinished (drafts)"),
        Kept.CONSENTS: t._("consent decisions replaced, or of people who left"),
        Kept.VIOLATIONS: t._("violations recorded on staff"),
        Kept.DUTY_SHIFTS: t._("past duty shifts"),
        Kept.PRIVACY_REQUESTS: t._("data requests closed"),
        Kept.UPLOADS: t._("directory files sent in the chat (records of them)"),
        Kept.UPDATES: t._("updates handled (their ids)"),
        Kept.FAILED_UPDATES: t._("updates given up (with what was sent)"),
        Kept.CHANNEL_CHOICES: t._("messenger choices of people who left"),
        Kept.PENDING_CHOICES: t._("numbered choices last offered in a chat"),
        Kept.BUTTON_LINKS: t._("links of settled messages to their buttons"),
        Kept.AUDIT: t._("audit entries"),
        Kept.RECORDS: t._("breach records and purge entries"),
        Kept.EXPORTS: t._("exported files"),
    }
    return labels[kind]


def counts_lines(t: Translator, counts: dict[Kept, int], days: RetentionDays) -> list[str]:
    return [
        t._(
            "{label}: {n} (kept {days} days)",
            label=label(t, kind),
            n=t.number(counts[kind]),
            days=t.number(days.days(kind)),
        )
        for kind in Kept
    ]


def _next_limit(limit: int, held: float, largest: int) -> int:
    """Batches shrink when the machine is slow (a busy disk, a cold cache) and grow back to
    RETENTION_BATCH, so a transaction stays near HOLD_TARGET whatever the load."""
    if held > HOLD_TARGET:
        return max(min(SMALLEST_BATCH, largest), limit // 2)
    if held < HOLD_TARGET / 4:
        return min(largest, limit * 2)
    return limit


class Retention:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.days = retention_days(settings)

    # --- what is past its time ----------------------------------------------------------------

    async def preview(self, now: datetime) -> dict[Kept, int]:
        """What a purge now would delete, per kind; changes nothing."""
        limits = cutoffs(now, self.days)
        counts = dict.fromkeys(Kept, 0)
        async with self.db.reading() as tx:
            repo = RetentionRepo(tx)
            for kind in Kept:
                if kind is not Kept.EXPORTS:
                    counts[kind] = await repo.count_expired(kind, limits)
        counts[Kept.EXPORTS] = len(self._old_exports(limits[Kept.EXPORTS]))
        return counts

    async def purge(self, now: datetime, actor: str = "system") -> PurgeOutcome:
        limits = cutoffs(now, self.days)
        outcome = PurgeOutcome()
        await self.db.pause_checkpoints()
        try:
            for kind in Kept:
                if kind is not Kept.EXPORTS:
                    await self._purge_kind(kind, limits, now, outcome)
        finally:
            await self.db.resume_checkpoints()
            await self.db.checkpoint()
        outcome.counts[Kept.EXPORTS] = self._delete_exports(limits[Kept.EXPORTS])
        async with self.db.transaction() as tx:
            details = {kind.value: n for kind, n in outcome.counts.items()}
            await AuditRepo(tx).append(now, actor, PURGE_ACTION, None, {"deleted": details})
        return outcome

    async def _purge_kind(
        self, kind: Kept, limits: dict[Kept, datetime], now: datetime, outcome: PurgeOutcome
    ) -> None:
        largest = self.settings.retention_batch
        if kind is Kept.LEAVERS:
            largest = max(1, largest // LEAVERS_PER_BATCH_SHARE)
        limit = min(largest, FIRST_BATCH)  # a cold cache makes the first batch the slowest
        more = True
        while more:
            started = time.perf_counter()
            async with self.db.transaction() as tx:
                batch = await RetentionRepo(tx).delete_batch(kind, limits, now, limit)
            held = time.perf_counter() - started
            outcome.longest_hold = max(outcome.longest_hold, held)
            outcome.holds[kind] = max(outcome.holds.get(kind, 0.0), held)
            outcome.batches += 1
            outcome.counts[kind] += batch.deleted
            more = batch.more
            limit = _next_limit(limit, held, largest)
            if outcome.batches % CHECKPOINT_EVERY == 0:
                await self.db.checkpoint()
            await asyncio.sleep(0)  # the steps waiting for the lock go first

    # --- exported files -------------------------------------------------------------------------

    def _old_exports(self, cutoff: datetime) -> list[Path]:
        folder = self.settings.exports_folder
        if not folder.is_dir():
            return []
        limit = cutoff.timestamp()
        return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime < limit]

    def _delete_exports(self, cutoff: datetime) -> int:
        deleted = 0
        for path in self._old_exports(cutoff):
            try:
                path.unlink()
            except FileNotFoundError:
                continue  # another instance (or a person) was first
            deleted += 1
        return deleted

    # --- the daily run in the sweep ---------------------------------------------------------------

    def _next_run(self, now: datetime) -> datetime:
        local = now.astimezone(self.clock.tz)
        at = datetime.combine(local.date(), self.settings.retention_purge_hour, local.tzinfo)
        return at if at > now else at + timedelta(days=1)

    async def next_due(self, now: datetime) -> datetime | None:
        async with self.db.reading() as tx:
            return await RetentionRepo(tx).purge_due(self.clock.tz)

    async def sweep(self, now: datetime) -> int:
        due = await self.next_due(now)
        if due is not None and due > now:
            return 0
        async with self.db.transaction() as tx:
            repo = RetentionRepo(tx)
            if due is None:
                await repo.plan_purge(self._next_run(now))
                return 0
            if not await repo.claim_purge(due, now, self._next_run(now)):
                return 0  # another instance has it
        outcome = await self.purge(now)
        return sum(outcome.counts.values())

    def feature(self) -> Feature:
        return Feature(jobs=[self.sweep], wakes=[self.next_due])
