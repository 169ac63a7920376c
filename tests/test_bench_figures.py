"""The benches' percentile is the nearest-rank one: checked on lists whose answer is known."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.figures import percentile
from bench.returns import per_person

ONE_TO_HUNDRED = [float(n) for n in range(1, 101)]


@pytest.mark.parametrize(
    ("fraction", "expected"), [(0.99, 99), (0.5, 50), (0.07, 7), (0.01, 1), (1.0, 100)]
)
def test_one_to_a_hundred(fraction: float, expected: float) -> None:
    shuffled = random.Random(7).sample(ONE_TO_HUNDRED, len(ONE_TO_HUNDRED))
    assert percentile(shuffled, fraction) == expected


def test_the_p99_of_the_sizes_the_benches_use() -> None:
    assert percentile([float(n) for n in range(1, 201)], 0.99) == 198
    assert percentile([float(n) for n in range(1, 51)], 0.99) == 50  # fewer than 100: the max
    assert percentile([float(n) for n in range(1, 1001)], 0.99) == 990


def test_no_values_and_a_bad_fraction() -> None:
    assert math.isnan(percentile([], 0.99))
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError):
            percentile([1.0], bad)


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1), st.floats(0.001, 1))
def test_at_least_that_share_is_not_above_it_and_less_is_below(
    values: list[float], fraction: float
) -> None:
    found = percentile(values, fraction)
    assert sum(v <= found for v in values) >= fraction * len(values) - 1e-9
    assert sum(v < found for v in values) < fraction * len(values) + 1e-9


def test_the_restart_check_is_per_person() -> None:
    """bench/returns.py: a total of 3 for 3 people due is not enough; each must have one."""
    due = {"a", "b", "c"}
    assert per_person(due, Counter({"a": 1, "b": 1, "c": 1}))["one_per_person"] is True
    twice = per_person(due, Counter({"a": 2, "b": 1}))  # the same total, one got two, one none
    assert twice["one_per_person"] is False
    assert (twice["people_with_two_or_more"], twice["people_with_none"]) == (1, 1)
    stranger = per_person(due, Counter({"a": 1, "b": 1, "c": 1, "x": 1}))
    assert stranger["one_per_person"] is False and stranger["people_not_due_reminded"] == 1
