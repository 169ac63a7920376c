"""The outbox sender with channels that render (bot/channels/port.py): parts in order and
never twice, the reference that stands for the message, edits as follow-ups, numbered choices
remembered, and a closed window sending the message to the person's other channel.

Tested at the channel seam, with channels that record what they are given, on a real database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.port import Capabilities, Transient, WindowClosed
from bot.domain.clock import ManualClock
from bot.outgoing import Button, OutMessage
from bot.services.outbox.render import render_for
from bot.services.outbox.sender import EDIT_BY_ROW, OutboxSender, RateLimiter
from storage.choices_repo import ChoicesRepo
from storage.db import Database
from storage.outbox_repo import OutboxRepo, Recipient
from storage.repos import AccountsRepo
from tests.test_channel_render import NO_BUTTONS, ZALO_LIKE


class Recording:
    def __init__(
        self, name: str, caps: Capabilities, fail_on: dict[int, Exception] | None = None
    ) -> None:
        self.name = name
        self.capabilities = caps
        self.sent: list[tuple[str, OutMessage]] = []
        self.fail_on = fail_on or {}  # the n-th send (from 1) raises this
        self.calls = 0

    def render(self, message: OutMessage) -> list[OutMessage]:
        return render_for(message, self.capabilities)

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        self.calls += 1
        if self.calls in self.fail_on:
            raise self.fail_on[self.calls]
        self.sent.append((chat_ref, message))
        return f"{self.name}-{len(self.sent)}"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "outbox.db")
    yield database
    await database.close()


def _sender(db: Database, clock: ManualClock, *channels: Recording) -> OutboxSender:
    return OutboxSender(
        db, {c.name: c for c in channels}, clock, RateLimiter(1000), per_chat_interval=0.0
    )


async def _enqueue(db: Database, clock: ManualClock, to: Recipient, message: OutMessage) -> int:
    async with db.transaction() as tx:
        return await OutboxRepo(tx).enqueue(to, message, clock.now())


async def _delivery(db: Database, row_id: int) -> tuple[str, str | None] | None:
    async with db.reading() as tx:
        return await OutboxRepo(tx).delivery_of(row_id)


BUTTONS = tuple((Button(f"Đơn vị {i}", f"u:{i}"),) for i in range(7))


async def test_parts_go_in_order_and_the_buttons_part_stands_for_the_message(
    db: Database, clock: ManualClock
) -> None:
    zalo = Recording("zalolike", ZALO_LIKE)
    sender = _sender(db, clock, zalo)
    long_text = ("Chỉ thị về phòng, chống dịch. " * 100).strip()
    row = await _enqueue(db, clock, Recipient("zalolike", "z1"), OutMessage(long_text, BUTTONS))
    await sender.drain()
    await sender.stop()
    texts = [m.text for _, m in zalo.sent]
    assert [t[:6] for t in texts[:2]] == ["(1/2) ", "(2/2) "] and texts[2] == "…"
    assert [sum(map(len, m.buttons)) for _, m in zalo.sent] == [0, 5, 2]
    assert await _delivery(db, row) == ("sent", "zalolike-2")


async def test_a_part_that_failed_is_sent_again_but_not_the_parts_before_it(
    db: Database, clock: ManualClock
) -> None:
    zalo = Recording("zalolike", ZALO_LIKE, fail_on={2: Transient("502")})
    sender = _sender(db, clock, zalo)
    long_text = ("Một đoạn. " * 300).strip()
    await _enqueue(db, clock, Recipient("zalolike", "z1"), OutMessage(long_text))
    await sender.drain()
    assert len(zalo.sent) == 1  # the second part failed: the row backs off
    await asyncio.sleep(0.6)
    await sender.drain()
    await sender.stop()
    texts = [m.text[:6] for _, m in zalo.sent]
    assert texts == ["(1/2) ", "(2/2) "] and zalo.calls == 3


async def test_an_edit_queued_by_row_becomes_a_follow_up_quoting_the_message(
    db: Database, clock: ManualClock
) -> None:
    zalo = Recording("zalolike", ZALO_LIKE)
    sender = _sender(db, clock, zalo)
    to = Recipient("zalolike", "z1")
    first = await _enqueue(db, clock, to, OutMessage("Đề nghị #1", BUTTONS[:2]))
    edit = OutMessage("Đề nghị #1: đã phê duyệt", edit_ref=f"{EDIT_BY_ROW}{first}")
    await _enqueue(db, clock, to, edit)
    await sender.drain()
    await sender.stop()
    [(_, asked), (_, follow_up)] = zalo.sent
    assert asked.buttons
    assert follow_up.text == "Đề nghị #1: đã phê duyệt" and follow_up.reply_to == "zalolike-1"
    assert follow_up.edit_ref is None


async def test_numbered_choices_are_remembered_until_a_message_without_them(
    db: Database, clock: ManualClock
) -> None:
    plain = Recording("plain", NO_BUTTONS)
    sender = _sender(db, clock, plain)
    to = Recipient("plain", "p1")
    await _enqueue(db, clock, to, OutMessage("Chọn", BUTTONS[:3]))
    await sender.drain()
    async with db.reading() as tx:
        assert await ChoicesRepo(tx).pending("plain", "p1") == [
            ("Đơn vị 0", "u:0"),
            ("Đơn vị 1", "u:1"),
            ("Đơn vị 2", "u:2"),
        ]
    assert "1. Đơn vị 0" in plain.sent[0][1].text
    await _enqueue(db, clock, to, OutMessage("Cảm ơn"))
    await sender.drain()
    await sender.stop()
    async with db.reading() as tx:
        assert await ChoicesRepo(tx).pending("plain", "p1") == []


async def test_on_a_channel_with_buttons_only_data_it_cannot_carry_is_remembered_as_choices(
    db: Database, clock: ManualClock
) -> None:
    zalo = Recording("zalolike", replace(ZALO_LIKE, max_payload_bytes=64))
    sender = _sender(db, clock, zalo)
    to = Recipient("zalolike", "z1")
    long_data = "dp:" + "x" * 64
    message = OutMessage("Đơn #7", ((Button("Xem", long_data), Button("Bỏ qua", "u:1")),))
    await _enqueue(db, clock, to, message)
    await sender.drain()
    async with db.reading() as tx:
        assert await ChoicesRepo(tx).pending("zalolike", "z1") == [("Xem", long_data)]
    assert zalo.sent[0][1].text == "Đơn #7\n\n1. Xem"
    assert [b.callback for row in zalo.sent[0][1].buttons for b in row] == ["u:1"]
    await _enqueue(db, clock, to, OutMessage("Cảm ơn", BUTTONS[:1]))  # asks nothing typed
    await sender.drain()
    await sender.stop()
    async with db.reading() as tx:
        assert await ChoicesRepo(tx).pending("zalolike", "z1") == []


async def test_a_closed_window_sends_the_message_on_the_persons_other_channel(
    db: Database, clock: ManualClock
) -> None:
    closed = WindowClosed("-230 no interaction")
    windowed = Recording("windowed", ZALO_LIKE, fail_on={1: closed, 2: closed})
    other = Recording("other", ZALO_LIKE)
    async with db.transaction() as tx:
        accounts = AccountsRepo(tx)
        await accounts.touch("windowed", "w1", "w1", clock.now() - timedelta(days=8))
        await accounts.link("windowed", "w1", "TH-003", clock.now())
        await accounts.touch("other", "o1", "o1", clock.now() - timedelta(days=9))
        await accounts.link("other", "o1", "TH-003", clock.now())
    sender = _sender(db, clock, windowed, other)
    row = await _enqueue(db, clock, Recipient("windowed", "w1", "TH-003"), OutMessage("Nhắc"))
    alone = await _enqueue(db, clock, Recipient("windowed", "w9", "XX-1"), OutMessage("Nhắc"))
    await sender.drain()
    await sender.stop()
    assert other.sent == [("o1", OutMessage("Nhắc"))] and windowed.sent == []
    assert await _delivery(db, row) == ("sent", "other-1")
    assert await _delivery(db, alone) == ("undeliverable", None)


class Counting(RateLimiter):
    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.acquired = 0

    async def acquire(self, urgent: bool = False) -> None:
        self.acquired += 1
        await super().acquire(urgent)


async def test_each_channel_keeps_its_own_pace_and_its_own_bulk_pace(
    db: Database, clock: ManualClock
) -> None:
    first, other = Recording("first", ZALO_LIKE), Recording("second", ZALO_LIKE)
    shared, paid, own = Counting(1000), Counting(1000), Counting(1000)
    sender = OutboxSender(db, {"first": first}, clock, shared, bulk_limiter=paid)
    sender.add_channel("second", other, limiter=own)
    for n in range(3):
        await _enqueue(db, clock, Recipient("first", f"a{n}"), OutMessage("x", bulk=True))
        await _enqueue(db, clock, Recipient("second", f"b{n}"), OutMessage("x", bulk=True))
    await _enqueue(db, clock, Recipient("first", "a9"), OutMessage("trả lời"))
    await _enqueue(db, clock, Recipient("second", "b9"), OutMessage("trả lời"))
    await sender.drain()
    await sender.stop()
    assert (len(first.sent), len(other.sent)) == (4, 4)
    # the paid bulk pace is the first channel's only; the second's copies keep its own pace
    assert (paid.acquired, shared.acquired, own.acquired) == (3, 1, 4)
