"""APScheduler as the sweep's clock (ARCHITECTURE.md property 4).

Every deadline stays a column in the database; the scheduler only decides when the sweep runs:
- every `interval`, one job that never runs twice at once, whose late runs are merged into one
  and never dropped (a loop blocked for a while still sweeps once it is free);
- and at the next set minute a feature keeps in its rows (the morning digest, the weekly one, a
  scheduled directive), so what is due then goes out at that minute, not at the next tick.

Whatever fires, the sweep reads the injected clock and the rows decide what is due: the
sandbox's time dial and tests move their clock and call the sweep directly, and a start after
downtime sweeps at once, catching up from the rows once (each due row is moved on in the
transaction that queues its messages; no missed run is replayed from the scheduler's memory).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.domain.clock import Clock
from bot.services.kernel.feature import WakeFn
from bot.services.kernel.sweep import Sweeper

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
WAKE_JOB = "wake"
REPLAN_TOLERANCE = timedelta(milliseconds=100)  # the moved clock's offset, read twice
JOB_OPTIONS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class SweepSchedule:
    """`clock` is the bot's (what the sweep reads); `wall` is the real clock the scheduler keeps
    time by. A set minute on `clock` is woken at the same distance from now on `wall`, so a
    moved clock (the dial, a test's) is woken correctly too."""

    def __init__(
        self,
        sweeper: Sweeper,
        clock: Clock,
        wall: Clock,
        interval: timedelta,
        wakes: Sequence[WakeFn] = (),
        may_sweep: Callable[[], bool] = lambda: True,
    ) -> None:
        self.sweeper = sweeper
        self.may_sweep = may_sweep  # several instances: only the sweep lease's holder sweeps
        self.clock = clock
        self.wall = wall
        self.interval = interval
        self.wakes = list(wakes)
        # The scheduler only ever sees aware datetimes; the zone name keeps APScheduler 3.10
        # (pytz zones only) and 3.11 (zoneinfo) both happy.
        self.scheduler = AsyncIOScheduler(timezone="UTC", job_defaults=JOB_OPTIONS)
        self._woken_for: datetime | None = None
        self._sweeps_under_way = 0
        self._no_sweep = asyncio.Event()
        self._no_sweep.set()
        self._stopping = False
        self._failing = False  # the last tick failed (the database away): not said again
        self._wakes_failing = False  # as _failing, for reading when the next work is due

    def start(self) -> None:
        """Inside the running event loop: the first sweep runs at once (the catch-up)."""
        self._stopping = False
        self.scheduler.add_job(
            self._sweep,
            IntervalTrigger(seconds=self.interval.total_seconds(), timezone="UTC"),
            id=SWEEP_JOB,
            next_run_time=self.wall.now(),
        )
        self.scheduler.start()

    async def stop(self, timeout: float = 5.0) -> None:
        """No new sweep starts; one under way may finish (up to `timeout`) before it is cancelled."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        self._stopping = True  # a job handed to the loop just before the pause does nothing
        try:
            # the whole job: after its tick, it plans the next wake from the database
            await asyncio.wait_for(self._whole_sweeps_done(), timeout)
        except TimeoutError:
            log.warning("a sweep still ran after %.0f s; it is cancelled", timeout)
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the shutdown runs on the loop (APScheduler's call_soon)

    def sweep_soon(self) -> None:
        """A sweep at once (this instance just took the sweep over: it catches up from the rows)."""
        if self.scheduler.running:
            self.scheduler.add_job(self._sweep, DateTrigger(run_date=self.wall.now()))

    async def idle(self) -> None:
        """Until no sweep job is under way: its tick and the wake it plans after (a test's
        first step after the start-up catch-up)."""
        await self._whole_sweeps_done()

    async def _whole_sweeps_done(self) -> None:
        await self._no_sweep.wait()
        await self.sweeper.idle()  # a tick called directly (a test's, the dial's)

    async def _sweep(self) -> None:
        if self._stopping or not self.may_sweep():
            return
        self._sweeps_under_way += 1
        self._no_sweep.clear()
        try:
            try:
                await self.sweeper.tick()
            except Exception:  # a failing tick must not stop the next ones; said once in a row
                if not self._failing:
                    log.exception("sweep tick failed; the next ticks try again")
                self._failing = True
            else:
                if self._failing:
                    log.warning("the sweep works again")
                self._failing = False
            await self._plan_wake()
        finally:
            self._sweeps_under_way -= 1
            if not self._sweeps_under_way:
                self._no_sweep.set()

    async def _woken(self, at: datetime) -> None:
        self._woken_for = at
        await self._sweep()

    async def _plan_wake(self) -> None:
        """One date job at the earliest set minute still ahead; each minute is woken once (on a
        clock that does not move, it would otherwise be woken again and again)."""
        now = self.clock.now()
        ahead = [at for at in await self._next_moments(now) if at > now]
        at = min(ahead, default=None)
        if at is None or at == self._woken_for:
            if self.scheduler.get_job(WAKE_JOB) is not None:
                self.scheduler.remove_job(WAKE_JOB)
            return
        run_at = at + (self.wall.now() - now)
        planned = self.scheduler.get_job(WAKE_JOB)
        if planned is not None and abs(planned.next_run_time - run_at) < REPLAN_TOLERANCE:
            return  # already planned (every tick asks again)
        trigger = DateTrigger(run_date=run_at, timezone="UTC")
        self.scheduler.add_job(self._woken, trigger, args=[at], id=WAKE_JOB, replace_existing=True)

    async def _next_moments(self, now: datetime) -> list[datetime]:
        """When each kind of work is next due; a failure to read it is said once in a row."""
        moments, failed = [], False
        for wake in self.wakes:
            try:
                at = await wake(now)
            except Exception:
                if not self._wakes_failing and not failed:
                    log.exception("could not read when %s is next due", wake)
                failed = True
                continue
            if at is not None:
                moments.append(at)
        if self._wakes_failing and not failed:
            log.warning("when the sweep's work is next due is read again")
        self._wakes_failing = failed
        return moments
