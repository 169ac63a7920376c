"""The real clock. It lives outside bot/domain because it reads the wall clock."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.domain.clock import VIETNAM


class SystemClock:
    def __init__(self, tz: tzinfo = VIETNAM) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)
