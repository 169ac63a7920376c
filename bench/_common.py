"""Shared by the HTTP benches: a generated directory, registered accounts, a bot in a child process.

The driver process holds the fake Bot API (bot/sandbox/server.py FakeBotApi, real HTTP on
localhost) and the simulated users; the bot under test runs alone in a child process started
with `python bench/_common.py KIND BASE_URL [DB]`, where KIND is `khaibao`, `echo` (stock PTB)
or `echo_aiohttp` (PTB with khaibao's aiohttp transport). The fake records, per chat, when the
bot first answered each user action (a message to the chat or the answer to a button press).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import percentile  # noqa: E402

from bot.sandbox.server import FakeBotApi  # noqa: E402

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz12"
START = datetime(2021, 5, 26, 9, 0)  # a Wednesday, 09:00 in Hà Nội
FIRST_USER = 100_000


class TimedFake(FakeBotApi):
    """The fake Bot API, noting when the bot first answers each user after their action."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN)
        self._waiting: dict[int, tuple[float, asyncio.Future[float]]] = {}
        self._pressing: dict[int, tuple[float, asyncio.Future[float]]] = {}
        self._query_users: dict[str, int] = {}
        self._chat_events: dict[int, asyncio.Event] = {}

    async def chat_changed(self, chat_id: int, timeout: float = 30) -> None:
        """Until the bot sends a message to this chat (cheaper than waking on every change)."""
        event = self._chat_events.setdefault(chat_id, asyncio.Event())
        await asyncio.wait_for(event.wait(), timeout)

    def expect(self, user_id: int, *, press: bool = False) -> asyncio.Future[float]:
        """Call right before the action; the future gives the seconds until the first answer
        (for a button press: the answer to the press, whatever else reaches the chat meanwhile)."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        (self._pressing if press else self._waiting)[user_id] = (time.perf_counter(), future)
        return future

    def _answered(self, user_id: int, *, press: bool = False) -> None:
        waiting = (self._pressing if press else self._waiting).pop(user_id, None)
        if waiting is not None and not waiting[1].done():
            waiting[1].set_result(time.perf_counter() - waiting[0])

    def deliver(self, chat_id: int, **content: Any) -> dict[str, Any]:
        body = super().deliver(chat_id, **content)
        self._answered(chat_id)
        event = self._chat_events.pop(chat_id, None)
        if event is not None:
            event.set()
        return body

    def press(self, user: Any, message: Any, data: str) -> int:
        update_id = super().press(user, message, data)
        self._query_users[self._press_queries[update_id]] = user.id
        return update_id

    def record_answer(self, query_id: str, answer: dict[str, Any]) -> None:
        super().record_answer(query_id, answer)
        user_id = self._query_users.pop(query_id, None)
        if user_id is not None:
            self._answered(user_id, press=True)


# ------------------------------------------------------------------------------ directory


ROUTING_TOML = """\
[[rule]]
name = "Chủ tịch UBND quận (báo cáo Thành ủy)"
position_groups = ["top_leader"]
approver = "none"
notify = ["role:district_office"]

[[rule]]
name = "Trưởng/phó phòng"
position_groups = ["dept_head"]
approver = "role:ubnd_chair"

[[rule]]
name = "Công chức các phòng"
approver = "unit_head"
"""


def write_directory(
    folder: Path, staff_total: int, unit_total: int
) -> tuple[Path, Path, Path, list[Any]]:
    """A district of `unit_total` departments under one root, each with a head (who approves its
    staff) and a deputy; invented names and phones (bench/import_directory.py's generator)."""
    import import_directory as gen

    maker = gen.StaffMaker(random.Random(gen.SEED), staff_total)
    root = gen.UnitRow("LB", "Quận Long Biên", "other", "", gen.HEALTH)
    units = [root] + [
        gen.UnitRow(f"PH{n:02d}", f"Phòng số {n}", "government", "LB", gen.HEALTH)
        for n in range(1, unit_total + 1)
    ]
    staff = [
        _person(gen, maker, root, 0, ("top_leader", "Chủ tịch UBND quận", "unit_head;ubnd_chair")),
        _person(gen, maker, root, 1, ("staff", "Chánh văn phòng", "district_office")),
    ]
    for index in range(staff_total - len(staff)):
        unit = units[1 + index % unit_total]
        rank = index // unit_total
        job = (
            ("dept_head", "Trưởng phòng", "unit_head"),
            ("dept_head", "Phó Trưởng phòng", "deputy_head"),
        )
        staff.append(
            _person(gen, maker, unit, rank, job[rank] if rank < 2 else ("staff", "Chuyên viên", ""))
        )
    files = folder / "units.csv", folder / "staff.csv", folder / "routing.toml"
    gen.write_units(files[0], units)
    gen.write_staff_csv(files[1], staff)
    files[2].write_text(ROUTING_TOML, encoding="utf-8")
    return files[0], files[1], files[2], staff


def _person(gen: Any, maker: Any, unit: Any, index: int, job: tuple[str, str, str]) -> Any:
    phone, stored = maker.phone()
    group, position, roles = job
    return gen.StaffRow(
        f"{unit.unit_id}-{index + 1:03d}",
        maker.name(),
        phone,
        stored,
        unit.unit_id,
        position,
        group,
        roles,
        "vi",
    )


async def prepare_db(
    db_path: Path, folder: Path, staff_total: int, unit_total: int, database_url: str = ""
) -> list[Any]:
    """Import the directory and link one Telegram account per person (user ids from FIRST_USER),
    into the SQLite file, or the PostgreSQL database when `database_url` is given."""
    from bot.domain.clock import ManualClock
    from bot.services.registration.directory_import import import_directory
    from storage.engine import open_database
    from storage.privacy_repo import ConsentsRepo
    from storage.repos import AccountsRepo

    units, staff_file, routing, staff = write_directory(folder, staff_total, unit_total)
    clock = ManualClock(START)
    db = await open_database(database_url or db_path)
    try:
        await import_directory(db, clock, units, staff_file, routing, dry_run=False)
        async with db.transaction() as tx:
            accounts = AccountsRepo(tx)
            consents = ConsentsRepo(tx, clock.tz)
            for offset, person in enumerate(staff):
                user_ref = str(FIRST_USER + offset)
                await accounts.touch("telegram", user_ref, user_ref)
                await accounts.link("telegram", user_ref, person.staff_id, clock.now())
                for purpose in ("directory", "health"):  # as if both were agreed at registration
                    await consents.record(
                        person.staff_id, purpose, 1, "granted", "telegram", None, clock.now()
                    )
    finally:
        await db.close()
    return staff


# ------------------------------------------------------------------------------ the bot child


class BotChild:
    """A bot in its own process, polling the driver's fake."""

    def __init__(
        self, kind: str, base_url: str, db_path: Path | None = None, database_url: str = ""
    ) -> None:
        argv = [
            sys.executable, str(Path(__file__)), kind, base_url, str(db_path or ""), database_url
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)

    async def ready(self) -> None:
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)
        if not line.startswith("BOT_READY"):
            raise RuntimeError(f"the bot child did not start: {line!r}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def _child(kind: str, base_url: str, db_path: str, database_url: str = "") -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if kind == "khaibao":
        from pydantic import SecretStr

        from bot.app import build_application, start_app, stop_app
        from bot.config import Settings
        from bot.domain.clock import ManualClock

        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=TOKEN,
            telegram_api_base_url=base_url,
            database_path=Path(db_path),
            database_url=SecretStr(database_url),
            polling_timeout_seconds=1,
            send_rate_per_second=1000,
        )
        app = build_application(settings, ManualClock(START))
        await start_app(app, poll_timeout=1)
        print("BOT_READY", flush=True)
        await stop.wait()
        await stop_app(app)
        return
    app = _echo_app(base_url, aiohttp=kind == "echo_aiohttp")
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    print("BOT_READY", flush=True)
    await stop.wait()
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


def _echo_app(base_url: str, *, aiohttp: bool) -> Any:
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    builder = Application.builder().token(TOKEN).base_url(base_url).concurrent_updates(False)
    if aiohttp:
        from bot.channels.telegram_http import AiohttpRequest

        builder = builder.request(AiohttpRequest(timeout=10.0))
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    return app


# ------------------------------------------------------------------------------ figures


def latency_figures(seconds: Sequence[float]) -> dict[str, float]:
    millis = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(statistics.median(millis), 1) if millis else float("nan"),
        "p99_ms": round(percentile(millis, 0.99), 1),
        "max_ms": round(max(millis), 1) if millis else float("nan"),
    }


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"loadavg {one:.2f}/{five:.2f} on {os.cpu_count()} cores"


if __name__ == "__main__":
    asyncio.run(_child(*sys.argv[1:3], *sys.argv[3:5]))


async def post_open_loop(
    url: str, bodies: Sequence[bytes], rate: float, headers: Callable[[bytes], dict[str, str]]
) -> tuple[list[float], int]:
    """Each body posted at its moment of a steady `rate` (open loop, 40 connections), with the
    headers `headers(body)` gives it: (seconds until each answer, answers other than 200)."""
    seconds: list[float] = []
    refused = 0
    connector = aiohttp.TCPConnector(limit=40)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(raw: bytes, at: float) -> None:
            nonlocal refused
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            begin = time.perf_counter()
            async with http.post(url, data=raw, headers=headers(raw)) as response:
                await response.read()
                refused += response.status != 200
            seconds.append(time.perf_counter() - begin)

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(post(raw, start + n / rate) for n, raw in enumerate(bodies)))
    return seconds, refused
