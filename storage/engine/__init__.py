"""The storage seam: the `Database` / `Tx` protocol and the engine chosen by the settings."""

from __future__ import annotations

import sqlite3
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
    "unreachable",
]

_SQLITE_AWAY = ("unable to open database file", "disk i/o error")
_PG_AWAY_CLASSES = ("08", "57")  # SQLSTATE: connection exception, operator intervention


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached (its server away or restarting,
    the connection cut, no connection in time) rather than that a statement failed."""
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).lower().startswith(_SQLITE_AWAY)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = getattr(exc, "sqlstate", None)
    return state is None or str(state)[:2] in _PG_AWAY_CLASSES


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
