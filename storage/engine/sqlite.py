"""The SQLite engine: one aiosqlite connection in WAL mode, numbered migrations, transactions.

All access goes through one asyncio lock, so a transaction of one coroutine never interleaves
with statements of another (they share the connection). Other processes (the CLI importing a
directory while the bot runs) are serialised by SQLite itself (WAL + busy timeout).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.engine.base import SQLITE, Dialect, Done, Row, Statement
from storage.engine.migrations import migrations

R = TypeVar("R")

WAL_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default


class SqliteTx:
    """The `Tx` of SQLite.

    Each call is one trip to the database thread: the statement, its rows and the cursor's close
    go together, and a transaction's BEGIN rides with its first statement. A step waits for
    the event loop after every trip while it holds the lock, so trips are what limit throughput.
    """

    def __init__(self, conn: aiosqlite.Connection, begin: str | None = None) -> None:
        self._conn = conn
        self._begin = begin
        self._later: list[tuple[str, Any, bool]] = []  # (sql, params or rows, executemany?)
        self._begun = False  # BEGIN has gone (or goes with the trip being sent)

    @property
    def dialect(self) -> Dialect:
        return SQLITE

    async def _trip(self, work: Callable[[sqlite3.Connection], R]) -> R:
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
        self._later.append((sql, params, False))

    def defer_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._later.append((sql, rows, True))

    async def finish(self, end: str | None) -> None:
        """Send what is still deferred, then `end` (a transaction's COMMIT), if anything was sent."""
        if not self._later and not self._begun:
            return
        await self._trip(lambda raw: raw.execute(end).close() if end else None)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._trip(lambda raw: _closing(raw.execute(sql, params), _rowcount))

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        return await self._trip(
            lambda raw: _closing(raw.execute(sql, params), lambda c: int(c.lastrowid or 0))
        )

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if isinstance(rows, list | tuple) and not rows:
            return  # nothing to write: spare the round trip to the database thread
        await self._trip(lambda raw: _closing(raw.executemany(sql, rows), lambda c: None))

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        found: Row | None = await self._trip(
            lambda raw: _closing(raw.execute(sql, params), lambda c: c.fetchone())
        )
        return found

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        found: list[Row] = await self._trip(
            lambda raw: _closing(raw.execute(sql, params), lambda c: c.fetchall())
        )
        return found

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def batch(self, statements: Sequence[Statement]) -> list[Done]:
        def work(raw: sqlite3.Connection) -> list[Done]:
            done = []
            for sql, params in statements:
                cursor = raw.execute(sql, params)
                try:
                    rows = cursor.fetchall() if cursor.description else []
                    done.append(Done(cursor.rowcount, rows))
                finally:
                    cursor.close()
            return done

        return await self._trip(work)

    async def stream(
        self, sql: str, params: Sequence[Any] = (), batch: int = 2000
    ) -> AsyncIterator[Row]:
        cursor = await self._trip(lambda raw: raw.execute(sql, params))
        try:
            while rows := await self._trip(lambda raw: cursor.fetchmany(batch)):
                for row in rows:
                    yield row
        finally:
            await self._trip(lambda raw: cursor.close())


def _rowcount(cursor: sqlite3.Cursor) -> int:
    return cursor.rowcount


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


class SqliteDatabase:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @property
    def dialect(self) -> Dialect:
        return SQLITE

    @classmethod
    async def open(cls, path: Path, *, migrate: bool = True) -> SqliteDatabase:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=10000",
        ):
            await SqliteTx(conn).execute(pragma)
        database = cls(conn, path)
        if migrate:
            await database.migrate()
        return database

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        async with self._lock:
            tx = SqliteTx(self._conn, begin="BEGIN IMMEDIATE")
            try:
                yield tx
                await tx.finish("COMMIT")  # deferred writes may fail here: roll back then too
            except BaseException:
                # Checked on the database thread: a cancelled COMMIT may still have run there.
                await SqliteTx(self._conn)._trip(
                    lambda raw: raw.execute("ROLLBACK").close() if raw.in_transaction else None
                )
                raise

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SqliteTx]:
        async with self._lock:
            tx = SqliteTx(self._conn)
            yield tx
            await tx.finish(None)

    async def migrate(self) -> list[int]:
        applied = []
        async with self._lock:
            tx = SqliteTx(self._conn)
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
            )
            done = {row[0] for row in await tx.all("SELECT version FROM schema_migrations")}
            for version, sql in migrations("sqlite"):
                if version in done:
                    continue
                await self._conn.executescript(
                    f"BEGIN IMMEDIATE;\n{sql}\n"
                    f"INSERT INTO schema_migrations (version) VALUES ({version});\nCOMMIT;"
                )
                applied.append(version)
        return applied

    # --- the write-ahead log during a purge ---------------------------------------------------
    # A commit that grows the WAL past 1000 pages runs a checkpoint inside that commit, under
    # the write lock, for 100+ ms. During a purge that commit is a batch's: the purge switches
    # that off on the bot's connection and checkpoints from a connection of its own, beside
    # the lock (PASSIVE: it waits for nobody and nobody waits for it).

    async def pause_checkpoints(self) -> None:
        async with self.reading() as tx:
            await tx.execute("PRAGMA wal_autocheckpoint = 0")

    async def resume_checkpoints(self) -> None:
        async with self.reading() as tx:
            await tx.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")

    async def checkpoint(self) -> None:
        await asyncio.to_thread(_checkpoint, self.path)


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path, timeout=10)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        conn.close()
