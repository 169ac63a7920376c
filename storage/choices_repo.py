"""The numbered choices of the last message a chat got on a channel without buttons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from storage.engine import Tx, dumps, to_db_time


class ChoicesRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def remember(
        self, channel: str, chat_ref: str, choices: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """The chat's pending choices are now these ((label, button data) in their numbered
        order); none: the last message asked nothing, so a typed number is just text."""
        if not choices:
            await self.tx.execute(
                "DELETE FROM pending_choices WHERE channel = ? AND chat_ref = ?",
                (channel, chat_ref),
            )
            return
        await self.tx.execute(
            "INSERT INTO pending_choices (channel, chat_ref, choices, sent_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(channel, chat_ref) DO UPDATE SET choices = excluded.choices, "
            "sent_at = excluded.sent_at",
            (channel, chat_ref, dumps([list(c) for c in choices]), to_db_time(now)),
        )

    async def pending(self, channel: str, chat_ref: str) -> list[tuple[str, str]]:
        found = await self.tx.scalar(
            "SELECT choices FROM pending_choices WHERE channel = ? AND chat_ref = ?",
            (channel, chat_ref),
        )
        if found is None:
            return []
        return [(str(label), str(data)) for label, data in json.loads(found)]
