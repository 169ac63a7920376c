"""The crash day of bench/crash_day.py, smaller: 40 staff, 5 SIGKILLs of `python -m bot run` at
random moments while they ask for trips, decide, give trips up, report symptoms and read a
directive. Nothing may be lost and no decision or report may happen twice."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.paths import ROOT
from tests.postgres import NO_POSTGRES, find_binaries


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


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_three_instances_one_killed_in_turn_lose_nothing_keep_order_and_the_rate_cap(
    engine: str,
) -> None:
    """Three `python -m bot run --webhook` on one database behind the sandbox's balancer; every
    8 s one of them is SIGKILLed and replaced: nothing lost, no decision or report twice, every
    person's steps in the order sent, never more than the cap sent in any rolling second."""
    if engine == "postgresql" and find_binaries() is None:
        pytest.skip(NO_POSTGRES)
    arguments = "--staff 40 --kills 3 --seed 3 --instances 3 --kill-every 8 --rate 50"
    arguments += f" --engine {engine}"
    done = subprocess.run(
        [sys.executable, "bench/crash_day.py", *arguments.split()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert result["kills"] == 3 and result["instances"] == 3
    assert all(posts > 0 for posts in result["posts_by_instance"]), result
    assert result["lost"] == dict.fromkeys(result["lost"], 0), result
    assert result["duplicated"] == dict.fromkeys(result["duplicated"], 0), result
    assert result["out_of_order"] == 0, result
    assert 0 < result["most_sends_in_a_second"] <= 50, result
    assert result["ok"] is True
