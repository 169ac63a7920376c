"""SANDBOX_SEND_JITTER: sends held back a random while, so that racing senders reorder."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot

from bot.sandbox.faults import JITTER_VARIABLE, SendJitter, jitter_from_environment
from tests.fakebot import FakeBotApi

CHAT = 901


def test_unset_means_off_and_a_number_of_seconds_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(JITTER_VARIABLE, raising=False)
    assert jitter_from_environment() == 0.0
    assert SendJitter().seconds == 0.0
    monkeypatch.setenv(JITTER_VARIABLE, " 0.05 ")
    assert jitter_from_environment() == 0.05


@given(st.text(max_size=20))
def test_any_value_is_read_or_refused_by_name(raw: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(JITTER_VARIABLE, raw.replace("\x00", ""))
        try:
            seconds = jitter_from_environment()
        except ValueError as refused:
            assert JITTER_VARIABLE in str(refused)
        else:
            assert 0 <= seconds <= 5


async def test_two_sends_racing_for_a_chat_arrive_in_either_order() -> None:
    fake = FakeBotApi()
    fake.faults.jitter = SendJitter(0.2, seed=7)
    await fake.start()
    try:
        fake.user(CHAT, "TH-003")
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            for pair in range(8):
                await asyncio.gather(
                    bot.send_message(CHAT, f"{pair}a"), bot.send_message(CHAT, f"{pair}b")
                )
        texts = [m.text for m in fake.messages(CHAT)]
        pairs = [texts[i : i + 2] for i in range(0, len(texts), 2)]
        assert len(pairs) == 8
        assert any(p[0].endswith("b") for p in pairs if p[0])  # "b" overtook "a" at least once
        assert any(p[0].endswith("a") for p in pairs if p[0])
    finally:
        await fake.stop()
