"""/case ID also as a picture: the contact tree F0 → F1 → F2 drawn with matplotlib (issue 8)."""

from __future__ import annotations

import asyncio

from bot.domain.outgoing import OutMessage
from bot.services.kernel.step import Step
from bot.services.oversight.chart import TreeNode, tree_chart
from storage.health_repo import HealthRepo


async def case_tree_photo(step: Step, case_id: int) -> list[OutMessage]:
    """The picture of the case's tree, for someone already allowed to see it; [] if empty."""
    nodes = await HealthRepo(step.tx, step.deps.clock.tz).nodes(case_id)
    if not nodes:
        return []
    t = step.t
    drawn = [TreeNode(n.id, n.parent_id, f"{n.level}\n{n.name}", n.level) for n in nodes]
    folder = step.deps.settings.database_path.resolve().parent / "exports" / "charts"
    path = folder / f"case-{case_id}-{step.now:%Y%m%d-%H%M%S}.png"
    title = t._("Case #{id}: contact tree", id=case_id)
    await asyncio.to_thread(tree_chart, title, drawn, path)
    return [OutMessage(title, photo=str(path))]
