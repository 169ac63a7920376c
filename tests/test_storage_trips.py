"""storage/db.py: statements in one trip each, deferred writes, and what a rollback undoes."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.db import Database


async def test_deferred_writes_go_in_order_before_the_next_statement(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")
            tx.defer("INSERT INTO notes (body) VALUES (?)", ("first",))
            tx.defer("UPDATE notes SET body = body || '+' WHERE body = ?", ("first",))
            assert await tx.scalar("SELECT body FROM notes") == "first+"
            tx.defer("INSERT INTO notes (body) VALUES (?)", ("at commit",))
        async with db.reading() as tx:
            assert [r[0] for r in await tx.all("SELECT body FROM notes ORDER BY id")] == [
                "first+",
                "at commit",
            ]
    finally:
        await db.close()


async def test_a_failed_step_leaves_nothing_of_its_deferred_writes(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO notes (body) VALUES ('sent')")
                tx.defer("INSERT INTO notes (body) VALUES ('deferred')")
                raise RuntimeError("the step failed")
        with pytest.raises(Exception, match="NOT NULL"):
            async with db.transaction() as tx:
                tx.defer("INSERT INTO notes (body) VALUES ('before the bad one')")
                tx.defer("INSERT INTO notes (body) VALUES (NULL)")
        async with db.reading() as tx:
            assert await tx.scalar("SELECT COUNT(*) FROM notes") == 0
        async with (
            db.transaction() as tx
        ):  # the connection is usable again, no transaction left open
            tx.defer("INSERT INTO notes (body) VALUES ('only')")
        async with db.reading() as tx:
            assert [r[0] for r in await tx.all("SELECT body FROM notes")] == ["only"]
    finally:
        await db.close()


async def test_stream_reads_a_large_query_in_batches(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db")
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE numbers (n INTEGER)")
            await tx.executemany("INSERT INTO numbers VALUES (?)", [(n,) for n in range(5001)])
        async with db.reading() as tx:
            seen = [
                row[0] async for row in tx.stream("SELECT n FROM numbers ORDER BY n", batch=1000)
            ]
        assert seen == list(range(5001))
    finally:
        await db.close()
