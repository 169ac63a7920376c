"""`storage.engine.unreachable`: a database away (server stopped or restarting, connection cut,
no connection in time) is told from a statement's own failure, on both engines."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors
from psycopg_pool import PoolTimeout

from storage.engine import Database, unreachable


def test_the_database_away_is_told_from_a_statements_own_error() -> None:
    assert unreachable(sqlite3.OperationalError("unable to open database file"))
    assert unreachable(sqlite3.OperationalError("disk I/O error"))
    assert not unreachable(sqlite3.OperationalError("no such table: staff"))
    assert not unreachable(sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert unreachable(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert unreachable(PoolTimeout("couldn't get a connection after 10.00 sec"))
    assert unreachable(errors.AdminShutdown("terminating connection"))  # 57P01: a restart
    assert not unreachable(errors.LockNotAvailable("could not obtain lock"))  # 55P03
    assert not unreachable(errors.UniqueViolation("duplicate key"))
    assert not unreachable(ValueError("not the database's"))


async def test_a_statements_own_error_on_the_engine_is_not_the_database_away(
    database: Database,
) -> None:
    with pytest.raises(Exception) as raised:
        async with database.reading() as tx:
            await tx.scalar("SELECT no_such_column FROM staff")
    assert not unreachable(raised.value)
