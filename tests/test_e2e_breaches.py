"""The breach register end to end: `python -m bot privacy breach open` on the command line, the
running bot reminds the data protection officer and the admins over the sandbox before the
72-hour deadline (the clock moved by hand), `notified-authority` stops the reminders, and an
incident nobody notified gets the overdue notice. Clock: Wednesday 26/05/2021 09:00."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.domain.clock import VIETNAM, ManualClock
from tests.fakebot import FakeBotApi, FakeUser
from tests.harness import RunningBot, database_env, load_examples, make_settings, register

DPO, ADMIN, TEACHER = "YT-003", "DU-003", "TH-003"  # the nurse is the officer here


@pytest.fixture
async def bot(fake: FakeBotApi, db_path: Path, clock: ManualClock) -> AsyncIterator[RunningBot]:
    outcome = await load_examples(db_path, clock)
    assert outcome.applied, outcome.problems
    settings = make_settings(fake, db_path, privacy_dpo_staff_id=DPO)
    async with RunningBot(settings, clock) as running:
        yield running


async def cli(db: Path, *args: str) -> str:
    env = dict(os.environ, **database_env(db), TELEGRAM_BOT_TOKEN="", DEFAULT_LANGUAGE="vi")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "privacy", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=db.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def breach_notes(fake: FakeBotApi, user: FakeUser) -> list[str]:
    return [
        m.text or "" for m in fake.messages(user.id) if "Sự cố dữ liệu cá nhân" in (m.text or "")
    ]


async def notes(fake: FakeBotApi, user: FakeUser, count: int) -> None:
    """Until `user` has received `count` breach notes."""

    def arrived() -> bool:
        return len(breach_notes(fake, user)) == count

    await fake.wait_for(arrived)


async def at(bot: RunningBot, moment: datetime) -> None:
    bot.clock.set(moment)
    await bot.services.sweeper.tick()


async def test_an_open_breach_is_reminded_before_its_deadline_until_the_authority_is_notified(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    officer = await register(fake, 8601, DPO)
    admin = await register(fake, 8602, ADMIN)
    teacher = await register(fake, 8603, TEACHER)
    db = bot.settings.database_path

    opened = await cli(
        db, "breach", "open", "Mất USB có sổ khai báo", "--detected", "26/05/2021 08:30"
    )
    assert "Đã ghi nhận sự cố số 1." in opened and "29/05/2021 08:30" in opened

    for user in (officer, admin):  # at once: 72 hours from detection, 71 of them left
        await notes(fake, user, 1)
        first = breach_notes(fake, user)[0]
        assert "số 1" in first and "29/05/2021 08:30" in first and "còn 71 giờ" in first
        assert "USB" not in first  # the description stays on the server
        assert "notified-authority 1" in first
    assert breach_notes(fake, teacher) == []

    await at(bot, datetime(2021, 5, 27, 9, 0, tzinfo=VIETNAM))
    assert len(breach_notes(fake, officer)) == 1  # nothing due between 72 h and 24 h left
    await at(bot, datetime(2021, 5, 28, 8, 31, tzinfo=VIETNAM))  # 24 h left
    for user in (officer, admin):
        await notes(fake, user, 2)
        assert "còn 23 giờ" in breach_notes(fake, user)[1]

    recorded = await cli(db, "breach", "notified-authority", "1", "--at", "28/05/2021 10:00")
    assert "đã thông báo cơ quan chức năng: 28/05/2021 10:00" in recorded
    await at(bot, datetime(2021, 5, 29, 9, 0, tzinfo=VIETNAM))  # past the deadline: notified
    await at(bot, datetime(2021, 5, 29, 9, 5, tzinfo=VIETNAM))
    await asyncio.sleep(0.5)  # what the sweep would have queued has had time to arrive
    assert len(breach_notes(fake, officer)) == 2 and len(breach_notes(fake, admin)) == 2

    await cli(db, "breach", "notified-people", "1", "--at", "29/05/2021 09:00")
    listed = await cli(db, "breach", "list")
    assert "số 1: Mất USB có sổ khai báo" in listed
    assert "đã thông báo người bị ảnh hưởng: 29/05/2021 09:00" in listed
    again = await cli(db, "breach", "notified-authority", "1", "--at", "29/05/2021 11:00")
    assert "giữ nguyên thời điểm ghi lần đầu" in again and "28/05/2021 10:00" in again


async def test_a_breach_nobody_notified_gets_the_overdue_notice_once(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, 8612, ADMIN)
    db = bot.settings.database_path
    await cli(db, "breach", "open", "Lộ danh sách", "--detected", "23/05/2021 10:00")
    await fake.wait_for(lambda: len(breach_notes(fake, admin)) == 1)
    assert "còn 1 giờ" in breach_notes(fake, admin)[0]  # 6 h, 24 h and 72 h left: all passed

    await at(bot, datetime(2021, 5, 26, 10, 1, tzinfo=VIETNAM))
    await fake.wait_for(lambda: len(breach_notes(fake, admin)) == 2)
    overdue = breach_notes(fake, admin)[1]
    assert (
        overdue.startswith("⛔") and "26/05/2021 10:00" in overdue and "lý do chậm trễ" in overdue
    )
    await at(bot, datetime(2021, 5, 27, 10, 1, tzinfo=VIETNAM))
    await asyncio.sleep(0.5)
    assert len(breach_notes(fake, admin)) == 2


async def test_a_bad_detection_time_is_refused_and_records_nothing(
    bot: RunningBot, db_path: Path
) -> None:
    env = dict(os.environ, **database_env(db_path), TELEGRAM_BOT_TOKEN="")
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "privacy", "breach", "open", "x", "--detected", "hôm qua"],
        env=env, capture_output=True, text=True, timeout=60, cwd=db_path.parent,
    )  # fmt: skip
    assert done.returncode == 2 and "Không đọc được «hôm qua»" in done.stdout
    assert "Chưa ghi nhận sự cố nào." in await cli(db_path, "breach", "list")
