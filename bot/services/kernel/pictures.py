"""matplotlib for the pictures the features draw (the /district chart, a case's contact tree).

The Agg backend (no display), imported on first use so that starting the bot does not pay for it.
"""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
