"""PostgreSQL restarted under the running bot (README "Several instances": connection loss): the
step in flight fails and is tried again from the inbox, nothing of it is half-written, the bot
reconnects by itself and says so once per loop, and what people send later is answered.

The test restarts a server of its own: the session's is shared by the other tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from storage.engine import Done, Statement
from storage.engine.postgres import PostgresTx
from tests.fakebot import FakeBotApi, FakeUser
from tests.fleet import Fleet
from tests.harness import (
    ENGINE_URLS,
    RunningBot,
    db_rows,
    db_value,
    load_examples,
    make_settings,
    register,
)
from tests.postgres import NO_POSTGRES, PostgresServer, find_binaries
from tests.test_e2e_travel import PRINCIPAL, TEACHER, fill_travel

AWAY = "cannot be reached"
BACK = "reachable again"


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(NO_POSTGRES)
    server = PostgresServer(binaries)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def db_on_own_server(tmp_path: Path, own_server: PostgresServer) -> AsyncIterator[Path]:
    path = tmp_path / "khaibao.db"
    ENGINE_URLS[path] = await own_server.new_database()
    yield path
    del ENGINE_URLS[path]


class StepGate:
    """Holds the next step after its first trip (the update claimed, its inbox row marked done,
    none of it committed) until the test lets it go on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached = asyncio.Event()
        self.go = asyncio.Event()
        self.armed = False
        batch = PostgresTx.batch

        async def gated(tx: PostgresTx, statements: Sequence[Statement]) -> list[Done]:
            done = await batch(tx, statements)
            if self.armed and any("INTO processed_updates" in sql for sql, _ in statements):
                self.armed = False
                self.reached.set()
                await self.go.wait()
            return done

        monkeypatch.setattr(PostgresTx, "batch", gated)


def loop(line: str) -> str:
    """Which loop said a line of bot/outage.py."""
    return line.split(":", 1)[0]


def lines(caplog: pytest.LogCaptureFixture, fragment: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if fragment in r.getMessage()]


async def test_postgresql_restarted_under_a_step_in_flight_loses_nothing_and_says_so_once(
    fake: FakeBotApi,
    clock: ManualClock,
    db_on_own_server: Path,
    own_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = db_on_own_server
    caplog.set_level(logging.INFO)
    outcome = await load_examples(path, clock)
    assert outcome.applied, outcome.problems
    async with RunningBot(make_settings(fake, path), clock):
        teacher = await register(fake, TEACHER, "TH-003")
        principal = await register(fake, PRINCIPAL, "TH-001")
        summary = await fill_travel(fake, teacher)
        gate = StepGate(monkeypatch)
        gate.armed = True
        send = fake.press(teacher, summary, summary.callback_data("Gửi"))
        await asyncio.wait_for(gate.reached.wait(), timeout=20)
        await asyncio.to_thread(own_server.stop_server)  # the step's session is cut
        gate.go.set()
        await fake.wait_for(lambda: bool(lines(caplog, AWAY)), timeout=20)
        await asyncio.sleep(2.0)  # down a while: every loop of the bot tries meanwhile
        assert db_down_meanwhile(path)
        await asyncio.to_thread(own_server.start_server)

        sent = await fake.next_message(teacher.id, timeout=30)
        assert "Châu Thị Bích Ngọc" in (sent.text or ""), sent.describe()
        request = await fake.next_message(principal.id, timeout=30)
        assert "Lại Thị Diệu Linh" in (request.text or "")
        assert db_value(path, "SELECT COUNT(*) FROM travel_requests") == 1
        assert db_value(path, "SELECT COUNT(*) FROM processed_updates "
                              "WHERE update_id = ?", (str(send),)) == 1  # fmt: skip
        assert db_value(path, "SELECT outcome FROM inbox WHERE update_id = ?", (str(send),)) == (
            "done"
        )

        fake.press(principal, request, request.callback_data("Phê duyệt"))  # later: answered
        told = await fake.next_message(teacher.id, timeout=30)
        assert "Đã phê duyệt" in (told.text or ""), told.describe()
        requests_to_principal = [
            m for m in fake.messages(principal.id) if "Lại Thị Diệu Linh" in (m.text or "")
        ]
        assert len(requests_to_principal) == 1  # the request went out once
        await fake.wait_for(  # each loop that said the database was away says it is back
            lambda: (
                {loop(line) for line in lines(caplog, BACK)}
                >= {loop(line) for line in lines(caplog, AWAY)}
            ),
            timeout=15,
        )

    assert lines(caplog, "an update's step failed, the database being away")  # in flight
    assert not lines(caplog, "error while handling an update")  # no traceback, no admin alert
    away, back = lines(caplog, AWAY), lines(caplog, BACK)
    loops = [loop(line) for line in away]
    assert len(loops) == len(set(loops)), away  # each loop said so once
    assert sorted(loop(line) for line in back) == sorted(loops), (away, back)
    assert len(lines(caplog, "could not read when")) <= 1  # the sweep's schedule: once too
    assert not [r for r in caplog.records if r.name.startswith("psycopg.pool")]  # not per try


def db_down_meanwhile(path: Path) -> bool:
    try:
        db_value(path, "SELECT 1")
    except Exception:
        return True
    return False


async def test_instances_behind_the_balancer_carry_on_after_postgresql_restarts(
    fake: FakeBotApi, db_on_own_server: Path, own_server: PostgresServer
) -> None:
    """Two `run --webhook` processes on the server: it stops while people write (the updates
    are refused, not stored, and posted again) and starts again; both instances reconnect by
    themselves, every update is handled once, in each person's order, and answered."""
    path = db_on_own_server
    fleet = Fleet(fake, path, 2, {"LEASE_SECONDS": "3"}, database_url=ENGINE_URLS[path])
    people = [fake.user(8901 + n, f"P{n}") for n in range(4)]
    whose: dict[int, int] = {}  # update id -> the person who sent it

    def send(person: FakeUser, text: str) -> None:
        whose[fake.send_text(person, text)] = person.id

    try:
        await fleet.start()
        for person in people:
            fake.send_text(person, "/start")
        await fake.wait_for(lambda: all(fake.messages(p.id) for p in people), timeout=30)
        await asyncio.to_thread(own_server.stop_server)
        for person in people:
            send(person, "/help")
            send(person, "/language")
        await asyncio.sleep(3.0)  # refused meanwhile: nothing stored, Telegram posts again
        await asyncio.to_thread(own_server.start_server)
        await fake.wait_for(lambda: fake.pending_updates == 0, timeout=60)
        for person in people:
            send(person, "/help")
        await fake.wait_for(
            lambda: (
                all(len(fake.messages(p.id)) >= 4 for p in people)
                and db_value(path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
            ),
            timeout=60,
        )
        rows = db_rows(path, "SELECT update_id FROM processed_updates ORDER BY processed_at")
        steps = [int(str(row[0])) for row in rows if int(str(row[0])) in whose]
        assert sorted(steps) == sorted(whose)  # each handled once
        for person in people:
            own = [update for update in steps if whose[update] == person.id]
            assert own == sorted(own)  # in the order sent
        assert [len(fake.messages(p.id)) for p in people] == [4] * len(people)  # answered once
        assert db_value(path, "SELECT COUNT(*) FROM inbox WHERE outcome <> 'done'") == 0
    finally:
        await fleet.stop()
