"""A directive's file sent on one messenger reaches the recipients on the other: the real bot
against both sandboxes (the strict Bot API fake and the Zalo OA fake). A PDF the admin sent on
Telegram is fetched once (one getFile, one download), kept in FILES_DIR, uploaded to Zalo once
and sent to every Zalo recipient by that upload; Telegram recipients get Telegram's own file id.
A file Zalo cannot take reaches its Zalo recipients as the text with a note, and the admin is
told once."""

from __future__ import annotations

from pathlib import Path

from bot.domain.clock import ManualClock
from tests.channel_chats import TelegramChat, ZaloChat, with_button
from tests.fakebot import FakeBotApi, SentMessage
from tests.fakezalo import FakeZaloOA
from tests.harness import RunningBot, db_rows
from tests.test_e2e_broadcast import answer, collect_preview, send_file
from tests.test_e2e_zalo import bot, oa

FIXTURES = (bot, oa)  # the bot with both channels on, and its fake Zalo OA

ADMIN, PRINCIPAL = (864, "DU-003"), (862, "TH-001")
ON_ZALO = {  # staff on Zalo, by their directory phone (examples/staff.csv)
    "TH-003": ("Lại Thị Diệu Linh", "84912000026"),
    "TH-004": ("Âu Văn Phúc", "84912000027"),
    "TH-006": ("Võ Thị Tuyết", "84912000029"),
}
PDF = b"%PDF-1.4\n" + b"Cong van 48-CV/DU ve phong chong dich\n" * 200


async def people(
    fake: FakeBotApi, oa: FakeZaloOA
) -> tuple[TelegramChat, TelegramChat, list[ZaloChat]]:
    admin = await TelegramChat.register(fake, *ADMIN)
    principal = await TelegramChat.register(fake, *PRINCIPAL)
    zalo = [await ZaloChat.register(oa, name, phone) for name, phone in ON_ZALO.values()]
    return admin, principal, zalo


async def send_directive_with(admin: TelegramChat, name: str, data: bytes) -> None:
    """/broadcast on Telegram with the file `name` as its content, to everyone, now."""
    fake, user = admin.fake, admin.user
    fake.mark_read(user.id)
    await answer(fake, user, "/broadcast")
    await answer(fake, user, "48-CV/ĐU ngày 07/06/2021")
    await answer(fake, user, "V/v phòng, chống dịch bệnh Covid-19")
    received = await send_file(fake, user, name, data)
    assert name in (received.text or "")
    fake.press(user, received, received.callback_data("Xong"))
    question = await fake.next_message(user.id)
    fake.press(user, question, question.callback_data("Mọi người"))
    preview = await collect_preview(fake, user)
    assert any(m.kind == "document" for m in preview)  # the preview shows the file too
    summary = preview[-1]
    fake.press(user, summary, summary.callback_data("Gửi ngay"))
    await admin.next_with("#1")


def get_file_calls(fake: FakeBotApi) -> int:
    return sum(1 for name, _ in fake.requests if name == "getFile")


def telegram_document(fake: FakeBotApi, user_id: int) -> SentMessage:
    return next(m for m in fake.messages(user_id) if m.kind == "document")


async def test_a_telegram_pdf_reaches_zalo_with_one_download_and_one_upload(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    admin, principal, zalo = await people(fake, oa)
    uploads_before = oa.counters.uploads
    await send_directive_with(admin, "48-CV-DU.pdf", PDF)
    await bot.services.sender.drain()

    files = []
    for chat in zalo:
        sent = await chat.next_kind("file")
        assert sent.upload is not None and sent.upload.data == PDF
        assert sent.upload.name == "48-cv-du.pdf"
        files.append(sent.upload.upload_id)
        caption = next(m for m in oa.messages(chat.user.user_id) if "48-CV/ĐU" in (m.text or ""))
        assert any("Đã đọc" in title for title in caption.button_titles())  # read from Zalo
    assert oa.counters.uploads - uploads_before == 1  # one upload for every Zalo recipient
    assert len(set(files)) == 1
    assert get_file_calls(fake) == 1 and fake.downloads == 1  # fetched once from Telegram

    mine = telegram_document(fake, principal.user.id)  # Telegram sends Telegram's own id
    admins = telegram_document(fake, admin.user.id)
    assert mine.document is not None and admins.document is not None
    assert mine.document["data"] == PDF
    copies = db_rows(
        bot.settings.database_path,
        "SELECT source_channel, place, copy_ref, failure FROM file_copies",
    )
    assert [(c[0], c[1], c[3]) for c in copies] == [("telegram", "files", None)]
    kept = Path(str(copies[0][2]))
    assert kept.is_relative_to(bot.settings.files_folder) and kept.read_bytes() == PDF

    teacher = zalo[0]  # read again from /directives: a direct reply, the same upload
    listing = with_button(await teacher.say("/directives"), "Đọc lại")
    await teacher.tap(listing, "Đọc lại")
    again = await teacher.next_kind("file")
    assert again.upload is not None and again.upload.upload_id == files[0]
    assert oa.counters.uploads - uploads_before == 1 and get_file_calls(fake) == 1

    kept.unlink()  # the copy in FILES_DIR deleted: fetched again, Zalo's upload still used
    await teacher.tap(listing, "Đọc lại")
    third = await teacher.next_kind("file")
    assert third.upload is not None and third.upload.upload_id == files[0]
    assert get_file_calls(fake) == 2 and kept.read_bytes() == PDF
    assert oa.counters.uploads - uploads_before == 1


def sent_buttons(oa: FakeZaloOA, chat: ZaloChat) -> list[str]:
    return [title for m in oa.messages(chat.user.user_id) for title in m.button_titles()]


async def test_a_file_zalo_cannot_take_goes_as_text_with_a_note_and_the_admin_is_told_once(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot
) -> None:
    admin, principal, zalo = await people(fake, oa)
    uploads_before = oa.counters.uploads
    big = b"%PDF-1.4\n" + b"x" * (6 * 1024 * 1024)  # over Zalo's 5 MB, under Telegram's 20 MB
    await send_directive_with(admin, "48-CV-DU.pdf", big)
    await bot.services.sender.drain()

    for chat in zalo:
        note = await chat.next_with("Không gửi được tệp đính kèm")
        assert "liên hệ nơi gửi" in note.text
        assert any("Đã đọc" in label for label in sent_buttons(oa, chat))  # still readable
        assert not any(m.kind == "file" for m in oa.messages(chat.user.user_id))
    assert oa.counters.uploads == uploads_before  # nothing uploaded
    assert fake.downloads == 0  # getFile's size said it: never downloaded
    told = await admin.next_with("48-CV-DU.pdf")
    assert "Zalo" in told.text and "lớn hơn mức Zalo cho phép" in told.text
    await bot.services.sender.drain()
    notices = [t for t in admin.texts() if "Không gửi được tệp «48-CV-DU.pdf»" in t]
    assert len(notices) == 1  # once, not once per Zalo recipient
    mine = telegram_document(fake, principal.user.id)  # Telegram is not affected
    assert mine.document is not None and mine.document["data"] == big


async def send_directive_from_zalo(admin: ZaloChat, name: str, data: bytes) -> None:
    """/broadcast on Zalo with the file `name` as its content, to everyone, now."""
    await admin.say("/broadcast")
    await admin.say("48-CV/ĐU ngày 07/06/2021")
    await admin.say("V/v phòng, chống dịch bệnh Covid-19")
    admin.oa.mark_read(admin.user.user_id)
    admin.oa.send_file(admin.user, data, name, "application/pdf")
    received = await admin.next_with(name)
    await admin.tap(received, "Xong")
    question = await admin.next_with("Gửi cho ai")
    await admin.tap(question, "Mọi người")
    summary = await admin.next_with("Người nhận")
    assert any(m.kind == "file" for m in admin.oa.messages(admin.user.user_id))  # the preview's
    await admin.tap(summary, "Gửi ngay")
    await admin.next_with("#1")


async def test_a_zalo_pdf_is_uploaded_to_telegram_once_and_sent_again_by_its_id(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot
) -> None:
    admin = await ZaloChat.register(oa, "Ngô Thị Mai Phương", "84912000010")
    principal = await TelegramChat.register(fake, *PRINCIPAL)
    nurse = await TelegramChat.register(fake, 863, "YT-003")
    teacher = await ZaloChat.register(oa, *ON_ZALO["TH-003"])
    files_before, uploads_before = len(fake.files), oa.counters.uploads
    await send_directive_from_zalo(admin, "48-CV-DU.pdf", PDF)
    await bot.services.sender.drain()

    got = [telegram_document(fake, chat.user.id) for chat in (principal, nurse)]
    assert all(m.document is not None and m.document["data"] == PDF for m in got)
    ids = {m.document["file_id"] for m in got if m.document is not None}
    assert len(ids) == 1 and len(fake.files) - files_before == 1  # one upload, its id reused
    sent = await teacher.next_kind("file")  # a file sent to the OA comes as a link: uploaded
    assert sent.upload is not None and sent.upload.data == PDF
    assert oa.counters.uploads - uploads_before == 1  # the teacher's and the admin's copy
    assert oa.counters.downloads == 1  # fetched once from Zalo, for both messengers
    copies = db_rows(
        bot.settings.database_path,
        "SELECT source_channel, place, copy_ref FROM file_copies ORDER BY place",
    )
    assert [(c[0], c[1]) for c in copies] == [("zalo", "files"), ("zalo", "telegram")]
    assert copies[1][2] in ids


async def test_a_file_that_cannot_be_fetched_goes_as_text_with_a_note_after_three_tries(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot
) -> None:
    admin, principal, zalo = await people(fake, oa)
    fake.fail_next("getFile", status=500, count=3)  # Telegram's trouble, three times running
    await send_directive_with(admin, "48-CV-DU.pdf", PDF)
    await bot.services.sender.drain(timeout=20)

    assert get_file_calls(fake) == 3 and fake.downloads == 0  # tried three times, not per person
    for chat in zalo:
        await chat.next_with("Không gửi được tệp đính kèm")
    told = await admin.next_with("48-CV-DU.pdf")
    assert "không tải được tệp" in told.text
    await bot.services.sender.drain()
    assert sum("Không gửi được tệp «48-CV-DU.pdf»" in t for t in admin.texts()) == 1
    failure = db_rows(bot.settings.database_path, "SELECT place, failure FROM file_copies")
    assert failure == [("files", "fetch")]
    mine = telegram_document(fake, principal.user.id)  # Telegram sends its own id, no fetch
    assert mine.document is not None and mine.document["data"] == PDF
