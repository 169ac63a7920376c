"""The storage seam: the `Database` / `Tx` protocol and the engine chosen by the settings."""

from __future__ import annotations

from pathlib import Path

from storage.engine.base import (
    POSTGRES,
    SQLITE,
    Database,
    Dialect,
    Done,
    Row,
    Statement,
    Tx,
    count_where,
    dumps,
    from_db_time,
    to_db_time,
)

__all__ = [
    "POSTGRES",
    "SQLITE",
    "Database",
    "Dialect",
    "Done",
    "Row",
    "Statement",
    "Tx",
    "count_where",
    "dumps",
    "from_db_time",
    "is_postgres_url",
    "open_database",
    "sqlite_path",
    "to_db_time",
]


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def sqlite_path(target: str | Path) -> Path:
    """A SQLite file named by a path or a `sqlite:///path` URL."""
    if isinstance(target, str) and target.startswith("sqlite:///"):
        return Path(target.removeprefix("sqlite:///"))  # sqlite:////abs/path keeps its "/"
    return Path(target)


async def open_database(target: str | Path, *, migrate: bool = True) -> Database:
    """A PostgreSQL URL opens a pool on that database; anything else names a SQLite file."""
    if is_postgres_url(target):
        from storage.engine.postgres import PostgresDatabase

        return await PostgresDatabase.open(str(target), migrate=migrate)
    from storage.engine.sqlite import SqliteDatabase

    return await SqliteDatabase.open(sqlite_path(target), migrate=migrate)
