"""The personal-data rules (bot/domain/privacy.py): deadlines in working days, what a request is
due by, which purpose is still to ask. Pure, fuzzed."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.privacy import (
    Deadlines,
    Purpose,
    RequestKind,
    add_working_days,
    allows,
    missing_purpose,
    request_times,
)

moments = st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=VIETNAM)
)
DEADLINES = Deadlines(ack_working_days=2, view_days=10, withdraw_days=15, delete_days=20)


def test_two_working_days_after_a_friday_is_the_tuesday() -> None:
    friday = datetime(2021, 5, 28, 16, 0, tzinfo=VIETNAM)
    assert add_working_days(friday, 2) == datetime(2021, 6, 1, 16, 0, tzinfo=VIETNAM)


@given(moments, st.integers(min_value=0, max_value=60))
def test_working_days_land_on_a_weekday_and_count_exactly(start: datetime, days: int) -> None:
    end = add_working_days(start, days)
    assert end.time() == start.time()
    if days:
        assert end.weekday() < 5
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(d.weekday() < 5 for d in between) == days


@given(moments, st.sampled_from(RequestKind), st.integers(min_value=0, max_value=30))
def test_a_request_is_reminded_before_it_is_due(
    now: datetime, kind: RequestKind, before_days: int
) -> None:
    times = request_times(now, kind, DEADLINES, timedelta(days=before_days))
    assert now <= times.remind <= times.due
    assert times.due == now + timedelta(days=DEADLINES.days_for(kind))
    assert times.ack_due > now


def test_the_deadline_of_each_kind_is_its_setting() -> None:
    assert [DEADLINES.days_for(k) for k in RequestKind] == [10, 20, 15, 15]


@given(st.dictionaries(st.sampled_from([p.value for p in Purpose]), st.text(max_size=10)))
def test_silence_is_not_consent(decisions: dict[str, str]) -> None:
    missing = missing_purpose(decisions)
    for purpose in Purpose:
        if allows(decisions, purpose):
            assert decisions[purpose.value] in ("granted", "notified")
        if purpose.value not in decisions:
            assert not allows(decisions, purpose) and missing is not None
    assert missing is None or missing.value not in decisions
