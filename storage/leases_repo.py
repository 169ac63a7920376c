"""Leases: a named piece of work held by one instance until its expiry (README "Several instances").

Taking is one upsert whose conflict branch only fires while the lease is the taker's own or has
expired, so two instances racing for it never both get it: SQLite runs them one after the
other, and PostgreSQL's `ON CONFLICT DO UPDATE ... WHERE` re-checks the locked row. Times are the
instances' wall clocks (UTC, kept in step by NTP), never the business Clock a test may move.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from storage.engine import Database, Statement, Tx, to_db_time

SWEEP_LOCK = 0x6B68_5357  # "khSW": the advisory lock of one sweep tick on PostgreSQL

_TAKE = (
    "INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?"
)
_RELEASE = "DELETE FROM leases WHERE name = ? AND holder = ?"


def person_lease(channel: str, person: str) -> str:
    """The lease of one person's inbox rows (storage/inbox_repo.py joins on the same name)."""
    return f"inbox:{channel}:{person}"


@dataclass(frozen=True, slots=True)
class Lease:
    """Who takes leases, and the times of the taking: now, and when they expire."""

    holder: str
    now: datetime
    until: datetime


def take_statements(names: Sequence[str], lease: Lease) -> list[Statement]:
    """`LeasesRepo.take` of each, as statements for a `Tx.batch` (rowcount 1: taken)."""
    expires, moment = to_db_time(lease.until), to_db_time(lease.now)
    return [(_TAKE, (name, lease.holder, expires, moment)) for name in names]


def release_statements(names: Sequence[str], holder: str) -> list[Statement]:
    return [(_RELEASE, (name, holder)) for name in names]


class LeasesRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take (or renew) the lease if it is free, expired or already `holder`'s."""
        taken = await self.tx.execute(_TAKE, (name, holder, to_db_time(until), to_db_time(now)))
        return taken == 1

    def take_many_later(
        self, names: Sequence[str], holder: str, now: datetime, until: datetime
    ) -> None:
        """`take` for many, sent with the next statement (`InboxRepo.open_held` reads which)."""
        expires, moment = to_db_time(until), to_db_time(now)
        self.tx.defer_many(_TAKE, [(name, holder, expires, moment) for name in names])

    async def renew_all(self, holder: str, until: datetime) -> int:
        """Every lease `holder` still holds lasts until `until`; how many there are."""
        return await self.tx.execute(
            "UPDATE leases SET expires_at = ? WHERE holder = ?", (to_db_time(until), holder)
        )

    async def release(self, name: str, holder: str) -> None:
        await self.tx.execute(_RELEASE, (name, holder))

    async def release_all(self, holder: str) -> None:
        await self.tx.execute("DELETE FROM leases WHERE holder = ?", (holder,))


@asynccontextmanager
async def sweeping_alone(db: Database) -> AsyncIterator[bool]:
    """Whether this tick may sweep: no other instance's tick is under way.

    The sweep's lease keeps it on one instance; this makes two ticks at once (a holder frozen
    past its lease, then woken) harmless as well. SQLite runs write transactions one after the
    other, so a due row moved on by one tick is no longer due for the other: always True (its
    dialect has no lock). PostgreSQL runs them side by side (READ COMMITTED: both could read the
    same due row), so the tick holds its dialect's lock (a session advisory lock), released
    when the tick ends or its connection drops (the instance died).
    """
    dialect = db.dialect
    if dialect.try_lock_sql is None or dialect.unlock_sql is None:
        yield True
        return
    async with db.reading() as tx:
        taken = bool(await tx.scalar(dialect.try_lock_sql, (SWEEP_LOCK,)))
        try:
            yield taken
        finally:
            if taken:
                await tx.scalar(dialect.unlock_sql, (SWEEP_LOCK,))
