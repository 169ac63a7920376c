"""What a return from an area with published cases requires (seeds/004 §3): a test within N hours
of arriving, isolation for N days, or both; and when the test deadline is reminded and told.

Pure: the caller passes the arrival, the area's requirements and the quiet hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.reminders import DEFAULT_QUIET, QuietHours, shift_out_of_quiet
from bot.domain.text import fold

MAX_TEST_HOURS = 24 * 14
MAX_ISOLATION_DAYS = 60
REMIND_BEFORE = timedelta(hours=6)
TEST_RESULTS = ("negative", "positive")

_TEST = re.compile(r"^(?:test|xet nghiem|xn)\s*(\d{1,4})\s*(?:h|gio|hours?)?$")
_ISOLATE = re.compile(r"^(?:isolate|isolation|cach ly|cl)\s*(\d{1,4})\s*(?:d|ngay|days?)?$")
_NONE = frozenset({"none", "khong", "-"})


@dataclass(frozen=True, slots=True)
class Requirement:
    """None: not required."""

    test_hours: int | None = None
    isolation_days: int | None = None

    @property
    def anything(self) -> bool:
        return self.test_hours is not None or self.isolation_days is not None


NOTHING = Requirement()


def parse_requirement(text: str) -> Requirement | None:
    """«test 72h, isolate 14d», «xét nghiệm 48 giờ; cách ly 7 ngày», «none»; None if unreadable
    (an unknown word, a number out of range, a measure named twice)."""
    folded = fold(text)
    if folded in _NONE:
        return NOTHING
    pieces = [p.strip() for p in re.split(r"[,;]| va | and ", folded) if p.strip()]
    if not pieces:
        return None
    test: int | None = None
    isolation: int | None = None
    for piece in pieces:
        if (found := _TEST.match(piece)) and test is None:
            test = int(found.group(1))
            if not 1 <= test <= MAX_TEST_HOURS:
                return None
        elif (found := _ISOLATE.match(piece)) and isolation is None:
            isolation = int(found.group(1))
            if not 1 <= isolation <= MAX_ISOLATION_DAYS:
                return None
        else:
            return None
    return Requirement(test, isolation)


def strictest(requirements: Iterable[Requirement]) -> Requirement:
    """Several areas on one trip: the shortest test deadline and the longest isolation."""
    requirements = list(requirements)
    tests = [r.test_hours for r in requirements if r.test_hours is not None]
    isolations = [r.isolation_days for r in requirements if r.isolation_days is not None]
    return Requirement(min(tests) if tests else None, max(isolations) if isolations else None)


@dataclass(frozen=True, slots=True)
class Measures:
    test_due_at: datetime | None
    isolation_until: datetime | None


def measures_for(arrived: datetime, requirement: Requirement) -> Measures:
    test = arrived + timedelta(hours=requirement.test_hours) if requirement.test_hours else None
    isolation = (
        arrived + timedelta(days=requirement.isolation_days) if requirement.isolation_days else None
    )
    return Measures(test, isolation)


def result_steps(
    arrived: datetime, due: datetime, quiet: QuietHours = DEFAULT_QUIET
) -> tuple[datetime, datetime]:
    """When the person is reminded of the test result (REMIND_BEFORE the deadline, or half way
    for a short one, never in quiet hours and never past the deadline), and when the deadline
    passes and the head is told."""
    before = min(REMIND_BEFORE, (due - arrived) / 2)
    remind = shift_out_of_quiet(due - before, quiet)
    return min(remind, due), due


@dataclass(frozen=True, slots=True)
class ResultStep:
    stage: int  # 1: remind the person; 2: deadline passed, tell the head
    next_at: datetime | None


def result_step_due(
    steps: tuple[datetime, datetime], stage: int, now: datetime
) -> ResultStep | None:
    """The step to take now (after downtime only the latest one), or None when nothing is due.
    `stage` is what was done already: 0 nothing, 1 reminded, 2 head told."""
    reached = sum(1 for at in steps if at <= now)
    if reached <= stage:
        return None
    return ResultStep(reached, steps[reached] if reached < len(steps) else None)
