"""Time as a dependency: services read the time from a Clock, tests move it."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    tz: tzinfo

    def now(self) -> datetime:
        """The current time, timezone-aware, in the clock's zone."""
        ...


class ManualClock:
    """A clock that only moves when told to (tests, the sandbox's time dial)."""

    def __init__(self, start: datetime, tz: tzinfo = VIETNAM) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=tz)
        self.tz = tz
        self._now = start.astimezone(tz)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now = self._now + delta
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        self._now = moment.astimezone(self.tz)
