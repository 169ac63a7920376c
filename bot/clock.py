"""The real clocks. They live outside bot/domain because they read the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from bot.domain.clock import VIETNAM, Clock


class SystemClock:
    def __init__(self, tz: tzinfo = VIETNAM) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class OffsetClock:
    """Another clock moved by an adjustable offset: the sandbox's time dial. Time keeps flowing
    at the base clock's pace; `advance` and `jump_to` only ever move the offset."""

    def __init__(self, base: Clock | None = None, offset: timedelta = timedelta(0)) -> None:
        self.base: Clock = base or SystemClock()
        self.tz = self.base.tz
        self.offset = offset

    def now(self) -> datetime:
        return (self.base.now().astimezone(UTC) + self.offset).astimezone(self.tz)

    def advance(self, delta: timedelta) -> datetime:
        self.offset += delta
        return self.now()

    def jump_to(self, moment: datetime) -> datetime:
        """Make `now()` equal `moment` (naive means in the clock's zone)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        self.offset = moment - self.base.now()
        return self.now()

    def reset(self) -> datetime:
        self.offset = timedelta(0)
        return self.now()
