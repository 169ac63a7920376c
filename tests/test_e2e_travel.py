"""Travel requests and the approval chain, end to end over HTTP with a moved clock.

The clock starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import ManualClock
from storage.repos import AuditRepo
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, register

TEACHER, PRINCIPAL, DEPUTY, VICE_CHAIR, ADMIN, PARTY_OFFICE = 801, 802, 803, 804, 805, 806


async def answer(fake: FakeBotApi, user: FakeUser, text: str) -> SentMessage:
    fake.send_text(user, text)
    return await fake.next_message(user.id)


async def fill_travel(
    fake: FakeBotApi,
    user: FakeUser,
    *,
    dest: str = "da nang",
    leave: str = "29/05/2021 07:00",
    back: str = "30/05/2021 18:00",
    purpose: str = "Thăm gia đình",
    no: str = "Không",
) -> SentMessage:
    """Walk through /travel up to the summary; returns the summary message."""
    await answer(fake, user, "/travel")
    await answer(fake, user, dest)
    await answer(fake, user, "12 Trần Phú, phường Hải Châu")
    await answer(fake, user, leave)
    await answer(fake, user, back)
    question = await answer(fake, user, purpose)
    fake.press(user, question, question.callback_data(no))
    return await fake.next_message(user.id)


async def submit(fake: FakeBotApi, user: FakeUser, send: str = "Gửi", **kwargs: str) -> SentMessage:
    summary = await fill_travel(fake, user, **kwargs)
    fake.press(user, summary, summary.callback_data(send))
    return await fake.next_message(user.id)


async def test_weekend_trip_is_approved_by_the_principal(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    office = await register(fake, PARTY_OFFICE, "DU-001")
    summary = await fill_travel(fake, teacher)
    text = summary.text or ""
    assert "Đà Nẵng" in text and "ngày 29 tháng 5 năm 2021" in text and "thứ Bảy" in text
    fake.press(teacher, summary, summary.callback_data("Gửi"))
    sent = await fake.next_message(teacher.id)
    assert "Châu Thị Bích Ngọc" in (sent.text or "")

    request = await fake.next_message(principal.id)
    assert "Lại Thị Diệu Linh" in (request.text or "")
    assert "cuối tuần" in (request.text or "")
    press_id = fake.press(principal, request, request.callback_data("Phê duyệt"))
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "") and "Châu Thị Bích Ngọc" in (told.text or "")
    await fake.wait_for(lambda: bool(request.edits))
    assert "Đã phê duyệt" in (fake.messages(principal.id)[-1].text or "") or "Đã phê duyệt" in (
        request.text or ""
    )
    assert fake.answer_for(press_id) is not None
    notified = await fake.next_message(office.id)
    assert "Lại Thị Diệu Linh" in (notified.text or "")

    again = fake.press(
        principal, request, request.callback_data("Phê duyệt") if request.buttons() else "ap:1:y"
    )
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "Đã có quyết định" in (fake.answer_for(again) or {}).get("text", "")


async def test_destination_search_and_refusals(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await answer(fake, teacher, "/travel")
    inside = await answer(fake, teacher, "ha noi")
    assert "không cần xin phép" in (inside.text or "")
    absorbed = await answer(fake, teacher, "Bắc Giang")
    assert "Bắc Ninh" in (absorbed.text or "")
    address_question = await fake.next_message(teacher.id)
    assert "Địa chỉ" in (address_question.text or "")


async def test_bad_dates_and_purpose_keep_the_question(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await answer(fake, teacher, "/travel")
    await answer(fake, teacher, "HCM")
    await answer(fake, teacher, "Quận 1")
    past = await answer(fake, teacher, "20/05/2021 07:00")
    assert "đã qua" in (past.text or "")
    await fake.next_message(teacher.id)  # the departure question again
    no_such = await answer(fake, teacher, "31/02/2021 07:00")
    assert "không tồn tại" in (no_such.text or "")
    await fake.next_message(teacher.id)
    await answer(fake, teacher, "29/05/2021 07:00")
    before = await answer(fake, teacher, "28/05/2021 07:00")
    assert "sau giờ đi" in (before.text or "")
    await fake.next_message(teacher.id)
    too_long = await answer(fake, teacher, "30/07/2021 07:00")
    assert "30 ngày" in (too_long.text or "")
    await fake.next_message(teacher.id)
    await answer(fake, teacher, "30/05/2021 18:00")
    long_purpose = await answer(fake, teacher, "x" * 2000)
    assert "quá dài" in (long_purpose.text or "")
    await fake.next_message(teacher.id)
    question = await answer(fake, teacher, "Công tác")
    assert question.buttons(), "the published-cases question comes next"


async def test_work_trip_is_recorded_without_approval(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    done = await submit(fake, teacher, leave="01/06/2021 09:00", back="01/06/2021 16:00")
    assert "công tác" in (done.text or "") and "không cần phê duyệt" in (done.text or "")
    info = await fake.next_message(principal.id)
    assert "Lại Thị Diệu Linh" in (info.text or "") and not info.buttons()


async def test_deny_asks_for_a_reason_and_wrong_people_are_refused(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    stranger = await register(fake, PARTY_OFFICE, "DU-004")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    data = request.callback_data("Phê duyệt")
    forged = fake.press(stranger, request, data)
    await fake.wait_for(lambda: fake.answer_for(forged) is not None)
    assert "không được quyết định" in (fake.answer_for(forged) or {}).get("text", "")

    fake.press(principal, request, request.callback_data("Từ chối"))
    why = await fake.next_message(principal.id)
    assert "lý do" in (why.text or "")
    await answer(fake, principal, "Đang có dịch ở nơi đến")
    told = await fake.next_message(teacher.id)
    assert "Từ chối" in (told.text or "") and "Đang có dịch ở nơi đến" in (told.text or "")


async def test_pending_and_approve_all(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    other = await register(fake, 807, "TH-005")  # listed English: she reads English
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    await fake.next_message(principal.id)
    await submit(fake, other, dest="Huế", no="No", send="Send")
    await fake.next_message(principal.id)
    fake.send_text(principal, "/pending")
    first = await fake.next_message(principal.id)
    second = await fake.next_message(principal.id)
    total = await fake.next_message(principal.id)
    assert "Lại Thị Diệu Linh" in (first.text or "") and "Emily" in (second.text or "")
    fake.press(principal, total, total.callback_data("2"))
    confirm = await fake.next_message(principal.id)
    fake.press(principal, confirm, confirm.callback_data("2"))
    done = await fake.next_message(principal.id)
    assert "2" in (done.text or "")
    assert "Đã phê duyệt" in ((await fake.next_message(teacher.id)).text or "")
    assert "Approved" in ((await fake.next_message(other.id)).text or "")


async def test_deputy_decides_for_an_absent_head(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    deputy = await register(fake, DEPUTY, "TH-002")
    away = await answer(fake, principal, "/away 28/05/2021 31/05/2021")
    assert "Nghiêm Văn Hải" in (away.text or "")
    await submit(fake, teacher)
    # The principal is still present today: the request is hers until her absence starts.
    assert "Lại Thị Diệu Linh" in ((await fake.next_message(principal.id)).text or "")
    clock.set(clock.now().replace(day=28, hour=7))
    await bot.services.sweeper.tick()
    request = await fake.next_message(deputy.id)
    assert "thay cho Châu Thị Bích Ngọc" in (request.text or "")
    seen = len(fake.messages(principal.id))
    fake.press(deputy, request, request.callback_data("Phê duyệt"))
    assert "Đã phê duyệt" in ((await fake.next_message(teacher.id)).text or "")
    await fake.wait_for(  # among the day's digest: told who decided in her place
        lambda: any("Nghiêm Văn Hải" in (m.text or "") for m in fake.messages(principal.id)[seen:])
    )


async def test_reminder_then_escalation_to_the_leader_above(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    vice_chair = await register(fake, VICE_CHAIR, "HB-004")
    clock.set(clock.now().replace(day=28, hour=18))  # Friday evening
    await submit(fake, teacher, leave="29/05/2021 07:00", back="29/05/2021 20:00")
    await fake.next_message(principal.id)
    clock.advance(timedelta(hours=2, minutes=1))
    await bot.services.sweeper.tick()
    reminder = await fake.next_message(principal.id)
    if (reminder.text or "").startswith("☀️"):  # the overdue morning digest may come first
        reminder = await fake.next_message(principal.id)
    assert "Nhắc" in (reminder.text or "")
    clock.set(clock.now().replace(day=29, hour=4, minute=1))  # 3 h before departure
    await bot.services.sweeper.tick()
    escalated = await fake.next_message(vice_chair.id)
    assert "Lại Thị Diệu Linh" in (escalated.text or "")
    assert "⏫" in ((await fake.next_message(teacher.id)).text or "")  # told it moved up
    fake.press(vice_chair, escalated, escalated.callback_data("Phê duyệt"))
    assert "Phạm Thị Ngọc Ánh" in ((await fake.next_message(teacher.id)).text or "")
    async with bot.services.db.reading() as tx:
        actions = [e.action for e in await AuditRepo(tx).recent(clock.tz)]
    assert {"travel.remind", "travel.escalate", "travel.approved"} <= set(actions)


async def test_cancel_before_departure_tells_the_approver(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    await fake.next_message(teacher.id)
    status = await answer(fake, teacher, "/status")
    assert "đã phê duyệt" in (status.text or "")
    fake.press(teacher, status, status.callback_data("Hủy"))
    assert "đã hủy" in ((await fake.next_message(teacher.id)).text or "").lower()
    told = await fake.next_message(principal.id)
    assert "hủy" in (told.text or "").lower()


async def test_amend_pending_dates_reroutes(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    await fake.next_message(principal.id)
    status = await answer(fake, teacher, "/status")
    fake.press(teacher, status, status.callback_data("Đổi ngày"))
    await fake.next_message(teacher.id)
    changed = await answer(fake, teacher, "05/06/2021 07:00 - 06/06/2021 18:00")
    assert "gửi lại" in (changed.text or "")
    fresh = [m for m in fake.messages(principal.id) if "ngày 5 tháng 6 năm 2021" in (m.text or "")]
    await fake.wait_for(
        lambda: any(
            "ngày 5 tháng 6 năm 2021" in (m.text or "") for m in fake.messages(principal.id)
        )
    )
    assert fresh is not None


async def test_ban_asks_holders_and_makes_every_trip_an_exception(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    admin = await register(fake, ADMIN, "DU-003")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    await fake.next_message(teacher.id)
    refused = await answer(fake, teacher, "/policy ban")
    assert "quản trị" in (refused.text or "")
    done = await answer(fake, admin, "/policy ban")
    assert "1" in (done.text or "")
    question = await fake.next_message(teacher.id)
    assert (
        "lệnh hạn chế" in (question.text or "").lower()
        or "tạm dừng" in (question.text or "").lower()
    )
    fake.press(teacher, question, question.callback_data("Vẫn cần"))
    assert "giữ" in ((await fake.next_message(teacher.id)).text or "")
    work_hours = await answer(fake, teacher, "/travel")
    assert "đặc biệt" in (work_hours.text or "")
