"""The SQLite database: one aiosqlite connection in WAL mode, numbered migrations, transactions.

All access goes through one asyncio lock, so a transaction of one coroutine never interleaves
with statements of another (they share the connection). Other processes (the CLI importing a
directory while the bot runs) are serialised by SQLite itself (WAL + busy timeout).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, overload

import aiosqlite

R = TypeVar("R")

_DB_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_db_time(moment: datetime) -> str:
    """UTC text that sorts like the instants it names."""
    # isoformat writes the same text as strftime(_DB_TIME_FORMAT), several times faster.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@overload
def from_db_time(text: str, tz: tzinfo) -> datetime: ...
@overload
def from_db_time(text: str | None, tz: tzinfo) -> datetime | None: ...
def from_db_time(text: str | None, tz: tzinfo) -> datetime | None:
    if text is None:
        return None
    # fromisoformat reads what to_db_time writes ("Z" included) ~20x faster than strptime.
    return datetime.fromisoformat(text).replace(tzinfo=UTC).astimezone(tz)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    # One encoder for all: json.dumps with options builds a new one per call (costly in bulk).
    return _ENCODER.encode(value)


class Tx:
    """A handle on the connection inside `Database.transaction()` or `Database.reading()`.

    Each call is one trip to the database thread: the statement, its rows and the cursor's close
    go together, and a transaction's BEGIN rides with its first statement. A step waits for
    the event loop after every trip while it holds the lock, so trips are what limit throughput.
    """

    def __init__(self, conn: aiosqlite.Connection, begin: str | None = None) -> None:
        self._conn = conn
        self._begin = begin
        self._later: list[tuple[str, Any, bool]] = []  # (sql, params or rows, executemany?)
        self._begun = False  # BEGIN has gone (or goes with the trip being sent)

    async def run(self, work: Callable[[sqlite3.Connection], R]) -> R:
        """Several statements in one trip: `work` gets the sqlite3 connection, on its thread."""
        begin, self._begin = self._begin, None
        later, self._later = self._later, []
        self._begun = self._begun or begin is not None

        def trip() -> R:
            raw = self._conn._conn  # the sqlite3 connection, see _in_db_thread
            if begin is not None:
                raw.execute(begin)
            for sql, params, many in later:
                (raw.executemany(sql, params) if many else raw.execute(sql, params)).close()
            return work(raw)

        return await _in_db_thread(self._conn, trip)

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A write whose outcome nobody reads: it goes with the next trip (at the latest the
        COMMIT), in order with the statements around it. Not for writes that may fail on purpose."""
        self._later.append((sql, params, False))

    def defer_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`defer` for an executemany."""
        if rows:
            self._later.append((sql, rows, True))

    async def finish(self, end: str | None) -> None:
        """Send what is still deferred, then `end` (a transaction's COMMIT), if anything was sent."""
        if not self._later and not self._begun:
            return
        await self.run(lambda raw: raw.execute(end).close() if end else None)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self.run(lambda raw: _closing(raw.execute(sql, params), lambda c: c.rowcount))

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self.run(
            lambda raw: _closing(raw.execute(sql, params), lambda c: int(c.lastrowid or 0))
        )

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if isinstance(rows, list | tuple) and not rows:
            return  # nothing to write: spare the round trip to the database thread
        await self.run(lambda raw: _closing(raw.executemany(sql, rows), lambda c: None))

    async def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        return await self.run(
            lambda raw: _closing(raw.execute(sql, params), lambda c: c.fetchone())
        )

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self.run(
            lambda raw: _closing(raw.execute(sql, params), lambda c: c.fetchall())
        )

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def stream(
        self, sql: str, params: Sequence[Any] = (), batch: int = 2000
    ) -> AsyncIterator[sqlite3.Row]:
        """Rows of a large query, `batch` per trip, without holding them all in memory."""
        cursor = await self.run(lambda raw: raw.execute(sql, params))
        try:
            while rows := await self.run(lambda raw: cursor.fetchmany(batch)):
                for row in rows:
                    yield row
        finally:
            await self.run(lambda raw: cursor.close())


def _closing(cursor: sqlite3.Cursor, read: Callable[[sqlite3.Cursor], R]) -> R:
    try:
        return read(cursor)
    finally:
        cursor.close()


async def _in_db_thread(conn: aiosqlite.Connection, work: Callable[[], R]) -> R:
    """Run `work` on aiosqlite's connection thread, in order with everything else queued there.

    aiosqlite's public calls take a trip per execute, fetch and close; its `_execute` (stable
    from 0.17 to 0.22, pinned in pyproject.toml) runs a whole function in one trip.
    """
    queue: Callable[[Callable[[], R]], Awaitable[R]] = conn._execute  # untyped in aiosqlite
    return await queue(work)


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> Database:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=10000",
        ):
            await Tx(conn).execute(pragma)
        database = cls(conn, path)
        await database.migrate()
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One committed step: everything inside commits together or not at all."""
        async with self._lock:
            tx = Tx(self._conn, begin="BEGIN IMMEDIATE")
            try:
                yield tx
                await tx.finish("COMMIT")  # deferred writes may fail here: roll back then too
            except BaseException:
                # Checked on the database thread: a cancelled COMMIT may still have run there.
                await Tx(self._conn).run(
                    lambda raw: raw.execute("ROLLBACK").close() if raw.in_transaction else None
                )
                raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        async with self._lock:
            tx = Tx(self._conn)
            yield tx
            await tx.finish(None)

    async def migrate(self) -> None:
        async with self._lock:
            tx = Tx(self._conn)
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
            )
            done = {row[0] for row in await tx.all("SELECT version FROM schema_migrations")}
            for version, sql in _migrations():
                if version in done:
                    continue
                await self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{sql}\n"
                    f"INSERT INTO schema_migrations (version) VALUES ({version});\nCOMMIT;"
                )


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)
