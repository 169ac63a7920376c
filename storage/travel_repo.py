"""Travel requests, their deciders, absences, policy periods and declared calendar days."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from storage.engine import Row, Tx, dumps, from_db_time, to_db_time

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
CANCELLED = "cancelled"
RECORDED = "recorded"
WITHDRAWN = "withdrawn"  # closed undecided: the requester withdrew the consent it rested on


@dataclass(frozen=True, slots=True)
class TravelRequest:
    id: int
    staff_id: str
    status: str
    destination: str
    address: str
    departure_at: datetime
    return_at: datetime
    purpose: str
    case_area: str
    policy_mode: str
    trip_class: str
    reasons: tuple[str, ...]
    rule_name: str
    notify: tuple[str, ...]
    acting_for: dict[str, str]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    remind_at: datetime | None
    escalate_at: datetime | None
    escalation_level: int
    replaces_id: int | None
    ban_check: str | None


@dataclass(frozen=True, slots=True)
class NewRequest:
    staff_id: str
    status: str
    destination: str
    address: str
    departure_at: datetime
    return_at: datetime
    purpose: str
    case_area: str
    policy_mode: str
    trip_class: str
    reasons: tuple[str, ...]
    rule_name: str
    notify: tuple[str, ...]
    acting_for: dict[str, str] = field(default_factory=dict)
    remind_at: datetime | None = None
    escalate_at: datetime | None = None
    replaces_id: int | None = None


@dataclass(frozen=True, slots=True)
class PolicyRow:
    id: int
    mode: str
    effective_from: datetime
    until: datetime | None
    created_by: str
    announced: bool


_COLUMNS = (
    "id, staff_id, status, destination, address, departure_at, return_at, purpose, case_area, "
    "policy_mode, trip_class, reasons, rule_name, notify, acting_for, created_at, decided_at, "
    "decided_by, decision_note, remind_at, escalate_at, escalation_level, replaces_id, ban_check"
)


def _request(row: Row, tz: tzinfo) -> TravelRequest:
    r = list(row)
    times = {5, 6, 15, 16, 19, 20}
    for index in times:
        r[index] = from_db_time(r[index], tz)
    r[11] = tuple(json.loads(r[11]))
    r[13] = tuple(json.loads(r[13]))
    r[14] = json.loads(r[14])
    return TravelRequest(*r)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else to_db_time(moment)


class TravelRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    async def create(self, new: NewRequest, now: datetime) -> int:
        return await self.tx.insert(
            "INSERT INTO travel_requests (staff_id, status, destination, address, departure_at, "
            "return_at, purpose, case_area, policy_mode, trip_class, reasons, rule_name, notify, "
            "acting_for, created_at, remind_at, escalate_at, replaces_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                new.staff_id,
                new.status,
                new.destination,
                new.address,
                to_db_time(new.departure_at),
                to_db_time(new.return_at),
                new.purpose,
                new.case_area,
                new.policy_mode,
                new.trip_class,
                dumps(list(new.reasons)),
                new.rule_name,
                dumps(list(new.notify)),
                dumps(new.acting_for),
                to_db_time(now),
                _time(new.remind_at),
                _time(new.escalate_at),
                new.replaces_id,
            ),
        )

    async def get(self, request_id: int) -> TravelRequest | None:
        row = await self.tx.one(
            f"SELECT {_COLUMNS} FROM travel_requests WHERE id = ?", (request_id,)
        )
        return None if row is None else _request(row, self.tz)

    async def get_many(self, request_ids: list[int]) -> dict[int, TravelRequest]:
        found: dict[int, TravelRequest] = {}
        for start in range(0, len(request_ids), 500):
            chunk = request_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self.tx.all(
                f"SELECT {_COLUMNS} FROM travel_requests WHERE id IN ({marks})", chunk
            )
            found.update((r[0], _request(r, self.tz)) for r in rows)
        return found

    async def of_staff(self, staff_id: str, limit: int = 10) -> list[TravelRequest]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM travel_requests WHERE staff_id = ? ORDER BY id DESC LIMIT ?",
            (staff_id, limit),
        )
        return [_request(r, self.tz) for r in rows]

    async def add_deciders(
        self, request_id: int, staff_ids: list[str], kind: str, at: datetime | None = None
    ) -> None:
        """`at`: when they are brought in (kept from the first time they became a decider)."""
        self.tx.defer_many(
            "INSERT INTO request_deciders (request_id, staff_id, kind, added_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(request_id, staff_id) DO UPDATE SET kind = "
            "CASE WHEN excluded.kind = 'decider' THEN 'decider' ELSE request_deciders.kind END, "
            "added_at = CASE WHEN request_deciders.kind = 'decider' THEN request_deciders.added_at "
            "ELSE excluded.added_at END",
            [(request_id, staff_id, kind, _time(at)) for staff_id in staff_ids],
        )

    async def clear_deciders(self, request_id: int) -> None:
        self.tx.defer("DELETE FROM request_deciders WHERE request_id = ?", (request_id,))

    async def deciders(self, request_id: int) -> dict[str, str]:
        rows = await self.tx.all(
            "SELECT staff_id, kind FROM request_deciders WHERE request_id = ?", (request_id,)
        )
        return {r[0]: r[1] for r in rows}

    async def deciders_since(self, request_id: int) -> dict[str, datetime | None]:
        """The deciders (not those above) and when each was brought in (None: not recorded)."""
        rows = await self.tx.all(
            "SELECT staff_id, added_at FROM request_deciders WHERE request_id = ? "
            "AND kind = 'decider'",
            (request_id,),
        )
        return {r[0]: from_db_time(r[1], self.tz) if r[1] else None for r in rows}

    async def pending_for(self, staff_id: str) -> list[TravelRequest]:
        rows = await self.tx.all(
            f"SELECT {', '.join('t.' + c for c in _COLUMNS.split(', '))} FROM travel_requests t "
            "JOIN request_deciders d ON d.request_id = t.id "
            "WHERE d.staff_id = ? AND t.status = 'pending' ORDER BY t.departure_at, t.id",
            (staff_id,),
        )
        return [_request(r, self.tz) for r in rows]

    async def decide(
        self, request_id: int, status: str, by: str, now: datetime, note: str | None
    ) -> bool:
        """The one decision: False when the request was no longer pending (someone was first)."""
        changed = await self.tx.execute(
            "UPDATE travel_requests SET status = ?, decided_by = ?, decided_at = ?, "
            "decision_note = ?, remind_at = NULL, escalate_at = NULL "
            "WHERE id = ? AND status = 'pending'",
            (status, by, to_db_time(now), note, request_id),
        )
        return changed == 1

    async def cancel(self, request_id: int, now: datetime) -> bool:
        changed = await self.tx.execute(
            "UPDATE travel_requests SET status = 'cancelled', decided_at = COALESCE(decided_at, ?), "
            "remind_at = NULL, escalate_at = NULL "
            "WHERE id = ? AND status IN ('pending', 'approved', 'recorded')",
            (to_db_time(now), request_id),
        )
        return changed == 1

    async def close_withdrawn(self, staff_id: str, now: datetime) -> list[int]:
        """The person's requests still pending, closed undecided (no reminder, no escalation
        left): they withdrew the consent the requests rest on. Their ids."""
        rows = await self.tx.all(
            "SELECT id FROM travel_requests WHERE staff_id = ? AND status = 'pending' ORDER BY id",
            (staff_id,),
        )
        ids = [int(row[0]) for row in rows]
        if ids:
            await self.tx.execute(
                "UPDATE travel_requests SET status = 'withdrawn', decided_at = ?, "
                f"remind_at = NULL, escalate_at = NULL WHERE id IN ({','.join('?' * len(ids))}) "
                "AND status = 'pending'",
                (to_db_time(now), *ids),
            )
        return ids

    async def amend_dates(
        self,
        request_id: int,
        departure: datetime,
        return_at: datetime,
        remind_at: datetime | None,
        escalate_at: datetime | None,
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE travel_requests SET departure_at = ?, return_at = ?, remind_at = ?, "
            "escalate_at = ?, escalation_level = 0 WHERE id = ? AND status = 'pending'",
            (
                to_db_time(departure),
                to_db_time(return_at),
                _time(remind_at),
                _time(escalate_at),
                request_id,
            ),
        )
        return changed == 1

    async def due_reminders(self, now: datetime, limit: int = 500) -> list[TravelRequest]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM travel_requests WHERE status = 'pending' AND remind_at <= ? "
            "ORDER BY remind_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_request(r, self.tz) for r in rows]

    async def due_escalations(self, now: datetime, limit: int = 500) -> list[TravelRequest]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM travel_requests WHERE status = 'pending' AND escalate_at <= ? "
            "ORDER BY escalate_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_request(r, self.tz) for r in rows]

    async def set_remind_at(self, request_id: int, at: datetime | None) -> None:
        await self.tx.execute(
            "UPDATE travel_requests SET remind_at = ? WHERE id = ?", (_time(at), request_id)
        )

    async def set_escalation(self, request_id: int, level: int, at: datetime | None) -> None:
        await self.tx.execute(
            "UPDATE travel_requests SET escalation_level = ?, escalate_at = ? WHERE id = ?",
            (level, _time(at), request_id),
        )

    async def set_ban_check(self, request_id: int, value: str) -> None:
        await self.tx.execute(
            "UPDATE travel_requests SET ban_check = ? WHERE id = ?", (value, request_id)
        )

    async def overlapping(
        self, statuses: tuple[str, ...], start: datetime, until: datetime | None
    ) -> list[TravelRequest]:
        """Requests in these states whose trip [departure, return) overlaps [start, until)."""
        marks = ",".join("?" * len(statuses))
        params: list[object] = [*statuses, to_db_time(start)]
        bound = ""
        if until is not None:
            bound = " AND departure_at < ?"
            params.append(to_db_time(until))
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM travel_requests WHERE status IN ({marks}) "
            f"AND return_at > ?{bound} ORDER BY id",
            params,
        )
        return [_request(r, self.tz) for r in rows]

    async def await_ban_reason(self, request_id: int) -> None:
        """A ban now covers the trip: it waits for the requester's special reason."""
        await self.tx.execute(
            "UPDATE travel_requests SET status = 'pending', policy_mode = 'ban', "
            "trip_class = 'exception_under_ban', ban_check = 'reason', remind_at = NULL, "
            "escalate_at = NULL, reasons = ? WHERE id = ? AND status IN ('pending', 'recorded')",
            (dumps(["ban"]), request_id),
        )

    async def set_assessment(
        self, request_id: int, mode: str, trip_class: str, reasons: tuple[str, ...]
    ) -> None:
        await self.tx.execute(
            "UPDATE travel_requests SET policy_mode = ?, trip_class = ?, reasons = ? WHERE id = ?",
            (mode, trip_class, dumps(list(reasons)), request_id),
        )

    async def give_ban_reason(
        self, request_id: int, purpose: str, remind_at: datetime, escalate_at: datetime
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE travel_requests SET purpose = ?, ban_check = 'given', remind_at = ?, "
            "escalate_at = ?, escalation_level = 0 "
            "WHERE id = ? AND status = 'pending' AND ban_check = 'reason'",
            (purpose, to_db_time(remind_at), to_db_time(escalate_at), request_id),
        )
        return changed == 1

    async def due_departures(self, now: datetime, limit: int = 500) -> list[TravelRequest]:
        """Pending requests whose departure has come without a decision (not yet told)."""
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM travel_requests {self.tx.dialect.indexed_by('travel_unanswered')} "
            "WHERE status = 'pending' AND unanswered_at IS NULL AND departure_at <= ? "
            "ORDER BY departure_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_request(r, self.tz) for r in rows]

    async def next_departure_pending(self) -> datetime | None:
        """The earliest departure of a request still undecided (None: nothing waits)."""
        found = await self.tx.scalar(
            f"SELECT MIN(departure_at) FROM travel_requests {self.tx.dialect.indexed_by('travel_unanswered')} "
            "WHERE status = 'pending' AND unanswered_at IS NULL"
        )
        return from_db_time(str(found), self.tz) if found else None

    async def mark_unanswered(self, request_id: int, now: datetime) -> None:
        await self.tx.execute(
            "UPDATE travel_requests SET unanswered_at = ? WHERE id = ?",
            (to_db_time(now), request_id),
        )

    async def set_decider_kind(self, request_id: int, staff_id: str, kind: str) -> None:
        await self.tx.execute(
            "UPDATE request_deciders SET kind = ? WHERE request_id = ? AND staff_id = ?",
            (kind, request_id, staff_id),
        )

    async def set_acting_for(self, request_id: int, acting_for: dict[str, str]) -> None:
        await self.tx.execute(
            "UPDATE travel_requests SET acting_for = ? WHERE id = ?",
            (dumps(acting_for), request_id),
        )

    async def pending_decided_by(self, staff_id: str) -> list[int]:
        """Pending requests this person is a first-hand decider of."""
        rows = await self.tx.all(
            "SELECT d.request_id FROM request_deciders d JOIN travel_requests t ON t.id = d.request_id "
            "WHERE d.staff_id = ? AND d.kind = 'decider' AND t.status = 'pending' ORDER BY d.request_id",
            (staff_id,),
        )
        return [int(r[0]) for r in rows]

    async def back_from_absence(self, today: date) -> list[tuple[int, str]]:
        """(request, person) for pending requests held for someone away who is back today."""
        rows = await self.tx.all(
            f"SELECT d.request_id, d.staff_id FROM request_deciders d {self.tx.dialect.indexed_by('request_deciders_away')} "
            "JOIN travel_requests t ON t.id = d.request_id "
            "WHERE d.kind = 'away' AND t.status = 'pending' AND NOT EXISTS (SELECT 1 FROM absences a "
            "WHERE a.staff_id = d.staff_id AND a.start_day <= ? AND a.end_day >= ?) "
            "ORDER BY d.request_id",
            (today.isoformat(), today.isoformat()),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    # --- absences ---------------------------------------------------------------------------

    async def add_absence(self, staff_id: str, start: date, end: date, now: datetime) -> int:
        return await self.tx.insert(
            "INSERT INTO absences (staff_id, start_day, end_day, created_at) VALUES (?, ?, ?, ?)",
            (staff_id, start.isoformat(), end.isoformat(), to_db_time(now)),
        )

    async def absent_between(self, start: date, end: date) -> frozenset[str]:
        rows = await self.tx.all(
            "SELECT DISTINCT staff_id FROM absences WHERE start_day <= ? AND end_day >= ?",
            (end.isoformat(), start.isoformat()),
        )
        return frozenset(r[0] for r in rows)

    async def absent_on(self, day: date) -> frozenset[str]:
        """Who is away on this day (the deciders are those present now, not on the trip's dates)."""
        return await self.absent_between(day, day)

    async def absences_beginning(self, today: date) -> list[tuple[int, str]]:
        """(absence id, person) of absences that have started and were not handled yet."""
        rows = await self.tx.all(
            "SELECT id, staff_id FROM absences WHERE began = 0 AND start_day <= ? ORDER BY id",
            (today.isoformat(),),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    async def mark_absence_begun(self, absence_id: int) -> None:
        await self.tx.execute("UPDATE absences SET began = 1 WHERE id = ?", (absence_id,))

    async def next_ban_start(self, now: datetime) -> datetime | None:
        """When the next ban set ahead starts (None: none is waiting)."""
        ahead = [
            row.effective_from
            for row in await self.policies()
            if row.mode == "ban" and not row.announced and row.effective_from > now
        ]
        return min(ahead, default=None)

    async def ban_starts_due(self, now: datetime) -> list[PolicyRow]:
        """Bans that have started and whose start was not handled yet."""
        return [
            row
            for row in await self.policies()
            if row.mode == "ban" and not row.announced and row.effective_from <= now
        ]

    # --- policy and calendar ----------------------------------------------------------------

    async def add_policy(
        self,
        mode: str,
        effective_from: datetime,
        until: datetime | None,
        by: str,
        now: datetime,
        note: str | None = None,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO policy_periods (mode, effective_from, until, created_by, created_at, note) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (mode, to_db_time(effective_from), _time(until), by, to_db_time(now), note),
        )

    async def policies(self) -> list[PolicyRow]:
        rows = await self.tx.all(
            "SELECT id, mode, effective_from, until, created_by, announced FROM policy_periods ORDER BY id"
        )
        return [
            PolicyRow(
                r[0],
                r[1],
                from_db_time(r[2], self.tz),
                from_db_time(r[3], self.tz),
                r[4],
                bool(r[5]),
            )
            for r in rows
        ]

    async def mark_announced(self, policy_id: int) -> None:
        await self.tx.execute("UPDATE policy_periods SET announced = 1 WHERE id = ?", (policy_id,))

    async def set_calendar_day(self, day: date, kind: str, note: str | None) -> None:
        await self.tx.execute(
            "INSERT INTO calendar_days (day, kind, note) VALUES (?, ?, ?) "
            "ON CONFLICT(day) DO UPDATE SET kind = excluded.kind, note = excluded.note",
            (day.isoformat(), kind, note),
        )

    async def calendar_days(self) -> dict[str, list[date]]:
        rows = await self.tx.all("SELECT day, kind FROM calendar_days ORDER BY day")
        found: dict[str, list[date]] = {"day_off": [], "workday": []}
        for day, kind in rows:
            found.setdefault(kind, []).append(date.fromisoformat(day))
        return found
