"""What a step costs on Zalo against Telegram, in the same run: the bot's CPU per `/me`.

    .venv/bin/python bench/zalo_step.py [--rate 100] [--seconds 10] [--rounds 3]

Each round runs the real bot twice in a child process on the same prepared directory: once in
Telegram's webhook mode (bench/webhook.py's sender posts `/me` updates, the sandbox Bot API
takes the replies) and once on Zalo alone (bench/zalo_webhook.py's sender posts signed `/me`
events, its OA API takes the replies), at the same steady rate, and reads the child's CPU time
(user + system, /proc) from the first post to the last reply. The medians are compared: goal,
a Zalo step costs at most 1.3 times a Telegram step. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import webhook as telegram_bench
import zalo_webhook as zalo_bench
from _common import FIRST_USER, TOKEN, emit, load_note, prepare_db

from bot.sandbox.server import FakeBotApi

GOAL_RATIO = 1.3


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(
    process: subprocess.Popen[bytes], post: Awaitable[object], done: Callable[[], bool]
) -> float:
    """CPU seconds of the child from the first post until every reply is out."""
    before = cpu_seconds(process)
    await post
    deadline = time.monotonic() + 120
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if not done():
        raise TimeoutError("not every reply arrived")
    return cpu_seconds(process) - before


async def telegram_round(folder: Path, users: int, total: int, rate: float) -> float:
    db_path = folder / "telegram.db"
    await prepare_db(db_path, folder, users, max(2, users // 20))
    fake = FakeBotApi(token=TOKEN)
    await fake.start()
    for n in range(users):
        fake.user(FIRST_USER + n, f"U{FIRST_USER + n}")
    port = telegram_bench.free_port()
    bot = await telegram_bench.start_bot(fake, db_path, port)
    try:
        await asyncio.sleep(1.0)  # the start's own work is not counted
        bodies = [telegram_bench.update(n + 1, FIRST_USER + n % users) for n in range(total)]
        url = f"http://127.0.0.1:{port}/telegram"
        return await measured(bot, telegram_bench.post_all(url, bodies, rate),
                              lambda: fake.sent_count >= total)  # fmt: skip
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        await fake.stop()


async def zalo_round(folder: Path, users: int, total: int, rate: float) -> float:
    db_path = folder / "zalo.db"
    await prepare_db(db_path, folder, users, max(2, users // 20))
    zalo_bench.as_zalo_accounts(db_path)
    api = zalo_bench.OaApi()
    api_port, port = zalo_bench.free_port(), zalo_bench.free_port()
    await api.start(api_port)
    bot = zalo_bench.start_bot(db_path, port, api_port)
    try:
        await zalo_bench.wait_listening(port)
        await asyncio.sleep(1.0)
        bodies = [zalo_bench.event(n, FIRST_USER + n % users) for n in range(total)]
        url = f"http://127.0.0.1:{port}/zalo/webhook"
        return await measured(bot, zalo_bench.post_all(url, bodies, rate),
                              lambda: api.replies >= total)  # fmt: skip
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        await api.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    per_step: dict[str, list[float]] = {"telegram": [], "zalo": []}
    for _ in range(args.rounds):
        for kind, run in (("telegram", telegram_round), ("zalo", zalo_round)):
            with tempfile.TemporaryDirectory() as folder:
                cpu = await run(Path(folder), args.users, total, args.rate)
            per_step[kind].append(cpu * 1000 / total)
    median = {kind: statistics.median(values) for kind, values in per_step.items()}
    ratio = median["zalo"] / median["telegram"]
    emit({"bench": "zalo_step", "rate": args.rate, "steps_per_round": total,
          "cpu_ms_per_step": {k: [round(v, 2) for v in vs] for k, vs in per_step.items()},
          "median_ms": {k: round(v, 2) for k, v in median.items()},
          "ratio_zalo_vs_telegram": round(ratio, 2), "goal_at_most": GOAL_RATIO,
          "ok": ratio <= GOAL_RATIO, "load": load_note()})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
