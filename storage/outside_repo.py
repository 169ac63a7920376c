"""Outside contacts (contacts.csv) and the case reports prepared for them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.domain.outside_contacts import OutsideContact
from storage.engine import Tx, dumps, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class OutsideReport:
    id: int
    case_id: int
    contact_id: str
    body: str
    handed_to: tuple[str, ...]  # who may record it as sent
    sent_by: str | None
    sent_at: datetime | None


class OutsideRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    async def replace_contacts(self, contacts: list[OutsideContact]) -> None:
        await self.tx.execute("DELETE FROM outside_contacts")
        await self.tx.executemany(
            "INSERT INTO outside_contacts (contact_id, name, body, phone, email, notify_on) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (c.contact_id, c.name, c.body, c.phone, c.email, _events_text(c.notify_on))
                for c in contacts
            ],
        )

    async def told_of(self, event: str) -> list[OutsideContact]:
        """The contacts whose notify_on names the event."""
        rows = await self.tx.all(
            "SELECT contact_id, name, body, phone, email, notify_on FROM outside_contacts "
            f"WHERE {self.tx.dialect.contains('notify_on', '?')} ORDER BY contact_id",
            (f";{event};",),
        )
        return [
            OutsideContact(r[0], r[1], r[2], r[3], r[4], frozenset(r[5].strip(";").split(";")))
            for r in rows
        ]

    async def add_report(
        self, case_id: int, contact: OutsideContact, handed_to: list[str], now: datetime
    ) -> int | None:
        """A new report for the contact, or None if this case already has one for them."""
        found = await self.tx.one(
            "SELECT id FROM outside_reports WHERE case_id = ? AND contact_id = ?",
            (case_id, contact.contact_id),
        )
        if found is not None:
            return None
        return await self.tx.insert(
            "INSERT INTO outside_reports (case_id, contact_id, body, handed_to, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (case_id, contact.contact_id, contact.body, dumps(handed_to), to_db_time(now)),
        )

    async def report(self, report_id: int) -> OutsideReport | None:
        row = await self.tx.one(
            "SELECT id, case_id, contact_id, body, handed_to, sent_by, sent_at FROM outside_reports "
            "WHERE id = ?",
            (report_id,),
        )
        if row is None:
            return None
        sent_at = from_db_time(row[6], self.tz) if row[6] else None
        handed_to = tuple(json.loads(row[4]))
        return OutsideReport(row[0], row[1], row[2], row[3], handed_to, row[5], sent_at)

    async def mark_sent(self, report_id: int, staff_id: str, now: datetime) -> bool:
        """Exactly one press records the sending."""
        changed = await self.tx.execute(
            "UPDATE outside_reports SET sent_by = ?, sent_at = ? WHERE id = ? AND sent_at IS NULL",
            (staff_id, to_db_time(now), report_id),
        )
        return changed == 1


def _events_text(events: frozenset[str]) -> str:
    return ";" + ";".join(sorted(events)) + ";"
