"""APScheduler as the sweep's clock: how the jobs are configured, a wake-up at a set minute, a
late run that is still made, and a clock that does not move (a test's) woken only once.

The real Sweeper on a real SQLite file; its jobs are a recorder of the `now` each tick saw."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import OffsetClock, SystemClock
from bot.config import Settings
from bot.domain.clock import VIETNAM, Clock, ManualClock
from bot.i18n import Translations
from bot.services.kernel.schedule import SWEEP_JOB, WAKE_JOB, SweepSchedule
from bot.services.kernel.step import Deps, DirectoryCache
from bot.services.kernel.sweep import Sweeper
from storage.engine import Database

SET_MINUTE = datetime(2021, 5, 28, 7, 30, tzinfo=VIETNAM)


class Recorder:
    def __init__(self) -> None:
        self.seen: list[datetime] = []

    async def __call__(self, now: datetime) -> int:
        self.seen.append(now)
        return 0


def schedule_for(
    db: Database,
    clock: Clock,
    recorder: Recorder,
    wake_at: Callable[[datetime], datetime | None] = lambda now: None,
    interval: timedelta = timedelta(hours=1),
) -> SweepSchedule:
    settings = Settings(_env_file=None, database_path=Path("unused.db"))  # type: ignore[call-arg]
    deps = Deps(db, clock, Translations(), DirectoryCache(), lambda: None, settings)

    async def wake(now: datetime) -> datetime | None:
        return wake_at(now)

    return SweepSchedule(Sweeper(deps, [recorder]), clock, SystemClock(), interval, [wake])


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_one_interval_job_merges_late_runs_never_overlaps_and_drops_no_misfire(
    database: Database,
) -> None:
    schedule = schedule_for(database, SystemClock(), Recorder(), interval=timedelta(seconds=30))
    schedule.start()
    try:
        job = schedule.scheduler.get_job(SWEEP_JOB)
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=30)
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert [j.id for j in schedule.scheduler.get_jobs()] == [SWEEP_JOB]
    finally:
        await schedule.stop()


async def test_a_run_held_up_past_any_grace_time_still_sweeps(database: Database) -> None:
    recorder = Recorder()
    schedule = schedule_for(database, SystemClock(), recorder)
    schedule.start()  # the first sweep is due at once
    try:
        time.sleep(1.5)  # the loop is blocked past APScheduler's default one-second grace
        await until(lambda: len(recorder.seen) == 1)
    finally:
        await schedule.stop()


async def test_a_set_minute_is_swept_at_that_minute_not_at_the_next_tick(
    database: Database,
) -> None:
    clock = OffsetClock()
    clock.jump_to(SET_MINUTE - timedelta(seconds=0.6))
    recorder = Recorder()
    schedule = schedule_for(database, clock, recorder, wake_at=lambda now: SET_MINUTE)
    schedule.start()
    try:
        await until(lambda: len(recorder.seen) == 2)
        started, woken = recorder.seen
        assert started < SET_MINUTE <= woken < SET_MINUTE + timedelta(seconds=1)
        await asyncio.sleep(0.5)
        assert len(recorder.seen) == 2  # the minute is behind: no further wake-up
        assert schedule.scheduler.get_job(WAKE_JOB) is None
    finally:
        await schedule.stop()


async def test_a_clock_that_does_not_move_is_woken_once_not_again_and_again(
    database: Database,
) -> None:
    clock = ManualClock(SET_MINUTE - timedelta(seconds=0.2))
    recorder = Recorder()
    schedule = schedule_for(database, clock, recorder, wake_at=lambda now: SET_MINUTE)
    schedule.start()
    try:
        await until(lambda: len(recorder.seen) == 2)
        await asyncio.sleep(0.6)
        assert recorder.seen == [clock.now(), clock.now()]  # the sweep decides from this clock
    finally:
        await schedule.stop()


async def test_stopping_lets_a_sweep_under_way_finish(database: Database) -> None:
    finished: list[bool] = []

    async def slow(now: datetime) -> int:
        await asyncio.sleep(0.3)
        finished.append(True)
        return 0

    recorder = Recorder()
    schedule = schedule_for(database, SystemClock(), recorder)
    schedule.sweeper.jobs.insert(0, slow)
    schedule.start()
    await asyncio.sleep(0.1)  # the first sweep is under way
    await schedule.stop()
    assert finished == [True] and len(recorder.seen) == 1
    assert not schedule.scheduler.running


async def test_ticks_asked_for_at_once_run_one_after_the_other(database: Database) -> None:
    inside: list[int] = []
    overlap: list[int] = []

    async def job(now: datetime) -> int:
        inside.append(1)
        overlap.append(len(inside))
        await asyncio.sleep(0.05)
        inside.pop()
        return 1

    schedule = schedule_for(database, SystemClock(), Recorder())
    schedule.sweeper.jobs.append(job)
    done = await asyncio.gather(*(schedule.sweeper.tick() for _ in range(3)))
    assert done == [1, 1, 1] and overlap == [1, 1, 1]  # the dial, a wake-up, the interval


async def test_a_planned_wake_up_is_kept_while_every_tick_asks_again(database: Database) -> None:
    recorder = Recorder()
    clock = SystemClock(VIETNAM)
    in_an_hour = clock.now() + timedelta(hours=1)
    schedule = schedule_for(
        database, clock, recorder, wake_at=lambda now: in_an_hour, interval=timedelta(seconds=0.05)
    )
    schedule.start()
    try:
        await until(lambda: len(recorder.seen) >= 1 and schedule.scheduler.get_job(WAKE_JOB))
        planned = schedule.scheduler.get_job(WAKE_JOB)
        await until(lambda: len(recorder.seen) >= 5)
        assert schedule.scheduler.get_job(WAKE_JOB) is planned
        assert abs(planned.next_run_time - in_an_hour) < timedelta(seconds=1)
    finally:
        await schedule.stop()
