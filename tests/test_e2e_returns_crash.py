"""The declaration reminders survive `kill -9`: after a restart none is lost and none is sent twice.

The trip and the return are set up in this process with a clock 23 hours in the past; then the
real `python -m bot run` takes over on the real clock, the way a restarted bot would.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from bot.domain.clock import VIETNAM, ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import (
    BotProcess,
    RunningBot,
    db_rows,
    load_examples,
    make_settings,
    register,
    wait_polling,
)
from tests.test_e2e_returns import declare_back
from tests.test_e2e_travel import PRINCIPAL, TEACHER, submit

NO_QUIET = {"QUIET_HOURS": "none"}


async def back_23_hours_ago(fake: FakeBotApi, db_path: Path) -> int:
    """A trip that ended and was declared 23 h ago (reminders at +2 h, +12 h, +20 h are past)."""
    now = datetime.now(VIETNAM).replace(second=0, microsecond=0)
    clock = ManualClock(now - timedelta(days=3))
    await load_examples(db_path, clock)
    async with RunningBot(make_settings(fake, db_path, quiet_hours="none"), clock) as bot:
        teacher = await register(fake, TEACHER, "TH-003")
        principal = await register(fake, PRINCIPAL, "TH-001")
        leave, back = now - timedelta(days=2), now - timedelta(hours=23)
        await submit(fake, teacher, leave=f"{leave:%d/%m/%Y %H:%M}", back=f"{back:%d/%m/%Y %H:%M}")
        request = await fake.next_message(principal.id)
        if request.buttons():
            fake.press(principal, request, request.callback_data("Phê duyệt"))
            await fake.next_message(teacher.id)
        clock.set(back)
        await bot.services.sweeper.tick()
        await declare_back(fake, teacher, await fake.next_message(teacher.id))
    return teacher.id


def reminders(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [m.text or "" for m in fake.messages(chat_id) if "Nhắc" in (m.text or "")]


async def test_kill_and_restart_sends_the_latest_reminder_once(
    fake: FakeBotApi, db_path: Path
) -> None:
    teacher = await back_23_hours_ago(fake, db_path)
    first = BotProcess(make_settings(fake, db_path), **NO_QUIET)
    second = BotProcess(make_settings(fake, db_path), **NO_QUIET)
    try:
        first.start()
        await wait_polling(fake, timeout=30)
        first.kill()  # the first sweep may or may not have run: either way nothing is lost
        fake.requests.clear()
        second.start()
        await wait_polling(fake, timeout=30)
        await fake.wait_for(lambda: len(reminders(fake, teacher)) >= 1, timeout=20)
        await asyncio.sleep(2)  # ten more sweeps
    finally:
        await first.stop()
        await second.stop()
    assert len(reminders(fake, teacher)) == 1  # only the +20 h one; the +2 h and +12 h are stale
    ((last_seq, pending),) = db_rows(
        db_path, "SELECT last_seq, remind_at IS NOT NULL FROM trip_returns"
    )
    assert last_seq == 3 and pending == 1  # next: the overdue step at +24 h
