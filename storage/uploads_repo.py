"""Directory files sent in the chat, kept per admin until applied, cancelled or expired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Tx, to_db_time


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
            "WHERE staff_id = ? AND closed = 0 AND expires_at > ? ORDER BY id",
            (staff_id, to_db_time(now)),
        )
        latest = {row[2]: Upload(*row) for row in rows}
        return sorted(latest.values(), key=lambda upload: upload.id)

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
