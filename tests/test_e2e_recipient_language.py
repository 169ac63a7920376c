"""Every message reaches a person in their language by one rule (issue 19.11): the choice made
in the bot, else the directory's `language`, else their app's, else Vietnamese.

Here the principal, the admin and the health officer are listed with `language = en` while
their phones are in Vietnamese and they never chose in the bot: approval edits, the admin's
directive progress, error alerts, alert acknowledgements and their own answers are English;
the teacher and the duty officer (listed Vietnamese) keep reading Vietnamese.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import PHONES, RunningBot, load_examples, make_settings, register
from tests.paths import EXAMPLES
from tests.test_e2e_health import report
from tests.test_e2e_travel import fill_travel

TEACHER, PRINCIPAL, ADMIN, NURSE, DUTY = 1961, 1962, 1963, 1964, 1965
LISTED_ENGLISH = ("TH-001", "DU-003", "YT-003", "UB-001")
PHONES.setdefault("UB-001", "0912 000 013")  # Hồ Văn Toàn, head of the HĐND-UBND office
PHONES.setdefault("UB-004", "0912 000 016")  # Đinh Thị Thu Hà, of that office


@pytest.fixture
async def english_bot(
    fake: FakeBotApi, tmp_path: Path, db_path: Path, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    lines = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()
    listed = [
        line[: line.rindex(";") + 1] + "en" if line.startswith(LISTED_ENGLISH) else line
        for line in lines
    ]
    (tmp_path / "staff.csv").write_text("\n".join(listed) + "\n", encoding="utf-8")
    outcome = await load_examples(db_path, clock, staff=tmp_path / "staff.csv")
    assert outcome.applied, outcome.problems
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        yield running


async def latest(fake: FakeBotApi, user: FakeUser, contains: str) -> SentMessage:
    await fake.wait_for(lambda: any(contains in (m.text or "") for m in fake.messages(user.id)))
    return [m for m in fake.messages(user.id) if contains in (m.text or "")][-1]


async def test_approval_edits_and_own_answers_follow_the_directory_language(
    fake: FakeBotApi, english_bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")  # phone in Vietnamese
    fake.send_text(principal, "/help")
    assert "/travel" in ((await fake.next_message(principal.id)).text or "")
    fake.send_text(principal, "/pending")
    own = await fake.next_message(principal.id)
    assert "Nothing is waiting" in (own.text or ""), own.text

    summary = await fill_travel(fake, teacher)
    fake.press(teacher, summary, summary.callback_data("Gửi"))
    await fake.next_message(teacher.id)
    request = await fake.next_message(principal.id)
    assert "Approve" in " ".join(request.button_texts())
    fake.press(principal, request, request.callback_data("Approve"))
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "")  # the teacher is listed Vietnamese
    await fake.wait_for(lambda: bool(request.edits))
    assert "approved" in (request.text or "").lower() and "phê duyệt" not in (request.text or "")


async def test_directive_progress_and_error_alerts_reach_the_admin_in_english(
    fake: FakeBotApi, english_bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    await register(fake, TEACHER, "TH-003")
    for text in ("/broadcast", "1061/UBND-VP 26/05/2021", "V/v phòng dịch", "Nội dung."):
        fake.send_text(admin, text)
        last = await fake.next_message(admin.id)
    fake.press(admin, last, last.callback_data("Done"))
    question = await fake.next_message(admin.id)
    fake.press(admin, question, question.callback_data("Everyone"))
    summary = await latest(fake, admin, "Recipients")
    fake.press(admin, summary, summary.callback_data("Send now"))
    await english_bot.services.sender.drain()
    await english_bot.services.sweeper.tick()
    await english_bot.services.sender.drain()
    progress = await latest(fake, admin, "Directive #1")
    assert "Sent " in (progress.text or "") and "Đã gửi" not in (progress.text or "")

    assert await english_bot.services.admin_alerts.report("RuntimeError: boom")
    await english_bot.services.sender.drain()
    alert = await latest(fake, admin, "boom")
    assert "khaibao error" in (alert.text or ""), alert.text


async def test_alert_acknowledgements_are_edited_in_each_readers_language(
    fake: FakeBotApi, english_bot: RunningBot
) -> None:
    # A clerk of the HĐND-UBND office: her head (listed English), the health officer (English)
    # and the office's duty officer (Vietnamese) are alerted.
    clerk = await register(fake, TEACHER, "UB-004")
    principal = await register(fake, PRINCIPAL, "UB-001")
    nurse = await register(fake, NURSE, "YT-003")
    duty = await register(fake, DUTY, "UB-003")
    await report(fake, clerk, ["Sốt", "Ho"], "38,2")
    alerts = {u.id: await latest(fake, u, "Đinh Thị Thu Hà") for u in (principal, nurse, duty)}
    fake.press(nurse, alerts[nurse.id], alerts[nurse.id].callback_data("Received"))
    await fake.wait_for(lambda: all(a.edits for a in alerts.values()))
    await fake.wait_for(lambda: "Kiều Thị Ngân" in (alerts[principal.id].text or ""))
    assert "Received by Kiều Thị Ngân" in (alerts[principal.id].text or "")
    await fake.wait_for(lambda: "Kiều Thị Ngân" in (alerts[duty.id].text or ""))
    assert "Kiều Thị Ngân đã tiếp nhận" in (alerts[duty.id].text or "")
