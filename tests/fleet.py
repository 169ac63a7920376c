"""Several `python -m bot run --webhook` processes on one database, behind the sandbox's balancer.

The sandbox Bot API (in the bench's own process) posts each update to the instances in turn, as a
load balancer would; an instance that is down refuses the connection and the update goes to the
next one when it is sent again. An instance killed and started again comes back under a new name
(a machine replaced): its leases are taken over by the others once they expire.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sandbox.server import FakeBotApi
from storage.engine import to_db_time
from tests.harness import db_rows

SECRET = "bench-fleet-secret-0123456789abc"
# `python -m bot run --webhook` under cProfile, timed by CPU (not wall) time: waiting is free
_PROFILED = """
import cProfile, runpy, sys, time
sys.argv = ["bot", "run", "--webhook"]
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(runpy.run_module, "bot", run_name="__main__")
finally:
    profile.dump_stats({out!r})
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Fleet:
    def __init__(
        self,
        fake: FakeBotApi,
        db_path: Path,
        count: int,
        env: dict[str, str] | None = None,
        database_url: str = "",
        profile_dir: Path | None = None,
    ) -> None:
        """On the SQLite file `db_path`, or on the PostgreSQL `database_url` (files beside
        `db_path` either way). `profile_dir`: each instance runs under cProfile and writes its
        profile there when it stops (`i<number>-<generation>.prof`)."""
        self.fake = fake
        self.db_path = db_path
        self.ports = [free_port() for _ in range(count)]
        self.urls = [f"http://127.0.0.1:{port}/telegram" for port in self.ports]
        self.env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.base_url,
            DATABASE_PATH=str(db_path),
            DATABASE_URL=database_url,
            FILES_DIR=str(db_path.parent / "files"),
            WEBHOOK_URL=self.urls[0],  # the balancer's address, as Telegram knows it
            WEBHOOK_SECRET=SECRET,
            PTB_TIMEDELTA="true",
            **(env or {}),
        )
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self.generation = [0] * count
        self.kills = 0
        self.profile_dir = profile_dir
        fake.balance_webhook(self.urls)

    def _webhooks_set(self) -> int:
        return sum(1 for method, _ in self.fake.requests if method == "setWebhook")

    async def start(self, index: int | None = None, **extra_env: str) -> None:
        """Start one instance (or all) and wait until each has set its webhook."""
        for number in range(len(self.ports)) if index is None else [index]:
            before = self._webhooks_set()
            self.generation[number] += 1
            env = dict(
                self.env,
                WEBHOOK_PORT=str(self.ports[number]),
                INSTANCE_NAME=f"i{number}-{self.generation[number]}",
                **extra_env,
            )
            self.processes[number] = subprocess.Popen(
                self._command(number),
                cwd=self.db_path.parent,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            await self._webhooks_above(before)

    def _command(self, number: int) -> list[str]:
        if self.profile_dir is None:
            return [sys.executable, "-m", "bot", "run", "--webhook"]
        out = self.profile_dir / f"i{number}-{self.generation[number]}.prof"
        return [sys.executable, "-c", _PROFILED.format(out=str(out))]

    async def _webhooks_above(self, count: int) -> None:
        await self.fake.wait_for(lambda: self._webhooks_set() > count, timeout=120)

    def kill(self, index: int) -> None:
        process = self.processes[index]
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.processes[index] = None
        self.kills += 1

    def pid(self, index: int) -> int:
        process = self.processes[index]
        assert process is not None
        return process.pid

    def holder(self, lease: str) -> int | None:
        """Which instance holds a lease now (by its number), None if nobody does."""
        rows = db_rows(
            self.db_path,
            "SELECT holder FROM leases WHERE name = ? AND expires_at > ?",
            (lease, to_db_time(datetime.now(UTC))),
        )
        if not rows:
            return None
        return int(str(rows[0][0]).split("-")[0].removeprefix("i"))

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to all, their exits awaited while the sandbox (this event loop) answers."""
        running = [p for p in self.processes if p is not None and p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p in running) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for process in running:
            if process.poll() is None:
                process.kill()
                process.wait()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the running instances used so far."""
        total = 0.0
        for process in self.processes:
            if process is not None and process.poll() is None:
                total += _cpu_of(process.pid)
        return total


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> dict[str, Any]:
    return {"loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
