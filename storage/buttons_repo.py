"""The messages that carry a subject's buttons, so that every copy is edited once it is settled.

A subject is `kind:id` (`travel:12`, `alert:3`, `return:12`). A row points at the outbox row of
the message; its messenger reference is known once the row is sent, and an edit queued before
that waits for it (`outbox:<id>`, see the sender).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from storage.engine import Tx

COPY = "copy"
LIST = "list"


@dataclass(frozen=True, slots=True)
class ButtonCopy:
    outbox_id: int
    channel: str
    chat_ref: str
    message_ref: str  # the messenger's id, or `outbox:<id>` while the message is still queued
    staff_id: str | None
    role: str
    text: str


class ButtonsRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def remember(self, subjects: Iterable[str], outbox_id: int, role: str = COPY) -> None:
        await self.tx.executemany(
            "INSERT INTO button_messages (subject, outbox_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(s, outbox_id, role) for s in subjects],
        )

    async def remember_since(self, after_outbox_id: int, purpose_prefix: str) -> None:
        """Rows queued in this transaction (ids above `after_outbox_id`) whose purpose is
        `<prefix><subject>`: a sweep that queues thousands at once records them in one statement."""
        await self.tx.execute(
            "INSERT INTO button_messages (subject, outbox_id) "
            "SELECT substr(purpose, ?), id FROM outbox WHERE id > ? AND purpose LIKE ? ON CONFLICT DO NOTHING",
            (len(purpose_prefix) + 1, after_outbox_id, purpose_prefix + "%"),
        )

    async def last_outbox_id(self) -> int:
        found: int | None = await self.tx.scalar("SELECT MAX(id) FROM outbox")
        return found or 0

    async def open_copies(self, subject: str) -> list[ButtonCopy]:
        """The messages of `subject` whose buttons are still live (sent, or still queued)."""
        rows = await self.tx.all(
            "SELECT o.id, o.channel, o.chat_ref, COALESCE(o.message_ref, 'outbox:' || o.id), "
            "o.staff_id, b.role, o.payload FROM button_messages b JOIN outbox o ON o.id = b.outbox_id "
            "WHERE b.subject = ? AND b.closed = 0 "
            "AND (o.message_ref IS NOT NULL OR o.status = 'pending') ORDER BY o.id",
            (subject,),
        )
        return [
            ButtonCopy(r[0], r[1], r[2], r[3], r[4], r[5], _text(json.loads(r[6]))) for r in rows
        ]

    async def close(self, outbox_ids: Iterable[int]) -> None:
        """Their closing edit is queued: no later settlement edits them again."""
        await self.tx.executemany(
            "UPDATE button_messages SET closed = 1 WHERE outbox_id = ?",
            [(i,) for i in outbox_ids],
        )

    async def subjects_of(self, chat_ref: str, message_ref: str, role: str) -> list[str]:
        """The subjects a message in a chat (the one a button was pressed on) carries, open only."""
        rows = await self.tx.all(
            "SELECT b.subject FROM button_messages b JOIN outbox o ON o.id = b.outbox_id "
            "WHERE b.role = ? AND b.closed = 0 AND o.chat_ref = ? AND o.message_ref = ? "
            "ORDER BY b.subject",
            (role, chat_ref, message_ref),
        )
        return [r[0] for r in rows]


def _text(payload: dict[str, object]) -> str:
    return str(payload.get("text", ""))
