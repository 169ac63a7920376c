"""Coming back: the return question, the return declaration, the 24-hour window, end to end.

The clock starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh); the sample trip leaves on
Saturday 29/05 07:00 and is planned back on Sunday 30/05 18:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.clock import VIETNAM, ManualClock
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, db_rows, register
from tests.test_e2e_travel import PRINCIPAL, TEACHER, answer, submit

HEALTH_OFFICER = 811
PLANNED_RETURN = datetime(2021, 5, 30, 18, 0, tzinfo=VIETNAM)


async def approved_trip(fake: FakeBotApi, bot: RunningBot) -> tuple[FakeUser, FakeUser]:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    await fake.next_message(teacher.id)
    return teacher, principal


async def tick_at(bot: RunningBot, clock: ManualClock, moment: datetime) -> None:
    clock.set(moment)
    await bot.services.sweeper.tick()


async def declare_back(
    fake: FakeBotApi, teacher: FakeUser, question: SentMessage, *, symptoms: tuple[str, ...] = ()
) -> SentMessage:
    """From the return question to the official-declaration question; returns that question."""
    fake.press(teacher, question, question.callback_data("✅ Tôi đã về"))
    provinces = await fake.next_message(teacher.id)
    assert "14 ngày" in (provinces.text or "") and "Đà Nẵng" in (provinces.text or "")
    more = await answer(fake, teacher, "hue")
    assert "Huế" in (more.text or "")
    fake.press(teacher, more, more.callback_data("➡️"))
    symptom_question = await fake.next_message(teacher.id)
    for name in symptoms:
        fake.press(teacher, symptom_question, symptom_question.callback_data(f"⬜ {name}"))
        await fake.wait_for(lambda: bool(symptom_question.edits))
    fake.press(teacher, symptom_question, symptom_question.callback_data("➡️"))
    contacts = await fake.next_message(teacher.id)
    fake.press(teacher, contacts, contacts.callback_data("➡️"))
    thanks = await fake.next_message(teacher.id)
    assert "đã được ghi nhận" in (thanks.text or "")
    while True:
        official = await fake.next_message(teacher.id)
        if "tokhaiyte.vn" in (official.text or ""):
            return official


def texts(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [m.text or "" for m in fake.messages(chat_id)]


async def message_with(fake: FakeBotApi, chat_id: int, fragment: str) -> SentMessage:
    """The first message to `chat_id` containing `fragment` (heads also get digests meanwhile)."""
    await fake.wait_for(lambda: any(fragment in t for t in texts(fake, chat_id)))
    return next(m for m in fake.messages(chat_id) if fragment in (m.text or ""))


async def test_return_question_declaration_and_official_confirmation(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN - timedelta(minutes=1))
    assert not any("đã về chưa" in t for t in texts(fake, teacher.id))
    await tick_at(bot, clock, PLANNED_RETURN)
    question = await fake.next_message(teacher.id)
    assert "đã về chưa" in (question.text or "") and "Đà Nẵng" in (question.text or "")

    official = await declare_back(fake, teacher, question)
    links = [b.get("url") for row in official.buttons() for b in row if b.get("url")]
    assert "https://tokhaiyte.vn" in links and len(links) == 3
    told = await message_with(fake, principal.id, "đã về từ")
    assert "Lại Thị Diệu Linh" in (told.text or "") and "Huế" in (told.text or "")

    status = await answer(fake, teacher, "/status")
    while "Khai báo y tế" not in (status.text or ""):
        status = await fake.next_message(teacher.id)
    assert "còn 23 giờ 59 phút" in (status.text or "") or "còn 24 giờ 0 phút" in (status.text or "")

    fake.press(teacher, official, official.callback_data("✅"))
    done = await fake.next_message(teacher.id)
    assert "Đã ghi nhận" in (done.text or "")
    fake.send_photo(teacher, caption="ảnh chụp tờ khai")
    kept = await fake.next_message(teacher.id)
    assert "minh chứng" in (kept.text or "")
    await fake.wait_for(lambda: not official.buttons() and "Đã xác nhận" in (official.text or ""))
    again = fake.press(teacher, official, "rt:ok:1")  # a stale copy elsewhere: answered, no change
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "Đã xong" in (fake.answer_for(again) or {}).get("text", "")
    ((state, evidence),) = db_rows(
        bot.settings.database_path, "SELECT state, evidence_file_id FROM trip_returns"
    )
    assert state == "declared" and evidence


async def test_reminders_in_their_place_and_declaring_stops_them(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, _ = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    question = await fake.next_message(teacher.id)
    await declare_back(fake, teacher, question)  # arrived 30/05 18:00: window to 31/05 18:00
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=1, minutes=59))
    before = len(fake.messages(teacher.id))
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=2))
    reminder = await fake.next_message(teacher.id)
    assert "Nhắc" in (reminder.text or "") and len(fake.messages(teacher.id)) == before + 1
    # 18:00 + 12 h = 06:00 (outside quiet hours); nothing at 23:00
    await tick_at(bot, clock, datetime(2021, 5, 30, 23, 0, tzinfo=VIETNAM))
    assert len(fake.messages(teacher.id)) == before + 1
    await tick_at(bot, clock, datetime(2021, 5, 31, 6, 0, tzinfo=VIETNAM))
    await fake.next_message(teacher.id)
    fake.press(teacher, reminder, reminder.callback_data("✅"))
    await fake.next_message(teacher.id)
    count = len(fake.messages(teacher.id))
    for hours in (20, 24, 48):
        await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=hours))
    assert len(fake.messages(teacher.id)) == count


async def test_overdue_tells_the_head_who_can_remind_again(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    await message_with(fake, principal.id, "đã về từ")  # the return report
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=24))
    overdue = await message_with(fake, principal.id, "chưa xác nhận khai báo y tế")
    seen = len(fake.messages(teacher.id))
    press = fake.press(principal, overdue, overdue.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(press) is not None)
    nudged = await fake.next_message(teacher.id)
    assert "quá hạn" in (nudged.text or "") and len(fake.messages(teacher.id)) == seen + 1
    stranger = fake.user(899)
    forged = fake.press(stranger, overdue, overdue.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(forged) is not None)
    assert fake.messages(899) == [] or "đăng ký" in (fake.answer_for(forged) or {}).get("text", "")
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(days=2))
    daily = await fake.next_message(teacher.id)
    assert "quá hạn" in (daily.text or "")


async def test_down_for_hours_sends_only_the_latest_reminder(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, _ = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    seen = len(fake.messages(teacher.id))
    # the bot was down from 19:00 to 09:00 the next morning: the 2 h and 12 h reminders are past
    await tick_at(bot, clock, datetime(2021, 5, 31, 9, 0, tzinfo=VIETNAM))
    await fake.next_message(teacher.id)
    await tick_at(bot, clock, datetime(2021, 5, 31, 9, 1, tzinfo=VIETNAM))
    assert len(fake.messages(teacher.id)) == seen + 1


async def test_return_never_reported_asks_again_then_tells_the_head(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    assert "đã về chưa" in ((await fake.next_message(teacher.id)).text or "")
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=6))  # 00:00: quiet hours
    await tick_at(bot, clock, datetime(2021, 5, 31, 6, 0, tzinfo=VIETNAM))
    again = await fake.next_message(teacher.id)
    assert "Nhắc" in (again.text or "") and "đã về chưa" in (again.text or "")
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=24))
    head = await message_with(fake, principal.id, "⚠️")
    assert "chưa báo đã về" in (head.text or "")
    fake.press(principal, head, head.callback_data("🔔"))
    assert "đã về chưa" in ((await fake.next_message(teacher.id)).text or "")


async def test_arrival_at_another_time_is_checked(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, _ = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=1))
    question = await fake.next_message(teacher.id)
    fake.press(teacher, question, question.callback_data("🕘"))
    await fake.next_message(teacher.id)
    future = await answer(fake, teacher, "31/05/2021 10:00")
    assert "tương lai" in (future.text or "")
    early = await answer(fake, teacher, "28/05/2021 10:00")
    assert "trước khi đi" in (early.text or "")
    nonsense = await answer(fake, teacher, "abc")
    assert "chưa nhận dạng được" in (nonsense.text or "").lower()
    provinces = await answer(fake, teacher, "30/05/2021 17:30")
    assert "14 ngày" in (provinces.text or "")


async def test_delay_tells_the_approver_and_moves_the_question(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await answer(fake, teacher, "/return")
    question = fake.messages(teacher.id)[-1]
    assert "đã về chưa" in (question.text or "")
    fake.press(teacher, question, question.callback_data("📅"))
    await fake.next_message(teacher.id)
    past = await answer(fake, teacher, "25/05/2021 10:00")
    assert "muộn hơn" in (past.text or "")
    noted = await answer(fake, teacher, "01/06/2021 18:00")
    assert "ngày 1 tháng 6 năm 2021" in (noted.text or "")
    await message_with(fake, principal.id, "muộn hơn dự kiến")
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=1))
    assert not any("đã về chưa" in t for t in texts(fake, teacher.id)[-1:])
    await tick_at(bot, clock, datetime(2021, 6, 1, 18, 0, tzinfo=VIETNAM))
    assert "đã về chưa" in ((await fake.next_message(teacher.id)).text or "")


async def test_trip_that_did_not_happen_is_cancelled(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    question = await fake.next_message(teacher.id)
    fake.press(teacher, question, question.callback_data("🚫"))
    assert "đã hủy" in ((await fake.next_message(teacher.id)).text or "")
    await message_with(fake, principal.id, "không diễn ra")
    await fake.wait_for(lambda: not question.buttons())  # the question shows it is cancelled
    late = fake.press(teacher, question, "rt:b:1")  # a stale copy: answered, nothing changes
    await fake.wait_for(lambda: fake.answer_for(late) is not None)
    assert "đã bị hủy" in (fake.answer_for(late) or {}).get("text", "")
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=30))
    assert not any("⚠️" in t and "chưa báo đã về" in t for t in texts(fake, principal.id))


async def test_symptoms_on_return_alert_the_head_and_health_officer(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    officer = await register(fake, HEALTH_OFFICER, "YT-003")
    await tick_at(bot, clock, PLANNED_RETURN)
    question = await fake.next_message(teacher.id)
    await declare_back(fake, teacher, question, symptoms=("sốt",))
    assert any("cách ly" in t for t in texts(fake, teacher.id)), "\n---\n".join(
        texts(fake, teacher.id)[-6:]
    )
    alert = await message_with(fake, officer.id, "KHẨN")  # minimal: who, and a details button
    assert "Lại Thị Diệu Linh" in (alert.text or "") and alert.callback_data("Xem chi tiết")
    report = await message_with(fake, principal.id, "đã về từ")  # minimal: what kind, no names
    assert "triệu chứng hoặc yếu tố dịch tễ" in (report.text or "") and "sốt" not in (
        report.text or ""
    )
    head_alert = await message_with(fake, principal.id, "KHẨN")
    fake.press(principal, head_alert, head_alert.callback_data("Xem chi tiết"))
    await fake.wait_for(
        lambda: any("sốt" in t and "Lại Thị Diệu Linh" in t for t in texts(fake, principal.id))
    )


async def test_nobody_else_can_press_a_return_button(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    question = await fake.next_message(teacher.id)
    forged = fake.press(principal, question, question.callback_data("✅ Tôi đã về"))
    await fake.wait_for(lambda: fake.answer_for(forged) is not None)
    assert "không còn hiệu lực" in (fake.answer_for(forged) or {}).get("text", "")
    assert db_rows(bot.settings.database_path, "SELECT state FROM trip_returns") == [("away",)]
