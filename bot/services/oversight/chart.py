"""Pictures: on-time declarations per unit over 30 days (/district) and a case's contact tree.

matplotlib with the Agg backend (no display), imported on first use so that starting the bot
does not pay for it. Texts come in already translated; unit and people names keep their
diacritics (DejaVu Sans, matplotlib's default font, has Vietnamese).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass(frozen=True, slots=True)
class Heatmap:
    title: str
    days: list[date]
    rows: list[
        tuple[str, list[float | None]]
    ]  # unit name, share on time per day (None: nothing due)
    legend: str  # the colour bar's label
    no_data: str  # said when there is nothing to draw


def on_time_chart(chart: Heatmap, path: Path) -> Path:
    plt = _pyplot()
    height = max(2.5, 0.3 * len(chart.rows) + 1.2)
    fig, ax = plt.subplots(figsize=(11, height), dpi=90)
    fig.subplots_adjust(left=0.3, right=0.92, top=1 - 0.5 / height, bottom=0.5 / height)
    try:
        if not chart.rows:
            ax.text(0.5, 0.5, chart.no_data, ha="center", va="center")
            ax.set_axis_off()
        else:
            data = [
                [float("nan") if v is None else v * 100 for v in values] for _, values in chart.rows
            ]
            cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#e0e0e0")
            image = ax.imshow(
                data, aspect="auto", cmap=cmap, vmin=0, vmax=100, interpolation="nearest"
            )
            ax.set_yticks(range(len(chart.rows)), [name[:40] for name, _ in chart.rows], fontsize=8)
            step = max(1, len(chart.days) // 10)
            ticks = list(range(0, len(chart.days), step))
            ax.set_xticks(ticks, [chart.days[i].strftime("%d/%m") for i in ticks], fontsize=8)
            fig.colorbar(image, ax=ax, label=chart.legend, fraction=0.03, pad=0.01)
        ax.set_title(chart.title, fontsize=11)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


@dataclass(frozen=True, slots=True)
class TreeNode:
    node_id: int
    parent_id: int | None
    label: str  # "F1 Nguyễn Văn A"
    level: str  # F0, F1, ...


_COLOURS = {"F0": "#d62728", "F1": "#ff7f0e", "F2": "#f2c14e"}


def tree_chart(title: str, nodes: Sequence[TreeNode], path: Path) -> Path:
    """Levels top to bottom (F0 → F1 → F2 …), each node above the middle of its contacts."""
    plt = _pyplot()
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
