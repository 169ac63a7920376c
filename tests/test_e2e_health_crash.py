"""`python -m bot run` killed with SIGKILL right after a symptom report: the alert still reaches
the unit head, exactly once."""

from __future__ import annotations

from pathlib import Path

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import BotProcess, db_value, load_examples, register, start_bot

FULL_ALERTS = {"PRIVACY_MINIMAL_MESSAGES": "false"}  # the alert's details are checked here


async def test_killed_right_after_a_report_delivers_the_alert_once(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, processes: list[BotProcess]
) -> None:
    await load_examples(db_path, clock)
    first = await start_bot(fake, db_path, processes, **FULL_ALERTS)
    teacher = await register(fake, 931, "TH-003")
    principal = await register(fake, 932, "TH-001")
    fake.send_text(teacher, "/symptoms")
    picker = await fake.next_message(teacher.id, timeout=15)
    fake.press(teacher, picker, picker.callback_data("Tiếp"))
    await fake.next_message(teacher.id, timeout=15)
    fake.send_text(teacher, "39")
    question = await fake.next_message(teacher.id, timeout=15)
    assert "F0" in (question.text or "")

    fake.fail_next("sendMessage", status=429, retry_after=60, chat_id=principal.id)
    fake.press(teacher, question, question.callback_data("Không"))
    await fake.wait_for(lambda: fake.rate_limited_count >= 1, timeout=15)
    first.kill()
    assert db_value(db_path, "SELECT COUNT(*) FROM health_alerts") == 1
    assert not [m for m in fake.messages(principal.id) if "KHẨN" in (m.text or "")]

    await start_bot(fake, db_path, processes, **FULL_ALERTS)
    alert = await fake.next_message(principal.id, timeout=20)
    assert "KHẨN" in (alert.text or "") and "39,0 °C" in (alert.text or "")
    await fake.wait_for(
        lambda: db_value(db_path, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'") == 0,
        timeout=20,
    )
    alerts = [m for m in fake.messages(principal.id) if "KHẨN" in (m.text or "")]
    assert len(alerts) == 1
    assert db_value(db_path, "SELECT COUNT(*) FROM symptom_reports") == 1
