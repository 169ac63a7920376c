"""The inbox: updates as the messenger handed them over, kept until the step they cause commits.

A done update keeps its id (the dedup and the polling offset need it) but not its body: the
message (a phone number, symptoms typed as text) is personal data with no use once handled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.engine import Statement, Tx, to_db_time


@dataclass(frozen=True, slots=True)
class InboxRow:
    channel: str
    update_id: str
    body: str  # JSON as received
    attempts: int


class InboxRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def store(
        self, channel: str, updates: Sequence[tuple[str, str]], now: datetime
    ) -> list[str]:
        """Keep each (update id, JSON body) once; the ids that were new, in the order given."""
        received = to_db_time(now)

        done = await self.tx.batch(
            [
                (
                    "INSERT INTO inbox (channel, update_id, body, received_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (channel, update_id, body, received),
                )
                for update_id, body in updates
            ]
        )
        return [
            update_id for (update_id, _), d in zip(updates, done, strict=True) if d.rowcount == 1
        ]

    async def open_rows(self, channel: str) -> list[InboxRow]:
        """Rows not handled yet, in arrival order."""
        rows = await self.tx.all(
            "SELECT channel, update_id, body, attempts FROM inbox "
            "WHERE channel = ? AND done_at IS NULL ORDER BY seq",
            (channel,),
        )
        return [InboxRow(row[0], row[1], row[2], row[3]) for row in rows]

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
            "UPDATE inbox SET done_at = ?, outcome = 'done', body = '' "
            "WHERE channel = ? AND update_id = ? AND done_at IS NULL",
            [(done, channel, update_id) for update_id in update_ids],
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
    return (
        "UPDATE inbox SET done_at = ?, outcome = 'done', body = '' "
        "WHERE channel = ? AND update_id = ? AND done_at IS NULL",
        (to_db_time(now), channel, update_id),
    )
