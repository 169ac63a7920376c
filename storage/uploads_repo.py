"""Directory files sent in the chat, kept per admin until applied, cancelled or expired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Tx, to_db_time

UPLOAD_ROSTER = "duty"  # a duty roster sent alone: never part of a directory batch


@dataclass(frozen=True, slots=True)
class Upload:
    id: int
    batch: int
    kind: str  # "units", "staff" or "routing"
    path: str
    name: str


class UploadsRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def open_batch(self, staff_id: str, now: datetime) -> list[Upload]:
        """The admin's files not yet applied, cancelled or expired, the latest of each kind."""
        rows = await self.tx.all(
            "SELECT id, batch, kind, path, name FROM directory_uploads "
            "WHERE staff_id = ? AND closed = 0 AND expires_at > ? AND kind <> ? ORDER BY id",
            (staff_id, to_db_time(now), UPLOAD_ROSTER),
        )
        latest = {row[2]: Upload(*row) for row in rows}
        return sorted(latest.values(), key=lambda upload: upload.id)

    async def open_upload(self, staff_id: str, upload_id: int, now: datetime) -> Upload | None:
        """The admin's file `upload_id` while not applied, cancelled or expired."""
        row = await self.tx.one(
            "SELECT id, batch, kind, path, name FROM directory_uploads "
            "WHERE id = ? AND staff_id = ? AND closed = 0 AND expires_at > ?",
            (upload_id, staff_id, to_db_time(now)),
        )
        return None if row is None else Upload(*row)

    async def add(
        self,
        staff_id: str,
        batch: int | None,
        kind: str,
        path: str,
        name: str,
        now: datetime,
        expires: datetime,
    ) -> int:
        """Join `batch` (None: start one); the batch's file of the same kind is replaced."""
        if batch is not None:
            await self.tx.execute(
                "UPDATE directory_uploads SET closed = 1 WHERE batch = ? AND kind = ?",
                (batch, kind),
            )
        row_id = await self.tx.insert(
            "INSERT INTO directory_uploads (staff_id, batch, kind, path, name, created_at, "
            "expires_at) VALUES (?, 0, ?, ?, ?, ?, ?)",
            (staff_id, kind, path, name, to_db_time(now), to_db_time(expires)),
        )
        await self.tx.execute(
            "UPDATE directory_uploads SET batch = ? WHERE id = ?", (batch or row_id, row_id)
        )
        await self.tx.execute(
            "UPDATE directory_uploads SET expires_at = ? WHERE batch = ? AND closed = 0",
            (to_db_time(expires), batch or row_id),
        )
        return batch or row_id

    async def close_batch(self, staff_id: str, batch: int) -> int:
        """Close the admin's open batch (conditional: a double tap closes it once)."""
        return await self.tx.execute(
            "UPDATE directory_uploads SET closed = 1 WHERE staff_id = ? AND batch = ? "
            "AND closed = 0",
            (staff_id, batch),
        )

    async def close_all(self, staff_id: str) -> None:
        await self.tx.execute(
            "UPDATE directory_uploads SET closed = 1 WHERE staff_id = ? AND closed = 0",
            (staff_id,),
        )

    async def spent(self, now: datetime, limit: int = 200) -> list[tuple[int, str]]:
        """Files no open upload needs any more (applied, cancelled, replaced or expired)."""
        moment = to_db_time(now)
        rows = await self.tx.all(
            "SELECT id, path FROM directory_uploads WHERE removed = 0 "
            "AND (closed = 1 OR expires_at <= ?) AND path NOT IN (SELECT path FROM "
            "directory_uploads WHERE closed = 0 AND expires_at > ?) ORDER BY id LIMIT ?",
            (moment, moment, limit),
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    async def mark_removed(self, upload_id: int) -> None:
        await self.tx.execute("UPDATE directory_uploads SET removed = 1 WHERE id = ?", (upload_id,))
