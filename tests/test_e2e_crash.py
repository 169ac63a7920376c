"""`python -m bot run` killed with SIGKILL and restarted: nothing is lost, nothing happens twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from bot.domain.clock import VIETNAM, ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import (
    BotProcess,
    db_value,
    give_consents,
    load_examples,
    register,
    start_bot,
)


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
    welcome = await give_consents(fake, user, timeout=15)
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
    for text in (
        "/travel",
        "Huế",
        "Phường Thuận Hóa",
        f"{leave:%d/%m/%Y %H:%M}",
        f"{leave + timedelta(hours=30):%d/%m/%Y %H:%M}",
        "Việc gia đình",
    ):
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
    await fake.wait_for(
        lambda: db_value(db_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == 0,
        timeout=20,
    )
    approvals = [m for m in fake.messages(teacher.id) if "Đã phê duyệt" in (m.text or "")]
    assert len(approvals) == 1
