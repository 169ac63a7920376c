"""Per-step cost: N users doing /me through the HTTP fake, khaibao vs a bare PTB echo bot.

    .venv/bin/python bench/per_step.py [--users 200] [--steps 5] [--rounds 3]

Each bot runs alone in a child process (bench/_common.py) polling the fake Bot API, which lives
in this process. All three bots start first (each with its own fake, idle ones only long-poll), then take turns,
`--rounds` times: users × steps /me are queued at once and the clock runs until the last reply
reached the fake: the bot's own rate (update in, reply out over HTTP), and the CPU time its
process used per step (all threads), the cost that does not depend on how each bot overlaps
waiting. The median round counts; both ratios are taken against the cheaper echo.
The echo bot answers every message with `reply_text`, once with stock PTB (httpx) and once with
the aiohttp transport khaibao uses; the ratio is taken against the faster echo. khaibao's /me
reads the account, the person and the directory and commits one step (update id claimed).
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import FIRST_USER, BotChild, TimedFake, emit, load_note, prepare_db

GOAL_RATIO = 2.0


class Contender:
    """One bot kind in its child process, with its own fake and its users, ready for bursts."""

    def __init__(self, kind: str, users: int, db_path: Path | None) -> None:
        self.kind = kind
        self.fake = TimedFake()
        self.users = users
        self.db_path = db_path
        self.child: BotChild | None = None
        self.people: list[Any] = []

    async def start(self) -> None:
        await self.fake.start()
        self.child = BotChild(self.kind, self.fake.base_url, self.db_path)
        await self.child.ready()
        self.people = [self.fake.user(FIRST_USER + n, f"U{n}") for n in range(self.users)]
        warm = self.fake.expect(self.people[0].id)
        self.fake.send_text(self.people[0], "/me")
        await asyncio.wait_for(warm, 30)

    async def burst(self, steps: int) -> tuple[float, float]:
        """users x steps /me queued at once: steps per second until the last reply, and the
        bot process's CPU milliseconds per step."""
        fake = self.fake
        expected = fake.sent_count + self.users * steps
        cpu_before = self.cpu_seconds()
        begin = time.perf_counter()
        for _ in range(steps):
            for person in self.people:
                fake.send_text(person, "/me")
        version = fake.version
        while fake.sent_count < expected:
            version = await fake.wait_change(version, 30)
            if time.perf_counter() - begin > 120:
                raise RuntimeError(f"{self.kind}: {fake.sent_count}/{expected} replies after 120 s")
        total = self.users * steps
        return total / (time.perf_counter() - begin), (
            self.cpu_seconds() - cpu_before
        ) * 1000 / total

    def cpu_seconds(self) -> float:
        """User + system CPU time of the bot's process, all threads (Linux /proc)."""
        assert self.child is not None
        fields = Path(f"/proc/{self.child.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
        await self.fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        await prepare_db(db_path, Path(folder), max(args.users, 100), 50)
        contenders = [
            Contender(kind, args.users, db_path if kind == "khaibao" else None)
            for kind in ("echo", "echo_aiohttp", "khaibao")
        ]
        try:
            for contender in contenders:
                await contender.start()
            rates: dict[str, list[float]] = {c.kind: [] for c in contenders}
            cpu: dict[str, list[float]] = {c.kind: [] for c in contenders}
            for _ in range(args.rounds):  # alternated, so a passing load spike hits all kinds alike
                for contender in contenders:
                    rate, cpu_ms = await contender.burst(args.steps)
                    rates[contender.kind].append(rate)
                    cpu[contender.kind].append(cpu_ms)
        finally:
            for contender in contenders:
                await contender.stop()
    median = {kind: statistics.median(values) for kind, values in rates.items()}
    cpu_median = {kind: statistics.median(values) for kind, values in cpu.items()}
    for kind, values in rates.items():
        emit(
            {
                "bench": "per_step",
                "bot": kind,
                "users": args.users,
                "steps_per_round": args.users * args.steps,
                "rounds": [round(v, 1) for v in values],
                "steps_per_second_median": round(median[kind], 1),
                "cpu_ms_per_step_median": round(cpu_median[kind], 2),
            }
        )
    rate_ratio = max(median["echo"], median["echo_aiohttp"]) / median["khaibao"]
    cpu_ratio = cpu_median["khaibao"] / min(cpu_median["echo"], cpu_median["echo_aiohttp"])
    emit(
        {
            "bench": "per_step",
            "cost_ratio_khaibao_vs_echo": round(rate_ratio, 2),
            "cpu_ratio_khaibao_vs_echo": round(cpu_ratio, 2),
            "goal_at_most": GOAL_RATIO,
            "ok": max(rate_ratio, cpu_ratio) <= GOAL_RATIO,
            "load": load_note(),
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
