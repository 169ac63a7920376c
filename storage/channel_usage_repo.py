"""Messages sent per channel and local day, by how they were paid for (free within the
channel's window, billable after it, by template) and those held until the person writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.engine import Tx

KINDS = ("free", "billable", "templates", "held")


@dataclass(frozen=True, slots=True)
class SendCounts:
    free: int = 0
    billable: int = 0
    templates: int = 0
    held: int = 0


class ChannelUsageRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def count(self, channel: str, day: date, kind: str) -> None:
        """One more message of `kind` (free, billable, templates, held) on that local day."""
        if kind not in KINDS:
            raise ValueError(kind)
        await self.tx.execute(
            f"INSERT INTO channel_sends (channel, day, {kind}) VALUES (?, ?, 1) "
            f"ON CONFLICT (channel, day) DO UPDATE SET {kind} = channel_sends.{kind} + 1",
            (channel, day.isoformat()),
        )

    async def since(self, day: date) -> dict[str, SendCounts]:
        """Each channel's totals from `day` on (channels without any: absent)."""
        rows = await self.tx.all(
            "SELECT channel, SUM(free), SUM(billable), SUM(templates), SUM(held) "
            "FROM channel_sends WHERE day >= ? GROUP BY channel ORDER BY channel",
            (day.isoformat(),),
        )
        return {str(r[0]): SendCounts(*(int(v or 0) for v in r[1:])) for r in rows}
