"""Copies of a file one channel holds, made for the others (bot/channels/file_bridge.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Tx, to_db_time

LOCAL = "files"  # the place of the copy in the bot's files folder


@dataclass(frozen=True, slots=True)
class FileCopy:
    copy_ref: str | None  # the path, or the channel's own id of the file
    failure: str | None  # why no copy could be made (then copy_ref is None)


class FileCopiesRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def find(self, channel: str, file_id: str, place: str) -> FileCopy | None:
        row = await self.tx.one(
            "SELECT copy_ref, failure FROM file_copies "
            "WHERE source_channel = ? AND source_file_id = ? AND place = ?",
            (channel, file_id, place),
        )
        return None if row is None else FileCopy(row[0], row[1])

    async def save(
        self, channel: str, file_id: str, place: str, copy: FileCopy, now: datetime
    ) -> bool:
        """Record the copy (or why there is none); False when one was recorded already (the
        first stays)."""
        return (
            await self.tx.execute(
                "INSERT INTO file_copies (source_channel, source_file_id, place, copy_ref, "
                "failure, made_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (source_channel, source_file_id, place) DO NOTHING",
                (channel, file_id, place, copy.copy_ref, copy.failure, to_db_time(now)),
            )
            == 1
        )

    async def forget(self, channel: str, file_id: str, place: str) -> None:
        """A copy that is gone (its file deleted from the disk): made again when needed."""
        await self.tx.execute(
            "DELETE FROM file_copies WHERE source_channel = ? AND source_file_id = ? AND place = ?",
            (channel, file_id, place),
        )
