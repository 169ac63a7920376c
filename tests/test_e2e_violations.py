"""Violations and accountability (seeds/000 §5, 001 §5, 004), end to end over HTTP: a head
records a violation from /unit or from a reminder, with a note; the person is told; /district
counts it per unit; the `violations` register exports it.

Lại Thị Diệu Linh (TH-003), a teacher, is back from Đà Nẵng on Sunday 30/05/2021 18:00 and does
not confirm her health declaration within 24 hours; her principal (TH-001) is told.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, database_env, db_rows, register
from tests.test_e2e_returns import (
    PLANNED_RETURN,
    approved_trip,
    declare_back,
    message_with,
    tick_at,
)
from tests.test_e2e_testing_isolation import message_with_after

ADMIN = 872
NOTE = "=1+1 Quá hạn khai báo y tế 2 ngày, đã nhắc 3 lần"


async def overdue_declaration(
    fake: FakeBotApi, bot: RunningBot
) -> tuple[FakeUser, FakeUser, SentMessage]:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, bot.clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    await tick_at(bot, bot.clock, PLANNED_RETURN + timedelta(hours=24))
    await bot.services.sender.drain()  # the morning digest too, before the head's commands
    overdue = await message_with(fake, principal.id, "chưa xác nhận khai báo y tế")
    return teacher, principal, overdue


async def press_for(
    fake: FakeBotApi, user: FakeUser, message: SentMessage, label: str
) -> tuple[str, SentMessage | None]:
    """The toast of the press and the message it brought, if any."""
    before = len(fake.messages(user.id))
    pressed = fake.press(user, message, message.callback_data(label))
    await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
    toast = (fake.answer_for(pressed) or {}).get("text", "")
    if toast:
        return toast, None
    await fake.wait_for(lambda: len(fake.messages(user.id)) > before)
    return toast, fake.messages(user.id)[before]


def violations(bot: RunningBot) -> list[tuple[object, ...]]:
    rows = db_rows(
        bot.settings.database_path,
        "SELECT staff_id, unit_id, kind, note, object, recorded_by FROM violations",
    )
    return [tuple(r) for r in rows]


async def test_a_violation_recorded_from_unit_is_told_counted_and_exported(
    fake: FakeBotApi, bot: RunningBot, tmp_path: Path
) -> None:
    teacher, principal, _ = await overdue_declaration(fake, bot)
    unit = await message_with_after(fake, principal, "/unit", "Lại Thị Diệu Linh")
    assert "⚠️ Vi phạm: Lại Thị Diệu Linh" in unit.button_texts()
    _, kinds = await press_for(fake, principal, unit, "⚠️ Vi phạm: Lại Thị Diệu Linh")
    assert kinds is not None and "vi phạm quy định nào" in (kinds.text or "")
    assert len(kinds.button_texts()) == 5  # four kinds and cancel
    _, ask = await press_for(fake, principal, kinds, "quá hạn khai báo y tế")
    assert ask is not None and "ghi chú" in (ask.text or "")

    too_long = await message_with_after(fake, principal, "x" * 501, "500")
    assert "từ 1 đến 500 ký tự" in (too_long.text or "") and violations(bot) == []
    done = await message_with_after(fake, principal, NOTE, "vi phạm #")
    assert "Đã ghi nhận vi phạm #1" in (done.text or "")
    assert "Đã báo: Lại Thị Diệu Linh" in (done.text or "")
    told = await message_with(fake, teacher.id, "đã ghi nhận anh/chị vi phạm")
    assert "quá hạn khai báo y tế" in (told.text or "") and NOTE in (told.text or "")
    assert violations(bot) == [("TH-003", "HB-TH", "declaration", NOTE, None, "TH-001")]

    admin = await register(fake, ADMIN, "DU-003")
    district = await message_with_after(fake, admin, "/district", "vi phạm (30 ngày)")
    school = next(line for line in (district.text or "").splitlines() if "vi phạm" in line)
    assert "vi phạm (30 ngày): 1" in school

    before = len(fake.messages(principal.id))
    fake.send_text(principal, "/export violations")
    await fake.wait_for(
        lambda: any(m.kind == "document" for m in fake.messages(principal.id)[before:])
    )
    got = next(m for m in fake.messages(principal.id)[before:] if m.kind == "document")
    assert got.document is not None and "1" in (got.caption or "")
    sheet = load_workbook(BytesIO(got.document["data"])).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][4:] == (
        "Vi phạm", "Ghi nhận lúc", "Loại vi phạm", "Ghi chú", "Người ghi nhận", "Liên quan"
    )  # fmt: skip
    assert rows[1][2] == "Lại Thị Diệu Linh" and rows[1][6] == "quá hạn khai báo y tế"
    assert rows[1][7] == "'" + NOTE, "a note that looks like a formula stays text"
    assert rows[1][8] == "Châu Thị Bích Ngọc"
    cli = await export_on_the_command_line(bot, tmp_path / "so-vi-pham.xlsx")
    assert cli[1][2:8] == rows[1][2:8], "the command line writes the same register"


async def export_on_the_command_line(bot: RunningBot, out: Path) -> list[tuple[object, ...]]:
    env = dict(os.environ, **database_env(bot.settings.database_path), TELEGRAM_BOT_TOKEN="")
    args = [sys.executable, "-m", "bot", "export", "--what", "violations", "--from", "01/05/2021",
            "--to", "30/06/2021", "--out", str(out)]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, args, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    sheet = load_workbook(out).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


async def test_from_the_reminder_only_those_above_may_record_and_cancel_records_nothing(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher, principal, overdue = await overdue_declaration(fake, bot)
    refused, _ = await press_for(fake, teacher, overdue, "Ghi nhận vi phạm")
    assert "không có quyền" in refused
    _, kinds = await press_for(fake, principal, overdue, "Ghi nhận vi phạm")
    assert kinds is not None
    cancelled, _ = await press_for(fake, principal, kinds, "Hủy")
    assert "Đã hủy" in cancelled
    stale, _ = await press_for(fake, principal, kinds, "khác")
    assert "không còn hiệu lực" in stale
    assert violations(bot) == []

    _, kinds = await press_for(fake, principal, overdue, "Ghi nhận vi phạm")
    assert kinds is not None
    await press_for(fake, principal, kinds, "không báo cáo khi trở về")
    done = await message_with_after(fake, principal, "Về muộn, không báo", "vi phạm #")
    assert "Đã ghi nhận vi phạm #1" in (done.text or "")
    assert violations(bot) == [
        ("TH-003", "HB-TH", "return", "Về muộn, không báo", "travel:1", "TH-001")
    ]
