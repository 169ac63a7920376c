"""Directives (issue 6), end to end over HTTP: /broadcast, the "read" button, /directives, the
progress message, reminders, unit heads' view, the .xlsx export, scheduling and the policy hook.

The clock starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from bot.domain.splitting import split_message
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, register
from tests.paths import ROOT

ADMIN, TEACHER, PRINCIPAL, TEACHER_EN, OFFICE = 851, 852, 853, 854, 855
SEED = (ROOT / "tests" / "data" / "seeds" / "000_81cd1f4fe88ebc1c.txt").read_text(encoding="utf-8")


async def answer(fake: FakeBotApi, user: FakeUser, text: str) -> SentMessage:
    fake.send_text(user, text)
    return await fake.next_message(user.id)


def chunks(text: str, size: int = 3500) -> list[str]:
    """How a person pastes a long text: several messages, cut at paragraphs."""
    return split_message(text, limit=size, numbered=False)


async def compose(fake: FakeBotApi, admin: FakeUser, body: str, audience: str = "Mọi người") -> list[SentMessage]:
    """/broadcast up to the preview; returns the preview messages, the summary last."""
    assert "số và ngày" in (await answer(fake, admin, "/broadcast")).text.lower()  # type: ignore[union-attr]
    assert "tiêu đề" in ((await answer(fake, admin, "1061/UBND-VP 26/05/2021")).text or "").lower()
    await answer(fake, admin, "V/v tăng cường phòng, chống dịch COVID-19")
    last = None
    for piece in chunks(body):
        last = await answer(fake, admin, piece)
    assert last is not None
    fake.press(admin, last, last.callback_data("Xong"))
    question = await fake.next_message(admin.id)
    fake.press(admin, question, question.callback_data(audience))
    return await collect_preview(fake, admin)


async def collect_preview(fake: FakeBotApi, admin: FakeUser) -> list[SentMessage]:
    shown = [await fake.next_message(admin.id)]
    while "Người nhận" not in (shown[-1].text or ""):
        shown.append(await fake.next_message(admin.id))
    return shown


def db_all(bot: RunningBot, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(bot.settings.database_path) as conn:
        return conn.execute(sql, params).fetchall()


async def test_long_directive_is_split_delivered_and_acknowledged(fake: FakeBotApi, bot: RunningBot) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    english = await register(fake, TEACHER_EN, "TH-005", language_code="en")
    preview = await compose(fake, admin, SEED)
    parts = [m for m in preview if (m.text or "").startswith("(")]
    assert len(parts) == 3 and parts[0].text.startswith(f"(1/{len(parts)}) 📄")  # type: ignore[union-attr]
    assert all(len(m.text or "") <= 4096 for m in parts)
    summary = preview[-1]
    assert "Người nhận: " in (summary.text or "")
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))
    told = await fake.next_message(admin.id)
    assert "#1" in (told.text or "")

    got = [await fake.next_message(teacher.id) for _ in parts]
    assert [m.text for m in got] == [m.text for m in parts]  # exactly what the preview showed
    joined = "\n\n".join((m.text or "").split(") ", 1)[1] for m in got)
    assert " ".join(SEED.split()) in " ".join(joined.split())  # nothing lost at the cuts
    last = got[-1]
    assert last.button_texts() == ["✅ Đã đọc"]
    assert "✅ I have read it" in [t for m in [await fake.next_message(english.id) for _ in parts] for t in m.button_texts()]

    bot.clock.advance(timedelta(minutes=75))
    press = fake.press(teacher, last, last.callback_data("Đã đọc"))
    await fake.wait_for(lambda: fake.answer_for(press) is not None)
    assert "10:15" in fake.answer_for(press)["text"]  # type: ignore[index]
    await fake.wait_for(lambda: bool(last.edits))
    assert last.button_texts() == ["✅ Đã đọc lúc 10:15"]
    bot.clock.advance(timedelta(minutes=5))
    again = fake.press(teacher, last, "bc:r:1")
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "10:15" in fake.answer_for(again)["text"]  # type: ignore[index]
    assert db_all(bot, "SELECT COUNT(*) FROM broadcast_recipients WHERE read_at IS NOT NULL") == [(1,)]

    progress = next(m for m in fake.messages(admin.id) if (m.text or "").startswith("Văn bản #1:"))
    await bot.services.sender.drain()
    await bot.services.sweeper.tick()
    await fake.wait_for(lambda: bool(progress.edits), timeout=10)
    assert "đã đọc 1" in (progress.text or "").lower()

    listing = await answer(fake, teacher, "/directives")
    assert "1061/UBND-VP" in (listing.text or "") and "10:15" in (listing.text or "")
