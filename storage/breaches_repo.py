"""The personal-data breach register (Law 91/2025 Art 23): incidents, deadlines, notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from storage.engine import Row, Tx, from_db_time, to_db_time

_COLUMNS = (
    "id, summary, detected_at, opened_by, created_at, deadline_at, authority_at, people_at, "
    "remind_at, remind_stage"
)


@dataclass(frozen=True, slots=True)
class Breach:
    id: int
    summary: str
    detected_at: datetime
    opened_by: str
    created_at: datetime
    deadline_at: datetime
    authority_at: datetime | None
    people_at: datetime | None
    remind_at: datetime | None
    reminders_sent: int


class BreachesRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    def _breach(self, row: Row) -> Breach:
        tz = self.tz
        return Breach(
            row[0], row[1], from_db_time(row[2], tz), row[3], from_db_time(row[4], tz),
            from_db_time(row[5], tz), from_db_time(row[6], tz), from_db_time(row[7], tz),
            from_db_time(row[8], tz), row[9],
        )  # fmt: skip

    async def open(
        self,
        summary: str,
        detected_at: datetime,
        opened_by: str,
        now: datetime,
        deadline_at: datetime,
        remind_at: datetime,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO breaches (summary, detected_at, opened_by, created_at, deadline_at, "
            "remind_at) VALUES (?, ?, ?, ?, ?, ?)",
            (summary, to_db_time(detected_at), opened_by, to_db_time(now),
             to_db_time(deadline_at), to_db_time(remind_at)),
        )  # fmt: skip

    async def get(self, breach_id: int) -> Breach | None:
        row = await self.tx.one(f"SELECT {_COLUMNS} FROM breaches WHERE id = ?", (breach_id,))
        return None if row is None else self._breach(row)

    async def all(self) -> list[Breach]:
        rows = await self.tx.all(f"SELECT {_COLUMNS} FROM breaches ORDER BY id")
        return [self._breach(r) for r in rows]

    async def due(self, now: datetime) -> list[Breach]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM breaches WHERE remind_at IS NOT NULL AND remind_at <= ? "
            "ORDER BY id",
            (to_db_time(now),),
        )
        return [self._breach(r) for r in rows]

    async def next_reminder(self) -> datetime | None:
        text: str | None = await self.tx.scalar("SELECT MIN(remind_at) FROM breaches")
        return from_db_time(text, self.tz)

    async def reminded(self, breach_id: int, seen: datetime, next_at: datetime | None) -> bool:
        """Move the reminder on if it still says `seen` (one instance sends it)."""
        changed = await self.tx.execute(
            "UPDATE breaches SET remind_at = ?, remind_stage = remind_stage + 1 "
            "WHERE id = ? AND remind_at = ?",
            (None if next_at is None else to_db_time(next_at), breach_id, to_db_time(seen)),
        )
        return changed == 1

    async def notified_authority(self, breach_id: int, at: datetime) -> bool:
        """Recorded once (the first time stands); the reminders stop."""
        changed = await self.tx.execute(
            "UPDATE breaches SET authority_at = ?, remind_at = NULL "
            "WHERE id = ? AND authority_at IS NULL",
            (to_db_time(at), breach_id),
        )
        return changed == 1

    async def notified_people(self, breach_id: int, at: datetime) -> bool:
        changed = await self.tx.execute(
            "UPDATE breaches SET people_at = ? WHERE id = ? AND people_at IS NULL",
            (to_db_time(at), breach_id),
        )
        return changed == 1
