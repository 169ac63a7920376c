"""Whether the bot may process a person's data for a purpose now: the one check other features
call (the health flows, the return declaration) before asking anything of that purpose."""

from __future__ import annotations

from collections.abc import Collection
from datetime import tzinfo

from bot.config import Settings
from bot.domain.privacy import Purpose, allows
from bot.services.kernel.step import Step
from storage.engine import Tx
from storage.privacy_repo import ConsentsRepo

STOPPED_ACTION = "privacy.stopped"  # a follow-up ended because its basis was withdrawn


async def decisions_of(step: Step, staff_id: str) -> dict[str, str]:
    """The latest decision per purpose under the current notice version."""
    settings = step.deps.settings
    repo = ConsentsRepo(step.tx, step.deps.clock.tz)
    return await repo.current(staff_id, settings.privacy_notice_version)


async def may_process(step: Step, staff_id: str, purpose: Purpose) -> bool:
    """Under a state duty the notice is enough; under consent only an explicit «Đồng ý» (not yet
    asked, refused and withdrawn all mean no)."""
    if step.deps.settings.privacy_basis == "state_duty":
        return True
    return allows(await decisions_of(step, staff_id), purpose)


async def withdrawn_among(
    tx: Tx, settings: Settings, tz: tzinfo, staff_ids: Collection[str], purpose: Purpose
) -> set[str]:
    """For the sweeps: who among these people refused or withdrew `purpose`, so nothing more
    is sent or asked under it (what was done before stays lawful). A state duty stops nobody."""
    if settings.privacy_basis == "state_duty" or not staff_ids:
        return set()
    return await ConsentsRepo(tx, tz).stopped(staff_ids, purpose.value)


async def withdrawn(step: Step, staff_id: str, purpose: Purpose) -> bool:
    """The same check for one person, within a step (a head's «remind again»)."""
    tz = step.deps.clock.tz
    return bool(await withdrawn_among(step.tx, step.deps.settings, tz, [staff_id], purpose))
