"""Testing and isolation on return from an area whose directive requires them (seeds/004 §3),
end to end over HTTP with the moved clock.

The sample trip of Lại Thị Diệu Linh (TH-003) goes to Đà Nẵng, leaving Saturday 29/05/2021 07:00
and planned back Sunday 30/05 18:00; she declares her return at 18:00. The area listed there
requires a test within 48 hours (due Tuesday 01/06 18:00, reminded at 12:00) and isolation for
14 days (until 13/06 18:00).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, db_rows, register
from tests.test_e2e_returns import (
    PLANNED_RETURN,
    approved_trip,
    declare_back,
    message_with,
    texts,
    tick_at,
)
from tests.test_e2e_travel import answer


@pytest.fixture
def bot_settings() -> dict[str, object]:
    """The alerts in full (PRIVACY_MINIMAL_MESSAGES off); test_e2e_privacy covers the minimal ones."""
    return {"privacy_minimal_messages": False}


ADMIN = 871
TEST_DUE = PLANNED_RETURN + timedelta(hours=48)
REMINDED_AT = TEST_DUE - timedelta(hours=6)


async def list_area(fake: FakeBotApi, requirement: str) -> FakeUser:
    admin = await register(fake, ADMIN, "DU-003")
    listed = await answer(
        fake, admin, "/areas add Đà Nẵng; quận Sơn Trà; 25/05/2021; CDC Đà Nẵng 25/5"
    )
    assert "#1" in (listed.text or "")
    required = await answer(fake, admin, f"/areas require 1 {requirement}")
    assert "Vùng #1: khi trở về" in (required.text or ""), required.text
    return admin


async def back_from_the_area(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock, requirement: str
) -> tuple[FakeUser, FakeUser, SentMessage]:
    """The trip approved, then the area listed with its requirement (so the travel flow shows
    no warning), the return declared; the instructions message."""
    teacher, principal = await approved_trip(fake, bot)
    await list_area(fake, requirement)
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    instructions = await message_with(fake, teacher.id, "🧪")
    return teacher, principal, instructions


def measure_row(bot: RunningBot) -> tuple[object, ...]:
    (row,) = db_rows(
        bot.settings.database_path,
        "SELECT test_result, evidence_file_id, case_id, remind_stage, isolation_until "
        "FROM return_measures",
    )
    assert row is not None
    return tuple(row)


async def test_test_required_reminded_then_positive_opens_a_case(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal, instructions = await back_from_the_area(
        fake, bot, clock, "xét nghiệm 48 giờ, cách ly 14 ngày"
    )
    text = instructions.text or ""
    assert "quận Sơn Trà" in text and "xét nghiệm" in text
    assert "18:00, thứ Ba, ngày 1 tháng 6 năm 2021" in text, text  # the test deadline
    assert "ngày 13 tháng 6 năm 2021" in text  # isolation until
    assert any("Dương tính" in b for b in instructions.button_texts())

    unit = await message_with_after(fake, principal, "/unit", "🧪")
    assert "đang cách ly đến 13/06/2021 18:00" in (unit.text or "")
    assert "chờ kết quả xét nghiệm, hạn 01/06/2021 18:00" in (unit.text or "")
    viewed = db_rows(
        bot.settings.database_path,
        "SELECT actor, details FROM audit_log WHERE action = 'health.view' AND object = 'unit:HB-TH'",
    )
    # the monitoring and the test: a test result seen in /unit is a health view, audited
    assert [(actor, json.loads(details)["lines"]) for actor, details in viewed] == [("TH-001", 2)]

    status = await message_with_after(fake, teacher, "/status", "🧪")
    assert "🧪 đang cách ly đến 13/06/2021 18:00; chờ kết quả xét nghiệm" in (status.text or "")

    await tick_at(bot, clock, REMINDED_AT - timedelta(minutes=1))
    assert not any("gửi kết quả xét nghiệm" in t for t in texts(fake, teacher.id))
    await tick_at(bot, clock, REMINDED_AT)
    reminder = await message_with(fake, teacher.id, "⏰ Nhắc: anh/chị gửi kết quả xét nghiệm")
    await tick_at(bot, clock, REMINDED_AT + timedelta(hours=1))
    reminders = [t for t in texts(fake, teacher.id) if "gửi kết quả xét nghiệm" in t]
    assert len(reminders) == 1, "one reminder, not one a tick"

    fake.press(teacher, reminder, reminder.callback_data("Dương tính"))
    opened = await message_with(fake, teacher.id, "Đã mở ca bệnh #1")
    assert "ảnh phiếu kết quả" in (opened.text or "")
    alert = await message_with(fake, principal.id, "BÁO CÁO CA BỆNH")
    assert "F0 Lại Thị Diệu Linh" in (alert.text or "")
    fake.send_photo(teacher, caption="phiếu xét nghiệm")
    await message_with(fake, teacher.id, "Đã lưu ảnh kết quả xét nghiệm")

    result, evidence, case_id, _, _ = measure_row(bot)
    assert result == "positive" and evidence and case_id == 1
    (node,) = db_rows(
        bot.settings.database_path, "SELECT staff_id, level FROM case_nodes WHERE case_id = 1"
    )
    assert tuple(node) == ("TH-003", "F0")

    again = fake.press(teacher, instructions, instructions.callback_data("Âm tính"))
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "Đã ghi nhận trước đó" in (fake.answer_for(again) or {}).get("text", "")
    assert measure_row(bot)[0] == "positive", "the second answer changes nothing"
    count = len(fake.messages(teacher.id))
    await tick_at(bot, clock, TEST_DUE + timedelta(hours=1))
    assert not any("chưa gửi kết quả xét nghiệm" in t for t in texts(fake, principal.id))
    assert len([t for t in texts(fake, teacher.id)[count:] if "xét nghiệm" in t]) == 0


async def test_no_result_by_the_deadline_tells_the_head_who_reminds(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal, instructions = await back_from_the_area(fake, bot, clock, "test 48h")
    assert "cách ly" not in (instructions.text or "")
    await tick_at(bot, clock, TEST_DUE)  # after an outage: only the latest step
    told = await message_with(fake, principal.id, "chưa gửi kết quả xét nghiệm")
    assert "Lại Thị Diệu Linh" in (told.text or "")
    await fake.wait_for(lambda: any("⚠️ Kết quả xét nghiệm" in t for t in texts(fake, teacher.id)))
    overdue = [t for t in texts(fake, teacher.id) if "⚠️ Kết quả xét nghiệm" in t]
    assert len(overdue) == 1 and not any(
        "⏰ Nhắc: anh/chị gửi kết quả" in t for t in texts(fake, teacher.id)
    )
    pressed = fake.press(principal, told, told.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
    assert "Đã gửi lời nhắc" in (fake.answer_for(pressed) or {}).get("text", "")
    await fake.wait_for(
        lambda: len([t for t in texts(fake, teacher.id) if "⚠️ Kết quả xét nghiệm" in t]) == 2
    )
    forged = fake.press(teacher, told, told.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(forged) is not None)
    assert "không có quyền" in (fake.answer_for(forged) or {}).get("text", "")

    unit = await message_with_after(fake, principal, "/unit", "🧪")
    assert "quá hạn xét nghiệm từ 01/06/2021 18:00" in (unit.text or "")
    negative = fake.press(teacher, instructions, instructions.callback_data("Âm tính"))
    await fake.wait_for(lambda: fake.answer_for(negative) is not None)
    await message_with(fake, teacher.id, "kết quả xét nghiệm của anh/chị âm tính")
    assert measure_row(bot)[0] == "negative" and measure_row(bot)[3] == 2


async def test_an_unreadable_requirement_is_refused_and_changes_nothing(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, _ = await approved_trip(fake, bot)
    admin = await list_area(fake, "cách ly 7 ngày")
    refused = await answer(fake, admin, "/areas require 1 xét nghiệm ngay")
    assert "Không đọc được yêu cầu" in (refused.text or "")
    unknown = await answer(fake, admin, "/areas require 9 cách ly 7 ngày")
    assert "#9" in (unknown.text or "")
    listing = await answer(fake, admin, "/areas")
    assert "Khi trở về: cách ly 7 ngày" in (listing.text or "")
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    instructions = await message_with(fake, teacher.id, "🧪")
    assert "cách ly tại nhà đến" in (instructions.text or "")
    assert instructions.button_texts() == [], "nothing to answer without a test"
    assert measure_row(bot)[4] is not None


async def message_with_after(
    fake: FakeBotApi, user: FakeUser, command: str, fragment: str
) -> SentMessage:
    """The first message containing `fragment` after sending `command`."""
    before = len(fake.messages(user.id))
    fake.send_text(user, command)
    await fake.wait_for(
        lambda: any(fragment in (m.text or "") for m in fake.messages(user.id)[before:])
    )
    return next(m for m in fake.messages(user.id)[before:] if fragment in (m.text or ""))


async def test_isolation_shows_in_the_returns_register(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    _, principal, _ = await back_from_the_area(
        fake, bot, clock, "xét nghiệm 48 giờ, cách ly 14 ngày"
    )
    before = len(fake.messages(principal.id))
    fake.send_text(principal, "/export returns 01/05/2021 31/05/2021")
    await fake.wait_for(
        lambda: any(m.kind == "document" for m in fake.messages(principal.id)[before:])
    )
    got = next(m for m in fake.messages(principal.id)[before:] if m.kind == "document")
    assert got.document is not None
    sheet = load_workbook(BytesIO(got.document["data"])).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-3:] == ("Hạn xét nghiệm", "Kết quả xét nghiệm", "Cách ly đến")
    assert rows[1][-3:] == ("01/06/2021 18:00", "chưa có kết quả", "13/06/2021 18:00")
