"""Directives (issue 6), end to end over HTTP: /broadcast, the "read" button, /directives, the
progress message, reminders, unit heads' view, the .xlsx export, scheduling and the policy hook.

The clock starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from openpyxl import load_workbook

from bot.domain.splitting import split_message
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, db_rows, register
from tests.paths import ROOT

ADMIN, TEACHER, PRINCIPAL, TEACHER_EN, OFFICE = 851, 852, 853, 854, 855
SEED = (ROOT / "tests" / "data" / "seeds" / "000_81cd1f4fe88ebc1c.txt").read_text(encoding="utf-8")


async def answer(fake: FakeBotApi, user: FakeUser, text: str) -> SentMessage:
    fake.send_text(user, text)
    return await fake.next_message(user.id)


def chunks(text: str, size: int = 3500) -> list[str]:
    """How a person pastes a long text: several messages, cut at paragraphs."""
    return split_message(text, limit=size, numbered=False)


async def compose(
    fake: FakeBotApi, admin: FakeUser, body: str, audience: str = "Mọi người"
) -> list[SentMessage]:
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
    return db_rows(bot.settings.database_path, sql, params)


async def test_long_directive_is_split_delivered_and_acknowledged(
    fake: FakeBotApi, bot: RunningBot
) -> None:
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
    assert "✅ I have read it" in [
        t for m in [await fake.next_message(english.id) for _ in parts] for t in m.button_texts()
    ]

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
    assert db_all(bot, "SELECT COUNT(*) FROM broadcast_recipients WHERE read_at IS NOT NULL") == [
        (1,)
    ]

    progress = next(m for m in fake.messages(admin.id) if (m.text or "").startswith("Văn bản #1:"))
    await bot.services.sender.drain()
    await bot.services.sweeper.tick()
    await fake.wait_for(lambda: bool(progress.edits), timeout=10)
    assert "đã đọc 1" in (progress.text or "").lower()

    listing = await answer(fake, teacher, "/directives")
    assert "1061/UBND-VP" in (listing.text or "") and "10:15" in (listing.text or "")


async def test_units_audience_scheduled_with_a_travel_ban(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    office = await register(fake, OFFICE, "DU-004")
    assert "số và ngày" in ((await answer(fake, admin, "/broadcast")).text or "")
    await answer(fake, admin, "262-TB/QU, 09/05/2021")
    await answer(fake, admin, "Không rời khỏi Hà Nội")
    last = await answer(fake, admin, "100% cán bộ không rời khỏi địa bàn thành phố.")
    fake.press(admin, last, last.callback_data("Xong"))
    question = await fake.next_message(admin.id)
    fake.press(admin, question, question.callback_data("Đơn vị được chọn"))
    listing = await fake.next_message(admin.id)
    assert "HB-TH" in (listing.text or "")
    assert "Không tìm thấy" in ((await answer(fake, admin, "Trường Atlantis")).text or "")
    fake.send_text(admin, "truong tieu hoc hoa binh (mau)")
    summary = (await collect_preview(fake, admin))[-1]
    assert "Người nhận: 6 (1 " in (summary.text or "")  # the primary school's staff only
    fake.press(admin, summary, summary.callback_data("tạm dừng"))
    await fake.wait_for(lambda: "không ra khỏi thành phố" in (summary.text or ""))  # edited
    fake.press(admin, summary, summary.callback_data("Hẹn giờ"))
    await fake.next_message(admin.id)
    fake.send_text(admin, "26/05/2021 14:00")
    summary = (await collect_preview(fake, admin))[-1]
    fake.press(admin, summary, summary.callback_data("Xác nhận"))
    scheduled = await fake.next_message(admin.id)
    assert "hẹn gửi" in (scheduled.text or "")
    assert db_all(bot, "SELECT mode FROM policy_periods ORDER BY id DESC LIMIT 1") == [("ban",)]

    await bot.services.sweeper.tick()
    await bot.services.sender.drain()
    assert fake.messages(teacher.id)[-1].button_texts() != ["✅ Đã đọc"]  # not yet
    bot.clock.advance(timedelta(hours=5))
    await bot.services.sweeper.tick()
    await bot.services.sender.drain()
    got = fake.messages(teacher.id)[-1]
    assert "262-TB/QU" in (got.text or "") and got.button_texts() == ["✅ Đã đọc"]
    assert not any(
        "262-TB/QU" in (m.text or "") for m in fake.messages(office.id)
    )  # not in the audience
    rows = db_all(bot, "SELECT priority FROM outbox WHERE purpose = 'broadcast:1'")
    assert rows and all(p == 8 for (p,) in rows)  # behind interactive messages


async def test_reminder_heads_view_export_and_file(fake: FakeBotApi, bot: RunningBot) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    fake.block(TEACHER_EN)
    await register_blocked(fake, bot)
    await answer(fake, admin, "/broadcast")
    await answer(fake, admin, "48-CV/ĐU ngày 07/06/2021")
    await answer(fake, admin, "V/v phòng, chống dịch bệnh Covid-19")
    bad = await send_file(fake, admin, "anh.png", b"\x89PNG")
    assert "PDF hoặc DOCX" in (bad.text or "")
    last = await send_file(fake, admin, "48-CV-DU.pdf", b"%PDF-1.4 fake")
    assert "48-CV-DU.pdf" in (last.text or "")
    fake.press(admin, last, last.callback_data("Xong"))
    question = await fake.next_message(admin.id)
    fake.press(admin, question, question.callback_data("Mọi người"))
    summary = (await collect_preview(fake, admin))[-1]
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))
    await fake.next_message(admin.id)
    await bot.services.sender.drain()
    got = fake.messages(teacher.id)[-1]
    assert (
        got.kind == "document"
        and "48-CV/ĐU" in (got.caption or "")
        and got.button_texts() == ["✅ Đã đọc"]
    )
    mine = fake.messages(principal.id)[-1]
    fake.press(principal, mine, mine.callback_data("Đã đọc"))
    await fake.wait_for(lambda: bool(mine.edits))
    assert mine.button_texts() == ["✅ Đã đọc lúc 09:00"]

    bot.clock.advance(timedelta(hours=4, minutes=1))
    await bot.services.sweeper.tick()
    await bot.services.sender.drain()
    reminder = fake.messages(teacher.id)[-1]
    assert "Nhắc nhở" in (reminder.text or "") and reminder.button_texts() == ["✅ Đã đọc"]
    assert not any("Nhắc nhở" in (m.text or "") for m in fake.messages(principal.id))
    bot.clock.advance(timedelta(hours=5))
    await bot.services.sweeper.tick()
    await bot.services.sender.drain()
    assert sum("Nhắc nhở" in (m.text or "") for m in fake.messages(teacher.id)) == 1  # once

    listing = await latest(fake, principal, "/directives", "Văn bản chỉ đạo gần đây")
    fake.press(principal, listing, listing.callback_data("Ai chưa đọc"))
    await fake.wait_for(lambda: "Chưa đọc" in (fake.messages(principal.id)[-1].text or ""))
    unread = fake.messages(principal.id)[-1]
    assert "Lại Thị Diệu Linh" in (unread.text or "") and "Châu Thị Bích Ngọc" not in (
        unread.text or ""
    )
    press = fake.press(principal, unread, unread.callback_data("Nhắc họ"))
    await fake.wait_for(lambda: fake.answer_for(press) is not None)
    assert "Đã nhắc 1" in fake.answer_for(press)["text"]  # type: ignore[index]
    await bot.services.sender.drain()
    assert sum("Nhắc nhở" in (m.text or "") for m in fake.messages(teacher.id)) == 2
    again = fake.press(principal, unread, unread.callback_data("Nhắc họ"))
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "Đã nhắc lúc" in fake.answer_for(again)["text"]  # type: ignore[index]  # within the hour

    view = await latest(fake, admin, "/broadcast 1", "Văn bản #1:")
    assert "đã đọc 1" in (view.text or "")
    fake.press(admin, view, view.callback_data("Xuất"))
    await fake.wait_for(lambda: fake.messages(admin.id)[-1].kind == "document")
    export = fake.messages(admin.id)[-1]
    assert export.kind == "document" and export.document is not None
    sheet = load_workbook(BytesIO(export.document["data"])).active
    rows = {r[2]: r for r in sheet.iter_rows(min_row=2, values_only=True)}  # type: ignore[union-attr]
    assert rows["Châu Thị Bích Ngọc"][5] == "26/05/2021 09:00"  # after the row number (STT)
    assert rows["Lại Thị Diệu Linh"][4] and not rows["Lại Thị Diệu Linh"][5]
    assert rows["Emily Nguyễn"][6] == "đã chặn bot"
    assert rows["Nguyễn Văn Hùng"][6] == "chưa đăng ký với bot"


async def latest(fake: FakeBotApi, user: FakeUser, text: str, expect: str) -> SentMessage:
    """Send `text`; the newest message containing `expect` (earlier ones may not have been read)."""
    before = len(fake.messages(user.id))
    fake.send_text(user, text)
    await fake.wait_for(
        lambda: any(expect in (m.text or "") for m in fake.messages(user.id)[before:])
    )
    return [m for m in fake.messages(user.id)[before:] if expect in (m.text or "")][-1]


async def register_blocked(fake: FakeBotApi, bot: RunningBot) -> None:
    """Emily registers, then blocks the bot."""
    async with bot.services.db.transaction() as tx:  # the bot's own connection: no lock contention
        await tx.execute("INSERT INTO accounts (channel, user_ref, chat_ref, staff_id, language) "
                         "VALUES ('telegram', ?, ?, 'TH-005', 'en')", (str(TEACHER_EN), str(TEACHER_EN)))  # fmt: skip
    fake.user(TEACHER_EN)


async def send_file(fake: FakeBotApi, user: FakeUser, name: str, data: bytes) -> SentMessage:
    stored = fake.store_file(
        data, "documents", "application/pdf" if name.endswith(".pdf") else "image/png", name
    )
    document = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_name": name,
                "mime_type": stored.mime_type, "file_size": len(data)}  # fmt: skip
    fake.queue_raw_update({"message": fake.user_message(user, {"document": document})})
    return await fake.next_message(user.id)


async def test_the_admins_confirmation_reads_above_the_progress_message_it_points_to(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    """«The message below shows the progress»: the two leave in that order even when Telegram
    is slow to take the first (a direct reply and the outbox would race for the chat)."""
    admin = await register(fake, ADMIN, "DU-003")
    await register(fake, TEACHER, "TH-003")
    summary = (await compose(fake, admin, "Tất cả cán bộ khai báo y tế trước 17 giờ."))[-1]
    before = len(fake.messages(admin.id))
    fake.delay_next("sendMessage", 0.5)  # whichever leaves first is held half a second
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))
    await fake.wait_for(lambda: len(fake.messages(admin.id)) >= before + 2)
    told, progress = fake.messages(admin.id)[before : before + 2]
    assert "đang được gửi tới" in (told.text or "") and "bên dưới" in (told.text or "")
    assert (progress.text or "").startswith("Văn bản #1:"), progress.text
