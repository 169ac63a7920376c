"""Per-step cost: N users doing /me through the HTTP fake, khaibao vs a bare PTB echo bot.

The fake Bot API runs in its own process; the updates are queued before the bot starts, so the
figure is the bot's own processing rate (update in, reply out over HTTP). Prints JSON lines.

    .venv/bin/python bench/per_step.py [--users 200] [--steps 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import build_application, start_app, stop_app  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.domain.clock import ManualClock  # noqa: E402
from bot.services.directory_admin import import_directory  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.repos import AccountsRepo  # noqa: E402

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz12"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeProcess:
    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakebot", "--port", str(self.port), "--token", TOKEN],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("FAKEBOT_READY"):
            raise RuntimeError(f"fake did not start: {line!r}")
        self.base_url = line.split()[1]
        self.control = f"http://127.0.0.1:{self.port}/_control"

    def post(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.control}/{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read() or b"null")

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.control}/stats") as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(update.message.text or "")


def echo_app(base_url: str) -> Application:  # type: ignore[type-arg]
    app = Application.builder().token(TOKEN).base_url(base_url).concurrent_updates(False).build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    return app


async def drain(fake: FakeProcess, app: Application, expected: int, start: Any, stop: Any) -> float:  # type: ignore[type-arg]
    begin = time.perf_counter()
    await start(app)
    while fake.stats()["sent_count"] < expected:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - begin
    await stop(app)
    return elapsed


async def run_echo(fake: FakeProcess, users: int, steps: int) -> float:
    queue_updates(fake, users, steps, first_user=1)
    async def start(app: Application) -> None:  # type: ignore[type-arg]
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()

    async def stop(app: Application) -> None:  # type: ignore[type-arg]
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    before = fake.stats()["sent_count"]
    return await drain(fake, echo_app(fake.base_url), before + users * steps, start, stop)


def queue_updates(fake: FakeProcess, users: int, steps: int, first_user: int) -> None:
    for user in range(first_user, first_user + users):
        fake.post("users", {"user_id": user, "first_name": f"U{user}", "language_code": "vi"})
    for _ in range(steps):
        for user in range(first_user, first_user + users):
            fake.post("text", {"user_id": user, "text": "/me"})


async def prepare_khaibao(db_path: Path, clock: ManualClock, users: int, first_user: int) -> None:
    db = await Database.open(db_path)
    examples = ROOT / "examples"
    await import_directory(db, clock, examples / "units.csv", examples / "staff.csv", examples / "routing.toml", dry_run=False)
    async with db.reading() as tx:
        staff_ids = [r[0] for r in await tx.all("SELECT staff_id FROM staff ORDER BY staff_id")]
    async with db.transaction() as tx:
        accounts = AccountsRepo(tx)
        for offset in range(users):
            user_ref = str(first_user + offset)
            await accounts.touch("telegram", user_ref, user_ref)
            if offset < len(staff_ids):
                await accounts.link("telegram", user_ref, staff_ids[offset], clock.now())
    await db.close()


async def run_khaibao(fake: FakeProcess, users: int, steps: int, db_path: Path) -> float:
    first_user = 100_000
    clock = ManualClock(__import__("datetime").datetime(2021, 5, 26, 9, 0))
    await prepare_khaibao(db_path, clock, users, first_user)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url, database_path=db_path,
        polling_timeout_seconds=1, send_rate_per_second=1000, per_chat_interval_seconds=0,
    )
    app = build_application(settings, clock)
    before = fake.stats()["sent_count"]
    # setMyCommands etc. are not messages; only the /me replies are counted.
    return await drain(fake, app, before + users * steps, start_app, stop_app)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    fake = FakeProcess()
    try:
        total = args.users * args.steps
        echo_seconds = await run_echo(fake, args.users, args.steps)
        with tempfile.TemporaryDirectory() as folder:
            khaibao_seconds = await run_khaibao(fake, args.users, args.steps, Path(folder) / "bench.db")
    finally:
        fake.stop()
    echo_rate, khaibao_rate = total / echo_seconds, total / khaibao_seconds
    for name, rate, seconds in (("echo_bot", echo_rate, echo_seconds), ("khaibao_me", khaibao_rate, khaibao_seconds)):
        print(json.dumps({"bench": "per_step", "bot": name, "users": args.users, "steps": total,
                          "seconds": round(seconds, 3), "steps_per_second": round(rate, 1)}))
    ratio = echo_rate / khaibao_rate
    print(json.dumps({"bench": "per_step", "cost_ratio_khaibao_vs_echo": round(ratio, 2), "goal_at_most": 2.0, "ok": ratio <= 2.0}))


if __name__ == "__main__":
    asyncio.run(main())
