"""The inbox: an update Telegram handed over is never lost, whatever happens to the bot."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.domain.clock import ManualClock
from bot.inbound.telegram import CRASH_AFTER_BATCH
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import (
    PHONES,
    BotProcess,
    RunningBot,
    db_value,
    give_consents,
    load_examples,
    make_settings,
    start_bot,
)

PEOPLE = ("TH-001", "TH-002", "TH-003", "TH-005", "DU-004")


async def _up_to_the_question(fake: FakeBotApi, user: FakeUser, staff_id: str) -> SentMessage:
    fake.send_text(user, "/start")
    await fake.next_message(user.id, timeout=15)
    fake.send_contact(user, PHONES[staff_id])
    return await fake.next_message(user.id, timeout=15)


async def test_killed_right_after_storing_a_batch_handles_every_update_once_after_restart(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, processes: list[BotProcess]
) -> None:
    await load_examples(db_path, clock)
    first = await start_bot(fake, db_path, processes)
    waiting = []
    for number, staff_id in enumerate(PEOPLE):
        user = fake.user(930 + number, staff_id, language_code="vi")
        waiting.append((user, await _up_to_the_question(fake, user, staff_id)))
    await first.stop()
    for user, question in waiting:  # one batch: each confirms, then asks for help
        fake.press(user, question, question.callback_data("✅"))
        fake.send_text(user, "/help")

    crashing = BotProcess(make_settings(fake, db_path), **{CRASH_AFTER_BATCH: "1"})
    crashing.start()
    processes.append(crashing)
    assert await crashing.wait_exit(timeout=30) == -signal.SIGKILL
    assert db_value(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 10
    assert db_value(db_path, "SELECT COUNT(*) FROM accounts WHERE staff_id IS NOT NULL") == 0
    assert fake.pending_updates == 10  # fetched, never confirmed: PTB would have lost them

    await start_bot(fake, db_path, processes)
    for user, _ in waiting:  # linked: the personal-data notice and question (a), then the help
        notice = await fake.next_message(user.id, timeout=20)
        assert "🔒" in (notice.text or ""), notice.describe()
        assert "(a)" in ((await fake.next_message(user.id, timeout=20)).text or "")
        assert "/me" in ((await fake.next_message(user.id, timeout=20)).text or "")
    await fake.wait_for(
        lambda: db_value(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0,
        timeout=20,
    )
    assert fake.pending_updates == 0
    assert db_value(db_path, "SELECT COUNT(*) FROM accounts WHERE staff_id IS NOT NULL") == 5
    assert db_value(db_path, "SELECT COUNT(*) FROM audit_log WHERE action = 'register'") == 5
    for user, _ in waiting:
        notices = [m for m in fake.messages(user.id) if "🔒" in (m.text or "")]
        assert len(notices) == 1


def _flaky(real: Any, failures: int) -> tuple[Any, list[object]]:
    """`real`, raising the error of a database lock held past the busy time-out `failures`
    times first."""
    calls: list[object] = []

    async def call(*args: object) -> object:
        calls.append(args)
        if len(calls) <= failures:
            raise sqlite3.OperationalError("database is locked")
        return await real(*args)

    return call, calls


async def test_a_failed_step_is_tried_again_and_nothing_sent_is_lost(
    fake: FakeBotApi, bot: RunningBot, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.services.inbound.retry_pauses = (0.05, 0.05)
    registration = bot.services.registration
    flaky, calls = _flaky(registration.start, failures=1)
    monkeypatch.setattr(registration, "start", flaky)
    user = fake.user(940)
    update_id = fake.send_text(user, "/start")
    answer = await fake.next_message(user.id)
    assert "số điện thoại" in (answer.text or "").lower(), answer.describe()
    assert len(calls) == 2
    await fake.wait_for(lambda: not bot.services.inbound.busy)
    assert fake.messages(user.id) == [answer]  # no apology: the second attempt did it
    row = db_value(
        db_path, f"SELECT attempts || ' ' || outcome FROM inbox WHERE update_id = '{update_id}'"
    )
    assert row == "1 done"


async def test_a_step_that_keeps_failing_is_given_up_with_a_true_apology(
    fake: FakeBotApi, bot: RunningBot, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.services.inbound.retry_pauses = (0.05, 0.05)
    registration = bot.services.registration
    real = registration.start
    flaky, calls = _flaky(real, failures=3)
    monkeypatch.setattr(registration, "start", flaky)
    user = fake.user(941)
    update_id = fake.send_text(user, "/start")
    fake.send_text(user, "/help")  # waits behind the failing one, then is handled
    apology = await fake.next_message(user.id)
    assert "chưa xử lý được" in (apology.text or ""), apology.describe()
    assert "không bị mất" not in (apology.text or "")  # never "nothing you sent was lost"
    assert len(calls) == 3
    after = await fake.next_message(user.id)  # /help of a person not registered yet
    assert "đăng ký" in (after.text or ""), after.describe()
    row = db_value(
        db_path, f"SELECT attempts || ' ' || outcome FROM inbox WHERE update_id = '{update_id}'"
    )
    assert row == "3 failed"


async def test_a_tap_telegram_dropped_while_the_bot_was_down_is_simply_not_there(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, processes: list[BotProcess]
) -> None:
    await load_examples(db_path, clock)
    first = await start_bot(fake, db_path, processes)
    user = fake.user(950, "TH-003")
    question = await _up_to_the_question(fake, user, "TH-003")
    await first.stop()
    now = [1_000.0]
    fake.monotonic = lambda: now[0]
    fake.press(user, question, question.callback_data("✅"))
    now[0] += 151  # down longer than Telegram keeps an unfetched tap
    fake.send_text(user, "/help")
    await start_bot(fake, db_path, processes)
    answer = await fake.next_message(user.id, timeout=20)
    assert "đăng ký" in (answer.text or "").lower(), answer.describe()  # still not registered
    assert fake.expired_taps == 1
    assert db_value(db_path, "SELECT COUNT(*) FROM accounts WHERE staff_id IS NOT NULL") == 0
    assert db_value(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
    fake.press(user, question, question.callback_data("✅"))  # they tap again: it works
    welcome = await give_consents(fake, user, timeout=20)
    assert "Đăng ký thành công" in (welcome.text or ""), welcome.describe()


async def test_the_database_away_for_a_while_loses_nothing_and_each_loop_says_so_once(
    fake: FakeBotApi,
    bot: RunningBot,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every transaction and read fails for a while (the database restarted, a replica being
    promoted): the update is not confirmed to Telegram, nothing is lost or half-written, the
    bot goes on by itself once the database is back and says so once, not once per attempt."""
    db = bot.services.db

    def away(*args: object) -> Any:
        raise sqlite3.OperationalError("unable to open database file")

    user = fake.user(960)
    monkeypatch.setattr(db, "transaction", away)
    monkeypatch.setattr(db, "reading", away)
    update_id = fake.send_text(user, "/start")
    await fake.wait_for(lambda: "cannot be reached" in caplog.text, timeout=10)
    await asyncio.sleep(2.5)  # several attempts meanwhile
    assert fake.messages(user.id) == []
    assert fake.pending_updates == 1  # not confirmed: Telegram keeps it
    monkeypatch.undo()
    answer = await fake.next_message(user.id, timeout=15)
    assert "số điện thoại" in (answer.text or "").lower(), answer.describe()
    await fake.wait_for(
        lambda: (
            db_value(db_path, f"SELECT outcome FROM inbox WHERE update_id = '{update_id}'")
            == "done"
        ),
        timeout=10,
    )
    away_lines = [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()]
    loops = [line.split(":", 1)[0] for line in away_lines]
    assert "polling" in loops and len(loops) == len(set(loops)), away_lines
    back = [r.getMessage() for r in caplog.records if "reachable again" in r.getMessage()]
    assert "polling: the database is reachable again" in back
