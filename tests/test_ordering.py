"""Concurrent updates: different people at once, each person's strictly in order."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.channels.telegram_ordering import PerPersonUpdateProcessor


def update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "Test", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, from_user=user, text="x"))  # type: ignore[arg-type]


async def test_one_persons_updates_run_in_order_and_others_run_alongside() -> None:
    processor = PerPersonUpdateProcessor(8)
    log: list[str] = []

    async def step(name: str, seconds: float) -> None:
        log.append(f"start {name}")
        await asyncio.sleep(seconds)
        log.append(f"end {name}")

    await asyncio.gather(
        processor.process_update(update(1, 7), step("a1", 0.05)),
        processor.process_update(update(2, 7), step("a2", 0.0)),
        processor.process_update(update(3, 8), step("b1", 0.0)),
    )
    assert log.index("end a1") < log.index("start a2")  # same person: in order
    assert log.index("end b1") < log.index("end a1")  # another person did not wait
    assert processor.busy_people == 0  # nothing kept once idle
