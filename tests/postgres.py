"""A real PostgreSQL for the tests: a throw-away cluster in a temporary folder, on a free port.

`initdb` refuses to run as root, so as root the cluster is made and run by `nobody`. One
template database is migrated once; every test gets a fresh copy of it (CREATE DATABASE ...
TEMPLATE, a file copy: fast). Without the PostgreSQL server binaries the PostgreSQL half of the
tests is skipped, and the run says so in one line.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

TEMPLATE = "khaibao_template"
NO_POSTGRES = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found: the PostgreSQL half of the tests "
    "was skipped (apt-get install postgresql, or set PG_BIN)"
)
_BIN_ENV = "PG_BIN"  # a folder with initdb and pg_ctl, when they are elsewhere
_numbers = itertools.count()


def find_binaries() -> Path | None:
    candidates = [os.environ.get(_BIN_ENV, "")]
    candidates += sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    if found := shutil.which("initdb"):
        candidates.append(str(Path(found).parent))
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """initdb + pg_ctl start; `new_database()` a fresh migrated database's URL."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="khaibao-pg-"))
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="nobody")
            self._as_user = ["runuser", "-u", "nobody", "--"]

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self._as_user, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.folder,
        )

    def start(self) -> None:
        data = self.folder / "data"
        self._run(
            str(self.binaries / "initdb"),
            "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self._start_server()
        # on a thread of its own: the session fixture may be set up inside a test's event loop
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, self._make_template()).result()

    def _start_server(self) -> None:
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300 -c shared_buffers=64MB"
        )
        self._run(
            str(self.binaries / "pg_ctl"),
            "-D", str(self.folder / "data"), "-o", options, "-l", str(self.folder / "log"),
            "-w", "start",
        )  # fmt: skip

    def stop_server(self) -> None:
        """The server stops (every session cut, as when it restarts or fails over); the data
        stays, for `start_server`. Only on a server of the test's own: others share the
        session's."""
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast",
                  "-w", "stop")  # fmt: skip

    def start_server(self) -> None:
        self._start_server()

    async def _admin(self, *statements: str) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(
            self.url("postgres"), autocommit=True
        ) as conn:
            for statement in statements:
                await conn.execute(statement.encode())

    async def _make_template(self) -> None:
        from storage.engine.postgres import PostgresDatabase

        await self._admin(f"CREATE DATABASE {TEMPLATE}")
        database = await PostgresDatabase.open(self.url(TEMPLATE))
        await database.close()

    async def new_database(self) -> str:
        name = f"khaibao_{os.getpid()}_{next(_numbers)}"
        await self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        data = self.folder / "data"
        try:
            self._run(str(self.binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
