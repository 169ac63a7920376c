"""The pure rules of testing and isolation on return, and of a violation's note (fuzzed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.reminders import DEFAULT_QUIET
from bot.domain.return_measures import (
    MAX_ISOLATION_DAYS,
    MAX_TEST_HOURS,
    NOTHING,
    Requirement,
    measures_for,
    parse_requirement,
    result_step_due,
    result_steps,
    strictest,
)
from bot.domain.violations import MAX_NOTE, clean_note

ARRIVED = datetime(2021, 5, 30, 18, 0, tzinfo=VIETNAM)
moments = st.datetimes(
    min_value=datetime(2021, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(VIETNAM)
)


def test_the_ways_offices_write_it() -> None:
    assert parse_requirement("xét nghiệm 48 giờ, cách ly 14 ngày") == Requirement(48, 14)
    assert parse_requirement("Test 72h; isolate 14d") == Requirement(72, 14)
    assert parse_requirement("XN 24") == Requirement(24, None)
    assert parse_requirement("cách ly 7 ngày") == Requirement(None, 7)
    assert parse_requirement("không") == NOTHING and parse_requirement("none") == NOTHING


def test_unreadable_or_out_of_range_is_refused() -> None:
    for text in ("", "xét nghiệm", "test 0h", f"test {MAX_TEST_HOURS + 1}h",
                 f"cách ly {MAX_ISOLATION_DAYS + 1} ngày", "test 24h, test 48h", "soon"):  # fmt: skip
        assert parse_requirement(text) is None, text


@given(st.text(max_size=200))
def test_any_text_reads_or_is_refused_never_raises(text: str) -> None:
    found = parse_requirement(text)
    assert found is None or isinstance(found, Requirement)


@given(st.none() | st.integers(1, MAX_TEST_HOURS), st.none() | st.integers(1, MAX_ISOLATION_DAYS))
def test_what_the_bot_says_it_reads_back(hours: int | None, days: int | None) -> None:
    pieces = ([f"test {hours}h"] if hours else []) + ([f"cách ly {days} ngày"] if days else [])
    assert parse_requirement(", ".join(pieces) or "none") == Requirement(hours, days)


def test_several_areas_take_the_shortest_test_and_the_longest_isolation() -> None:
    found = strictest(iter([Requirement(72, 7), Requirement(48, None), Requirement(None, 14)]))
    assert found == Requirement(48, 14)
    assert strictest([]) == NOTHING


def test_deadlines_from_the_arrival() -> None:
    measures = measures_for(ARRIVED, Requirement(48, 14))
    assert measures.test_due_at == datetime(2021, 6, 1, 18, 0, tzinfo=VIETNAM)
    assert measures.isolation_until == datetime(2021, 6, 13, 18, 0, tzinfo=VIETNAM)
    assert measures_for(ARRIVED, NOTHING).test_due_at is None


@given(moments, st.integers(1, MAX_TEST_HOURS))
def test_the_reminder_comes_before_the_deadline_and_out_of_quiet_hours(
    arrived: datetime, hours: int
) -> None:
    due = arrived + timedelta(hours=hours)
    remind, told = result_steps(arrived, due, DEFAULT_QUIET)
    assert told == due and remind <= due
    assert remind == due or not DEFAULT_QUIET.contains(remind)


def test_after_an_outage_only_the_latest_step() -> None:
    steps = result_steps(ARRIVED, ARRIVED + timedelta(hours=48))
    assert result_step_due(steps, 0, ARRIVED) is None
    first = result_step_due(steps, 0, steps[0])
    assert first is not None and first.stage == 1 and first.next_at == steps[1]
    assert result_step_due(steps, 1, steps[0]) is None
    late = result_step_due(steps, 0, steps[1] + timedelta(days=3))
    assert late is not None and late.stage == 2 and late.next_at is None
    assert result_step_due(steps, 2, steps[1] + timedelta(days=3)) is None


@given(st.text(max_size=800))
def test_a_note_is_kept_clean_or_refused(text: str) -> None:
    note = clean_note(text)
    if note is None:
        return
    assert 0 < len(note) <= MAX_NOTE and note == " ".join(note.split())
    assert clean_note(note) == note


def test_a_note_too_long_or_empty_is_refused() -> None:
    assert clean_note("   \n\t ") is None and clean_note("x" * (MAX_NOTE + 1)) is None
    assert clean_note(" Đi  Đà Nẵng\nkhông xin phép ") == "Đi Đà Nẵng không xin phép"
