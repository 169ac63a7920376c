from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.domain.clock import VIETNAM, ManualClock
from storage.engine import Database, open_database
from tests.fakebot import FakeBotApi
from tests.harness import (
    ENGINE_URLS,
    BotProcess,
    RunningBot,
    database_target,
    load_examples,
    make_settings,
)
from tests.postgres import NO_POSTGRES, PostgresServer, find_binaries

# PTB 22 warns about RetryAfter.retry_after being an int unless opted into timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "true")


class SecretGuard(logging.Handler):
    """Every record the suite logs, searched for the sandbox's token (issue 19.4)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.leaked: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            return
        if FAKE_TOKEN in text:
            self.leaked.append(text[:400])


FAKE_TOKEN = FakeBotApi().token
GUARD = SecretGuard()
logging.getLogger().addHandler(GUARD)


@pytest.fixture(autouse=True)
def no_token_in_any_log() -> Iterator[None]:
    yield
    leaked, GUARD.leaked = GUARD.leaked, []
    assert not leaked, f"the bot token was logged: {leaked[:3]}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM))


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


ENGINES = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(NO_POSTGRES)
    server = PostgresServer(binaries)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a test runs on: every test that takes `db_path` (the `bot` too) runs on both."""
    only = request.node.get_closest_marker("sqlite_only")
    if request.param == "postgres" and only is not None:
        pytest.skip(only.args[0] if only.args else "about SQLite itself")
    return str(request.param)


@pytest.fixture
async def db_path(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> AsyncIterator[Path]:
    """The test's database: a SQLite file, or (engine postgres) a fresh PostgreSQL database
    registered for this path (tests/harness.py ENGINE_URLS); files go beside the path either way."""
    path = tmp_path / "khaibao.db"
    if engine == "sqlite":
        yield path
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = await server.new_database()
    ENGINE_URLS[path] = url
    try:
        yield path
    finally:
        del ENGINE_URLS[path]
        await server.drop_database(url)


@pytest.fixture
async def database(db_path: Path) -> AsyncIterator[Database]:
    """The test's database opened and migrated, on the engine of the run."""
    opened = await open_database(database_target(db_path))
    yield opened
    await opened.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: about SQLite itself (runs on SQLite only)")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if find_binaries() is None:
        terminalreporter.write_line(NO_POSTGRES)


@pytest.fixture
def bot_settings() -> dict[str, object]:
    """Settings the `bot` fixture runs with; a test module overrides this fixture to change them."""
    return {}


@pytest.fixture
async def bot(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, bot_settings: dict[str, object]
) -> AsyncIterator[RunningBot]:
    outcome = await load_examples(db_path, clock)
    assert outcome.applied, outcome.problems
    async with RunningBot(make_settings(fake, db_path, **bot_settings), clock) as running:
        yield running


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    """Bot child processes a test starts; stopped afterwards, whatever happened."""
    started: list[BotProcess] = []
    yield started
    for process in started:
        await process.stop()
