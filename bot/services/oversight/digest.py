"""The digests: each morning at DIGEST_HOUR to every unit head with something needing attention,
and once a week to the district admins. When each is next due is a row of `oversight_digests`,
moved on in the same transaction that queues the messages, so a digest goes out once per day
(a restart, a second sweep or a crash after the commit cannot send it twice)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from functools import partial

from bot.domain.directory import Directory
from bot.domain.models import BuiltinRole
from bot.i18n import Translator
from bot.outgoing import OutMessage
from bot.services.kernel.step import Deps, Incoming, Step
from bot.services.oversight.views import daily_digest, digest_items, district_text
from storage.engine import Tx
from storage.oversight_repo import OversightRepo, UnitFigures
from storage.repos import Account

DAILY = "daily"
WEEKLY = "weekly"
WEEKLY_LINES = 10
COUNTS = ("overdue", "not_reported", "pending", "symptoms", "unread")


def rollup(directory: Directory, figures: dict[str, UnitFigures]) -> dict[str, UnitFigures]:
    """Each unit's figures added to itself and to every unit above it."""
    totals: dict[str, UnitFigures] = {}
    for unit_id, found in figures.items():
        for target in (unit_id, *directory.ancestor_ids(unit_id)):
            total = totals.setdefault(target, UnitFigures(target))
            for name in COUNTS:
                setattr(total, name, getattr(total, name) + getattr(found, name))
    return totals


def next_daily(now: datetime, at: time) -> datetime:
    moment = datetime.combine(now.date(), at, now.tzinfo)
    return moment if moment > now else moment + timedelta(days=1)


def next_weekly(now: datetime, at: time, weekday: int) -> datetime:
    moment = datetime.combine(
        now.date() + timedelta(days=(weekday - now.weekday()) % 7), at, now.tzinfo
    )
    return moment if moment > now else moment + timedelta(days=7)


class Digests:
    def __init__(
        self,
        deps: Deps,
        district_figures: Callable[[Tx, datetime], Awaitable[dict[str, UnitFigures]]],
    ) -> None:
        self.deps = deps
        self.district_figures = district_figures

    def _next(self, kind: str, now: datetime) -> datetime:
        settings = self.deps.settings
        local = now.astimezone(self.deps.clock.tz)
        if kind == DAILY:
            return next_daily(local, settings.digest_hour)
        return next_weekly(local, settings.digest_hour, settings.weekly_digest_weekday)

    async def next_due(self, now: datetime) -> datetime | None:
        """The sweep's wake-up: the next digest's minute, from its row."""
        async with self.deps.db.reading() as tx:
            return await OversightRepo(tx, self.deps.clock.tz).next_digest()

    async def sweep(self, now: datetime) -> int:
        tz = self.deps.clock.tz
        async with self.deps.db.reading() as tx:
            due = [await OversightRepo(tx, tz).digest_due(kind) for kind in (DAILY, WEEKLY)]
        if all(d is not None and d > now for d in due):
            return 0
        done = 0
        async with self.deps.db.transaction() as tx:
            step = Step(tx, Incoming("system", "system", "system"), Account("system", "system", "system", None, None),
                        self.deps.translations.for_language(None), now, self.deps)  # fmt: skip
            repo = OversightRepo(tx, tz)
            for kind, send in ((DAILY, self._daily), (WEEKLY, self._weekly)):
                next_at = await repo.digest_due(kind)
                if next_at is None:
                    await repo.set_digest(kind, self._next(kind, now), None)
                elif next_at <= now:
                    done += await send(step, repo, now)
                    await repo.set_digest(kind, self._next(kind, now), now)
        if step.enqueued:
            self.deps.wake_outbox()
        return done

    async def _daily(self, step: Step, repo: OversightRepo, now: datetime) -> int:
        directory = await step.directory()
        settings = self.deps.settings
        directives = await repo.recent_directives(
            now - timedelta(days=settings.oversight_directive_days), now - timedelta(days=1)
        )
        totals = rollup(
            directory,
            await repo.attention(
                now, now - timedelta(days=1), [d[0] for d in directives], settings.return_grace
            ),
        )
        sent = 0
        for head_id in directory.role_ids(BuiltinRole.UNIT_HEAD.value):
            head = directory.staff[head_id]
            found = totals.get(head.unit_id)
            if found is None or not any(getattr(found, name) for name in COUNTS):
                continue
            unit = directory.unit(head.unit_id)
            name = unit.name if unit else head.unit_id
            queued = await step.tell_staff(
                [head_id],
                partial(_daily, unit_name=name, figures=found),
                priority=6,
                purpose="digest",
            )
            sent += len(queued)
        await step.audit.append(now, "system", "digest.daily", None, {"sent": sent})
        return sent

    async def _weekly(self, step: Step, repo: OversightRepo, now: datetime) -> int:
        directory = await step.directory()
        figures = await self.district_figures(step.tx, now)

        def build(t: Translator) -> OutMessage:
            text = district_text(t, directory, figures, WEEKLY_LINES)
            return OutMessage(
                t._("🗓 Weekly report on the district, worst units first:")
                + "\n\n"
                + text
                + "\n\n"
                + t._("More: /district, /export")
            )

        queued = await step.tell_staff(
            list(directory.role_ids(BuiltinRole.ADMIN.value)), build, priority=6, purpose="digest"
        )
        await step.audit.append(now, "system", "digest.weekly", None, {"sent": len(queued)})
        return len(queued)


def _daily(t: Translator, unit_name: str, figures: UnitFigures) -> OutMessage:
    return daily_digest(t, unit_name, digest_items(t, figures))
