"""Reading the travel policy from the database (the working calendar: kernel/calendar.py)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.domain.travel_policy import PolicyMode, PolicyPeriod, policy_at, policy_for_trip
from storage.engine import Tx
from storage.travel_repo import TravelRepo


async def mode_at(tx: Tx, moment: datetime) -> PolicyMode:
    assert moment.tzinfo is not None  # instants are always aware
    periods = await policy_periods(tx, moment.tzinfo)
    return policy_at(periods, moment)


async def policy_periods(tx: Tx, tz: tzinfo) -> list[PolicyPeriod]:
    rows = await TravelRepo(tx, tz).policies()
    return [PolicyPeriod(PolicyMode(r.mode), r.effective_from, r.until) for r in rows]


async def mode_for_trip(tx: Tx, departure: datetime, return_at: datetime) -> PolicyMode:
    """The mode the trip is judged by: a ban set ahead covers it whenever it is requested."""
    assert departure.tzinfo is not None  # instants are always aware
    periods = await policy_periods(tx, departure.tzinfo)
    return policy_for_trip(periods, departure, return_at)
