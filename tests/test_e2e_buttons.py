"""Forged button data and out-of-range numbers, end to end against the sandbox.

Whatever a client sends as a button's data (a number too big for the database, a Unicode digit,
65 bytes, a prefix no feature owns) gets the plain "this button is no longer valid", changes
nothing and alerts no admin; the same for numbers typed after a command.
"""

from __future__ import annotations

from pathlib import Path

from bot.app import services_of
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, db_rows, db_value, register
from tests.test_e2e_travel import submit

TEACHER, PRINCIPAL, ADMIN = 881, 882, 883
NO_LONGER_VALID = "Nút này không còn hiệu lực."
FORGED = [
    "ap:99999999999999999999:y",
    "ap:²:y",
    "ap:1:y" + "0" * 59,  # 65 bytes
    "ap:" + "1" * 62,  # 65 bytes
    "ap:01:y",
    "ap:1:yes",
    "zz:1:y",
    "ap",
    "tv:cal:dep:999999",
    "mc:99999999999999999999:20210601:y",
    "ha:²",
    "bc:r:99999999999999999999",
    "lang:fr",
    "reg:x",
]


def _state(db_path: Path) -> tuple[object, ...]:
    return (
        tuple(db_rows(db_path, "SELECT id, status FROM travel_requests ORDER BY id")),
        db_value(db_path, "SELECT count(*) FROM audit_log"),
        db_value(db_path, "SELECT count(*) FROM outbox"),
        db_value(db_path, "SELECT count(*) FROM conversations"),
    )


def _no_error_reached_anyone(fake: FakeBotApi, bot: RunningBot, *users: FakeUser) -> None:
    alerts = services_of(bot.app).admin_alerts
    assert alerts._last_sent is None and alerts.suppressed == 0
    for user in users:
        for message in fake.messages(user.id):
            assert "Lỗi khaibao" not in (message.text or "")
            assert "Xin lỗi, hệ thống vừa gặp lỗi" not in (message.text or "")


async def _press(fake: FakeBotApi, user: FakeUser, message: SentMessage, data: str) -> str:
    press = fake.press(user, message, data)
    await fake.wait_for(lambda: fake.answer_for(press) is not None)
    return str((fake.answer_for(press) or {}).get("text", ""))


async def _reply(fake: FakeBotApi, user: FakeUser, text: str) -> str:
    fake.send_text(user, text)
    return (await fake.next_message(user.id)).text or ""


async def test_forged_button_data_is_refused_plainly_and_changes_nothing(
    fake: FakeBotApi, bot: RunningBot, db_path: Path
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    admin = await register(fake, ADMIN, "DU-003")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    before = _state(db_path)
    for data in FORGED:
        assert await _press(fake, principal, request, data) == NO_LONGER_VALID, data
    assert _state(db_path) == before
    approve = request.callback_data("Phê duyệt")
    assert approve == "ap:1:y"  # the wire format of buttons already in chats is unchanged
    await _press(fake, principal, request, approve)
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "")
    _no_error_reached_anyone(fake, bot, teacher, principal, admin)


async def test_out_of_range_numbers_after_a_command_are_simply_not_found(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    admin = await register(fake, ADMIN, "DU-003")
    assert await _reply(fake, teacher, "/symptoms ²") == "Không có báo cáo này."
    assert await _reply(fake, teacher, "/symptoms 99999999999999999999") == "Không có báo cáo này."
    assert await _reply(fake, principal, "/case 99999999999999999999") == "Không có ca bệnh này."
    assert await _reply(fake, principal, "/case #²") == "Không có ca bệnh này."
    assert await _reply(fake, admin, "/broadcast 99999999999999999999") == (
        "Không có văn bản #99999999999999999999."
    )
    assert await _reply(fake, admin, "/areas end ²") == "Không có vùng #² trong danh sách."
    _no_error_reached_anyone(fake, bot, teacher, principal, admin)
