"""Per-step cost on PostgreSQL vs SQLite, in the same run: `/me` and a travel step.

    .venv/bin/python bench/engines.py [--users 200] [--steps 5] [--rounds 3] [--database-url URL]

The same bot runs twice in child processes (bench/_common.py), once on a SQLite file and once on
PostgreSQL (DATABASE_URL; without --database-url a throw-away local server is started from the
postgresql package's binaries, as tests/postgres.py does), each polling its own fake Bot API in
this process. Both get the same directory and accounts. They take turns, `--rounds` times, with
bursts of users × steps steps queued at once: `/me` (reads the account, the person and the
directory, commits the step) and the travel step (`/travel` then the typed destination: a
conversation started and moved on). Per engine and kind: steps per second until the last
reply, and the CPU milliseconds of the bot's process per step (all threads; PostgreSQL's own
server processes are not counted: `server_cpu_ms_per_step` gives theirs when the server is
local). Goal: PostgreSQL ≤ 2x SQLite's CPU per step. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import FIRST_USER, ROOT, BotChild, TimedFake, emit, load_note, prepare_db

GOAL_RATIO = 2.0
SCRIPTS = {"me": ("/me",), "travel": ("/travel", "da nang")}


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu_seconds(data_folder: Path | None) -> float:
    """CPU of every process of the local PostgreSQL server (the postmaster's children)."""
    if data_folder is None:
        return 0.0
    postmaster = int((data_folder / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == postmaster or int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Engine:
    """The bot on one engine, in its child process, with its own fake and users."""

    def __init__(self, name: str, users: int, db_path: Path, url: str, server: Path | None):
        self.name, self.users, self.db_path, self.url, self.server = (
            name,
            users,
            db_path,
            url,
            server,
        )
        self.fake = TimedFake()
        self.child: BotChild | None = None
        self.people: list[Any] = []

    async def start(self) -> None:
        await self.fake.start()
        self.child = BotChild("khaibao", self.fake.base_url, self.db_path, self.url)
        await self.child.ready()
        self.people = [self.fake.user(FIRST_USER + n, f"U{n}") for n in range(self.users)]
        warm = self.fake.expect(self.people[0].id)
        self.fake.send_text(self.people[0], "/me")
        await asyncio.wait_for(warm, 30)

    async def burst(self, script: tuple[str, ...], steps: int) -> tuple[float, float, float]:
        """steps/s, bot CPU ms per step, server CPU ms per step."""
        assert self.child is not None
        fake = self.fake
        total = self.users * steps * len(script)
        expected = fake.sent_count + total
        cpu, server = _cpu_seconds(self.child.process.pid), server_cpu_seconds(self.server)
        begin = time.perf_counter()
        for _ in range(steps):
            for person in self.people:
                for text in script:
                    fake.send_text(person, text)
        version = fake.version
        while fake.sent_count < expected:
            version = await fake.wait_change(version, 30)
            if time.perf_counter() - begin > 180:
                raise RuntimeError(f"{self.name}: {fake.sent_count}/{expected} after 180 s")
        elapsed = time.perf_counter() - begin
        return (
            total / elapsed,
            (_cpu_seconds(self.child.process.pid) - cpu) * 1000 / total,
            (server_cpu_seconds(self.server) - server) * 1000 / total,
        )

    async def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
        await self.fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="", help="postgresql://… (else a local one)")
    args = parser.parse_args()
    server = None
    url = args.database_url
    if not url:
        sys.path.insert(0, str(ROOT))
        from tests.postgres import PostgresServer, find_binaries

        binaries = find_binaries()
        if binaries is None:
            emit({"bench": "engines", "skipped": "PostgreSQL server binaries not found"})
            return
        server = PostgresServer(binaries)
        server.start()
        url = await server.new_database()
    try:
        await _run(args, url, server.folder / "data" if server else None)
    finally:
        if server is not None:
            server.stop()


async def _run(args: argparse.Namespace, url: str, server_data: Path | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        sqlite_path = Path(folder) / "bench.db"
        staff = max(args.users, 100)
        for name in ("sqlite", "pg"):
            (Path(folder) / name).mkdir()
        await prepare_db(sqlite_path, Path(folder) / "sqlite", staff, 50)
        await prepare_db(Path(folder) / "pg.db", Path(folder) / "pg", staff, 50, database_url=url)
        engines = [
            Engine("sqlite", args.users, sqlite_path, "", None),
            Engine("postgresql", args.users, Path(folder) / "pg.db", url, server_data),
        ]
        figures: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        try:
            for engine in engines:
                await engine.start()
            for _ in range(args.rounds):  # alternated: a load spike hits both engines alike
                for kind, script in SCRIPTS.items():
                    for engine in engines:
                        result = await engine.burst(script, args.steps)
                        figures.setdefault((engine.name, kind), []).append(result)
        finally:
            for engine in engines:
                await engine.stop()
    _report(args, figures)


def _report(args: argparse.Namespace, figures: dict[tuple[str, str], list[Any]]) -> None:
    cpu: dict[tuple[str, str], float] = {}
    server: dict[tuple[str, str], float] = {}
    for (engine, kind), rounds in figures.items():
        cpu[engine, kind] = statistics.median(r[1] for r in rounds)
        server[engine, kind] = statistics.median(r[2] for r in rounds)
        emit(
            {
                "bench": "engines",
                "engine": engine,
                "step": kind,
                "users": args.users,
                "steps_per_round": args.users * args.steps * len(SCRIPTS[kind]),
                "steps_per_second_median": round(statistics.median(r[0] for r in rounds), 1),
                "cpu_ms_per_step_median": round(cpu[engine, kind], 2),
                "server_cpu_ms_per_step_median": round(server[engine, kind], 2),
            }
        )
    for kind in SCRIPTS:
        ratio = cpu["postgresql", kind] / cpu["sqlite", kind]
        with_server = (cpu["postgresql", kind] + server["postgresql", kind]) / cpu["sqlite", kind]
        emit(
            {
                "bench": "engines",
                "step": kind,
                "cpu_ratio_postgresql_vs_sqlite": round(ratio, 2),
                "cpu_ratio_with_the_server": round(with_server, 2),
                "goal_at_most": GOAL_RATIO,
                "ok": ratio <= GOAL_RATIO,
                "load": load_note(),
            }
        )


if __name__ == "__main__":
    asyncio.run(main())
