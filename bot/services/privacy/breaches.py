"""The breach register (Law 91/2025 Art 23): an incident is opened with its detection time; the
authority must be notified within BREACH_NOTIFY_HOURS (72 h) of it. Until that notification is
recorded, the sweep reminds the data protection officer (PRIVACY_DPO_STAFF_ID) and the district
admins at each BREACH_REMINDERS time left, then once more when the deadline passes.

The messages name the incident's number and its times, never its description: they travel
through a messenger abroad, and the description may name people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from bot.domain.models import BuiltinRole
from bot.domain.retention import breach_moments, next_breach_reminder
from bot.i18n import Translator
from bot.outgoing import OutMessage
from bot.services.kernel.feature import Feature
from bot.services.kernel.step import Deps, Step, sweep_due
from storage.breaches_repo import Breach, BreachesRepo
from storage.repos import AuditRepo

OPEN_ACTION = "privacy.breach.open"
AUTHORITY_ACTION = "privacy.breach.notified_authority"
PEOPLE_ACTION = "privacy.breach.notified_people"
SUMMARY_MAX = 2000


def dpo_staff_id(deps: Deps) -> str:
    """The data protection officer's staff id (PRIVACY_DPO_STAFF_ID), '' when not set."""
    return deps.settings.privacy_dpo_staff_id.strip()


@dataclass(frozen=True)
class Recorded:
    breach: Breach | None  # None: no breach with that number
    changed: bool  # False: it was recorded before (the first time stands)


class Breaches:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @property
    def _deadline(self) -> timedelta:
        return timedelta(hours=self.deps.settings.breach_notify_hours)

    async def open(self, summary: str, detected_at: datetime, actor: str) -> Breach:
        now = self.deps.clock.now()
        deadline = detected_at + self._deadline
        first = breach_moments(deadline, self.deps.settings.breach_reminders)[0]
        async with self.deps.db.transaction() as tx:
            repo = BreachesRepo(tx, self.deps.clock.tz)
            breach_id = await repo.open(
                summary[:SUMMARY_MAX], detected_at, actor, now, deadline, min(first, now)
            )
            await AuditRepo(tx).append(now, actor, OPEN_ACTION, f"breach:{breach_id}", {})
            found = await repo.get(breach_id)
        assert found is not None
        return found

    async def notified_authority(self, breach_id: int, at: datetime, actor: str) -> Recorded:
        return await self._record(breach_id, at, actor, authority=True)

    async def notified_people(self, breach_id: int, at: datetime, actor: str) -> Recorded:
        return await self._record(breach_id, at, actor, authority=False)

    async def _record(self, breach_id: int, at: datetime, actor: str, authority: bool) -> Recorded:
        async with self.deps.db.transaction() as tx:
            repo = BreachesRepo(tx, self.deps.clock.tz)
            mark = repo.notified_authority if authority else repo.notified_people
            changed = await mark(breach_id, at)
            if changed:
                action = AUTHORITY_ACTION if authority else PEOPLE_ACTION
                await AuditRepo(tx).append(
                    self.deps.clock.now(), actor, action, f"breach:{breach_id}", {}
                )
            return Recorded(await repo.get(breach_id), changed)

    async def all(self) -> list[Breach]:
        async with self.deps.db.reading() as tx:
            return await BreachesRepo(tx, self.deps.clock.tz).all()

    # --- the sweep ------------------------------------------------------------------------------

    async def next_due(self, now: datetime) -> datetime | None:
        async with self.deps.db.reading() as tx:
            return await BreachesRepo(tx, self.deps.clock.tz).next_reminder()

    async def sweep(self, now: datetime) -> int:
        async def find(step: Step) -> list[Breach]:
            return await BreachesRepo(step.tx, self.deps.clock.tz).due(step.now)

        return await sweep_due(self.deps, now, find, self._remind)

    async def _remind(self, step: Step, breach: Breach) -> None:
        assert breach.remind_at is not None
        following = next_breach_reminder(
            breach.deadline_at, self.deps.settings.breach_reminders, step.now
        )
        if not await BreachesRepo(step.tx, self.deps.clock.tz).reminded(
            breach.id, breach.remind_at, following
        ):
            return  # another instance sent it
        directory = await step.directory()
        officers = set(directory.role_ids(BuiltinRole.ADMIN.value))
        if dpo_staff_id(self.deps):
            officers.add(dpo_staff_id(self.deps))
        build = partial(reminder, breach=breach, now=step.now)
        await step.tell_staff(sorted(officers), build, priority=1, purpose=f"breach:{breach.id}")

    def feature(self) -> Feature:
        return Feature(jobs=[self.sweep], wakes=[self.next_due])


def _left(t: Translator, amount: timedelta) -> str:
    hours = int(amount.total_seconds() // 3600)
    if hours >= 1:
        return t.n_("{n} hour", "{n} hours", hours)
    minutes = max(1, int(amount.total_seconds() // 60))
    return t.n_("{n} minute", "{n} minutes", minutes)


def reminder(t: Translator, breach: Breach, now: datetime) -> OutMessage:
    where = t._("Record it with: python -m bot privacy breach notified-authority {n}", n=breach.id)
    if now >= breach.deadline_at:
        head = t._(
            "⛔ Personal data breach no. {n} (detected {detected}): the deadline to notify the "
            "personal data protection authority passed at {deadline} and no notification is "
            "recorded. Notify it now, with the reasons for the delay.",
            n=breach.id,
            detected=t.short(breach.detected_at),
            deadline=t.short(breach.deadline_at),
        )
    else:
        head = t._(
            "⚠️ Personal data breach no. {n} (detected {detected}): the personal data protection "
            "authority must be notified by {deadline}, {left} from now.",
            n=breach.id,
            detected=t.short(breach.detected_at),
            deadline=t.short(breach.deadline_at),
            left=_left(t, breach.deadline_at - now),
        )
    return OutMessage(head + "\n" + where)
