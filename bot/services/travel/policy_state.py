"""Reading the travel policy and the working calendar from the database."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.config import Settings
from bot.domain.travel_policy import PolicyMode, PolicyPeriod, policy_at, policy_for_trip
from bot.domain.work_calendar import WorkCalendar, vietnam_calendar
from storage.db import Tx
from storage.travel_repo import TravelRepo


async def mode_at(tx: Tx, moment: datetime) -> PolicyMode:
    assert moment.tzinfo is not None  # instants are always aware
    periods = await policy_periods(tx, moment.tzinfo)
    return policy_at(periods, moment)


async def work_calendar(tx: Tx, settings: Settings, start: datetime, end: datetime) -> WorkCalendar:
    assert start.tzinfo is not None  # instants are always aware
    days = await TravelRepo(tx, start.tzinfo).calendar_days()
    return vietnam_calendar(
        range(start.year, end.year + 1),
        work_start=settings.work_start,
        work_end=settings.work_end,
        extra_days_off=frozenset(days.get("day_off", [])),
        makeup_workdays=frozenset(days.get("workday", [])),
    )


async def policy_periods(tx: Tx, tz: tzinfo) -> list[PolicyPeriod]:
    rows = await TravelRepo(tx, tz).policies()
    return [PolicyPeriod(PolicyMode(r.mode), r.effective_from, r.until) for r in rows]


async def mode_for_trip(tx: Tx, departure: datetime, return_at: datetime) -> PolicyMode:
    """The mode the trip is judged by: a ban set ahead covers it whenever it is requested."""
    assert departure.tzinfo is not None  # instants are always aware
    periods = await policy_periods(tx, departure.tzinfo)
    return policy_for_trip(periods, departure, return_at)
