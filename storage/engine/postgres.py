"""The PostgreSQL engine: psycopg 3 with its async connection pool.

A transaction holds one pooled connection from its first statement to its COMMIT; statements
go as written by the repositories (`?` placeholders translated, see placeholders.py). Deferred
writes and `Tx.batch` go through psycopg's pipeline mode: one round trip for several statements.

Connection loss (the server restarted, a replica promoted): the transaction under way fails (the
server rolled it back) and its caller tries again; the first connection found broken has every
idle one checked at once (they were cut too), and the pool reconnects by itself. A transaction
waits at most `POOL_WAIT` for a connection, so a server away is noticed, and said, in seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection, AsyncCursor, OperationalError
from psycopg.adapt import Loader
from psycopg.rows import RowMaker
from psycopg_pool import AsyncConnectionPool

from storage.engine.base import POSTGRES, Dialect, Done, Row, Statement
from storage.engine.migrations import migrations
from storage.engine.placeholders import to_pyformat

POOL_SIZE = 10
POOL_WAIT = 10.0  # seconds a transaction waits for a connection before it fails
MIGRATION_LOCK = 7_305_012  # pg_advisory_xact_lock key: one instance migrates at a time
_cursor_names = itertools.count()
# The pool warns at each failed reconnection attempt (several a second while the server is away);
# the bot's loops say it once (bot/outage.py).
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)


class PgRow:
    """A row by position or by column name, as sqlite3.Row is."""

    __slots__ = ("_columns", "_values")

    def __init__(self, values: Sequence[Any], columns: _Columns) -> None:
        self._values = tuple(values)
        self._columns = columns

    def __getitem__(self, key: int | str | slice, /) -> Any:
        if isinstance(key, str):
            return self._values[self._columns.index[key]]
        return self._values[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, PgRow | tuple) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"PgRow{self._values!r}"

    def keys(self) -> list[str]:
        return list(self._columns.names)


class _Columns:
    """A result's column names, shared by its rows; a name given twice reads the first."""

    __slots__ = ("index", "names")

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.index: dict[str, int] = {}
        for i, name in enumerate(names):
            self.index.setdefault(name, i)


def _pg_rows(cursor: AsyncCursor[Any]) -> RowMaker[PgRow]:
    columns = _Columns([column.name for column in cursor.description or ()])
    return lambda values: PgRow(values, columns)


class _NumberLoader(Loader):
    """numeric as int when whole (SUM of integers is numeric in PostgreSQL), else float."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode()
        return float(text) if any(c in text for c in ".eEn") else int(text)


async def _configure(conn: AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("numeric", _NumberLoader)


class PostgresTx:
    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn
        self._later: list[tuple[str, Any, bool]] = []  # (sql, params or rows, executemany?)
        self._begun = False  # psycopg's BEGIN has gone (it rides with the first statement)

    @property
    def dialect(self) -> Dialect:
        return POSTGRES

    def _cursor(self) -> AsyncCursor[PgRow]:
        return self._conn.cursor(row_factory=_pg_rows)

    async def _send(self, statements: Sequence[Statement]) -> list[AsyncCursor[PgRow]]:
        """What is deferred, then `statements`, in one round trip; their cursors, results read."""
        later, self._later = self._later, []
        begun, self._begun = self._begun, True
        if not later and len(statements) == 1 and begun:
            sql, params = statements[0]
            cursor = self._cursor()
            await cursor.execute(to_pyformat(sql), params)
            return [cursor]
        cursors = []
        async with self._conn.pipeline():
            await self._queue(later)
            for sql, params in statements:
                cursor = self._cursor()
                await cursor.execute(to_pyformat(sql), params)
                cursors.append(cursor)
        return cursors

    async def flush(self) -> None:
        if self._later:
            await self._send([])

    async def commit(self) -> None:
        """What is deferred, then the COMMIT, in one round trip."""
        if not self._later:
            await self._conn.commit()
            return
        later, self._later = self._later, []
        async with self._conn.pipeline():
            await self._queue(later)
            await self._conn.commit()

    async def _queue(self, later: list[tuple[str, Any, bool]]) -> None:
        """Deferred writes into the pipeline under way."""
        for sql, params, many in later:
            if many:
                await self._cursor().executemany(to_pyformat(sql), params)
            else:
                await self._cursor().execute(to_pyformat(sql), params)

    def defer(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._later.append((sql, params, False))

    def defer_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._later.append((sql, rows, True))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        (cursor,) = await self._send([(sql, params)])
        return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        (cursor,) = await self._send([(f"{sql} RETURNING id", params)])
        row = await cursor.fetchone()
        return 0 if row is None else int(row[0])

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        await self.flush()
        await self._cursor().executemany(to_pyformat(sql), rows)

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        (cursor,) = await self._send([(sql, params)])
        return await cursor.fetchone()

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        (cursor,) = await self._send([(sql, params)])
        return list(await cursor.fetchall())

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.one(sql, params)
        return None if row is None else row[0]

    async def batch(self, statements: Sequence[Statement]) -> list[Done]:
        if not statements:
            await self.flush()
            return []
        done = []
        for cursor in await self._send(statements):
            rows: list[Row] = list(await cursor.fetchall()) if cursor.description else []
            done.append(Done(cursor.rowcount, rows))
        return done

    async def stream(
        self, sql: str, params: Sequence[Any] = (), batch: int = 2000
    ) -> AsyncIterator[Row]:
        await self.flush()
        name = f"khaibao_stream_{next(_cursor_names)}"
        async with self._conn.cursor(name, row_factory=_pg_rows) as cursor:
            cursor.itersize = batch
            await cursor.execute(to_pyformat(sql), params)
            async for row in cursor:
                yield row


class PostgresDatabase:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self._pool = pool
        self._checking: asyncio.Task[None] | None = None

    @property
    def dialect(self) -> Dialect:
        return POSTGRES

    @classmethod
    async def open(
        cls, url: str, *, migrate: bool = True, size: int = POOL_SIZE
    ) -> PostgresDatabase:
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url, min_size=1, max_size=size, open=False, configure=_configure, timeout=POOL_WAIT
        )
        await pool.open(wait=True, timeout=30)
        database = cls(pool)
        if migrate:
            try:
                await database.migrate()
            except BaseException:
                await pool.close()
                raise
        return database

    async def close(self) -> None:
        if self._checking is not None:
            await asyncio.gather(self._checking, return_exceptions=True)
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTx]:
        async with self._pool.connection() as conn:  # rolls back on errors
            try:
                tx = PostgresTx(conn)
                yield tx
                await tx.commit()
            except OperationalError:
                if conn.broken:  # cut: so are the idle ones, most likely
                    self._check_idle_connections()
                raise

    def _check_idle_connections(self) -> None:
        if self._checking is None or self._checking.done():
            self._checking = asyncio.create_task(self._pool.check(), name="pg-pool-check")

    reading = transaction  # one connection; what it wrote commits when it is given back

    async def migrate(self) -> list[int]:
        applied = []
        async with self._pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
            )
            cursor = await conn.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in await cursor.fetchall()}
            for version, sql in migrations("postgres"):
                if version in done:
                    continue
                await conn.execute(sql.encode())  # no parameters: the whole script at once
                await conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES (%s)", (version,)
                )
                applied.append(version)
        return applied

    async def pause_checkpoints(self) -> None:
        """PostgreSQL checkpoints on its own, beside the sessions."""

    async def checkpoint(self) -> None:
        """Nothing to do: see pause_checkpoints."""

    async def resume_checkpoints(self) -> None:
        """Nothing to do: see pause_checkpoints."""
