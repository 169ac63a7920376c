"""The inbox: updates as the messenger handed them over, kept until the step they cause commits.

A done update keeps its id (the dedup and the polling offset need it) but not its body: the
message (a phone number, symptoms typed as text) is personal data with no use once handled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.engine import Row, Statement, Tx, to_db_time
from storage.leases_repo import Lease, person_lease, release_statements, take_statements

_MARK_DONE = (
    "UPDATE inbox SET done_at = ?, outcome = 'done', body = '' "
    "WHERE channel = ? AND update_id = ? AND done_at IS NULL"
)
_ROW = "SELECT i.channel, i.update_id, i.body, i.attempts, COALESCE(i.person, '') FROM inbox i "


@dataclass(frozen=True, slots=True)
class InboxRow:
    channel: str
    update_id: str
    body: str  # JSON as received
    attempts: int
    person: str = ""  # whose update it is: their lease decides which instance handles it


class InboxRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def store(
        self,
        channel: str,
        updates: Sequence[tuple[str, str]],
        now: datetime,
        people: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Keep each (update id, JSON body) once, with whose it is (`people`: update id ->
        person); the ids that were new, in the order given."""
        done = await self.tx.batch(_store_statements(channel, updates, now, people or {}))
        return _fresh(updates, done)

    async def store_and_take(
        self,
        channel: str,
        updates: Sequence[tuple[str, str]],
        now: datetime,
        people: Mapping[str, str],
        lease: Lease | None,
    ) -> tuple[list[str], list[InboxRow]]:
        """`store`, and in the same trip take the leases of these people (where free) and read
        the rows not handled yet of those the `lease` holder now holds (without a lease: of all
        of them). (New ids, those rows in arrival order.)"""
        whose = sorted(set(people.values()))
        statements = _store_statements(channel, updates, now, people)
        if lease is None:
            statements.append(_open_of(channel, whose))
        else:
            names = [person_lease(channel, person) for person in whose]
            statements += take_statements(names, lease)
            statements.append(_open_held(channel, whose, lease.holder))
        done = await self.tx.batch(statements)
        return _fresh(updates, done), _inbox_rows(done[-1].rows)

    async def finish_and_look(
        self,
        channel: str,
        update_ids: Sequence[str],
        now: datetime,
        idle: Sequence[str],
        holder: str,
    ) -> list[InboxRow]:
        """In one trip: these updates done (`mark_done_many`); the leases of the `idle` people
        given up, then their rows not handled yet read (stored meanwhile by another instance).
        Given up first: a row stored elsewhere after this read finds the lease free (PostgreSQL:
        its taker waits for this commit), so nothing is left behind."""
        done_at = to_db_time(now)
        statements: list[Statement] = [
            (_MARK_DONE, (done_at, channel, update_id)) for update_id in update_ids
        ]
        if idle:
            names = [person_lease(channel, person) for person in idle]
            statements += release_statements(names, holder)
            statements.append(_open_of(channel, idle))
        if not statements:
            return []
        done = await self.tx.batch(statements)
        return _inbox_rows(done[-1].rows) if idle else []

    async def open_rows(self, channel: str) -> list[InboxRow]:
        """Rows not handled yet, in arrival order."""
        rows = await self.tx.all(
            "SELECT channel, update_id, body, attempts FROM inbox "
            "WHERE channel = ? AND done_at IS NULL ORDER BY seq",
            (channel,),
        )
        return [InboxRow(row[0], row[1], row[2], row[3]) for row in rows]

    async def open_of(self, channel: str, people: Sequence[str]) -> list[InboxRow]:
        """The rows not handled yet of these people, in arrival order."""
        if not people:
            return []
        return _inbox_rows(await self.tx.all(*_open_of(channel, people)))

    async def open_held(self, channel: str, people: Sequence[str], holder: str) -> list[InboxRow]:
        """`open_of` for those of these people whose lease `holder` holds."""
        if not people:
            return []
        return _inbox_rows(await self.tx.all(*_open_held(channel, people, holder)))

    async def people_to_pick_up(
        self, channel: str, holder: str, now: datetime, limit: int = 500
    ) -> list[str]:
        """People with rows not handled yet whose lease is free, expired or `holder`'s own (a
        crashed instance's people come back once its leases expire)."""
        rows = await self.tx.all(
            "SELECT DISTINCT COALESCE(i.person, '') FROM inbox i LEFT JOIN leases l "
            "ON l.name = 'inbox:' || i.channel || ':' || COALESCE(i.person, '') "
            "WHERE i.channel = ? AND i.done_at IS NULL "
            "AND (l.name IS NULL OR l.expires_at <= ? OR l.holder = ?) LIMIT ?",
            (channel, to_db_time(now), holder, limit),
        )
        return [row[0] for row in rows]

    async def last_update_id(self, channel: str, since: datetime) -> str | None:
        """The id of the latest update received, if it was received after `since`."""
        value = await self.tx.scalar(
            "SELECT update_id FROM inbox WHERE channel = ? AND received_at >= ? "
            "ORDER BY seq DESC LIMIT 1",
            (channel, to_db_time(since)),
        )
        return None if value is None else str(value)

    async def mark_done_many(self, channel: str, update_ids: Sequence[str], now: datetime) -> None:
        """These updates are done (those done already, e.g. by their step, stay as they are)."""
        done = to_db_time(now)
        await self.tx.executemany(
            _MARK_DONE, [(done, channel, update_id) for update_id in update_ids]
        )

    async def is_done(self, channel: str, update_id: str) -> bool:
        done = await self.tx.scalar(
            "SELECT done_at IS NOT NULL FROM inbox WHERE channel = ? AND update_id = ?",
            (channel, update_id),
        )
        return bool(done)

    async def count_attempt(self, channel: str, update_id: str) -> int:
        """One more failed attempt; how many there were."""
        await self.tx.execute(
            "UPDATE inbox SET attempts = attempts + 1 WHERE channel = ? AND update_id = ?",
            (channel, update_id),
        )
        return int(
            await self.tx.scalar(
                "SELECT attempts FROM inbox WHERE channel = ? AND update_id = ?",
                (channel, update_id),
            )
            or 0
        )

    async def give_up(self, channel: str, update_id: str, now: datetime) -> None:
        await self.tx.execute(
            "UPDATE inbox SET done_at = ?, outcome = 'failed' "
            "WHERE channel = ? AND update_id = ? AND done_at IS NULL",
            (to_db_time(now), channel, update_id),
        )


def mark_done_statement(channel: str, update_id: str, now: datetime) -> Statement:
    """One update done, as a statement for another trip (a step's first), in its transaction."""
    return (_MARK_DONE, (to_db_time(now), channel, update_id))


def _store_statements(
    channel: str, updates: Sequence[tuple[str, str]], now: datetime, people: Mapping[str, str]
) -> list[Statement]:
    received = to_db_time(now)
    return [
        (
            "INSERT INTO inbox (channel, update_id, body, received_at, person) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (channel, update_id, body, received, people.get(update_id, "")),
        )
        for update_id, body in updates
    ]


def _fresh(updates: Sequence[tuple[str, str]], done: Sequence[Any]) -> list[str]:
    return [update_id for (update_id, _), d in zip(updates, done, strict=False) if d.rowcount == 1]


def _open_of(channel: str, people: Sequence[str]) -> Statement:
    marks = ", ".join("?" * len(people)) or "NULL"
    return (
        f"{_ROW}WHERE i.channel = ? AND i.done_at IS NULL "
        f"AND COALESCE(i.person, '') IN ({marks}) ORDER BY i.seq",
        (channel, *people),
    )


def _open_held(channel: str, people: Sequence[str], holder: str) -> Statement:
    marks = ", ".join("?" * len(people)) or "NULL"
    return (
        f"{_ROW}JOIN leases l ON l.name = 'inbox:' || i.channel || ':' || i.person "
        f"WHERE i.channel = ? AND i.done_at IS NULL AND i.person IN ({marks}) "
        "AND l.holder = ? ORDER BY i.seq",
        (channel, *people, holder),
    )


def _inbox_rows(rows: Sequence[Row]) -> list[InboxRow]:
    return [InboxRow(row[0], row[1], row[2], row[3], row[4]) for row in rows]
