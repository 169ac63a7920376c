"""The sweep: the clock tick that moves due rows on. One pass over every feature's jobs, no
per-item jobs; when it runs is bot/services/kernel/schedule.py's (APScheduler) or a caller's
(the sandbox's time dial, tests), and what is due is decided here, from the injected clock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from bot.services.kernel.feature import SweepJob
from bot.services.kernel.step import Deps
from storage.leases_repo import sweeping_alone

log = logging.getLogger(__name__)

SLOW_JOB_SECONDS = 0.1


class Sweeper:
    def __init__(self, deps: Deps, jobs: Sequence[SweepJob] = ()) -> None:
        self.deps = deps
        self.jobs = list(jobs)
        # One tick at a time, whoever asks (the interval, a wake-up at a set minute, the dial).
        self._lock = asyncio.Lock()

    async def idle(self) -> None:
        """Until a tick under way (if any) has finished."""
        async with self._lock:
            pass

    async def tick(self) -> int:
        """Everything that is due now; each piece commits its own transaction. Returns how many
        items the jobs moved on."""
        async with self._lock, sweeping_alone(self.deps.db) as alone:
            if not alone:  # another instance's tick is under way: it does what is due
                return 0
            now = self.deps.clock.now()  # handled update ids go with the purge (Kept.UPDATES)
            done = 0
            for job in self.jobs:
                started = time.perf_counter()
                done += await job(now)
                spent = time.perf_counter() - started
                if spent > SLOW_JOB_SECONDS:  # a slow job holds the database from everyone's steps
                    log.warning(
                        "sweep job %s took %.0f ms", getattr(job, "__qualname__", job), spent * 1000
                    )
            return done
