"""Figures shared by every bench: percentiles by the nearest-rank rule (light to import, so a
measured child process does not pay for the HTTP benches' imports)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """The smallest value that at least `fraction` of the values do not exceed: of 1..100 the
    0.99 percentile is 99, of 200 samples the 198th smallest."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction}")
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = math.ceil(round(fraction * len(ordered), 9))  # 0.07 * 100 is 7.000000000000001
    return ordered[max(rank, 1) - 1]
