"""The working calendar as the office keeps it: public holidays (Tết included) from the
`holidays` package, and the district's declared days off and make-up working days."""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.domain.work_calendar import WorkCalendar, vietnam_calendar
from storage.engine import Tx
from storage.travel_repo import TravelRepo


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
