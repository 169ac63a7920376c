"""The sweep's clock end to end: the morning digest, a scheduled directive and a monitoring
check-in go out at their minute (not at the next tick), and a bot started after days down sends
the missed digest once.

The real bot polls the sandbox Telegram server on a real SQLite file; the clock is the time
dial's (time flows from a chosen moment) or a test's ManualClock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import OffsetClock
from bot.domain.clock import VIETNAM, ManualClock
from bot.services.kernel.schedule import SWEEP_JOB
from storage.db import from_db_time, to_db_time
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, db_connect, load_examples, make_settings, register
from tests.test_e2e_broadcast import ADMIN, TEACHER, collect_preview, compose
from tests.test_e2e_health import report
from tests.test_e2e_oversight import NOW, _digests, join, seed_trip

DIGEST_AT = datetime(2021, 5, 28, 7, 30, tzinfo=VIETNAM)


def seed_overdue_teacher(db: Path) -> None:
    """Something for the principal's digest: a teacher back two days ago, not declared."""
    back = NOW - timedelta(days=2)
    seed_trip(db, 1, "TH-003", state="back", departed=back - timedelta(days=2), back=back,
              arrived=back)  # fmt: skip


def digest_audit(db: Path) -> list[datetime]:
    with db_connect(db) as conn:
        rows = conn.execute("SELECT at FROM audit_log WHERE action = 'digest.daily'").fetchall()
    return [at for (text,) in rows if (at := from_db_time(text, VIETNAM)) is not None]


async def sweep_now(bot: RunningBot) -> None:
    """The scheduler's interval sweep, run now instead of at its next time."""
    job = bot.services.schedule.scheduler.get_job(SWEEP_JOB)
    assert job is not None
    job.modify(next_run_time=datetime.now(UTC))
    bot.services.schedule.scheduler.wakeup()


async def test_the_morning_digest_goes_out_at_its_minute_not_at_the_next_tick(
    fake: FakeBotApi, db_path: Path
) -> None:
    clock = OffsetClock()
    clock.jump_to(DIGEST_AT - timedelta(minutes=30))
    assert (await load_examples(db_path, clock)).applied  # type: ignore[arg-type]
    async with RunningBot(make_settings(fake, db_path), clock) as bot:  # type: ignore[arg-type]
        principal = await join(fake, "TH-001")
        await bot.services.sweeper.tick()  # the digest's row: today 07:30
    await asyncio.to_thread(seed_overdue_teacher, db_path)

    # Started well before the minute (a start under load can take seconds: its catch-up sweep
    # must not be the one that sends the digest), then the dial is moved to 4 s before it.
    clock.jump_to(DIGEST_AT - timedelta(minutes=10))
    hourly = make_settings(fake, db_path, sweep_interval_seconds=3600)  # one tick, at the start
    async with RunningBot(hourly, clock) as bot:  # type: ignore[arg-type]
        # the catch-up sweep (and the wake it plans) done first: the spy must see the next one
        await bot.services.schedule.idle()
        ticks: list[datetime] = []

        async def spy(now: datetime) -> int:
            ticks.append(now)
            return 0

        # first: a later job's digest can be delivered (and seen) before the tick's last job runs
        bot.services.sweeper.jobs.insert(0, spy)
        clock.jump_to(DIGEST_AT - timedelta(seconds=4))
        await sweep_now(bot)  # as every tick does, it plans the wake from the moved clock
        await fake.wait_for(lambda: bool(ticks), timeout=15)
        assert not _digests(fake, principal) and ticks[0] < DIGEST_AT
        await fake.wait_for(lambda: bool(_digests(fake, principal)), timeout=15)
        late = [now for now in ticks if now >= DIGEST_AT]
        assert len(late) == 1 and late[0] < DIGEST_AT + timedelta(seconds=2)
        assert digest_audit(db_path) == [late[0]]


async def test_a_scheduled_directive_goes_out_at_its_minute(
    fake: FakeBotApi, db_path: Path
) -> None:
    clock = OffsetClock()
    clock.jump_to(datetime(2021, 5, 26, 9, 0))
    assert (await load_examples(db_path, clock)).applied  # type: ignore[arg-type]
    async with RunningBot(make_settings(fake, db_path), clock):  # type: ignore[arg-type]
        admin = await register(fake, ADMIN, "DU-003")
        teacher = await register(fake, TEACHER, "TH-003")
        summary = (await compose(fake, admin, "Đề nghị các đơn vị báo cáo trước 16:00."))[-1]
        fake.press(admin, summary, summary.callback_data("Hẹn giờ"))
        await fake.next_message(admin.id)
        fake.send_text(admin, "26/05/2021 09:30")
        summary = (await collect_preview(fake, admin))[-1]
        fake.press(admin, summary, summary.callback_data("Xác nhận"))
        assert "hẹn gửi" in ((await fake.next_message(admin.id)).text or "")

    send_at = datetime(2021, 5, 26, 9, 30, tzinfo=VIETNAM)
    clock.jump_to(send_at - timedelta(seconds=4))
    hourly = make_settings(fake, db_path, sweep_interval_seconds=3600)  # one tick, at the start
    async with RunningBot(hourly, clock):  # type: ignore[arg-type]
        before = len(fake.messages(teacher.id))
        await fake.wait_for(lambda: len(fake.messages(teacher.id)) > before, timeout=15)
        got = fake.messages(teacher.id)[-1]
        arrived = clock.now()
    assert "1061/UBND-VP" in (got.text or "") and got.button_texts() == ["✅ Đã đọc"]
    assert send_at <= arrived < send_at + timedelta(seconds=3)
    with db_connect(db_path) as conn:
        queued = conn.execute("SELECT queued_at FROM broadcasts WHERE id = 1").fetchone()[0]
    queued_at = from_db_time(queued, VIETNAM)
    assert queued_at is not None and send_at <= queued_at < send_at + timedelta(seconds=2)


async def test_a_monitoring_check_in_is_asked_at_its_minute(
    fake: FakeBotApi, db_path: Path
) -> None:
    clock = OffsetClock()
    clock.jump_to(datetime(2021, 5, 26, 9, 0))
    assert (await load_examples(db_path, clock)).applied  # type: ignore[arg-type]
    async with RunningBot(make_settings(fake, db_path), clock):  # type: ignore[arg-type]
        teacher = await register(fake, TEACHER, "TH-003")
        await register(fake, ADMIN + 10, "TH-001")  # the principal, who is alerted
        await report(fake, teacher, ["Ho"], "37,6")
        await fake.next_message(teacher.id)  # under monitoring; asked daily at 08:00

    checkin_at = datetime(2021, 5, 27, 8, 0, tzinfo=VIETNAM)
    clock.jump_to(checkin_at - timedelta(seconds=4))
    hourly = make_settings(fake, db_path, sweep_interval_seconds=3600)  # one tick, at the start

    def asked() -> bool:
        return any("có triệu chứng không" in (m.text or "") for m in fake.messages(teacher.id))

    async with RunningBot(hourly, clock):  # type: ignore[arg-type]
        await fake.wait_for(asked, timeout=15)
        arrived = clock.now()
    assert checkin_at <= arrived < checkin_at + timedelta(seconds=3)


async def test_a_start_after_days_down_sends_the_missed_digest_once(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    assert (await load_examples(db_path, clock)).applied
    settings = make_settings(fake, db_path)
    async with RunningBot(settings, clock) as bot:
        principal = await join(fake, "TH-001")
        await bot.services.sweeper.tick()  # the digest's row: tomorrow 07:30
    await asyncio.to_thread(seed_overdue_teacher, db_path)

    clock.set(datetime(2021, 5, 30, 8, 0, tzinfo=VIETNAM))  # down for four 07:30s
    async with RunningBot(settings, clock) as bot:
        await fake.wait_for(lambda: bool(_digests(fake, principal)), timeout=15)
        for _ in range(3):
            await bot.services.sweeper.tick()
        await asyncio.sleep(1)  # five interval ticks of 0.2 s; anything queued is sent by now
    assert len(_digests(fake, principal)) == 1
    assert digest_audit(db_path) == [clock.now()]
    with db_connect(db_path) as conn:
        next_at = conn.execute("SELECT next_at FROM oversight_digests WHERE kind = 'daily'")
        assert next_at.fetchone()[0] == to_db_time(datetime(2021, 5, 31, 7, 30, tzinfo=VIETNAM))
