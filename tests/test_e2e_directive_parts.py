"""A long directive on both messengers at once: each recipient's channel cuts it to its own
length, with one numbering «(1/n) … (n/n)» per channel, in order, nothing lost at the cuts,
and the «read» button on the last part only.

The clock starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh)."""

from __future__ import annotations

import re

from tests.channel_chats import Chat, Shown
from tests.fakebot import FakeBotApi, SentMessage
from tests.fakezalo import FakeZaloOA
from tests.harness import RunningBot
from tests.test_e2e_broadcast import SEED
from tests.test_e2e_zalo import bot, oa
from tests.test_e2e_zalo_day import join, read_count, send_directive

FIXTURES = (bot, oa)  # the bot with both channels on, and its fake Zalo OA

NUMBER = re.compile(r"\((\d+)/(\d+)\) ")
LIMITS = {"telegram": 4096, "zalo": 2000}


async def directive_parts(chat: Chat) -> list[Shown]:
    """The directive's parts as the person got them, from the first to the one with buttons."""
    parts = [await chat.next_with("(1/")]
    while not parts[-1].labels:
        parts.append(await chat.next())
    return parts


def check_clean(parts: list[Shown], limit: int) -> None:
    numbers = [NUMBER.match(part.text) for part in parts]
    assert all(numbers), [part.text[:20] for part in parts]
    total = len(parts)
    assert [(int(m[1]), int(m[2])) for m in numbers if m] == [
        (i, total) for i in range(1, total + 1)
    ]
    assert not any(NUMBER.search(part.text, 1) for part in parts), "a part numbered twice"
    assert all(len(part.text) <= limit for part in parts)
    assert [bool(part.labels) for part in parts] == [False] * (total - 1) + [True]
    assert parts[-1].labels == ["✅ Đã đọc"]
    joined = " ".join(NUMBER.sub("", part.text, count=1) for part in parts)
    assert " ".join(SEED.split()) in " ".join(joined.split())  # nothing lost at the cuts


async def test_a_long_directive_is_cut_once_per_channel_with_the_button_last(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot
) -> None:
    admin = await join(fake, oa, "telegram", "DU-003")
    on_telegram = await join(fake, oa, "telegram", "TH-001")
    on_zalo = await join(fake, oa, "zalo", "TH-003")
    await send_directive(admin, SEED)
    telegram_parts = await directive_parts(on_telegram)
    zalo_parts = await directive_parts(on_zalo)
    check_clean(telegram_parts, LIMITS["telegram"])
    check_clean(zalo_parts, LIMITS["zalo"])
    assert len(telegram_parts) == 3 and len(zalo_parts) > len(telegram_parts)
    assert oa.stats()["refused"] == {}

    await on_zalo.tap(zalo_parts[-1], "Đã đọc")
    await fake.wait_for(lambda: read_count(bot) == 1, timeout=10)
    await on_telegram.tap(telegram_parts[-1], "Đã đọc")
    await fake.wait_for(lambda: read_count(bot) == 2, timeout=10)
    last = telegram_parts[-1].raw
    assert isinstance(last, SentMessage)
    await fake.wait_for(lambda: bool(last.edits), timeout=10)  # the button there says when
    assert last.button_texts() == ["✅ Đã đọc lúc 09:00"]
