"""Several `python -m bot run --webhook` on one database behind the sandbox's balancer (README
"Several instances"): a person's updates run in order on one instance at a time, whichever
instance received them; the sweep and the sender are each held by one instance, taken over by
another when it dies."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.app import build_features, sweeper_for
from bot.domain.clock import ManualClock
from bot.inbound.telegram import CRASH_AFTER_BATCH
from bot.sandbox.server import FakeBotApi
from storage.engine import open_database
from tests.fleet import Fleet
from tests.harness import RunningBot, database_target, db_rows, db_value, register
from tests.test_e2e_travel import PRINCIPAL, TEACHER, submit

LEASE = "3"  # seconds: short, so takeovers are quick in the test


def _fleet(fake: FakeBotApi, db_path: Path, count: int) -> Fleet:
    """Instances on the test's database, whichever the engine."""
    target = database_target(db_path)
    url = target if isinstance(target, str) else ""
    return Fleet(fake, db_path, count, {"LEASE_SECONDS": LEASE}, database_url=url)


def _steps_in_order(path: Path, update_ids: list[int]) -> list[int]:
    """The updates in the order their steps ran."""
    rows = db_rows(
        path,
        "SELECT update_id FROM processed_updates WHERE update_id IN "
        f"({', '.join('?' * len(update_ids))}) ORDER BY processed_at",
        [str(update_id) for update_id in update_ids],
    )
    return [int(row[0]) for row in rows]


async def test_an_update_left_by_a_dead_instance_runs_before_the_next_one_received_elsewhere(
    db_path: Path,
) -> None:
    """Instance 0 stores the person's first update and dies before handling it (nor answering
    the post); the sandbox sends it again to instance 1, and the person's second update reaches
    an instance too. The second waits for the dead instance's claim on the person to expire, and
    then both run, the first first."""
    fake = FakeBotApi()
    await fake.start()
    path = db_path
    fleet = _fleet(fake, db_path, 2)
    try:
        await fleet.start(0, **{CRASH_AFTER_BATCH: "2"})  # batch 1: nothing; 2: the update
        await fleet.start(1)
        user = fake.user(8801, "Lan")
        warm = fake.send_text(user, "/help")  # instance 0's first batch
        await fake.wait_for(lambda: len(fake.messages(user.id)) >= 1, timeout=20)
        first = fake.send_text(user, "/start")  # instance 1 (in turn)
        await fake.wait_for(lambda: len(fake.messages(user.id)) >= 2, timeout=20)
        crashing = fake.send_text(user, "/help")  # instance 0: stored, then SIGKILL
        then = fake.send_text(user, "/language")
        await fake.wait_for(lambda: fleet.processes[0].poll() is not None, timeout=20)  # type: ignore[union-attr]
        await fake.wait_for(lambda: fake.pending_updates == 0, timeout=30)
        began = time.monotonic()
        await fake.wait_for(lambda: len(_steps_in_order(path, [crashing, then])) == 2, timeout=30)
        assert time.monotonic() - began < 10
        assert _steps_in_order(path, [warm, first, crashing, then]) == [
            warm,
            first,
            crashing,
            then,
        ]
    finally:
        await fleet.stop()
        await fake.stop()


async def test_answers_come_in_the_order_asked_when_the_next_question_reached_another_instance(
    db_path: Path,
) -> None:
    """The first answer is slow to leave (instance 0 holds the person meanwhile); the second
    question, posted to instance 1, waits for it and is handled by the holder after it, so the
    person reads the answers in the order of the questions."""
    fake = FakeBotApi()
    await fake.start()
    fleet = _fleet(fake, db_path, 2)
    try:
        await fleet.start()
        user = fake.user(8802, "Minh")
        fake.send_text(user, "/start")
        await fake.wait_for(lambda: len(fake.messages(user.id)) >= 1, timeout=20)
        asked_first = fake.messages(user.id)[-1].text
        fake.send_text(user, "/help")
        await fake.wait_for(lambda: len(fake.messages(user.id)) >= 2, timeout=20)
        asked_second = fake.messages(user.id)[-1].text
        assert asked_first != asked_second
        fake.delay_next("sendMessage", 2.0)
        fake.send_text(user, "/start")  # to instance 0 (in turn): its answer takes 2 s
        fake.send_text(user, "/help")  # to instance 1
        await fake.wait_for(lambda: len(fake.messages(user.id)) >= 4, timeout=20)
        assert [m.text for m in fake.messages(user.id)[2:]] == [asked_first, asked_second]
    finally:
        await fleet.stop()
        await fake.stop()


async def test_two_instances_sweeping_the_same_due_reminder_at_once_send_it_once(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock, db_path: Path
) -> None:
    """The sweep runs on one instance at a time (its lease), but even two at once (a holder
    frozen past its lease) do a due row once: each due row moves on in the transaction that
    queues its messages, and SQLite runs those one after the other."""
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    clock.set(clock.now().replace(day=28, hour=18))
    await submit(fake, teacher, leave="29/05/2021 07:00", back="29/05/2021 20:00")
    await fake.next_message(principal.id)
    clock.advance(timedelta(hours=2, minutes=1))
    other_db = await open_database(bot.settings.database_target)  # another instance's
    try:
        other = sweeper_for(replace(bot.services.deps, db=other_db), build_features(
            replace(bot.services.deps, db=other_db)))  # fmt: skip
        await asyncio.gather(bot.services.sweeper.tick(), other.tick())
    finally:
        await other_db.close()
    await bot.services.sender.drain()
    assert db_value(db_path,
                    "SELECT COUNT(*) FROM audit_log WHERE action = 'travel.remind'") == 1  # fmt: skip
    texts = [m.text or "" for m in fake.messages(principal.id)]
    assert len([t for t in texts if t.startswith("⏰ Nhắc")]) == 1, texts
    assert len([t for t in texts if t.startswith("☀️")]) <= 1, texts  # the day's digest too
