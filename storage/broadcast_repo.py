"""Directives broadcast to staff: the directive, its recipients, what was delivered and read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from storage.engine import Row, Tx, count_where, dumps, from_db_time, to_db_time

_COLUMNS = (
    "id, number, issued_on, title, body, file_id, file_name, audience, status, created_by, "
    "created_at, send_at, queued_at, policy_mode, admin_channel, admin_chat, progress_outbox, "
    "progress_at, progress_text, remind_at, scope_unit, signed_by, signed_at, returned_by, "
    "returned_reason, corrected_at, recalled_at"
)
_WIDTH = len(_COLUMNS.split(","))
FINAL = "broadcast:{id}"
PART = "broadcast:{id}:part"
REMIND = "broadcast:{id}:remind"

# One definition of "has not read" for every view (a head's «who has not read», /unit,
# /district, the digests): a recipient who had opened the bot when the directive went out and
# has not pressed "read". Those who had not opened the bot could not get it: they are counted
# apart, as not registered (unless they read it later, having registered since).
UNREAD = "r.registered = 1 AND r.read_at IS NULL"
NOT_REGISTERED = "r.registered = 0 AND r.read_at IS NULL"
_SENT = "o.status = 'sent'"
_NOT_REACHED = "o.status IN ('undeliverable', 'failed')"


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    number: str
    issued_on: date
    title: str
    body: str
    file_id: str | None
    file_name: str | None
    audience: dict[str, Any]
    status: str
    created_by: str
    created_at: datetime
    send_at: datetime
    queued_at: datetime | None
    policy_mode: str | None
    admin_channel: str
    admin_chat: str
    progress_outbox: int | None
    progress_at: datetime | None
    progress_text: str | None
    remind_at: datetime | None
    scope_unit: str | None = None  # the unit admin's unit; None: the whole district
    signed_by: str | None = None
    signed_at: datetime | None = None
    returned_by: str | None = None
    returned_reason: str | None = None
    corrected_at: datetime | None = None
    recalled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewBroadcast:
    number: str
    issued_on: date
    title: str
    body: str
    file_id: str | None
    file_name: str | None
    audience: dict[str, Any]
    created_by: str
    admin_channel: str
    admin_chat: str
    policy_mode: str | None = None
    scope_unit: str | None = None


@dataclass(frozen=True, slots=True)
class UnitTally:
    unit_id: str
    total: int = 0
    registered: int = 0
    sent: int = 0
    failed: int = 0
    read: int = 0


@dataclass(frozen=True, slots=True)
class RecipientState:
    staff_id: str
    unit_id: str
    registered: bool
    status: str | None  # the outbox status of the copy with the button; None: nothing queued
    sent_at: datetime | None
    error: str | None
    read_at: datetime | None


class BroadcastRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    # --- the directive ------------------------------------------------------------------------

    async def create(self, new: NewBroadcast, status: str, send_at: datetime, now: datetime) -> int:
        return await self.tx.insert(
            "INSERT INTO broadcasts (number, issued_on, title, body, file_id, file_name, audience, "
            "status, created_by, created_at, send_at, policy_mode, admin_channel, admin_chat, "
            "scope_unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new.number, new.issued_on.isoformat(), new.title, new.body, new.file_id,
             new.file_name, dumps(new.audience), status, new.created_by, to_db_time(now),
             to_db_time(send_at), new.policy_mode, new.admin_channel, new.admin_chat,
             new.scope_unit),
        )  # fmt: skip

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self.tx.one(f"SELECT {_COLUMNS} FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else self._broadcast(row)

    async def recent(self, limit: int = 10) -> list[Broadcast]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE status IN ('sending', 'done') "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [self._broadcast(r) for r in rows]

    async def recent_for(
        self, staff_id: str, limit: int = 10
    ) -> list[tuple[Broadcast, datetime | None]]:
        rows = await self.tx.all(
            f"SELECT {', '.join('b.' + c.strip() for c in _COLUMNS.split(','))}, r.read_at "
            "FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id "
            "WHERE r.staff_id = ? AND b.status IN ('sending', 'done') "
            "ORDER BY b.id DESC LIMIT ?",
            (staff_id, limit),
        )
        return [(self._broadcast(r), from_db_time(r[_WIDTH], self.tz)) for r in rows]

    async def due_scheduled(self, now: datetime) -> list[Broadcast]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE status = 'scheduled' AND send_at <= ? "
            "ORDER BY send_at",
            (to_db_time(now),),
        )
        return [self._broadcast(r) for r in rows]

    async def next_send_at(self) -> datetime | None:
        """When the earliest scheduled directive is to go out (None: none is scheduled)."""
        found = await self.tx.scalar(
            "SELECT MIN(send_at) FROM broadcasts WHERE status = 'scheduled'"
        )
        return from_db_time(found, self.tz) if found else None

    async def cancel_scheduled(self, broadcast_id: int) -> bool:
        """Not sent yet (scheduled, waiting for sign-off or returned) → cancelled."""
        changed = await self.tx.execute(
            "UPDATE broadcasts SET status = 'cancelled' "
            "WHERE id = ? AND status IN ('scheduled', 'signoff', 'returned')",
            (broadcast_id,),
        )
        return changed == 1

    # --- sign-off: one decision per submission (conditional updates) ------------------------

    async def sign(self, broadcast_id: int, staff_id: str, now: datetime) -> bool:
        """signoff → scheduled (it then goes at its time), signed by `staff_id`, once."""
        changed = await self.tx.execute(
            "UPDATE broadcasts SET status = 'scheduled', signed_by = ?, signed_at = ? "
            "WHERE id = ? AND status = 'signoff'",
            (staff_id, to_db_time(now), broadcast_id),
        )
        return changed == 1

    async def send_back(self, broadcast_id: int, staff_id: str, reason: str) -> bool:
        """signoff → returned, with the leader's reason, once."""
        changed = await self.tx.execute(
            "UPDATE broadcasts SET status = 'returned', returned_by = ?, returned_reason = ? "
            "WHERE id = ? AND status = 'signoff'",
            (staff_id, reason, broadcast_id),
        )
        return changed == 1

    async def resubmit(self, broadcast_id: int) -> bool:
        changed = await self.tx.execute(
            "UPDATE broadcasts SET status = 'signoff' WHERE id = ? AND status = 'returned'",
            (broadcast_id,),
        )
        return changed == 1

    async def remember_signoff_message(self, broadcast_id: int, outbox_id: int) -> None:
        await self.tx.execute(
            "INSERT INTO broadcast_signoff_messages (broadcast_id, outbox_id) "
            "VALUES (?, ?) ON CONFLICT DO NOTHING",
            (broadcast_id, outbox_id),
        )

    async def signoff_messages(self, broadcast_id: int) -> list[tuple[str, str, str, str | None]]:
        """(channel, chat_ref, message_ref, staff_id) of the sign-off requests sent (a pending
        one as `outbox:ID`, which the sender resolves when it leaves)."""
        rows = await self.tx.all(
            "SELECT o.channel, o.chat_ref, COALESCE(o.message_ref, 'outbox:' || o.id), o.staff_id "
            "FROM broadcast_signoff_messages m JOIN outbox o ON o.id = m.outbox_id "
            "WHERE m.broadcast_id = ? AND (o.message_ref IS NOT NULL OR o.status = 'pending')",
            (broadcast_id,),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # --- corrections and recalls ------------------------------------------------------------

    async def correct(
        self, broadcast_id: int, body: str, staff_id: str, now: datetime, remind_at: datetime
    ) -> bool:
        """The new text, the old one kept; every read reset (reads are counted again)."""
        previous = await self.tx.scalar(
            "SELECT body FROM broadcasts WHERE id = ? AND status IN ('sending', 'done')",
            (broadcast_id,),
        )
        if previous is None:
            return False
        await self.tx.execute(
            "INSERT INTO broadcast_corrections (broadcast_id, previous_body, body, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (broadcast_id, previous, body, staff_id, to_db_time(now)),
        )
        await self.tx.execute(
            "UPDATE broadcasts SET body = ?, corrected_at = ?, remind_at = ? WHERE id = ?",
            (body, to_db_time(now), to_db_time(remind_at), broadcast_id),
        )
        await self.tx.execute(
            "UPDATE broadcast_recipients SET read_at = NULL, reminded_at = NULL "
            "WHERE broadcast_id = ?",
            (broadcast_id,),
        )
        return True

    async def recall(self, broadcast_id: int, now: datetime) -> bool:
        changed = await self.tx.execute(
            "UPDATE broadcasts SET status = 'recalled', recalled_at = ?, remind_at = NULL "
            "WHERE id = ? AND status IN ('sending', 'done')",
            (to_db_time(now), broadcast_id),
        )
        return changed == 1

    async def delivered_copies(
        self, broadcast_id: int
    ) -> list[tuple[str, str, str, str, datetime]]:
        """(channel, chat_ref, message_ref, staff_id, sent_at) of every copy delivered, parts
        and the one with the button, in the order they were sent."""
        rows = await self.tx.all(
            "SELECT channel, chat_ref, message_ref, staff_id, sent_at, purpose FROM outbox "
            "WHERE purpose IN (?, ?) AND status = 'sent' AND message_ref IS NOT NULL "
            "ORDER BY staff_id, id",
            (FINAL.format(id=broadcast_id), PART.format(id=broadcast_id)),
        )
        return [(r[0], r[1], r[2], r[3], from_db_time(r[4], self.tz)) for r in rows]

    async def start_sending(self, broadcast_id: int, now: datetime, remind_at: datetime) -> bool:
        """scheduled → sending, once (a conditional update: two sweeps cannot both queue it)."""
        changed = await self.tx.execute(
            "UPDATE broadcasts SET status = 'sending', queued_at = ?, remind_at = ? "
            "WHERE id = ? AND status = 'scheduled'",
            (to_db_time(now), to_db_time(remind_at), broadcast_id),
        )
        return changed == 1

    async def set_progress(
        self, broadcast_id: int, outbox_id: int | None, text: str, now: datetime
    ) -> None:
        await self.tx.execute(
            "UPDATE broadcasts SET progress_outbox = COALESCE(?, progress_outbox), "
            "progress_text = ?, progress_at = ? WHERE id = ?",
            (outbox_id, text, to_db_time(now), broadcast_id),
        )

    async def finish(self, broadcast_id: int) -> None:
        await self.tx.execute(
            "UPDATE broadcasts SET status = 'done' WHERE id = ? AND status = 'sending'",
            (broadcast_id,),
        )

    async def watched(self, now: datetime, quiet_since: datetime) -> list[Broadcast]:
        """Broadcasts whose progress message may need an edit: still sending, or reads coming in."""
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE progress_outbox IS NOT NULL "
            "AND (status = 'sending' OR remind_at IS NOT NULL) "
            "AND (progress_at IS NULL OR progress_at <= ?)",
            (to_db_time(quiet_since),),
        )
        return [self._broadcast(r) for r in rows]

    async def message_ref(self, outbox_id: int) -> str | None:
        ref: str | None = await self.tx.scalar(
            "SELECT message_ref FROM outbox WHERE id = ?", (outbox_id,)
        )
        return ref

    # --- recipients ---------------------------------------------------------------------------

    async def add_recipients(
        self, broadcast_id: int, rows: Iterable[tuple[str, str, bool]]
    ) -> None:
        await self.tx.executemany(
            "INSERT INTO broadcast_recipients (broadcast_id, staff_id, unit_id, registered) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                (broadcast_id, staff_id, unit_id, int(registered))
                for staff_id, unit_id, registered in rows
            ),
        )

    async def is_recipient(self, broadcast_id: int, staff_id: str) -> bool:
        found = await self.tx.scalar(
            "SELECT 1 FROM broadcast_recipients WHERE broadcast_id = ? AND staff_id = ?",
            (broadcast_id, staff_id),
        )
        return found is not None

    async def mark_read(self, broadcast_id: int, staff_id: str, now: datetime) -> datetime | None:
        """Record the first read; return when it was read (now, or the earlier time)."""
        await self.tx.execute(
            "UPDATE broadcast_recipients SET read_at = ? "
            "WHERE broadcast_id = ? AND staff_id = ? AND read_at IS NULL",
            (to_db_time(now), broadcast_id, staff_id),
        )
        text: str | None = await self.tx.scalar(
            "SELECT read_at FROM broadcast_recipients WHERE broadcast_id = ? AND staff_id = ?",
            (broadcast_id, staff_id),
        )
        return from_db_time(text, self.tz)

    async def states(self, broadcast_id: int) -> list[RecipientState]:
        rows = await self.tx.all(
            "SELECT r.staff_id, r.unit_id, r.registered, o.status, o.sent_at, o.error, r.read_at "
            "FROM broadcast_recipients r LEFT JOIN outbox o "
            "ON o.purpose = ? AND o.staff_id = r.staff_id "
            "WHERE r.broadcast_id = ? ORDER BY r.unit_id, r.staff_id",
            (FINAL.format(id=broadcast_id), broadcast_id),
        )
        return [
            RecipientState(r[0], r[1], bool(r[2]), r[3], from_db_time(r[4], self.tz), r[5],
                           from_db_time(r[6], self.tz))
            for r in rows
        ]  # fmt: skip

    async def tallies(self, broadcast_id: int) -> list[UnitTally]:
        rows = await self.tx.all(
            "SELECT r.unit_id, COUNT(*), SUM(r.registered), "
            f"{count_where(_SENT)}, {count_where(_NOT_REACHED)}, {count_where('r.read_at IS NOT NULL')} "
            "FROM broadcast_recipients r LEFT JOIN outbox o "
            "ON o.purpose = ? AND o.staff_id = r.staff_id "
            "WHERE r.broadcast_id = ? GROUP BY r.unit_id ORDER BY r.unit_id",
            (FINAL.format(id=broadcast_id), broadcast_id),
        )
        return [UnitTally(r[0], r[1], r[2] or 0, r[3] or 0, r[4] or 0, r[5] or 0) for r in rows]

    async def pending_rows(self, broadcast_id: int) -> int:
        return int(
            await self.tx.scalar(
                "SELECT COUNT(*) FROM outbox WHERE purpose IN (?, ?) AND status = 'pending'",
                (FINAL.format(id=broadcast_id), PART.format(id=broadcast_id)),
            )
        )

    async def unread(
        self,
        broadcast_id: int,
        unit_ids: Sequence[str] | None = None,
        *,
        delivered_only: bool = False,
    ) -> list[str]:
        """Staff ids who have not read it (UNREAD), of these units; `delivered_only`: of those,
        the ones whose copy was delivered (whom a reminder can reach)."""
        sql = (
            "SELECT r.staff_id, r.unit_id FROM broadcast_recipients r LEFT JOIN outbox o "
            "ON o.purpose = ? AND o.staff_id = r.staff_id "
            f"WHERE r.broadcast_id = ? AND {UNREAD}"
            + (" AND o.status = 'sent'" if delivered_only else "")
            + " ORDER BY r.unit_id, r.staff_id"
        )
        rows = await self.tx.all(sql, (FINAL.format(id=broadcast_id), broadcast_id))
        return _of_units(rows, unit_ids)

    async def not_registered(
        self, broadcast_id: int, unit_ids: Sequence[str] | None = None
    ) -> list[str]:
        """Staff ids who could not get it: not registered when it went out (NOT_REGISTERED)."""
        rows = await self.tx.all(
            "SELECT r.staff_id, r.unit_id FROM broadcast_recipients r "
            f"WHERE r.broadcast_id = ? AND {NOT_REGISTERED} ORDER BY r.unit_id, r.staff_id",
            (broadcast_id,),
        )
        return _of_units(rows, unit_ids)

    async def due_reminders(self, now: datetime) -> list[Broadcast]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM broadcasts WHERE remind_at IS NOT NULL AND remind_at <= ?",
            (to_db_time(now),),
        )
        return [self._broadcast(r) for r in rows]

    async def reminders_done(self, broadcast_id: int) -> None:
        await self.tx.execute(
            "UPDATE broadcasts SET remind_at = NULL WHERE id = ?", (broadcast_id,)
        )

    async def mark_reminded(
        self, broadcast_id: int, staff_ids: Sequence[str], now: datetime
    ) -> None:
        await self.tx.executemany(
            "UPDATE broadcast_recipients SET reminded_at = ? WHERE broadcast_id = ? AND staff_id = ?",
            ((to_db_time(now), broadcast_id, s) for s in staff_ids),
        )

    async def reminded_since(self, broadcast_id: int, since: datetime) -> set[str]:
        rows = await self.tx.all(
            "SELECT staff_id FROM broadcast_recipients WHERE broadcast_id = ? AND reminded_at >= ?",
            (broadcast_id, to_db_time(since)),
        )
        return {r[0] for r in rows}

    async def read_button_copies(
        self, broadcast_id: int, staff_id: str
    ) -> list[tuple[str, str, str]]:
        """(channel, chat_ref, message ref or `outbox:<id>`) of the person's messages carrying the
        directive's "read" button: its last part and every reminder."""
        rows = await self.tx.all(
            "SELECT channel, chat_ref, COALESCE(message_ref, 'outbox:' || id) FROM outbox "
            "WHERE purpose IN (?, ?) AND staff_id = ? "
            "AND (message_ref IS NOT NULL OR status = 'pending') ORDER BY id",
            (FINAL.format(id=broadcast_id), REMIND.format(id=broadcast_id), staff_id),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def last_reminded(self, broadcast_id: int, staff_ids: Sequence[str]) -> datetime | None:
        """When the latest of these people was last reminded."""
        latest: datetime | None = None
        for start in range(0, len(staff_ids), 500):
            chunk = list(staff_ids[start : start + 500])
            found: str | None = await self.tx.scalar(
                "SELECT MAX(reminded_at) FROM broadcast_recipients WHERE broadcast_id = ? "
                f"AND staff_id IN ({','.join('?' * len(chunk))})",
                (broadcast_id, *chunk),
            )
            moment = from_db_time(found, self.tz) if found else None
            if moment is not None and (latest is None or moment > latest):
                latest = moment
        return latest

    def _broadcast(self, r: Any) -> Broadcast:
        tz = self.tz
        return Broadcast(
            r[0], r[1], date.fromisoformat(r[2]), r[3], r[4], r[5], r[6], json.loads(r[7]), r[8],
            r[9], from_db_time(r[10], tz), from_db_time(r[11], tz), from_db_time(r[12], tz),
            r[13], r[14], r[15], r[16], from_db_time(r[17], tz), r[18], from_db_time(r[19], tz),
            r[20], r[21], from_db_time(r[22], tz), r[23], r[24], from_db_time(r[25], tz),
            from_db_time(r[26], tz),
        )  # fmt: skip


def _of_units(rows: Sequence[Row], unit_ids: Sequence[str] | None) -> list[str]:
    """The staff ids (first column) of the rows whose unit (second column) is wanted."""
    wanted = None if unit_ids is None else set(unit_ids)
    return [r[0] for r in rows if wanted is None or r[1] in wanted]
