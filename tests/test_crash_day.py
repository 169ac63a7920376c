"""The crash day of bench/crash_day.py, smaller: 40 staff, 5 SIGKILLs of `python -m bot run` at
random moments while they ask for trips, decide, give trips up, report symptoms and read a
directive. Nothing may be lost and no decision or report may happen twice."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.paths import ROOT


def test_a_day_with_sigkills_loses_nothing_and_doubles_no_decision_or_report() -> None:
    done = subprocess.run(
        [sys.executable, "bench/crash_day.py", "--staff", "40", "--kills", "5", "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert result["kills"] == 5
    assert result["lost"] == dict.fromkeys(result["lost"], 0), result
    assert result["duplicated"] == dict.fromkeys(result["duplicated"], 0), result
    assert result["travellers"] > 0 and result["returns"] > 0 and result["reporters"] > 0
    assert result["ok"] is True
