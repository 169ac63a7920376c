"""Migrations per engine (shared files in storage/migrations/, own ones under sqlite/ and postgres/): the same
version numbers, and after migrating the same tables with the same columns and indexes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from storage.engine import Database
from storage.engine.migrations import migrations
from storage.engine.sqlite import SqliteDatabase
from tests.harness import ENGINE_URLS, db_rows
from tests.paths import ROOT
from tests.postgres import TEMPLATE, PostgresServer


def _sqlite_schema(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        )]  # fmt: skip
        schema = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        schema["(indexes)"] = sorted(
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        )
    return schema


def _postgres_schema(url: str) -> dict[str, list[str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        ).fetchall()
        indexes = conn.execute(
            "SELECT i.indexname FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).fetchall()
    schema: dict[str, list[str]] = {}
    for table, column in rows:
        schema.setdefault(table, []).append(column)
    schema["(indexes)"] = sorted(r[0] for r in indexes)
    return schema


def test_both_engines_have_the_same_versions() -> None:
    assert [v for v, _ in migrations("sqlite")] == [v for v, _ in migrations("postgres")]


async def test_both_engines_make_the_same_tables_columns_and_indexes(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    db = await SqliteDatabase.open(tmp_path / "k.db")
    await db.close()
    sqlite_schema = _sqlite_schema(tmp_path / "k.db")
    postgres_schema = _postgres_schema(postgres_server.url(TEMPLATE))
    assert sorted(sqlite_schema) == sorted(postgres_schema)
    for table, columns in sqlite_schema.items():
        assert columns == postgres_schema[table], table


async def test_a_file_made_before_the_engines_split_keeps_working(tmp_path: Path) -> None:
    """The migrations table is the same: an existing SQLite file is not migrated again."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
        for version, sql in migrations("sqlite"):
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
    db = await SqliteDatabase.open(path, migrate=False)
    try:
        assert await db.migrate() == []
    finally:
        await db.close()


def _migrate(db_path: Path, url: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_PATH=str(db_path), DATABASE_URL=url, DEFAULT_LANGUAGE="vi")
    command = [sys.executable, "-m", "bot", "db", "migrate"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_db_migrate_applies_every_migration_to_a_new_file_then_none(tmp_path: Path) -> None:
    first = _migrate(tmp_path / "new.db")
    assert first.returncode == 0, first.stderr
    assert "đã áp dụng các migration 001, 002," in first.stdout, first.stdout
    again = _migrate(tmp_path / "new.db")
    assert "không có migration nào cần áp dụng" in again.stdout, again.stdout


def test_db_migrate_on_either_engine_says_when_it_is_up_to_date(
    database: Database, db_path: Path
) -> None:
    done = _migrate(db_path, ENGINE_URLS.get(db_path, ""))
    assert done.returncode == 0, done.stderr
    assert "không có migration nào cần áp dụng" in done.stdout, done.stdout
    assert db_rows(db_path, "SELECT COUNT(*) FROM schema_migrations") == [
        (len(migrations("sqlite")),)
    ]


def test_a_migration_at_the_shared_place_counts_for_an_engine_without_its_own(
    tmp_path: Path,
) -> None:
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "postgres").mkdir()
    (tmp_path / "sqlite" / "001_a.sql").write_text("CREATE TABLE a (x TEXT);")
    (tmp_path / "postgres" / "001_a.sql").write_text("CREATE TABLE a (x TEXT);")
    shared = "CREATE TABLE notes (id INTEGER PRIMARY KEY, n INTEGER, t REAL) WITHOUT ROWID;"
    (tmp_path / "002_notes.sql").write_text(shared)
    (tmp_path / "postgres" / "003_b.sql").write_text("CREATE TABLE b (x TEXT);")
    assert migrations("sqlite", tmp_path) == [(1, "CREATE TABLE a (x TEXT);"), (2, shared)]
    assert migrations("postgres", tmp_path) == [
        (1, "CREATE TABLE a (x TEXT);"),
        (2, "CREATE TABLE notes (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            "n BIGINT, t DOUBLE PRECISION);"),
        (3, "CREATE TABLE b (x TEXT);"),
    ]  # fmt: skip
