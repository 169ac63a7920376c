"""Whether the bot may process a person's data for a purpose now: the one check other features
call (the health flows, the return declaration) before asking anything of that purpose."""

from __future__ import annotations

from bot.domain.privacy import Purpose, allows
from bot.services.kernel.step import Step
from storage.privacy_repo import ConsentsRepo


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
