"""The outbox: messages that matter, written in the same transaction as their cause."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TypedDict

from bot.outgoing import LaterMessage, OutMessage, stored_message
from storage.engine import Tx, dumps, to_db_time


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    channel: str
    chat_ref: str
    message: OutMessage | LaterMessage
    attempts: int
    staff_id: str | None = None  # the person it is for
    origin: str | None = None  # the person who caused it (None: the bot itself)


@dataclass(frozen=True, slots=True)
class Recipient:
    channel: str
    chat_ref: str
    staff_id: str | None = None


class SendOptions(TypedDict, total=False):
    """The keyword options of OutboxRepo.enqueue, for callers that pass them through."""

    priority: int
    purpose: str | None
    not_before: datetime | None
    origin: str | None


HELD_PREFIX = "held:"  # the error of a row kept until its person writes again


class OutboxRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def enqueue(
        self,
        recipient: Recipient,
        message: OutMessage,
        now: datetime,
        *,
        priority: int = 5,
        purpose: str | None = None,
        not_before: datetime | None = None,
        origin: str | None = None,
    ) -> int:
        """`origin`: the staff member who caused the message (told if it cannot reach them)."""
        return await self.tx.insert(
            "INSERT INTO outbox (channel, chat_ref, payload, priority, next_attempt_at, "
            "created_at, purpose, staff_id, origin_staff_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                recipient.channel,
                recipient.chat_ref,
                dumps(message.to_json()),
                priority,
                to_db_time(not_before or now),
                to_db_time(now),
                purpose,
                recipient.staff_id,
                origin,
            ),
        )

    async def enqueue_payloads(
        self,
        rows: Iterable[tuple[Recipient, str, str | None]],
        now: datetime,
        *,
        priority: int = 5,
        not_before: datetime | None = None,
        origin: str | None = None,
    ) -> None:
        """Many rows, each with its own purpose, the payload already `dumps(m.to_json())` (broadcasts)."""
        at, created = to_db_time(not_before or now), to_db_time(now)
        await self.tx.executemany(
            "INSERT INTO outbox (channel, chat_ref, payload, priority, next_attempt_at, "
            "created_at, purpose, staff_id, origin_staff_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (r.channel, r.chat_ref, payload, priority, at, created, purpose, r.staff_id, origin)
                for r, payload, purpose in rows
            ),
        )

    async def due(self, now: datetime, limit: int, skip: set[int]) -> list[OutboxRow]:
        rows = await self.tx.all(
            "SELECT id, channel, chat_ref, payload, attempts, staff_id, origin_staff_id FROM outbox "
            "WHERE status = 'pending' AND next_attempt_at <= ? "
            "ORDER BY priority, id LIMIT ?",
            (to_db_time(now), limit + len(skip)),
        )
        wanted = islice((r for r in rows if r[0] not in skip), limit)  # decode no more than that
        return [
            OutboxRow(r[0], r[1], r[2], stored_message(json.loads(r[3])), r[4], r[5], r[6])
            for r in wanted
        ]

    async def mark_sent_many(self, sent: list[tuple[int, datetime, str | None]]) -> None:
        """Rows sent, in one statement: (row id, sent at, message ref)."""
        await self.tx.executemany(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_ref = ?, "
            "attempts = attempts + 1 WHERE id = ?",
            [(to_db_time(at), ref, row_id) for row_id, at, ref in sent],
        )

    async def mark_retry(self, row_id: int, at: datetime, error: str) -> None:
        await self.tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, error = ? "
            "WHERE id = ?",
            (to_db_time(at), error[:500], row_id),
        )

    async def retry_as(self, row_id: int, message: OutMessage, at: datetime, error: str) -> None:
        """The row is tried again with another message (an edit whose target is gone, as new)."""
        await self.tx.execute(
            "UPDATE outbox SET payload = ?, attempts = attempts + 1, next_attempt_at = ?, "
            "error = ? WHERE id = ?",
            (dumps(message.to_json()), to_db_time(at), error[:500], row_id),
        )

    async def other_channel_of(self, row_id: int) -> Recipient | None:
        """The row's person on another channel (the one they used last among the others), for
        a message this channel may no longer deliver."""
        row = await self.tx.one(
            "SELECT a.channel, a.chat_ref, a.staff_id FROM outbox o "
            "JOIN accounts a ON a.staff_id = o.staff_id AND a.channel <> o.channel "
            "WHERE o.id = ? ORDER BY COALESCE(a.last_inbound_at, '') DESC, a.channel LIMIT 1",
            (row_id,),
        )
        return None if row is None else Recipient(row[0], row[1], row[2])

    async def redirect(self, row_id: int, to: Recipient, at: datetime, note: str) -> None:
        """The row goes to `to` instead (another channel of the same person), due at `at`."""
        await self.tx.execute(
            "UPDATE outbox SET channel = ?, chat_ref = ?, next_attempt_at = ?, error = ?, "
            "attempts = attempts + 1 WHERE id = ?",
            (to.channel, to.chat_ref, to_db_time(at), note[:500], row_id),
        )

    async def delivery_of(self, row_id: int) -> tuple[str, str | None] | None:
        """(status, message ref) of a row: what an edit of that message waits for."""
        row = await self.tx.one("SELECT status, message_ref FROM outbox WHERE id = ?", (row_id,))
        return None if row is None else (row[0], row[1])

    async def mark_final(self, row_id: int, status: str, error: str) -> None:
        await self.tx.execute(
            "UPDATE outbox SET status = ?, attempts = attempts + 1, error = ? WHERE id = ?",
            (status, error[:500], row_id),
        )

    async def first_held_from_origin(self, row_id: int) -> bool:
        """Whether `row_id` is the only held row its originator has for that person now (they
        are told once per person, not once per message)."""
        row = await self.tx.one(
            "SELECT COUNT(*) FROM outbox o JOIN outbox r ON r.channel = o.channel "
            "AND r.chat_ref = o.chat_ref AND r.origin_staff_id = o.origin_staff_id "
            "WHERE o.id = ? AND r.status = 'undeliverable' AND r.error LIKE ?",
            (row_id, HELD_PREFIX + "%"),
        )
        return row is not None and row[0] == 1

    async def counts(self) -> dict[str, int]:
        rows = await self.tx.all("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {r[0]: r[1] for r in rows}

    async def for_chat(self, chat_ref: str) -> list[tuple[str, str, str | None]]:
        """(status, text, error) of every row to that chat, oldest first (for tests and support)."""
        rows = await self.tx.all(
            "SELECT status, payload, error FROM outbox WHERE chat_ref = ? ORDER BY id", (chat_ref,)
        )
        return [(r[0], _text_of(json.loads(r[1])), r[2]) for r in rows]


def _text_of(payload: dict[str, object]) -> str:
    """The text of a stored message; `[view]` for one rendered when it is sent."""
    return str(payload["text"]) if "text" in payload else f"[{payload.get('view')}]"
