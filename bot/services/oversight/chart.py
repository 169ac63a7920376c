"""The picture of on-time declarations per unit over 30 days (/district).

Texts come in already translated; unit names keep their diacritics (DejaVu Sans, matplotlib's
default font, has Vietnamese).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.services.kernel.pictures import pyplot


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
    plt = pyplot()
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
