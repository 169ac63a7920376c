"""Personal data: the consent ledger, people's requests about their data, a person's own copy."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from storage.engine import Tx, from_db_time, to_db_time

OPEN_STATUSES = ("open", "acknowledged")
CHUNK = 500  # people per query of a sweep's batch


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    id: int
    staff_id: str
    purpose: str
    notice_version: int
    decision: str
    channel: str
    message_ref: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class PrivacyRequest:
    id: int
    staff_id: str
    kind: str
    details: str
    status: str
    created_at: datetime
    ack_due_at: datetime
    due_at: datetime
    remind_at: datetime
    reminded_at: datetime | None
    escalated_at: datetime | None
    ack_escalated_at: datetime | None
    acked_at: datetime | None
    assignee: str | None
    extended_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    outcome: str | None


_CONSENT_COLUMNS = "id, staff_id, purpose, notice_version, decision, channel, message_ref, at"
_REQUEST_COLUMNS = (
    "id, staff_id, kind, details, status, created_at, ack_due_at, due_at, remind_at, "
    "reminded_at, escalated_at, ack_escalated_at, acked_at, assignee, extended_at, closed_at, "
    "closed_by, outcome"
)
_REQUEST_TIMES = (5, 6, 7, 8, 9, 10, 11, 12, 14, 15)


class ConsentsRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    async def record(
        self,
        staff_id: str,
        purpose: str,
        version: int,
        decision: str,
        channel: str,
        message_ref: str | None,
        now: datetime,
    ) -> None:
        await self.tx.execute(
            "INSERT INTO consents (staff_id, purpose, notice_version, decision, channel, "
            "message_ref, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (staff_id, purpose, version, decision, channel, message_ref, to_db_time(now)),
        )

    async def current(self, staff_id: str, version: int) -> dict[str, str]:
        """The latest decision per purpose under this notice version."""
        rows = await self.tx.all(
            "SELECT purpose, decision FROM consents WHERE staff_id = ? AND notice_version = ? "
            "ORDER BY id",
            (staff_id, version),
        )
        return {row[0]: row[1] for row in rows}

    async def stopped(self, staff_ids: Collection[str], purpose: str) -> set[str]:
        """Those of `staff_ids` whose latest decision for `purpose`, under any notice version,
        is a refusal or a withdrawal: what they agreed to before no longer covers anything."""
        people = sorted(set(staff_ids))
        found: set[str] = set()
        for start in range(0, len(people), CHUNK):
            chunk = people[start : start + CHUNK]
            rows = await self.tx.all(
                f"SELECT c.staff_id FROM consents c {self.tx.dialect.indexed_by('consents_stopping')} "
                f"WHERE c.staff_id IN ({','.join('?' * len(chunk))}) AND c.purpose = ? "
                "AND c.decision IN ('refused', 'withdrawn') AND NOT EXISTS (SELECT 1 FROM "
                "consents n WHERE n.staff_id = c.staff_id AND n.purpose = c.purpose AND n.id > c.id)",
                (*chunk, purpose),
            )
            found.update(row[0] for row in rows)
        return found

    async def ledger(self, staff_id: str) -> list[ConsentEntry]:
        rows = await self.tx.all(
            f"SELECT {_CONSENT_COLUMNS} FROM consents WHERE staff_id = ? ORDER BY id", (staff_id,)
        )
        return [
            ConsentEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], from_db_time(r[7], self.tz))
            for r in rows
        ]


class PrivacyRequestsRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    async def add(
        self,
        staff_id: str,
        kind: str,
        details: str,
        now: datetime,
        ack_due: datetime,
        due: datetime,
        remind: datetime,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO privacy_requests (staff_id, kind, details, created_at, ack_due_at, "
            "due_at, remind_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (staff_id, kind, details, *(to_db_time(t) for t in (now, ack_due, due, remind))),
        )

    async def get(self, request_id: int) -> PrivacyRequest | None:
        row = await self.tx.one(
            f"SELECT {_REQUEST_COLUMNS} FROM privacy_requests WHERE id = ?", (request_id,)
        )
        return None if row is None else self._request(row)

    async def of_staff(self, staff_id: str) -> list[PrivacyRequest]:
        rows = await self.tx.all(
            f"SELECT {_REQUEST_COLUMNS} FROM privacy_requests WHERE staff_id = ? ORDER BY id",
            (staff_id,),
        )
        return [self._request(r) for r in rows]

    async def due(self, now: datetime) -> list[PrivacyRequest]:
        """Open requests with a reminder or an escalation due."""
        stamp = to_db_time(now)
        rows = await self.tx.all(
            f"SELECT {_REQUEST_COLUMNS} FROM privacy_requests "
            "WHERE status IN ('open', 'acknowledged') AND ("
            "(acked_at IS NULL AND ack_escalated_at IS NULL AND ack_due_at <= ?) "
            "OR (reminded_at IS NULL AND remind_at <= ?) "
            "OR (escalated_at IS NULL AND due_at <= ?)) ORDER BY id LIMIT 200",
            (stamp, stamp, stamp),
        )
        return [self._request(r) for r in rows]

    async def acknowledge(self, request_id: int, staff_id: str, now: datetime) -> bool:
        changed = await self.tx.execute(
            "UPDATE privacy_requests SET status = 'acknowledged', acked_at = ?, assignee = ? "
            "WHERE id = ? AND status = 'open'",
            (to_db_time(now), staff_id, request_id),
        )
        return changed == 1

    async def extend(
        self, request_id: int, due: datetime, before: timedelta, now: datetime
    ) -> bool:
        """Once per request: the deadline moves on to `due`, the reminder with it."""
        request = await self.get(request_id)
        if request is None or request.status not in OPEN_STATUSES or request.extended_at:
            return False
        changed = await self.tx.execute(
            "UPDATE privacy_requests SET due_at = ?, remind_at = ?, reminded_at = NULL, "
            "escalated_at = NULL, extended_at = ? WHERE id = ? AND extended_at IS NULL",
            (to_db_time(due), to_db_time(due - before), to_db_time(now), request_id),
        )
        return changed == 1

    async def close(
        self, request_id: int, status: str, staff_id: str, outcome: str, now: datetime
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE privacy_requests SET status = ?, closed_at = ?, closed_by = ?, outcome = ?, "
            "assignee = COALESCE(assignee, ?) WHERE id = ? AND status IN ('open', 'acknowledged')",
            (status, to_db_time(now), staff_id, outcome, staff_id, request_id),
        )
        return changed == 1

    async def mark(self, request_id: int, column: str, now: datetime) -> None:
        """Set one of the sweep's stamps: reminded_at, escalated_at, ack_escalated_at."""
        assert column in ("reminded_at", "escalated_at", "ack_escalated_at")
        await self.tx.execute(
            f"UPDATE privacy_requests SET {column} = ? WHERE id = ?",
            (to_db_time(now), request_id),
        )

    def _request(self, row: Any) -> PrivacyRequest:
        values = list(row)
        for index in _REQUEST_TIMES:
            values[index] = from_db_time(values[index], self.tz)
        return PrivacyRequest(*values)


# The audit entries about a person: who viewed, changed or was sent their records, when and
# how (the details). An entry is about them when it names them (its object or the subject of a
# health view), is their own consent decision, or concerns one of their records; views of a
# case tree they are in count, a case's other entries (about its other people) do not. Their
# own views of other people's records are about those people, and are left out.
_AUDIT_ABOUT = (
    "SELECT a.id, a.at, a.actor, "
    "COALESCE(s.full_name || COALESCE(' (' || s.position || ')', ''), a.actor) AS who, a.action, a.object, a.details FROM audit_log a "
    "LEFT JOIN staff s ON s.staff_id = a.actor WHERE a.object = 'staff:' || ? "
    "OR (a.actor = ? AND a.action IN ('privacy.consent', 'privacy.notice')) "
    "OR {SUBJECT} = ? "
    "OR a.object IN (SELECT 'symptoms:' || id FROM symptom_reports WHERE staff_id = ?) "
    "OR a.object IN (SELECT 'alert:' || id FROM health_alerts WHERE staff_id = ?) "
    "OR a.object IN (SELECT 'monitoring:' || id FROM monitorings WHERE staff_id = ?) "
    "OR a.object IN (SELECT 'travel:' || id FROM travel_requests WHERE staff_id = ?) "
    "OR a.object IN (SELECT 'privacy:' || id FROM privacy_requests WHERE staff_id = ?) "
    "OR ({HEALTH_VIEW} "
    "AND a.object IN (SELECT 'case:' || case_id FROM case_nodes WHERE staff_id = ?)) "
    "ORDER BY a.id"
)

# The person's own records, table by table: (title, SQL selecting exactly their rows).
_OWN_RECORDS: tuple[tuple[str, str], ...] = (
    ("profile", "SELECT * FROM staff WHERE staff_id = ?"),
    ("roles", "SELECT * FROM staff_roles WHERE staff_id = ?"),
    (
        "accounts",
        "SELECT channel, user_ref, chat_ref, staff_id, language, linked_at, last_inbound_at "
        "FROM accounts "
        "WHERE staff_id = ?",
    ),
    ("channel_choice", "SELECT channel, chosen_at FROM channel_choices WHERE staff_id = ?"),
    ("consents", "SELECT * FROM consents WHERE staff_id = ? ORDER BY id"),
    ("privacy_requests", "SELECT * FROM privacy_requests WHERE staff_id = ? ORDER BY id"),
    ("travel_requests", "SELECT * FROM travel_requests WHERE staff_id = ? ORDER BY id"),
    ("trip_returns", "SELECT * FROM trip_returns WHERE staff_id = ? ORDER BY request_id"),
    ("symptom_reports", "SELECT * FROM symptom_reports WHERE staff_id = ? ORDER BY id"),
    ("monitorings", "SELECT * FROM monitorings WHERE staff_id = ? ORDER BY id"),
    (
        "checkins",
        "SELECT c.* FROM checkins c JOIN monitorings m ON m.id = c.monitoring_id "
        "WHERE m.staff_id = ? ORDER BY c.monitoring_id, c.day",
    ),
    (
        "case_nodes",
        "SELECT id, case_id, level, created_at FROM case_nodes WHERE staff_id = ? ORDER BY id",
    ),
    (
        "directive_reads",
        "SELECT broadcast_id, read_at, reminded_at FROM broadcast_recipients "
        "WHERE staff_id = ? ORDER BY broadcast_id",
    ),
    ("audit", _AUDIT_ABOUT),
)


def _spelled(sql: str, fragments: dict[str, str]) -> str:
    """`sql` with the dialect's spelling of each {NAME} it holds."""
    for name, fragment in fragments.items():
        sql = sql.replace(name, fragment)
    return sql


async def own_records(tx: Tx, staff_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row that is about this person, by table, as column → value."""
    d = tx.dialect
    spelled = {
        "{SUBJECT}": d.json_text("a.details", "subject"),
        "{HEALTH_VIEW}": d.starts_with("a.action", "health.view"),
    }
    queries = [_spelled(sql, spelled) for _, sql in _OWN_RECORDS]
    done = await tx.batch([(sql, (staff_id,) * sql.count("?")) for sql in queries])
    return {
        title: [dict(zip(row.keys(), row, strict=True)) for row in d.rows]
        for (title, _), d in zip(_OWN_RECORDS, done, strict=True)
    }
