"""People a channel could not reach, gathered until their notice goes out (migration 034)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from storage.engine import Tx, from_db_time, to_db_time

ADMINS = ""  # the recipient of notices about what the bot sent of itself: every admin


@dataclass(frozen=True, slots=True)
class Unreached:
    id: int
    channel: str
    user_ref: str
    staff_id: str | None
    recipient: str  # whom to tell: the origin's staff id, or ADMINS


class UnreachedRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def note(
        self, channel: str, user_ref: str, staff_id: str | None, origin: str | None, now: datetime
    ) -> None:
        await self.tx.execute(
            "INSERT INTO unreached_notices (channel, user_ref, staff_id, origin_staff_id, noted_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (channel, user_ref, staff_id, origin or None, to_db_time(now)),
        )

    async def waiting(self) -> list[Unreached]:
        rows = await self.tx.all(
            "SELECT id, channel, user_ref, staff_id, COALESCE(origin_staff_id, '') "
            "FROM unreached_notices ORDER BY id"
        )
        return [Unreached(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    async def last_told(self, tz: tzinfo) -> dict[tuple[str, str], datetime]:
        """When each (recipient, channel) was last told."""
        rows = await self.tx.all("SELECT recipient, channel, told_at FROM unreached_told")
        return {(r[0], r[1]): from_db_time(r[2], tz) for r in rows}

    async def told(self, recipient: str, channel: str, ids: list[int], now: datetime) -> None:
        await self.tx.executemany(
            "DELETE FROM unreached_notices WHERE id = ?", [(row_id,) for row_id in ids]
        )
        await self.tx.execute(
            "INSERT INTO unreached_told (recipient, channel, told_at) VALUES (?, ?, ?) "
            "ON CONFLICT (recipient, channel) DO UPDATE SET told_at = excluded.told_at",
            (recipient, channel, to_db_time(now)),
        )

    async def forget_told_before(self, cutoff: datetime) -> None:
        await self.tx.execute("DELETE FROM unreached_told WHERE told_at < ?", (to_db_time(cutoff),))
