"""Zalo behind a balancer in front of several `python -m bot run --webhook` on one database
(README "Several instances"): a person's events are handled once each and in order, whichever
instance received them, as Telegram's updates are (bot/inbound/claims.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.channels.zalo import CHANNEL as ZALO
from bot.channels.zalo.events import ZaloEvent, parse_event
from bot.clock import SystemClock
from bot.domain.clock import VIETNAM, ManualClock
from bot.inbound.zalo import ZaloInbound
from bot.outgoing import OutMessage
from bot.services.kernel.instance import Instance
from storage.engine import Database
from storage.outbox_repo import HELD_PREFIX, OutboxRepo, Recipient
from tests.fakebot import FakeBotApi
from tests.fakezalo import APP_ID, APP_SECRET, OA_ID, OA_SECRET_KEY, FakeZaloOA, ZaloSent, ZaloUser
from tests.fleet import Fleet
from tests.harness import database_target, db_rows

LEASE = "3"  # seconds: short, so takeovers are quick in the test
USER = "2468458835296197922"


@pytest.fixture
async def oa() -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA()
    await fake.start()
    yield fake
    await fake.stop()


def zalo_fleet(fake: FakeBotApi, oa: FakeZaloOA, db_path: Path, count: int) -> Fleet:
    """Instances on Telegram and Zalo, the fake OA's webhooks spread over them in turn."""
    _, refresh = oa.issue_tokens()
    target = database_target(db_path)
    env = {
        "LEASE_SECONDS": LEASE,
        "ZALO_APP_ID": APP_ID,
        "ZALO_OA_ID": OA_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
        "ZALO_REFRESH_TOKEN": refresh,
        "ZALO_API_BASE_URL": oa.base_url,
        "ZALO_OAUTH_BASE_URL": oa.base_url,
    }
    fleet = Fleet(fake, db_path, count, env, database_url=target if isinstance(target, str) else "")
    oa.webhooks.balance([f"http://127.0.0.1:{port}/zalo/webhook" for port in fleet.ports])
    return fleet


async def answers(oa: FakeZaloOA, person: ZaloUser, count: int) -> list[ZaloSent]:
    return [await oa.next_message(person.user_id, timeout=20) for _ in range(count)]


def steps_of(db_path: Path) -> dict[str, float]:
    """When the step of each Zalo event ran (UTC seconds), by its key; once per key."""
    rows = db_rows(db_path, "SELECT update_id, processed_at FROM processed_updates "
                            "WHERE channel = 'zalo'")  # fmt: skip
    return {str(key): datetime.fromisoformat(str(at)).timestamp() for key, at in rows}


async def test_one_persons_zalo_events_through_two_instances_run_once_each_and_in_order(
    fake: FakeBotApi, oa: FakeZaloOA, db_path: Path
) -> None:
    """The answers are slow to leave; the person's next message, posted to the other instance,
    runs after the first one's step, and each is answered once, in order (an instance that is
    not the sender queues its answers in the outbox, which keeps a chat's order)."""
    fleet = zalo_fleet(fake, oa, db_path, 2)
    try:
        await fleet.start()
        person = oa.user("Đoàn Thị Thu Hà", phone="84912000099")
        oa.follow(person)
        assert [m.kind for m in await answers(oa, person, 2)] == ["text", "request_user_info"]
        oa.delay_next("message/cs", 2.0, count=3)  # every answer below is slow to leave
        asked = [oa.send_text(person, "/language"), oa.send_text(person, "hello")]
        told = await answers(oa, person, 3)
        assert [sent.text for sent in told[:1]] == ["Chọn ngôn ngữ:"], told
        assert "đăng ký trước" in (told[1].text or ""), told
        assert told[2].kind == "request_user_info"
        await oa.webhooks.wait_idle(timeout=10)
        posts = [d for d in oa.webhooks.deliveries if d.seq in {e.seq for e in asked}]
        assert [d.status for d in posts] == [200, 200]
        assert posts[0].url != posts[1].url  # one to each instance
        steps = steps_of(db_path)
        first, hello = (steps[event.body["message"]["msg_id"]] for event in asked)
        assert first <= hello, "the second ran before the first"  # answers: in order, above
        with pytest.raises(AssertionError):  # nothing more: each handled once
            await oa.next_message(person.user_id, timeout=1.5)
    finally:
        await fleet.stop()


async def test_a_message_held_by_the_sending_instance_goes_when_the_person_writes_to_another(
    database: Database,
) -> None:
    """A message the sender's instance could not deliver (the person's window closed) is held
    until they write; when they write to another instance, that one releases it: the holds are
    read from the database, not only known where they were recorded."""
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM))
    handled: list[str] = []

    async def handle(event: ZaloEvent) -> None:
        handled.append(event.key)

    def on_instance(name: str) -> ZaloInbound:
        instance = Instance(database, name, SystemClock(), lease_seconds=6)
        return ZaloInbound(database, clock, handle, instance=instance)

    sender, other = on_instance("sender"), on_instance("other")
    for inbound in (sender, other):
        await inbound.resume()
    async with database.transaction() as tx:  # as the sender's WindowFallback holds a message
        row = await OutboxRepo(tx).enqueue(Recipient(ZALO, USER), OutMessage("Nhắc"), clock.now())
        await OutboxRepo(tx).mark_final(row, "undeliverable", f"{HELD_PREFIX} window closed")
    sender.held.add(USER)
    try:
        await wait_for(lambda: USER in other.held, timeout=10)  # its look every 3 s
        body = {"event_name": "user_send_text", "app_id": APP_ID, "timestamp": "1796138425790",
                "sender": {"id": USER}, "recipient": {"id": OA_ID},
                "message": {"msg_id": "a1b2c3d4e5f60718293", "text": "tôi đây"}}  # fmt: skip
        assert await other.accept(parse_event(body), json.dumps(body))
        assert await status_of(database, row) == "pending"  # due: the sender's next look sends it
        await wait_for(lambda: handled == ["a1b2c3d4e5f60718293"], timeout=10)
    finally:
        for inbound in (sender, other):
            await inbound.drain(2)


async def status_of(database: Database, row: int) -> object:
    async with database.reading() as tx:
        return await tx.scalar("SELECT status FROM outbox WHERE id = ?", (row,))


async def wait_for(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
