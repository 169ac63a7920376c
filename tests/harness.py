"""Running the real bot against the fake Bot API: in this process, or as a `python -m bot run` child."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.app import build_application, services_of, start_app, stop_app
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.services.registration.directory_import import ImportOutcome, import_directory
from storage.engine import open_database
from storage.engine.placeholders import to_pyformat
from tests.fakebot import FakeBotApi
from tests.paths import EXAMPLES

WEBHOOK_SECRET = "test-webhook-secret-0123456789"

# A test on PostgreSQL keeps its `db_path` (its files folder is beside it) and registers here the
# database URL the bot uses instead of that file (tests/conftest.py, the `db_path` fixture).
ENGINE_URLS: dict[Path, str] = {}


def database_target(db_path: Path) -> Path | str:
    """What the bot opens for a test's `db_path`: its PostgreSQL database, or the file."""
    return ENGINE_URLS.get(db_path, db_path)


def database_env(db_path: Path) -> dict[str, str]:
    """The settings naming the test's database, for a `python -m bot ...` child."""
    return {"DATABASE_PATH": str(db_path), "DATABASE_URL": ENGINE_URLS.get(db_path, "")}


def db_rows(db_path: Path, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query (`?` placeholders) on the test's database, whichever the engine."""
    url = ENGINE_URLS.get(db_path)
    if url is None:
        with sqlite3.connect(db_path, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(to_pyformat(sql), params)
        return cursor.fetchall() if cursor.description else []


def db_execute(db_path: Path, sql: str, params: Sequence[object] = ()) -> None:
    """A write on the test's database (whichever the engine), committed."""
    with db_connect(db_path) as conn:
        conn.execute(sql, params)


# After rows were written with their ids given, PostgreSQL's id sequences are moved past them
# (SQLite takes the largest id + 1 by itself).
_SYNC_IDS = """
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'public' AND is_identity = 'YES' LOOP
        EXECUTE format(
            'SELECT setval(pg_get_serial_sequence(%L, %L), COALESCE(MAX(%I), 0) + 1, false) FROM %I',
            c.table_name, c.column_name, c.column_name, c.table_name);
    END LOOP;
END $$
"""


class DbConnection:
    """sqlite3's connection API (execute, executemany, `?`) on the test's database, whichever
    the engine: what a test seeds or checks behind the bot's back. Commits when the block ends."""

    def __init__(self, db_path: Path) -> None:
        self.url = ENGINE_URLS.get(db_path)
        self.db_path = db_path
        self._conn: Any = None

    def __enter__(self) -> DbConnection:
        if self.url is None:
            self._conn = sqlite3.connect(self.db_path, timeout=30)
        else:
            import psycopg

            self._conn = psycopg.connect(self.url)
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        try:
            if kind is None:
                if self.url is not None:
                    self._conn.execute(_SYNC_IDS)  # no parameters: its % stay as they are
                self._conn.commit()
            else:
                self._conn.rollback()
        finally:
            self._conn.close()

    def _sql(self, sql: str) -> str:
        return sql if self.url is None else to_pyformat(sql)

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self._conn.execute(self._sql(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        if self.url is None:
            self._conn.executemany(sql, rows)
        else:
            with self._conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)


def db_connect(db_path: Path) -> DbConnection:
    return DbConnection(db_path)


def make_settings(fake: FakeBotApi, db_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "telegram_bot_token": fake.token,
        "telegram_api_base_url": fake.base_url,
        "database_path": db_path,
        "database_url": ENGINE_URLS.get(db_path, ""),
        "polling_timeout_seconds": 1,
        "send_rate_per_second": 500,
        "per_chat_interval_seconds": 0,
        "sweep_interval_seconds": 0.2,
        # Directive tests written before sign-off send straight away; sign-off tests set it.
        "broadcast_signoff": "none",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def load_examples(db_path: Path, clock: ManualClock, **files: Path) -> ImportOutcome:
    db = await open_database(database_target(db_path))
    try:
        return await import_directory(
            db,
            clock,
            files.get("units", EXAMPLES / "units.csv"),
            files.get("staff", EXAMPLES / "staff.csv"),
            files.get("routing", EXAMPLES / "routing.toml"),
            dry_run=False,
            contacts=files.get("contacts"),
        )
    finally:
        await db.close()


class RunningBot:
    """The real Application, polling the fake from this event loop."""

    def __init__(self, settings: Settings, clock: ManualClock, *, webhook: bool = False) -> None:
        self.settings = settings
        self.clock = clock
        self.webhook = webhook
        self.app = build_application(settings, clock)

    async def __aenter__(self) -> RunningBot:
        await start_app(self.app, poll_timeout=1, webhook=self.webhook)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await stop_app(self.app)

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return services_of(self.app)


class BotProcess:
    """`python -m bot run` in a child process, so tests can SIGKILL it."""

    def __init__(
        self,
        settings: Settings,
        stderr_path: Path | None = None,
        *,
        webhook: bool = False,
        **extra_env: str,
    ) -> None:
        self.settings = settings
        self.webhook = webhook
        self.extra_env = extra_env
        self.stderr_path = stderr_path  # stderr written there (a pipe nobody reads fills up)
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            TELEGRAM_BOT_TOKEN=self.settings.telegram_bot_token.get_secret_value(),
            TELEGRAM_API_BASE_URL=self.settings.telegram_api_base_url,
            DATABASE_PATH=str(self.settings.database_path),
            DATABASE_URL=self.settings.database_url.get_secret_value(),
            POLLING_TIMEOUT_SECONDS="1",
            SEND_RATE_PER_SECOND="500",
            PER_CHAT_INTERVAL_SECONDS="0",
            SWEEP_INTERVAL_SECONDS="0.2",
            BROADCAST_SIGNOFF=self.settings.broadcast_signoff,
            WEBHOOK_URL=self.settings.webhook_url,
            WEBHOOK_PORT=str(self.settings.webhook_port),
            WEBHOOK_SECRET=self.settings.webhook_secret,
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        stderr = self.stderr_path.open("ab") if self.stderr_path else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *(["--webhook"] if self.webhook else [])],
            cwd=self.settings.database_path.parent,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=stderr or subprocess.PIPE,
        )
        if stderr is not None:
            stderr.close()  # the child has its own copy

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def wait_exit(self, timeout: float) -> int:
        """Its exit code, waiting without blocking the event loop (the sandbox serves it)."""
        assert self.process is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while (code := self.process.poll()) is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the bot did not exit within {timeout}s")
            await asyncio.sleep(0.05)
        return code

    async def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then its exit awaited while the event loop (the sandbox) keeps serving it:
        a bot that cannot reach the Bot API while it shuts down waits for its time-outs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await self.wait_exit(timeout)
            except AssertionError:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()


async def wait_polling(fake: FakeBotApi, timeout: float = 15.0) -> None:
    """Until the bot has asked for updates (it is up)."""
    await fake.wait_for(lambda: any(m == "getUpdates" for m, _ in fake.requests), timeout=timeout)
    await asyncio.sleep(0)


PHONES = {
    "TH-001": "0912 000 024",  # Châu Thị Bích Ngọc, principal (unit_head)
    "TH-002": "0912 000 025",  # Nghiêm Văn Hải, vice-principal (deputy_head)
    "TH-003": "0912 000 026",  # Lại Thị Diệu Linh, teacher
    "TH-005": "0912 000 028",  # Emily Nguyễn, teacher, language en
    "HB-004": "84 912 000 004",  # Phạm Thị Ngọc Ánh, vice-chair for education (approves principals)
    "HB-001": "0912 000 001",  # Nguyễn Văn Hùng, party secretary, top of the ward
    "HB-002": "0912.000.002",  # Trần Thị Thu Hương, standing deputy secretary (deputy_head)
    "UB-001": "0912 000 013",  # Hồ Văn Toàn, head of the HĐND-UBND office (unit_head)
    "DU-001": "0912 000 008",  # Bùi Thị Hồng Nhung, head of party office, role district_office
    "DU-003": "+84 912 000 010",  # Ngô Thị Mai Phương, admin
    "DU-004": "0912 000 011",  # Dương Quốc Bảo, party office staff
    "UB-003": "0912 000 015",  # Trịnh Văn Khánh, duty officer
    "YT-003": "0912 000 021",  # Kiều Thị Ngân, health officer
}


async def register(fake: FakeBotApi, user_id: int, staff_id: str, language_code: str = "vi"):  # type: ignore[no-untyped-def]
    """Register a sample person through the real flow; returns their FakeUser."""
    user = fake.user(user_id, staff_id, language_code=language_code)
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, PHONES[staff_id])
    question = await fake.next_message(user.id)
    fake.press(user, question, question.callback_data("✅"))
    welcome = await give_consents(fake, user)
    assert "Đăng ký thành công" in (welcome.text or "") or "Registered" in (welcome.text or ""), (
        welcome.text
    )
    return user


AGREE = ("Đồng ý", "Agree")  # the exact labels (Vietnamese, English) of the consent buttons
REFUSE = ("Không đồng ý", "Do not agree")


def _consent_button(question, labels: tuple[str, ...]) -> str:  # type: ignore[no-untyped-def]
    """The data of the button labelled exactly one of `labels` (in the person's language)."""
    for row in question.buttons():
        for button in row:
            if button.get("text") in labels:
                return str(button["callback_data"])
    raise AssertionError(f"no consent button {labels} in {question.describe()}")


async def give_consents(  # type: ignore[no-untyped-def]
    fake: FakeBotApi, user, health: bool = True, timeout: float = 5.0
):
    """After the link: the notice, then (a) and (b) answered; returns the message that follows
    (the welcome at registration)."""
    notice = await fake.next_message(user.id, timeout=timeout)
    assert "🔒" in (notice.text or ""), notice.describe()
    directory = await fake.next_message(user.id, timeout=timeout)
    fake.press(user, directory, _consent_button(directory, AGREE))
    sensitive = await fake.next_message(user.id, timeout=timeout)
    assert "(b)" in (sensitive.text or ""), sensitive.describe()
    fake.press(user, sensitive, _consent_button(sensitive, AGREE if health else REFUSE))
    return await fake.next_message(user.id, timeout=timeout)


async def start_bot(
    fake: FakeBotApi, db_path: Path, processes: list[BotProcess], **extra_env: str
) -> BotProcess:
    """`python -m bot run` against `fake`, up and polling; `processes` stops it after the test."""
    fake.requests.clear()
    process = BotProcess(make_settings(fake, db_path), **extra_env)
    process.start()
    processes.append(process)
    await wait_polling(fake, timeout=30)
    return process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_settings(fake: FakeBotApi, db_path: Path, **overrides: object) -> Settings:
    """Settings of webhook mode on a free local port (the sandbox posts there)."""
    port = free_port()
    return make_settings(
        fake,
        db_path,
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_port=port,
        webhook_secret=WEBHOOK_SECRET,
        **overrides,
    )


def db_value(db_path: Path, sql: str, params: Sequence[object] = ()) -> object:
    rows = db_rows(db_path, sql, params)
    return rows[0][0] if rows else None
