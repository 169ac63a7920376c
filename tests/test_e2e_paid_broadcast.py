"""Paid broadcasts (TELEGRAM_PAID_BROADCAST): only a directive's copies carry allow_paid_broadcast."""

from __future__ import annotations

from pathlib import Path

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, load_examples, make_settings, register
from tests.test_e2e_broadcast import ADMIN, TEACHER, compose

BODY = "Đề nghị các đơn vị rà soát cán bộ đi về từ vùng dịch và báo cáo trước 17 giờ hôm nay."


async def send_directive(fake: FakeBotApi) -> list[tuple[str, dict[str, object]]]:
    """A directive to everyone, then the teacher taps «Đã đọc»; every send-like call made."""
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    summary = (await compose(fake, admin, BODY))[-1]
    shown = len(fake.messages(admin.id))  # the preview has the «Đã đọc» button too
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))
    copy = await fake.next_message(teacher.id, timeout=10)
    fake.press(teacher, copy, copy.callback_data("Đã đọc"))
    await fake.wait_for(lambda: bool(copy.edits))  # the button now says when it was read

    def own_copy() -> bool:  # the admin is staff too: their copy comes after the progress message
        return any("✅ Đã đọc" in m.button_texts() for m in fake.messages(admin.id)[shown:])

    await fake.wait_for(own_copy, timeout=10)
    return [(m, p) for m, p in fake.requests if m in ("sendMessage", "editMessageText")]


async def test_paid_broadcast_marks_only_the_copies(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    await load_examples(db_path, clock)
    settings = make_settings(fake, db_path, telegram_paid_broadcast=True)
    async with RunningBot(settings, clock):
        calls = await send_directive(fake)
    paid = [p for _, p in calls if p.get("allow_paid_broadcast")]
    assert {p["chat_id"] for p in paid} == {ADMIN, TEACHER}  # one copy each (the admin is staff)
    assert all(BODY in str(p["text"]) and "bc:r:" in str(p["reply_markup"]) for p in paid)
    free = [(m, p) for m, p in calls if not p.get("allow_paid_broadcast")]
    assert any(BODY in str(p["text"]) for _, p in free)  # the preview to the admin
    assert not any(BODY in str(p["text"]) and p["chat_id"] == TEACHER for _, p in free)


async def test_paid_broadcast_is_off_by_default(fake: FakeBotApi, bot: RunningBot) -> None:
    calls = await send_directive(fake)
    assert calls and not any("allow_paid_broadcast" in p for _, p in calls)
