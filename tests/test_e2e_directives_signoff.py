"""Directives scoped, signed off, corrected and recalled (issue 18 §3), end to end over HTTP.

The sample ward gets a second residential group (Tổ dân phố số 2) and a ward-level admin in
Tổ dân phố số 1 (role `unit_admin`). The sandbox's clock follows the bot's, so that a copy
older than 48 hours is older for Telegram too. The clock starts on 26/05/2021 09:00.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import (
    PHONES,
    RunningBot,
    db_execute,
    db_rows,
    give_consents,
    load_examples,
    make_settings,
)
from tests.paths import EXAMPLES

ADMIN, WARD_ADMIN, TEACHER, RESIDENT, OTHER_GROUP, SECRETARY, DEPUTY = range(871, 878)
MORE_PHONES = {
    "TDP-002": "0912 000 037",  # Lâm Thị Xuân, deputy of Tổ dân phố số 1, its admin here
    "TDP-003": "0912 000 038",  # Hà Văn Nghĩa, Tổ dân phố số 1
    "TDP-004": "0912 000 039",  # Thân Thị Loan, Tổ dân phố số 1
    "TDP2-001": "0912 000 091",  # Tổ trưởng of Tổ dân phố số 2 (added by this test)
}


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi(clock=lambda: clock.now().timestamp())  # Telegram's time is the bot's
    await api.start()
    yield api
    await api.stop()


def sample_with_a_ward_admin(folder: Path) -> dict[str, Path]:
    units = (EXAMPLES / "units.csv").read_text(encoding="utf-8")
    units += "HB-TDP2,Tổ dân phố số 2,ward,HB,\n"
    staff = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig")
    staff = staff.replace(
        "TDP-002;Lâm Thị Xuân;0912 000 037;HB-TDP1;Tổ phó tổ dân phố;staff;deputy_head;",
        "TDP-002;Lâm Thị Xuân;0912 000 037;HB-TDP1;Tổ phó tổ dân phố;staff;deputy_head;unit_admin;",
    ).replace(";deputy_head;unit_admin;", ';"deputy_head;unit_admin";')
    staff += "TDP2-001;Mạc Văn Bình;0912 000 091;HB-TDP2;Tổ trưởng tổ dân phố;staff;unit_head;\n"
    (folder / "units.csv").write_text(units, encoding="utf-8")
    (folder / "staff.csv").write_text(staff, encoding="utf-8")
    return {"units": folder / "units.csv", "staff": folder / "staff.csv"}


@pytest.fixture
async def bot(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    outcome = await load_examples(db_path, clock, **sample_with_a_ward_admin(tmp_path))
    assert outcome.applied, outcome.problems
    settings = make_settings(fake, db_path, broadcast_signoff="district")  # the default
    async with RunningBot(settings, clock) as running:
        yield running


async def register(fake: FakeBotApi, user_id: int, staff_id: str) -> FakeUser:
    user = fake.user(user_id, staff_id, language_code="vi")
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, {**PHONES, **MORE_PHONES}[staff_id])
    question = await fake.next_message(user.id)
    fake.press(user, question, question.callback_data("✅"))
    assert "Đăng ký thành công" in ((await give_consents(fake, user)).text or "")
    return user


async def answer(fake: FakeBotApi, user: FakeUser, text: str) -> SentMessage:
    fake.send_text(user, text)
    return await fake.next_message(user.id)


async def until(fake: FakeBotApi, user: FakeUser, expect: str) -> SentMessage:
    """The next message to `user` containing `expect` (skipping the others)."""
    while True:
        message = await fake.next_message(user.id)
        if expect in (message.text or message.caption or ""):
            return message


async def draft(fake: FakeBotApi, admin: FakeUser, body: str) -> SentMessage:
    """/broadcast up to the question «who receives it?»."""
    await answer(fake, admin, "/broadcast")
    await answer(fake, admin, "17/TB-TDP 26/05/2021")
    await answer(fake, admin, "V/v xét nghiệm tại tổ dân phố")
    done = await answer(fake, admin, body)
    fake.press(admin, done, done.callback_data("Xong"))
    return await fake.next_message(admin.id)


def db_all(bot: RunningBot, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return db_rows(bot.settings.database_path, sql, params)


async def delivered(bot: RunningBot) -> None:
    await bot.services.sender.drain()


async def test_a_ward_admin_addresses_only_the_units_under_it(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    ward_admin = await register(fake, WARD_ADMIN, "TDP-002")
    resident = await register(fake, RESIDENT, "TDP-003")
    other = await register(fake, OTHER_GROUP, "TDP2-001")
    question = await draft(fake, ward_admin, "Toàn bộ hộ gia đình xét nghiệm ngày 27/5.")
    fake.press(ward_admin, question, question.callback_data("Đơn vị được chọn"))
    listing = await fake.next_message(ward_admin.id)
    assert "HB-TDP1" in (listing.text or "")
    assert "HB-TDP2" not in (listing.text or "") and "HB-TH" not in (listing.text or "")
    refused = await answer(fake, ward_admin, "Tổ dân phố số 2")
    assert "Ngoài phạm vi đơn vị của anh/chị: HB-TDP2" in (refused.text or "")
    assert "Tổ dân phố số 1 và các đơn vị trực thuộc" in (refused.text or "")

    fake.send_text(ward_admin, "HB-TDP1")
    summary = await until(fake, ward_admin, "Người nhận")
    assert "Phạm vi: Tổ dân phố số 1 và các đơn vị trực thuộc." in (summary.text or "")
    assert "Người nhận: 4 " in (summary.text or "")
    assert "ký duyệt" not in (summary.text or "")  # a ward's directive: no sign-off by default

    # A forged draft (audience edited to another group) is refused when it is confirmed.
    path = bot.settings.database_path
    ((raw,),) = db_rows(
        path, "SELECT draft FROM conversations WHERE user_ref = ?", (str(WARD_ADMIN),)
    )
    forged = json.loads(raw) | {"audience": {"kind": "units", "values": ["HB-TDP2"]}}
    db_execute(
        path,
        "UPDATE conversations SET draft = ? WHERE user_ref = ?",
        (json.dumps(forged), str(WARD_ADMIN)),
    )
    fake.press(ward_admin, summary, summary.callback_data("Gửi ngay"))
    no = await fake.next_message(ward_admin.id)
    assert "Ngoài phạm vi đơn vị của anh/chị: HB-TDP2" in (no.text or "")
    assert "Chưa gửi gì" in (no.text or "")
    assert db_all(bot, "SELECT COUNT(*) FROM broadcasts") == [(0,)]
    assert db_all(bot, "SELECT COUNT(*) FROM audit_log WHERE action = 'broadcast.refused'") == [
        (1,)
    ]

    # «Everyone» from a ward admin is everyone under the ward admin's unit.
    question = await draft(fake, ward_admin, "Toàn bộ hộ gia đình xét nghiệm ngày 27/5.")
    fake.press(ward_admin, question, question.callback_data("Mọi người"))
    summary = await until(fake, ward_admin, "Người nhận")
    assert "Người nhận: 4 " in (summary.text or "")
    fake.press(ward_admin, summary, summary.callback_data("Gửi ngay"))
    assert "đang được gửi tới 2 người" in (await fake.next_message(ward_admin.id)).text  # type: ignore[operator]
    await delivered(bot)
    assert any("17/TB-TDP" in (m.text or "") for m in fake.messages(resident.id))
    assert not any("17/TB-TDP" in (m.text or "") for m in fake.messages(other.id))
    assert db_all(bot, "SELECT scope_unit, status FROM broadcasts") == [("HB-TDP1", "sending")]


async def test_returned_with_a_reason_then_signed_and_sent(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    secretary = await register(fake, SECRETARY, "HB-001")
    deputy = await register(fake, DEPUTY, "HB-002")
    question = await draft(fake, admin, "Tạm dừng các hoạt động tập trung đông người.")
    fake.press(admin, question, question.callback_data("Mọi người"))
    summary = await until(fake, admin, "Người nhận")
    assert "Phạm vi: toàn quận." in (summary.text or "")
    assert "cần lãnh đạo ký duyệt trước khi gửi: Nguyễn Văn Hùng, Trần Thị Thu Hương" in (
        summary.text or ""
    )
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))
    waiting = await fake.next_message(admin.id)
    assert "đang chờ ký duyệt: Nguyễn Văn Hùng, Trần Thị Thu Hương" in (waiting.text or "")
    await delivered(bot)
    assert not any("17/TB-TDP" in (m.text or "") for m in fake.messages(teacher.id))
    request = await until(fake, secretary, "chờ anh/chị ký duyệt")
    assert any("Tạm dừng các hoạt động" in (m.text or "") for m in fake.messages(secretary.id))
    assert request.button_texts() == ["✅ Ký duyệt gửi", "↩️ Trả lại (lý do)"]
    deputy_copy = await until(fake, deputy, "chờ anh/chị ký duyệt")

    fake.press(secretary, request, request.callback_data("Trả lại"))
    assert "Vì sao anh/chị trả lại văn bản #1" in (
        (await fake.next_message(secretary.id)).text or ""
    )
    told = await answer(fake, secretary, "Sai số hiệu văn bản, đề nghị sửa.")
    assert "Đã trả lại" in (told.text or "")
    back = await until(fake, admin, "chưa được gửi")
    assert "Nguyễn Văn Hùng trả lại: Sai số hiệu văn bản, đề nghị sửa." in (back.text or "")
    await fake.wait_for(lambda: "trả lại" in (deputy_copy.text or ""))
    assert deputy_copy.button_texts() == []  # every copy shows the outcome, without buttons
    late = fake.press(deputy, deputy_copy, "bc:ok:1")
    await fake.wait_for(lambda: fake.answer_for(late) is not None)
    assert "Đã có quyết định" in fake.answer_for(late)["text"]  # type: ignore[index]
    stranger = fake.press(teacher, fake.messages(teacher.id)[-1], "bc:ok:1")  # forged
    await fake.wait_for(lambda: fake.answer_for(stranger) is not None)
    assert "không có quyền ký duyệt" in fake.answer_for(stranger)["text"]  # type: ignore[index]

    fake.press(admin, back, back.callback_data("Trình ký lại"))
    await until(fake, admin, "đang chờ ký duyệt")
    again = await until(fake, deputy, "chờ anh/chị ký duyệt")
    first = await until(fake, secretary, "chờ anh/chị ký duyệt")
    bot.clock.advance(timedelta(minutes=20))
    signed = fake.press(deputy, again, again.callback_data("Ký duyệt gửi"))
    await fake.wait_for(lambda: fake.answer_for(signed) is not None)
    assert "Đã ký duyệt" in fake.answer_for(signed)["text"]  # type: ignore[index]
    lost = fake.press(secretary, first, "bc:ok:1")  # a tap on a copy not yet refreshed
    await fake.wait_for(lambda: fake.answer_for(lost) is not None)
    assert "Trần Thị Thu Hương đã ký duyệt lúc" in fake.answer_for(lost)["text"]  # type: ignore[index]
    news = await until(fake, admin, "đã ký duyệt")
    assert "Trần Thị Thu Hương đã ký duyệt lúc 26/05" in (news.text or "")
    await delivered(bot)
    got = [m for m in fake.messages(teacher.id) if "17/TB-TDP" in (m.text or "")]
    assert len(got) == 1 and got[0].button_texts() == ["✅ Đã đọc"]

    actions = [
        a for (a,) in db_all(bot, "SELECT action FROM audit_log WHERE object = 'broadcast:1'")
    ]
    assert actions[:6] == ["broadcast.confirm", "broadcast.submit", "broadcast.return",
                           "broadcast.sign.refused", "broadcast.submit", "broadcast.sign"]  # fmt: skip

    progress = next(m for m in fake.messages(admin.id) if "Văn bản #1: 17/TB-TDP" in (m.text or ""))
    fake.press(admin, progress, progress.callback_data("Xuất"))
    await fake.wait_for(lambda: fake.messages(admin.id)[-1].kind == "document")
    book = load_workbook(BytesIO(fake.messages(admin.id)[-1].document["data"]))  # type: ignore[index]
    about = {row[0]: row[1] for row in book["Văn bản"].iter_rows(min_row=2, values_only=True)}
    assert about["Người ký duyệt"] == "Trần Thị Thu Hương"
    assert about["Ký duyệt lúc"] == "26/05/2021 09:20"


async def sent_two_days_apart(
    fake: FakeBotApi, bot: RunningBot
) -> tuple[FakeUser, FakeUser, FakeUser]:
    """The ward admin's directive to Tổ dân phố số 1: the admin's own copy and the resident's
    arrive at 09:00; the other resident's fails twice (Telegram's 500) and, retried, arrives
    49 hours later (the clock is moved on meanwhile)."""
    ward_admin = await register(fake, WARD_ADMIN, "TDP-002")
    early = await register(fake, RESIDENT, "TDP-003")
    late = await register(fake, OTHER_GROUP, "TDP-004")
    question = await draft(fake, ward_admin, "Xét nghiệm tại nhà văn hóa ngày 27/5.")
    fake.press(ward_admin, question, question.callback_data("Mọi người"))
    summary = await until(fake, ward_admin, "Người nhận")
    fake.fail_next("sendMessage", status=500, count=3, chat_id=late.id)  # retried in 0.5+1+2 s
    fake.press(ward_admin, summary, summary.callback_data("Gửi ngay"))
    await fake.wait_for(lambda: has_copy(fake, early) and has_copy(fake, ward_admin))
    assert not has_copy(fake, late)
    bot.clock.advance(timedelta(hours=49))
    await fake.wait_for(lambda: has_copy(fake, late), timeout=20)
    await delivered(bot)
    return ward_admin, early, late


def has_copy(fake: FakeBotApi, user: FakeUser) -> bool:
    """The directive itself (its «Đã đọc» button), not the admin's preview of it."""
    return any(
        b.get("callback_data") == "bc:r:1"
        for m in fake.messages(user.id)
        for row in m.buttons()
        for b in row
    )


def copy_of(fake: FakeBotApi, user: FakeUser) -> SentMessage:
    return next(m for m in fake.messages(user.id) if "17/TB-TDP" in (m.text or ""))


async def admin_view(fake: FakeBotApi, admin: FakeUser) -> SentMessage:
    before = len(fake.messages(admin.id))
    fake.send_text(admin, "/broadcast 1")
    await fake.wait_for(
        lambda: any("Văn bản #1:" in (m.text or "") for m in fake.messages(admin.id)[before:])
    )
    return [m for m in fake.messages(admin.id)[before:] if "Văn bản #1:" in (m.text or "")][-1]


async def test_a_correction_reaches_every_recipient_and_reads_count_again(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    ward_admin, early, late = await sent_two_days_apart(fake, bot)
    original = copy_of(fake, early)
    pressed = fake.press(early, original, original.callback_data("Đã đọc"))
    await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
    assert db_all(bot, "SELECT COUNT(*) FROM broadcast_recipients WHERE read_at IS NOT NULL") == [
        (1,)
    ]

    view = await admin_view(fake, ward_admin)
    fake.press(ward_admin, view, view.callback_data("Đính chính"))
    await until(fake, ward_admin, "nội dung đính chính")
    confirm = await answer(
        fake, ward_admin, "Xét nghiệm tại nhà văn hóa ngày 28/5 (không phải 27/5)."
    )
    assert "tới 3 người nhận" in (confirm.text or "")
    fake.press(ward_admin, confirm, confirm.callback_data("Gửi đính chính"))
    done = await until(fake, ward_admin, "Đã gửi đính chính")
    assert "sửa trực tiếp 1 tin, 2 người nhận tin mới" in (done.text or "")
    await delivered(bot)

    fresh = copy_of(fake, late)  # 0 hours old: edited where it is
    assert "28/5" in (fresh.text or "") and "Đã đính chính lúc" in (fresh.text or "")
    assert fresh.button_texts() == ["✅ Đã đọc"]
    assert "27/5" in (original.text or "") and "28/5" not in (original.text or "")  # 49 h old
    quoting = fake.messages(early.id)[-1]
    assert quoting.reply_to == original.message_id  # the new message quotes the original
    assert "28/5" in (quoting.text or "") and "Đã đính chính" in (quoting.text or "")
    mine = fake.messages(ward_admin.id)
    assert any(m.reply_to and "28/5" in (m.text or "") for m in mine)  # the admin's copy too

    assert db_all(bot, "SELECT COUNT(*) FROM broadcast_recipients WHERE read_at IS NOT NULL") == [
        (0,)
    ]  # reads reset
    again = fake.press(early, quoting, quoting.callback_data("Đã đọc"))
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "Cảm ơn" in fake.answer_for(again)["text"]  # type: ignore[index]  # a first read again
    assert db_all(bot, "SELECT staff_id FROM broadcast_recipients WHERE read_at IS NOT NULL") == [
        ("TDP-003",)
    ]
    assert db_all(bot, "SELECT previous_body, body FROM broadcast_corrections") == [
        ("Xét nghiệm tại nhà văn hóa ngày 27/5.",
         "Xét nghiệm tại nhà văn hóa ngày 28/5 (không phải 27/5).")
    ]  # fmt: skip
    assert db_all(bot, "SELECT COUNT(*) FROM audit_log WHERE action = 'broadcast.correct'") == [
        (1,)
    ]


async def test_a_recall_deletes_recent_copies_and_notices_the_others(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    ward_admin, early, late = await sent_two_days_apart(fake, bot)
    original, fresh = copy_of(fake, early), copy_of(fake, late)
    view = await admin_view(fake, ward_admin)
    fake.press(ward_admin, view, view.callback_data("Thu hồi"))
    sure = await until(fake, ward_admin, "Thu hồi văn bản #1")
    fake.press(ward_admin, sure, sure.callback_data("Đồng ý thu hồi"))
    done = await until(fake, ward_admin, "Đã thu hồi văn bản #1")
    assert "xóa ở 1 người, gửi thông báo thu hồi cho 2 người" in (done.text or "")
    await delivered(bot)
    assert fresh.deleted and not original.deleted  # Telegram deletes only within 48 hours
    notice = fake.messages(early.id)[-1]
    assert notice.reply_to == original.message_id and "đã bị thu hồi" in (notice.text or "")
    assert not any("đã bị thu hồi" in (m.text or "") for m in fake.messages(late.id))
    stale = fake.press(early, original, original.callback_data("Đã đọc"))
    await fake.wait_for(lambda: fake.answer_for(stale) is not None)
    assert "đã bị thu hồi" in fake.answer_for(stale)["text"]  # type: ignore[index]
    assert db_all(bot, "SELECT status FROM broadcasts") == [("recalled",)]


async def test_a_scheduled_ban_waits_for_the_signature_then_goes_at_its_time(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    secretary = await register(fake, SECRETARY, "HB-001")
    question = await draft(fake, admin, "100% cán bộ không rời khỏi địa bàn thành phố.")
    fake.press(admin, question, question.callback_data("Mọi người"))
    summary = await until(fake, admin, "Người nhận")
    fake.press(admin, summary, summary.callback_data("cấm"))
    await fake.wait_for(lambda: "☑️" in " ".join(summary.button_texts()))  # edited in place
    fake.press(admin, summary, summary.callback_data("Hẹn giờ"))
    await fake.next_message(admin.id)
    fake.send_text(admin, "26/05/2021 14:00")
    summary = await until(fake, admin, "Người nhận")
    fake.press(admin, summary, summary.callback_data("Xác nhận"))
    await until(fake, admin, "đang chờ ký duyệt")
    assert db_all(bot, "SELECT COUNT(*) FROM policy_periods WHERE mode = 'ban'") == [(0,)]

    request = await until(fake, secretary, "chờ anh/chị ký duyệt")
    assert "Văn bản sẽ được gửi lúc 14:00" in (request.text or "")
    fake.press(secretary, request, request.callback_data("Ký duyệt gửi"))
    news = await until(fake, admin, "đã ký duyệt")
    assert "Văn bản sẽ được gửi lúc 14:00" in (news.text or "")  # at its time
    assert db_all(bot, "SELECT COUNT(*) FROM policy_periods WHERE mode = 'ban'") == [(1,)]
    assert db_all(bot, "SELECT status FROM broadcasts") == [("scheduled",)]
    await delivered(bot)
    assert not has_copy(fake, teacher)
    bot.clock.advance(timedelta(hours=5))
    await bot.services.sweeper.tick()
    await fake.wait_for(lambda: has_copy(fake, teacher))
