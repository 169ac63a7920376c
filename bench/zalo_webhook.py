"""Zalo's webhook under load: how fast the bot answers Zalo's POST, at 300 events a second.

    .venv/bin/python bench/zalo_webhook.py [--rate 300] [--seconds 10] [--users 200]

The real bot (`python -m bot run` with Zalo alone) runs in a child process; this process plays
Zalo twice: it posts signed `/me` events of registered staff to `/zalo/webhook` at a steady
`--rate` (open loop) and times each POST until its answer (the bot checks the signature, stores
the event in the inbox, commits, answers 200; the step runs afterwards), and it is the OA API
that takes the bot's token refresh and its replies (counted, with the busiest minute's number
of requests). Goals: p99 ≤ 50 ms, every event answered 200 and replied to, under 4,000
requests a minute. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import FIRST_USER, emit, latency_figures, load_note, post_open_loop, prepare_db
from aiohttp import web

APP_ID, OA_ID, KEY = "3608465248940903967", "388613280878808645", "bench-oa-secret-key"
GOAL_P99_MS = 50.0
CAP_PER_MINUTE = 4000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OaApi:
    """Answers the token refresh and every cs send with success; counts them per minute."""

    def __init__(self) -> None:
        self.replies = 0
        self.per_minute: Counter[int] = Counter()
        self.runner: web.AppRunner | None = None

    async def start(self, port: int) -> None:
        app = web.Application()
        app.router.add_post("/v4/oa/access_token", self._token)
        app.router.add_post("/v3.0/oa/message/cs", self._cs)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def _count(self) -> None:
        self.per_minute[int(time.monotonic() // 60)] += 1

    async def _token(self, request: web.Request) -> web.Response:
        self._count()
        body = {"access_token": "bench-access-token", "refresh_token": "bench-refresh-2",
                "expires_in": "90000"}  # fmt: skip
        return web.json_response(body)

    async def _cs(self, request: web.Request) -> web.Response:
        self._count()
        await request.read()
        self.replies += 1
        return web.json_response({"error": 0, "data": {"message_id": f"m{self.replies}"}})


def event(n: int, user_id: int) -> bytes:
    body = {"app_id": APP_ID, "event_name": "user_send_text", "sender": {"id": str(user_id)},
            "recipient": {"id": OA_ID}, "message": {"text": "/me", "msg_id": f"bench{n}"},
            "timestamp": str(1_700_000_000_000 + n)}  # fmt: skip
    return json.dumps(body).encode()


def signature(raw: bytes) -> str:
    timestamp = json.loads(raw)["timestamp"]
    return (
        "mac="
        + hashlib.sha256(APP_ID.encode() + raw + timestamp.encode() + KEY.encode()).hexdigest()
    )


def as_zalo_accounts(db_path: Path) -> None:
    """The staff prepare_db linked on Telegram are on Zalo instead (same user ids)."""
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE accounts SET channel = 'zalo'")


def start_bot(db_path: Path, port: int, api_port: int) -> subprocess.Popen[bytes]:
    api = f"http://127.0.0.1:{api_port}"
    env = dict(os.environ, DATABASE_PATH=str(db_path), TELEGRAM_BOT_TOKEN="",
               SEND_RATE_PER_SECOND="1000", PER_CHAT_INTERVAL_SECONDS="0", WEBHOOK_PORT=str(port),
               ZALO_APP_ID=APP_ID, ZALO_OA_ID=OA_ID, ZALO_APP_SECRET="bench-app-secret",
               ZALO_OA_SECRET_KEY=KEY, ZALO_REFRESH_TOKEN="bench-refresh-1",
               ZALO_API_BASE_URL=api, ZALO_OAUTH_BASE_URL=api)  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=db_path.parent, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def wait_listening(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise TimeoutError("the bot did not start listening")


async def post_all(url: str, bodies: list[bytes], rate: float) -> tuple[list[float], int]:
    def signed(raw: bytes) -> dict[str, str]:
        return {"X-ZEvent-Signature": signature(raw), "Content-Type": "application/json"}

    return await post_open_loop(url, bodies, rate, signed)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "zalo.db"
        await prepare_db(db_path, Path(folder), args.users, max(2, args.users // 20))
        as_zalo_accounts(db_path)
        api = OaApi()
        api_port, port = free_port(), free_port()
        await api.start(api_port)
        bot = start_bot(db_path, port, api_port)
        try:
            await wait_listening(port)
            bodies = [event(n, FIRST_USER + n % args.users) for n in range(total)]
            began = time.perf_counter()
            seconds, refused = await post_all(f"http://127.0.0.1:{port}/zalo/webhook", bodies,
                                              args.rate)  # fmt: skip
            posted = time.perf_counter() - began
            while api.replies < total and time.perf_counter() - began < 300:
                await asyncio.sleep(0.1)
            handled = time.perf_counter() - began
        finally:
            bot.terminate()
            bot.wait(timeout=30)
            await api.stop()
    figures = latency_figures(seconds)
    busiest = max(api.per_minute.values(), default=0)
    emit({"bench": "zalo_webhook", "rate": args.rate, "events": total, "refused": refused,
          "post_seconds": round(posted, 2), "all_replies_seconds": round(handled, 2),
          "replies": api.replies, "answer_p50_ms": figures["p50_ms"],
          "answer_p99_ms": figures["p99_ms"], "answer_max_ms": figures["max_ms"],
          "busiest_minute_requests": busiest, "goal_p99_ms": GOAL_P99_MS,
          "ok": figures["p99_ms"] <= GOAL_P99_MS and refused == 0 and api.replies >= total
          and busiest < CAP_PER_MINUTE, "load": load_note()})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
