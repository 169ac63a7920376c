"""Per-step cost: N users doing /me through the HTTP fake, khaibao vs a bare PTB echo bot.

    .venv/bin/python bench/per_step.py [--users 200] [--steps 5]

Each bot runs alone in a child process (bench/_common.py) polling the fake Bot API, which lives
in this process. After one warm-up /me, users × steps updates are queued at once and the clock
runs until the last reply reached the fake: the bot's own rate (update in, reply out over HTTP).
The echo bot answers every message with `reply_text`, once with stock PTB (httpx) and once with
the aiohttp transport khaibao uses; the ratio is taken against the faster echo. khaibao's /me
reads the account, the person and the directory and commits one step (update id claimed).
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import FIRST_USER, BotChild, TimedFake, emit, load_note, prepare_db

GOAL_RATIO = 2.0


async def measure(kind: str, users: int, steps: int, db_path: Path | None) -> float:
    """Steps per second of one bot kind."""
    fake = TimedFake()
    await fake.start()
    child = BotChild(kind, fake.base_url, db_path)
    try:
        await child.ready()
        people = [fake.user(FIRST_USER + n, f"U{n}") for n in range(users)]
        warm = fake.expect(people[0].id)
        fake.send_text(people[0], "/me")
        await asyncio.wait_for(warm, 30)
        expected = fake.sent_count + users * steps
        begin = time.perf_counter()
        for _ in range(steps):
            for person in people:
                fake.send_text(person, "/me")
        version = fake.version
        while fake.sent_count < expected:
            version = await fake.wait_change(version, 30)
            if time.perf_counter() - begin > 120:
                raise RuntimeError(f"{kind}: {fake.sent_count}/{expected} replies after 120 s")
        return users * steps / (time.perf_counter() - begin)
    finally:
        child.stop()
        await fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        await prepare_db(db_path, Path(folder), max(args.users, 100), 50)
        for kind in ("echo", "echo_aiohttp", "khaibao"):
            rates[kind] = await measure(kind, args.users, args.steps, db_path if kind == "khaibao" else None)
            emit({"bench": "per_step", "bot": kind, "users": args.users, "steps": args.users * args.steps,
                  "steps_per_second": round(rates[kind], 1)})
    ratio = max(rates["echo"], rates["echo_aiohttp"]) / rates["khaibao"]
    emit({"bench": "per_step", "cost_ratio_khaibao_vs_echo": round(ratio, 2), "goal_at_most": GOAL_RATIO,
          "ok": ratio <= GOAL_RATIO, "load": load_note()})


if __name__ == "__main__":
    asyncio.run(main())
