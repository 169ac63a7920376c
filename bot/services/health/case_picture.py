"""/case ID also as a picture: the contact tree F0 → F1 → F2 drawn with matplotlib (issue 8).

People's names keep their diacritics (DejaVu Sans, matplotlib's default font, has Vietnamese).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.outgoing import LocalFile, OutMessage
from bot.services.kernel.pictures import pyplot
from bot.services.kernel.step import Step
from storage.health_repo import HealthRepo


async def case_tree_photo(step: Step, case_id: int) -> list[OutMessage]:
    """The picture of the case's tree, for someone already allowed to see it; [] if empty."""
    nodes = await HealthRepo(step.tx, step.deps.clock.tz).nodes(case_id)
    if not nodes:
        return []
    t = step.t
    drawn = [TreeNode(n.id, n.parent_id, f"{n.level}\n{n.name}", n.level) for n in nodes]
    folder = step.deps.settings.exports_folder / "charts"
    path = folder / f"case-{case_id}-{step.now:%Y%m%d-%H%M%S}.png"
    title = t._("Case #{id}: contact tree", id=case_id)
    await asyncio.to_thread(tree_chart, title, drawn, path)
    return [OutMessage(title, photo=LocalFile(str(path)))]


@dataclass(frozen=True, slots=True)
class TreeNode:
    node_id: int
    parent_id: int | None
    label: str  # "F1 Nguyễn Văn A"
    level: str  # F0, F1, ...


_COLOURS = {"F0": "#d62728", "F1": "#ff7f0e", "F2": "#f2c14e"}


def tree_chart(title: str, nodes: Sequence[TreeNode], path: Path) -> Path:
    """Levels top to bottom (F0 → F1 → F2 …), each node above the middle of its contacts."""
    plt = pyplot()
    children: dict[int | None, list[TreeNode]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    place: dict[int, tuple[float, int]] = {}
    next_x = [0.0]

    def lay(node: TreeNode, depth: int) -> float:
        kids = children.get(node.node_id, [])
        if not kids:
            x = next_x[0]
            next_x[0] += 1
        else:
            xs = [lay(k, depth + 1) for k in kids]
            x = (xs[0] + xs[-1]) / 2
        place[node.node_id] = (x, depth)
        return x

    known = {n.node_id for n in nodes}
    for root in [n for n in nodes if n.parent_id is None or n.parent_id not in known]:
        lay(root, 0)
    depth = max((d for _, d in place.values()), default=0)
    fig, ax = plt.subplots(
        figsize=(max(4.0, 1.9 * max(next_x[0], 1)), 1.3 * (depth + 1) + 0.8), dpi=100
    )
    try:
        for node in nodes:
            if node.parent_id in place and node.node_id in place:
                (x0, y0), (x1, y1) = place[node.parent_id], place[node.node_id]
                ax.plot([x0, x1], [-y0, -y1], color="#888888", linewidth=1, zorder=1)
        for node in nodes:
            x, y = place.get(node.node_id, (0.0, 0))
            ax.text(x, -y, node.label, ha="center", va="center", fontsize=8, zorder=2, wrap=True,
                    bbox={"boxstyle": "round", "facecolor": _COLOURS.get(node.level, "#c6dbef"), "edgecolor": "#444444"})  # fmt: skip
        ax.set_xlim(-0.8, max(next_x[0], 1) - 0.2)
        ax.set_ylim(-depth - 0.6, 0.6)
        ax.set_axis_off()
        ax.set_title(title, fontsize=10)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
