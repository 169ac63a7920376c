"""Issue 14, items 9–16 (a district's first week): buttons that stay alive after the fact, and
health alerts that reach the wrong people. End to end over HTTP against the sandbox, with a
moved clock (Wednesday 26/05/2021 09:00, Asia/Ho_Chi_Minh), plus the domain rules.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, register
from tests.test_e2e_travel import answer, submit

TEACHER, OTHER, PRINCIPAL, DEPUTY, VICE_CHAIR = 1401, 1402, 1403, 1404, 1405


def live(message: SentMessage) -> bool:
    return bool(message.buttons())


async def next_about(fake: FakeBotApi, user: FakeUser, count: int) -> list[SentMessage]:
    return [await fake.next_message(user.id) for _ in range(count)]


# --------------------------------------------------------------------------- item 9


async def test_item9_decided_request_edits_every_copy(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    other = await register(fake, OTHER, "TH-005")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    first_copy = await fake.next_message(principal.id)
    await submit(fake, other, dest="Huế")
    second_copy = await fake.next_message(principal.id)

    fake.send_text(principal, "/pending")
    listed_first, listed_second, waiting = await next_about(fake, principal, 3)
    assert "Lại Thị Diệu Linh" in (listed_first.text or "")
    assert "Emily Nguyễn" in (listed_second.text or "")
    fake.press(principal, waiting, waiting.callback_data("2"))
    confirm = await fake.next_message(principal.id)
    assert live(confirm)

    clock.advance(timedelta(hours=2, minutes=1))
    await bot.services.sweeper.tick()
    reminders = await next_about(fake, principal, 2)
    reminder_first = next(r for r in reminders if "Lại Thị Diệu Linh" in (r.text or ""))
    reminder_second = next(r for r in reminders if r is not reminder_first)

    fake.press(principal, reminder_first, reminder_first.callback_data("Phê duyệt"))
    assert "Đã phê duyệt" in ((await fake.next_message(teacher.id)).text or "")
    first_copies = [first_copy, listed_first, reminder_first]
    await fake.wait_for(
        lambda: all(not live(m) and "Đã phê duyệt" in (m.text or "") for m in first_copies)
    )
    await fake.wait_for(lambda: not live(waiting) and not live(confirm))
    assert "/pending" in (confirm.text or "") and "/pending" in (waiting.text or "")
    assert all(live(m) for m in (second_copy, listed_second, reminder_second))

    # The stale confirmation approves nothing: it named a list that has changed.
    stale = fake.press(principal, confirm, "apall:y")
    await fake.wait_for(lambda: fake.answer_for(stale) is not None)
    changed = await fake.next_message(principal.id)
    assert "/pending" in (changed.text or "")
    async with bot.services.db.reading() as tx:
        status = await tx.scalar("SELECT status FROM travel_requests WHERE id = 2")
    assert status == "pending"


async def test_item9_approve_all_approves_exactly_what_it_listed(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    other = await register(fake, OTHER, "TH-005")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    await submit(fake, other, dest="Huế")
    copies = await next_about(fake, principal, 2)
    fake.send_text(principal, "/pending")
    *listed, waiting = await next_about(fake, principal, 3)
    fake.press(principal, waiting, waiting.callback_data("2"))
    confirm = await fake.next_message(principal.id)
    fake.press(principal, confirm, confirm.callback_data("2"))
    done = await fake.next_message(principal.id)
    assert "2" in (done.text or "")
    everything = [*copies, *listed, waiting, confirm]
    await fake.wait_for(lambda: not any(live(m) for m in everything))
    assert all("Đã phê duyệt" in (m.text or "") for m in [*copies, *listed])


# --------------------------------------------------------------------------- item 10


async def test_item10_escalation_says_who_did_not_answer_and_tells_them(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    vice_chair = await register(fake, VICE_CHAIR, "HB-004")
    clock.set(clock.now().replace(day=28, hour=18))  # Friday evening
    await submit(fake, teacher, leave="29/05/2021 07:00", back="29/05/2021 20:00")
    await fake.next_message(principal.id)
    clock.set(clock.now().replace(day=29, hour=4, minute=1))  # 3 h before departure
    await bot.services.sweeper.tick()
    escalated = await fake.next_message(vice_chair.id)
    text = escalated.text or ""
    assert "Chuyển lên" in text and "Châu Thị Bích Ngọc" in text, text
    assert "28/05/2021 18:00" in text, text
    told_first = [m for m in fake.messages(principal.id) if "Phạm Thị Ngọc Ánh" in (m.text or "")]
    await fake.wait_for(
        lambda: any("Phạm Thị Ngọc Ánh" in (m.text or "") for m in fake.messages(principal.id))
    )
    told_teacher = await fake.next_message(teacher.id)
    assert "Phạm Thị Ngọc Ánh" in (told_teacher.text or "") and "#1" in (told_teacher.text or "")
    assert told_first is not None
