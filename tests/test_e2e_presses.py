"""Button presses never lose their answer: a refused answerCallbackQuery, a toast too long.

Telegram refuses to answer a press after about 15 seconds ("query is too old", e.g. a press
made while the bot restarted) and refuses a toast over 200 characters (MESSAGE_TOO_LONG).
"""

from __future__ import annotations

from pathlib import Path

from bot.domain.clock import ManualClock
from bot.domain.splitting import utf16_len
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, give_consents, load_examples, make_settings, register
from tests.test_e2e_travel import PRINCIPAL, TEACHER, submit

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def refuse_next_answer(fake: FakeBotApi) -> None:
    fake.fail_next("answerCallbackQuery", status=400, description=TOO_OLD)


async def test_a_deny_press_whose_answer_fails_still_asks_for_the_reason(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    refuse_next_answer(fake)
    fake.press(principal, request, request.callback_data("Từ chối"))
    question = await fake.next_message(principal.id)
    assert "Vì sao anh/chị từ chối" in (question.text or "")
    fake.send_text(principal, "Trùng lịch họp giao ban")
    told = await fake.next_message(teacher.id)
    assert "Từ chối" in (told.text or "") and "Trùng lịch họp giao ban" in (told.text or "")


async def test_an_approve_press_whose_answer_fails_gets_its_answer_as_a_message(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    refuse_next_answer(fake)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    answer = await fake.next_message(principal.id)
    assert answer.text == "Đã phê duyệt."
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "")


async def test_a_long_explanation_goes_as_a_message_not_a_toast(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    fake.press(principal, request, request.callback_data("Từ chối"))
    await fake.next_message(principal.id)  # why?
    reason = "Đơn vị đang trong đợt kiểm tra chuyên đề, " * 4
    fake.send_text(principal, reason)
    await fake.next_message(principal.id)  # denied; the requester has been told
    fake.mark_read(principal.id)

    again = fake.press(principal, request, "ap:1:y")
    explanation = await fake.next_message(principal.id)
    assert "Đã có quyết định" in (explanation.text or "") and reason.strip() in (
        explanation.text or ""
    )
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert not (fake.answer_for(again) or {}).get("text")
    toasts = [str(p.get("text") or "") for m, p in fake.requests if m == "answerCallbackQuery"]
    assert toasts and max(utf16_len(text) for text in toasts) <= 200


async def test_a_registration_press_whose_answer_fails_still_registers(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    user = fake.user(811, "TH-003")
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, "0912 000 026")
    question = await fake.next_message(user.id)
    refuse_next_answer(fake)
    fake.press(user, question, question.callback_data("✅"))
    welcome = await give_consents(fake, user)
    assert "Đăng ký thành công" in (welcome.text or "")


async def test_a_decision_whose_approval_message_was_deleted_arrives_as_a_new_message(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    request.deleted = True  # the principal deleted it from the chat, then pressed an older copy
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    decided = await fake.next_message(principal.id, timeout=10)
    assert "Đã phê duyệt" in (decided.text or "") and "Lại Thị Diệu Linh" in (decided.text or "")


async def test_a_deny_pressed_while_the_bot_was_down_still_asks_for_the_reason(
    db_path: Path, clock: ManualClock
) -> None:
    """The sandbox refuses an answer 15 s after the press, as Telegram does; the bot handles the
    press after a restart, so its answer is refused, and the question still comes."""
    telegram_time = [1_622_000_000.0]
    fake = FakeBotApi(clock=lambda: telegram_time[0])
    await fake.start()
    try:
        await load_examples(db_path, clock)
        settings = make_settings(fake, db_path)
        async with RunningBot(settings, clock):
            teacher = await register(fake, TEACHER, "TH-003")
            principal = await register(fake, PRINCIPAL, "TH-001")
            await submit(fake, teacher)
            request = await fake.next_message(principal.id)
        pressed = fake.press(principal, request, request.callback_data("Từ chối"))
        telegram_time[0] += 40  # the bot restarts meanwhile
        async with RunningBot(settings, clock):
            question = await fake.next_message(principal.id, timeout=10)
            assert "Vì sao anh/chị từ chối" in (question.text or "")
            assert fake.answer_for(pressed) is None  # refused: too old
            assert any(m == "answerCallbackQuery" for m, _ in fake.requests)
            fake.send_text(principal, "Trùng lịch họp giao ban")
            told = await fake.next_message(teacher.id)
            assert "Trùng lịch họp giao ban" in (told.text or "")
    finally:
        await fake.stop()
