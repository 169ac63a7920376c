"""The repeating sweep: the clock tick that moves due rows on. One loop, no per-item jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from bot.services.kernel.step import Deps
from storage.repos import UpdatesRepo

log = logging.getLogger(__name__)

KEEP_UPDATE_IDS = timedelta(days=7)
SLOW_JOB_SECONDS = 0.1


class Sweeper:
    def __init__(
        self, deps: Deps, jobs: Sequence[Callable[[datetime], Awaitable[int]]] = ()
    ) -> None:
        self.deps = deps
        self.jobs = list(jobs)
        self._stopped = asyncio.Event()

    def stop(self) -> None:
        self._stopped.set()

    async def run(self, interval_seconds: float) -> None:
        while not self._stopped.is_set():
            try:
                await self.tick()
            except Exception:  # a failing tick must not end the loop
                log.exception("sweep tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=interval_seconds)

    async def tick(self) -> None:
        """Everything that is due now; each piece commits its own transaction."""
        now = self.deps.clock.now()
        async with self.deps.db.transaction() as tx:
            await UpdatesRepo(tx).forget_before(now - KEEP_UPDATE_IDS)
        for job in self.jobs:
            started = time.perf_counter()
            await job(now)
            spent = time.perf_counter() - started
            if spent > SLOW_JOB_SECONDS:  # a slow job holds the database from everyone's steps
                log.warning(
                    "sweep job %s took %.0f ms", getattr(job, "__qualname__", job), spent * 1000
                )
