"""`python -m bot run` killed with SIGKILL and restarted: nothing is lost, nothing happens twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.clock import VIETNAM, ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import BotProcess, load_examples, make_settings, register, wait_polling


@pytest.fixture
def processes() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for process in started:
        process.stop()


async def start_bot(fake: FakeBotApi, db_path: Path, processes: list[BotProcess]) -> BotProcess:
    fake.requests.clear()
    process = BotProcess(make_settings(fake, db_path))
    process.start()
    processes.append(process)
    await wait_polling(fake, timeout=30)
    return process


def db_value(db_path: Path, sql: str) -> object:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(sql).fetchone()
    return None if row is None else row[0]


async def test_killed_mid_registration_continues_at_the_same_step(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, processes: list[BotProcess]
) -> None:
    await load_examples(db_path, clock)
    first = await start_bot(fake, db_path, processes)
    user = fake.user(901, "Linh")
    fake.send_text(user, "/start")
    await fake.next_message(user.id, timeout=15)
    fake.send_contact(user, "0912 000 026")
    question = await fake.next_message(user.id, timeout=15)
    assert "Lại Thị Diệu Linh" in (question.text or "")
    first.kill()

    await start_bot(fake, db_path, processes)
    fake.press(user, question, question.callback_data("✅"))
    welcome = await fake.next_message(user.id, timeout=15)
    assert "Đăng ký thành công" in (welcome.text or "")
    assert db_value(db_path, "SELECT staff_id FROM accounts WHERE user_ref = '901'") == "TH-003"


def next_saturday(now: datetime) -> datetime:
    days = (5 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=7, minute=0, second=0, microsecond=0)


async def test_killed_between_decision_and_notifications_sends_them_once(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, processes: list[BotProcess]
) -> None:
    await load_examples(db_path, clock)
    first = await start_bot(fake, db_path, processes)
    teacher = await register(fake, 911, "TH-003")
    principal = await register(fake, 912, "TH-001")
    leave = next_saturday(datetime.now(VIETNAM))
    for text in ("/travel", "Huế", "Phường Thuận Hóa", f"{leave:%d/%m/%Y %H:%M}",
                 f"{leave + timedelta(hours=30):%d/%m/%Y %H:%M}", "Việc gia đình"):
        fake.send_text(teacher, text)
        last = await fake.next_message(teacher.id, timeout=15)
    fake.press(teacher, last, last.callback_data("Không"))
    summary = await fake.next_message(teacher.id, timeout=15)
    fake.press(teacher, summary, summary.callback_data("Gửi"))
    await fake.next_message(teacher.id, timeout=15)
    request = await fake.next_message(principal.id, timeout=15)

    fake.fail_next("sendMessage", status=429, retry_after=60, count=1)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    await fake.wait_for(lambda: fake.rate_limited_count >= 1, timeout=15)
    assert db_value(db_path, "SELECT status FROM travel_requests") == "approved"
    assert [m for m in fake.messages(teacher.id) if "Đã phê duyệt" in (m.text or "")] == []
    first.kill()

    await start_bot(fake, db_path, processes)
    told = await fake.next_message(teacher.id, timeout=20)
    assert "Đã phê duyệt" in (told.text or "")
    await fake.wait_for(lambda: db_value(db_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == 0, timeout=20)
    approvals = [m for m in fake.messages(teacher.id) if "Đã phê duyệt" in (m.text or "")]
    assert len(approvals) == 1
