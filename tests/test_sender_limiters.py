"""The outbox sender's paces: a directive's copies on the paid bulk limiter, the rest on the
shared one (tested at the transport seam, with a transport that records what it is given)."""

from __future__ import annotations

from bot.domain.clock import ManualClock
from bot.outgoing import OutMessage
from bot.services.outbox.sender import OutboxSender, RateLimiter
from storage.engine import Database
from storage.outbox_repo import OutboxRepo, Recipient


class Recorded:
    def __init__(self) -> None:
        self.sent: list[tuple[str, OutMessage]] = []

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        self.sent.append((chat_ref, message))
        return str(len(self.sent))


class CountingLimiter(RateLimiter):
    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.acquired = 0

    async def acquire(self, urgent: bool = False) -> None:
        self.acquired += 1
        await super().acquire(urgent)


async def test_directive_copies_go_at_the_bulk_pace_and_nothing_else_does(
    database: Database, clock: ManualClock
) -> None:
    db = database
    shared, bulk = CountingLimiter(1000), CountingLimiter(1000)
    transport = Recorded()
    sender = OutboxSender(db, {"telegram": transport}, clock, shared, bulk_limiter=bulk)
    try:
        async with db.transaction() as tx:
            outbox = OutboxRepo(tx)
            for n in range(5):
                copy = OutMessage(f"văn bản {n}", bulk=True)
                await outbox.enqueue(Recipient("telegram", str(100 + n)), copy, clock.now())
            for n in range(3):
                reply = OutMessage(f"trả lời {n}")
                await outbox.enqueue(Recipient("telegram", str(200 + n)), reply, clock.now())
        await sender.drain()
    finally:
        await sender.stop()
    assert len(transport.sent) == 8
    assert (bulk.acquired, shared.acquired) == (5, 3)
