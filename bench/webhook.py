"""Webhook mode under load: how fast the bot answers Telegram's POST, at 300 updates a second.

    .venv/bin/python bench/webhook.py [--rate 300] [--seconds 10] [--users 200]

The real bot (`python -m bot run --webhook`) runs in a child process; the sandbox Bot API in this
process takes its setWebhook and its replies. This process plays Telegram's webhook sender: it
posts `/me` updates of registered staff to the bot's webhook at a steady `--rate` (open loop, up to
40 connections as Telegram uses by default) and times each POST until its answer (the bot stores
the update in the inbox, commits, answers 200; the step runs afterwards). Goal: p99 ≤ 50 ms.
Also checked: every update was answered 200 and got its reply. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import FIRST_USER, TOKEN, emit, latency_figures, load_note, post_open_loop, prepare_db

from bot.sandbox.server import FakeBotApi

SECRET = "bench-webhook-secret-0123456789"
GOAL_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def update(update_id: int, user_id: int) -> dict[str, Any]:
    person = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "vi"}
    chat = {"id": user_id, "type": "private", "first_name": f"U{user_id}"}
    entities = [{"type": "bot_command", "offset": 0, "length": 3}]
    message = {"message_id": update_id, "date": int(time.time()), "chat": chat, "from": person,
               "text": "/me", "entities": entities}  # fmt: skip
    return {"update_id": update_id, "message": message}


async def start_bot(fake: FakeBotApi, db_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
               DATABASE_PATH=str(db_path), SEND_RATE_PER_SECOND="1000",
               PER_CHAT_INTERVAL_SECONDS="0", WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
               WEBHOOK_PORT=str(port), WEBHOOK_SECRET=SECRET)  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--webhook"],
                               cwd=db_path.parent, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    await fake.wait_for(lambda: bool(fake.webhook.url), timeout=60)
    return process


async def post_all(url: str, bodies: list[dict[str, Any]], rate: float) -> tuple[list[float], int]:
    """Each update posted at its moment of a steady `rate`: (seconds per answer, non-200s)."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    raws = [json.dumps(body).encode() for body in bodies]
    return await post_open_loop(url, raws, rate, lambda _: headers)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "webhook.db"
        await prepare_db(db_path, Path(folder), args.users, max(2, args.users // 20))
        fake = FakeBotApi(token=TOKEN)
        await fake.start()
        for n in range(args.users):
            fake.user(FIRST_USER + n, f"U{FIRST_USER + n}")
        port = free_port()
        bot = await start_bot(fake, db_path, port)
        try:
            bodies = [update(n + 1, FIRST_USER + n % args.users) for n in range(total)]
            began = time.perf_counter()
            seconds, refused = await post_all(f"http://127.0.0.1:{port}/telegram", bodies,
                                              args.rate)  # fmt: skip
            posted = time.perf_counter() - began
            await fake.wait_for(lambda: fake.sent_count >= total, timeout=120)
            handled = time.perf_counter() - began
        finally:
            bot.terminate()
            bot.wait(timeout=30)
            await fake.stop()
    figures = latency_figures(seconds)
    emit({"bench": "webhook", "rate": args.rate, "updates": total, "refused": refused,
          "post_seconds": round(posted, 2), "all_replies_seconds": round(handled, 2),
          "replies": fake.sent_count, "answer_p50_ms": figures["p50_ms"],
          "answer_p99_ms": figures["p99_ms"], "answer_max_ms": figures["max_ms"],
          "goal_p99_ms": GOAL_P99_MS, "ok": figures["p99_ms"] <= GOAL_P99_MS and refused == 0,
          "load": load_note()})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
