"""Copying a whole database to another engine's (a district's SQLite file into PostgreSQL).

Table by table in the order the source made them (what a row refers to is copied first), in
batches, each row kept once (ON CONFLICT DO NOTHING: a rerun copies only what is missing).
Afterwards every table must hold as many rows as in the source.

A source gets a `database_id` in its meta table the first time it is copied, and that row goes
with the copy: a target must be empty, or carry the same id (a rerun). A target holding another
database's rows (another district's) is refused before anything is written, rather than merged:
their ids would collide.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from storage.engine import Database, Tx

BATCH = 1000
_ID = "SELECT value FROM meta WHERE key = 'database_id'"


class CopyRefused(Exception):
    """The target holds rows of another database: nothing was written."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    source: int  # rows in the source
    before: int  # rows in the target before the copy
    after: int  # rows in the target after it

    @property
    def matches(self) -> bool:
        return self.after == self.source


async def _tables(tx: Tx) -> list[str]:
    return [str(row[0]) for row in await tx.all(tx.dialect.tables_sql)]


async def _columns(tx: Tx, table: str) -> list[str]:
    return [str(row[0]) for row in await tx.all(tx.dialect.columns_sql, (table,))]


async def _count(tx: Tx, table: str) -> int:
    return int(await tx.scalar(f"SELECT COUNT(*) FROM {table}") or 0)


async def copy_database(
    source: Database, target: Database, progress: Callable[[TableCopy], None] = lambda _: None
) -> list[TableCopy]:
    """Every table of `source` into the same table of `target` (both migrated to the same
    version); the counts per table."""
    async with source.reading() as tx:
        tables = await _tables(tx)
    async with target.reading() as tx:
        present = set(await _tables(tx))
    missing = [t for t in tables if t not in present]
    if missing:
        raise ValueError(f"tables missing in the target: {', '.join(missing)}")
    await _check_target(await _source_id(source), target, tables)
    copies = []
    for table in tables:
        copy = await _copy_table(source, target, table)
        progress(copy)
        copies.append(copy)
    resync = target.dialect.resync_ids_sql
    if resync is not None:
        async with target.transaction() as tx:
            await tx.execute(resync)
    return copies


async def _copy_table(source: Database, target: Database, table: str) -> TableCopy:
    async with target.reading() as tx:
        columns = await _columns(tx, table)
        before = await _count(tx, table)
    names = ", ".join(columns)
    insert = (
        f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))}) "
        "ON CONFLICT DO NOTHING"
    )
    async with source.reading() as read:
        count = await _count(read, table)
        rows: list[tuple[object, ...]] = []
        async for row in read.stream(f"SELECT {names} FROM {table}", batch=BATCH):
            rows.append(tuple(row))
            if len(rows) == BATCH:
                await _write(target, insert, rows)
                rows = []
        await _write(target, insert, rows)
    async with target.reading() as tx:
        after = await _count(tx, table)
    return TableCopy(table, count, before, after)


async def _write(target: Database, insert: str, rows: list[tuple[object, ...]]) -> None:
    if rows:
        async with target.transaction() as tx:
            await tx.executemany(insert, rows)


async def _source_id(source: Database) -> str:
    async with source.transaction() as tx:
        found = await tx.scalar(_ID)
        if found is None:
            found = str(uuid.uuid4())
            await tx.execute("INSERT INTO meta (key, value) VALUES ('database_id', ?)", (found,))
    return str(found)


async def _check_target(source_id: str, target: Database, tables: list[str]) -> None:
    async with target.reading() as tx:
        found = await tx.scalar(_ID)
        if found == source_id:
            return  # a rerun of this copy
        if found is not None:
            raise CopyRefused(f"the target is a copy of another database ({found})")
        for table in tables:
            if await tx.scalar(f"SELECT 1 FROM {table} LIMIT 1") is not None:
                raise CopyRefused(f"the target already holds rows ({table})")
