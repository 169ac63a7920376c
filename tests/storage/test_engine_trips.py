"""The engines (storage/engine/): deferred writes, batches, streams, rows, what a rollback undoes.

Each test runs on SQLite and on PostgreSQL (the `database` fixture)."""

from __future__ import annotations

import pytest

from storage.engine import Database


async def test_deferred_writes_go_in_order_before_the_next_statement(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE IF NOT EXISTS notes (n INTEGER, body TEXT)")
        tx.defer("INSERT INTO notes (n, body) VALUES (1, ?)", ("first",))
        tx.defer("UPDATE notes SET body = body || '+' WHERE body = ?", ("first",))
        assert await tx.scalar("SELECT body FROM notes") == "first+"
        tx.defer("INSERT INTO notes (n, body) VALUES (2, ?)", ("at commit",))
    async with db.reading() as tx:
        assert [r[0] for r in await tx.all("SELECT body FROM notes ORDER BY n")] == [
            "first+",
            "at commit",
        ]


async def test_a_failed_step_leaves_nothing_of_its_deferred_writes(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE notes (body TEXT NOT NULL)")
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('sent')")
            tx.defer("INSERT INTO notes (body) VALUES ('deferred')")
            raise RuntimeError("the step failed")
    with pytest.raises(Exception, match=r"(?i)not.null"):
        async with db.transaction() as tx:
            tx.defer("INSERT INTO notes (body) VALUES ('before the bad one')")
            tx.defer("INSERT INTO notes (body) VALUES (NULL)")
    async with db.reading() as tx:
        assert await tx.scalar("SELECT COUNT(*) FROM notes") == 0
    async with db.transaction() as tx:  # usable again, no transaction left open
        tx.defer("INSERT INTO notes (body) VALUES ('only')")
    async with db.reading() as tx:
        assert [r[0] for r in await tx.all("SELECT body FROM notes")] == ["only"]


async def test_stream_reads_a_large_query_in_batches(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE numbers (n INTEGER)")
        await tx.executemany("INSERT INTO numbers VALUES (?)", [(n,) for n in range(5001)])
    async with db.reading() as tx:
        seen = [row[0] async for row in tx.stream("SELECT n FROM numbers ORDER BY n", batch=1000)]
    assert seen == list(range(5001))


async def test_insert_returns_the_new_id_and_rows_read_by_name_and_position(db: Database) -> None:
    async with db.transaction() as tx:
        first = await tx.insert(
            "INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)",
            ("2021-05-26T02:00:00.000000Z", "TH-001", "probe", "{}"),
        )
        second = await tx.insert(
            "INSERT INTO audit_log (at, actor, action, details) VALUES (?, ?, ?, ?)",
            ("2021-05-26T02:00:01.000000Z", "TH-001", "probe", "{}"),
        )
        row = await tx.one("SELECT id, actor, action FROM audit_log WHERE id = ?", (second,))
    assert second == first + 1
    assert row is not None
    assert (row[0], row["actor"], row["action"]) == (second, "TH-001", "probe")
    assert tuple(row) == (second, "TH-001", "probe") and len(row) == 3
    assert row.keys() == ["id", "actor", "action"] and row[1:] == ("TH-001", "probe")


async def test_a_batch_gives_each_statement_its_count_and_rows(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE pairs (k TEXT PRIMARY KEY, v INTEGER)")
        tx.defer("INSERT INTO pairs VALUES ('a', 1)")
        done = await tx.batch(
            [
                ("INSERT INTO pairs VALUES (?, ?) ON CONFLICT DO NOTHING", ("a", 9)),
                ("INSERT INTO pairs VALUES (?, ?) ON CONFLICT DO NOTHING", ("b", 2)),
                ("UPDATE pairs SET v = v + 10 WHERE k IN (?, ?)", ("a", "b")),
                ("SELECT k, v FROM pairs ORDER BY k", ()),
            ]
        )
    assert [d.rowcount for d in done[:3]] == [0, 1, 2]
    assert [tuple(r) for r in done[3].rows] == [("a", 11), ("b", 12)]


async def test_sums_of_integers_come_back_as_integers(db: Database) -> None:
    async with db.reading() as tx:
        row = await tx.one(
            "SELECT SUM(n), COUNT(*), SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END) FROM "
            "(SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) AS three"
        )
    assert row is not None and tuple(row) == (6, 3, 2)
    assert all(type(v) is int for v in row)


async def test_literals_keep_their_question_marks_and_percent_signs(db: Database) -> None:
    async with db.reading() as tx:
        row = await tx.one(
            "SELECT 'why? 100%', ?, 'it''s ?', \"n\" FROM (SELECT 1 AS n) AS x", (7,)
        )
    assert row is not None and tuple(row) == ("why? 100%", 7, "it's ?", 1)


@pytest.fixture
def db(database: Database) -> Database:
    return database
