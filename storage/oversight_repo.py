"""Read models for oversight: a head's unit today, the district per unit, the digests, exports.

Scopes are passed as JSON arrays (the dialect's `in_json_list`), so a 500-person unit is one
parameter. Times in exports are formatted by the database itself (`dd/mm/yyyy HH:MM`, shifted by
the zone's offset), which keeps a 100,000-row export out of Python's datetime code.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, overload

from storage.broadcast_repo import NOT_REGISTERED, UNREAD
from storage.engine import Tx, count_where, dumps, from_db_time, to_db_time
from storage.health_repo import CASE_CONTACT_SQL

_ON_TIME = "r.declared_at IS NOT NULL AND r.declared_at <= r.deadline_at"
_BACK_LATE = "r.state = 'back' AND r.deadline_at <= ?"
_AWAY_LATE = "r.state = 'away' AND r.planned_return_at <= ?"
LIVE = "('approved', 'recorded')"


@dataclass(frozen=True, slots=True)
class Trip:
    """A trip of someone in scope: away now, not reported back, or in its 24-hour window."""

    request_id: int
    staff_id: str
    destination: str
    departure_at: datetime
    return_at: datetime  # planned return
    state: str | None  # trip_returns.state; None: not tracked yet
    arrived_at: datetime | None = None
    deadline_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    request_id: int
    staff_id: str
    destination: str
    departure_at: datetime
    created_at: datetime
    mine: bool  # the viewer is one of its deciders


@dataclass(frozen=True, slots=True)
class HealthLine:
    staff_id: str
    kind: str  # monitoring | symptoms
    at: datetime  # monitoring: start; symptoms: when reported
    detail: str  # monitoring: reason; symptoms: urgency
    until: str | None = None  # monitoring: last day (YYYY-MM-DD)


@dataclass(frozen=True, slots=True)
class Unread:
    broadcast_id: int
    number: str
    title: str
    staff_ids: list[str]  # have not read it (UNREAD)
    not_registered: list[str] = field(default_factory=list)  # could not get it


@dataclass
class UnitFigures:
    """One unit's line in /district (its own staff, not the units below)."""

    unit_id: str
    away: int = 0
    overdue: int = 0
    due_week: int = 0  # windows of the last 7 days that are closed (declared or past deadline)
    on_time_week: int = 0
    decision_minutes: list[float] | None = None
    unread: int = 0  # copies of the latest directives not read (UNREAD)
    not_registered: int = 0  # copies that could not go out: not registered (NOT_REGISTERED)
    not_reported: int = 0
    pending: int = 0
    symptoms: int = 0
    violations: int = 0  # recorded in the last 30 days


# The planner has no statistics (no ANALYZE on a fresh file), so it would rather walk the state
# and status indexes (a year of history) than the time ones: a unary `+` or `INDEXED BY` tells it.


class OversightRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    @overload
    def _t(self, text: str) -> datetime: ...
    @overload
    def _t(self, text: str | None) -> datetime | None: ...
    def _t(self, text: str | None) -> datetime | None:
        return from_db_time(text, self.tz)

    # --- a head's unit ----------------------------------------------------------------------

    async def trips(self, scope: Sequence[str], now: datetime) -> list[Trip]:
        """Away now (started, not back), including those past their planned return."""
        at = to_db_time(now)
        rows = await self.tx.all(
            "SELECT t.id, t.staff_id, t.destination, t.departure_at, t.return_at, r.state "
            f"FROM travel_requests t {self.tx.dialect.indexed_by('travel_staff')} LEFT JOIN trip_returns r ON r.request_id = t.id "
            f"WHERE t.staff_id {self.tx.dialect.in_json_list} AND t.status IN {LIVE} AND t.departure_at <= ? "
            "AND (r.state = 'away' OR (r.request_id IS NULL AND t.return_tracked = 0 AND t.return_at > ?)) "
            "ORDER BY t.return_at",
            (dumps(list(scope)), at, at),
        )
        return [Trip(r[0], r[1], r[2], self._t(r[3]), self._t(r[4]), r[5]) for r in rows]

    async def windows(self, scope: Sequence[str]) -> list[Trip]:
        """Declared back, official health declaration not confirmed yet: open or overdue."""
        rows = await self.tx.all(
            "SELECT t.id, t.staff_id, t.destination, t.departure_at, t.return_at, r.state, r.arrived_at, "
            "r.deadline_at FROM trip_returns r JOIN travel_requests t ON t.id = r.request_id "
            f"WHERE r.state = 'back' AND r.staff_id {self.tx.dialect.in_json_list} ORDER BY r.deadline_at",
            (dumps(list(scope)),),
        )
        return [
            Trip(r[0], r[1], r[2], self._t(r[3]), self._t(r[4]), r[5], self._t(r[6]), self._t(r[7]))
            for r in rows
        ]

    async def waiting(self, scope: Sequence[str], viewer: str) -> list[Waiting]:
        rows = await self.tx.all(
            "SELECT t.id, t.staff_id, t.destination, t.departure_at, t.created_at, "
            "EXISTS (SELECT 1 FROM request_deciders d WHERE d.request_id = t.id AND d.staff_id = ?) "
            f"FROM travel_requests t {self.tx.dialect.indexed_by('travel_staff')} WHERE t.status = 'pending' AND t.staff_id {self.tx.dialect.in_json_list} ORDER BY t.departure_at",
            (viewer, dumps(list(scope))),
        )
        return [Waiting(r[0], r[1], r[2], self._t(r[3]), self._t(r[4]), bool(r[5])) for r in rows]

    async def health(self, scope: Sequence[str], since: datetime) -> list[HealthLine]:
        people = dumps(list(scope))
        monitored = await self.tx.all(
            "SELECT staff_id, created_at, reason, end_day FROM monitorings "
            f"WHERE status = 'open' AND staff_id {self.tx.dialect.in_json_list} ORDER BY created_at",
            (people,),
        )
        reported = await self.tx.all(
            "SELECT staff_id, created_at, urgency FROM symptom_reports "
            f"WHERE created_at >= ? AND staff_id {self.tx.dialect.in_json_list} ORDER BY created_at DESC",
            (to_db_time(since), people),
        )
        lines = [HealthLine(r[0], "monitoring", self._t(r[1]), r[2], r[3]) for r in monitored]
        return lines + [HealthLine(r[0], "symptoms", self._t(r[1]), r[2]) for r in reported]

    async def recent_directives(
        self, since: datetime, until: datetime | None = None, limit: int = 5
    ) -> list[tuple[int, str, str]]:
        """Directives sent in [since, until]: the latest `limit`, newest first."""
        rows = await self.tx.all(
            "SELECT id, number, title FROM broadcasts WHERE queued_at >= ? AND queued_at <= ? "
            "AND status IN ('sending', 'done') ORDER BY queued_at DESC LIMIT ?",
            (to_db_time(since), to_db_time(until) if until else "9999", limit),
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def unread(
        self, scope: Sequence[str], directives: list[tuple[int, str, str]]
    ) -> list[Unread]:
        found = []
        for broadcast_id, number, title in directives:
            rows = await self.tx.all(
                f"SELECT r.staff_id, {UNREAD} FROM broadcast_recipients r "
                f"WHERE r.broadcast_id = ? AND (({UNREAD}) OR ({NOT_REGISTERED})) "
                f"AND r.staff_id {self.tx.dialect.in_json_list} ORDER BY r.staff_id",
                (broadcast_id, dumps(list(scope))),
            )
            unread = [r[0] for r in rows if r[1]]
            absent = [r[0] for r in rows if not r[1]]
            if rows:
                found.append(Unread(broadcast_id, number, title, unread, absent))
        return found

    # --- the district, per unit ---------------------------------------------------------------

    async def district(
        self,
        now: datetime,
        week_ago: datetime,
        month_ago: datetime,
        directive_ids: list[int],
        asked_after: timedelta = timedelta(0),
    ) -> dict[str, UnitFigures]:
        """Per unit. A return counts as not reported `asked_after` (RETURN_GRACE) past the
        planned return: when the person is asked whether they are back."""
        figures: dict[str, UnitFigures] = {}

        def of(unit_id: str) -> UnitFigures:
            return figures.setdefault(unit_id, UnitFigures(unit_id))

        at = to_db_time(now)
        for unit_id, count in await self._away_counts(at):
            of(unit_id).away += count
        for unit_id, overdue, not_reported in await self._late_returns(now, asked_after):
            of(unit_id).overdue += overdue
            of(unit_id).not_reported += not_reported
        for row in await self.tx.all(
            f"SELECT s.unit_id, {count_where('r.declared_at IS NOT NULL OR r.deadline_at <= ?')}, "
            f"{count_where(_ON_TIME)} "
            "FROM trip_returns r JOIN staff s ON s.staff_id = r.staff_id "
            f"WHERE r.arrived_at >= ? AND r.arrived_at <= ? AND {self.tx.dialect.unindexed('r.state')} IN ('back', 'declared') GROUP BY s.unit_id",
            (at, to_db_time(week_ago), at),
        ):
            of(row[0]).due_week += row[1] or 0
            of(row[0]).on_time_week += row[2] or 0
        for row in await self.tx.all(
            f"SELECT s.unit_id, {self.tx.dialect.minutes_between('t.created_at', 't.decided_at')} "
            "FROM travel_requests t JOIN staff s ON s.staff_id = t.staff_id "
            f"WHERE t.decided_at >= ? AND t.decided_at IS NOT NULL AND {self.tx.dialect.unindexed('t.status')} IN ('approved', 'denied')",
            (to_db_time(month_ago),),
        ):
            unit = of(row[0])
            unit.decision_minutes = (unit.decision_minutes or []) + [float(row[1])]
        for unit_id, unread, not_registered in await self.unread_by_unit(directive_ids):
            of(unit_id).unread += unread
            of(unit_id).not_registered += not_registered
        for row in await self.tx.all(
            "SELECT unit_id, COUNT(*) FROM violations WHERE created_at >= ? GROUP BY unit_id",
            (to_db_time(month_ago),),
        ):
            of(row[0]).violations += row[1]
        return figures

    async def _late_returns(
        self, now: datetime, asked_after: timedelta
    ) -> list[tuple[str, int, int]]:
        """Per unit: declarations past their 24 hours, and returns not reported although the
        person has been asked (`asked_after` the planned return)."""
        rows = await self.tx.all(
            f"SELECT s.unit_id, {count_where(_BACK_LATE)}, {count_where(_AWAY_LATE)} FROM trip_returns r "
            "JOIN staff s ON s.staff_id = r.staff_id WHERE r.state IN ('back', 'away') GROUP BY s.unit_id",
            (to_db_time(now), to_db_time(now - asked_after)),
        )
        return [(r[0], r[1] or 0, r[2] or 0) for r in rows]

    async def _away_counts(self, at: str) -> list[tuple[str, int]]:
        rows = await self.tx.all(
            "SELECT unit_id, COUNT(*) FROM ("
            f" SELECT s.unit_id AS unit_id FROM travel_requests t {self.tx.dialect.indexed_by('travel_untracked_returns')} "
            " JOIN staff s ON s.staff_id = t.staff_id "
            f" WHERE t.return_tracked = 0 AND t.status IN {LIVE} AND t.return_at > ? AND t.departure_at <= ? "
            " UNION ALL SELECT s.unit_id FROM trip_returns r JOIN staff s ON s.staff_id = r.staff_id "
            " WHERE r.state = 'away') AS away GROUP BY unit_id",
            (at, at),
        )
        return [(r[0], r[1]) for r in rows]

    async def unread_by_unit(self, directive_ids: list[int]) -> list[tuple[str, int, int]]:
        """Per unit: copies not read (UNREAD), copies that could not go out (NOT_REGISTERED)."""
        if not directive_ids:
            return []
        rows = await self.tx.all(
            f"SELECT r.unit_id, {count_where(UNREAD)}, {count_where(NOT_REGISTERED)} FROM broadcast_recipients r "
            f"WHERE r.broadcast_id {self.tx.dialect.in_json_integers} AND r.read_at IS NULL GROUP BY r.unit_id",
            (dumps(directive_ids),),
        )
        return [(r[0], r[1] or 0, r[2] or 0) for r in rows]

    async def attention(
        self,
        now: datetime,
        since: datetime,
        directive_ids: list[int],
        asked_after: timedelta = timedelta(0),
    ) -> dict[str, UnitFigures]:
        """What the daily digest counts, per unit: overdue, not reported (as `district`),
        pending, new symptoms, unread."""
        figures: dict[str, UnitFigures] = {}

        def of(unit_id: str) -> UnitFigures:
            return figures.setdefault(unit_id, UnitFigures(unit_id))

        for unit_id, overdue, not_reported in await self._late_returns(now, asked_after):
            of(unit_id).overdue += overdue
            of(unit_id).not_reported += not_reported
        for row in await self.tx.all(
            "SELECT s.unit_id, COUNT(*) FROM travel_requests t JOIN staff s ON s.staff_id = t.staff_id "
            "WHERE t.status = 'pending' GROUP BY s.unit_id"
        ):
            of(row[0]).pending += row[1]
        for row in await self.tx.all(
            "SELECT s.unit_id, COUNT(*) FROM symptom_reports r JOIN staff s ON s.staff_id = r.staff_id "
            "WHERE r.created_at >= ? GROUP BY s.unit_id",
            (to_db_time(since),),
        ):
            of(row[0]).symptoms += row[1]
        for unit_id, unread, not_registered in await self.unread_by_unit(directive_ids):
            of(unit_id).unread += unread
            of(unit_id).not_registered += not_registered
        return figures

    async def on_time_days(
        self, since: datetime, until: datetime, offset_minutes: int
    ) -> list[tuple[str, str, int, int]]:
        """(unit, local day, on time, due) for windows whose deadline fell in [since, until)."""
        rows = await self.tx.all(
            f"SELECT s.unit_id, {self.tx.dialect.local_day('r.deadline_at', offset_minutes)} AS day, "
            f"{count_where(_ON_TIME)}, COUNT(*) "
            "FROM trip_returns r JOIN staff s ON s.staff_id = r.staff_id "
            f"WHERE r.arrived_at >= ? AND r.deadline_at >= ? AND r.deadline_at < ? AND {self.tx.dialect.unindexed('r.state')} IN ('back', 'declared') "
            "GROUP BY s.unit_id, day",
            (to_db_time(since - timedelta(days=2)), to_db_time(since), to_db_time(until)),
        )
        return [(r[0], r[1], r[2] or 0, r[3]) for r in rows]

    # --- the digest schedule ----------------------------------------------------------------

    async def digest_due(self, kind: str) -> datetime | None:
        text: str | None = await self.tx.scalar(
            "SELECT next_at FROM oversight_digests WHERE kind = ?", (kind,)
        )
        return self._t(text)

    async def next_digest(self) -> datetime | None:
        """The earliest moment a digest (of any kind) is next due."""
        text: str | None = await self.tx.scalar("SELECT MIN(next_at) FROM oversight_digests")
        return self._t(text)

    async def set_digest(self, kind: str, next_at: datetime, sent_at: datetime | None) -> None:
        await self.tx.execute(
            "INSERT INTO oversight_digests (kind, next_at, last_at) VALUES (?, ?, ?) "
            "ON CONFLICT (kind) DO UPDATE SET next_at = excluded.next_at, last_at = COALESCE(excluded.last_at, oversight_digests.last_at)",
            (kind, to_db_time(next_at), to_db_time(sent_at) if sent_at else None),
        )

    # --- exports ----------------------------------------------------------------------------

    async def export_rows(
        self,
        what: str,
        start: datetime,
        end: datetime,
        units: Sequence[str] | None,
        offset_minutes: int,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Rows of one register, ordered by unit; the first column is the unit id (sheet key)."""
        sql, where_time = _EXPORTS[what]
        sql = _LOCAL.sub(lambda m: self.tx.dialect.local_text(m[1], offset_minutes), sql)
        params: list[Any] = [to_db_time(start), to_db_time(end)]
        where = f"{where_time} >= ? AND {where_time} < ?"
        if units is not None:
            where += f" AND s.unit_id {self.tx.dialect.in_json_list}"
            params.append(dumps(list(units)))
        async for row in self.tx.stream(sql.replace("{WHERE}", where), params):
            yield tuple(row)


def _local(column: str) -> str:
    """A stored time as local `dd/mm/yyyy HH:MM`, spelled by the dialect when the query runs."""
    return f"{{LOCAL {column}}}"


_LOCAL = re.compile(r"\{LOCAL ([\w.]+)\}")


_PERSON = (
    "s.unit_id, COALESCE(u.name, s.unit_id), s.full_name, COALESCE(s.position, s.position_group)"
)
_EXPORTS: dict[str, tuple[str, str]] = {
    "travel": (
        # A register of requests: those made in the period (an approved trip next month is in it).
        f"SELECT {_PERSON}, t.id, {_local('t.created_at')}, t.destination, t.address, t.purpose, "
        f"{_local('t.departure_at')}, {_local('t.return_at')}, t.status, COALESCE(d.full_name, t.decided_by), "
        f"{_local('t.decided_at')}, {_local('r.arrived_at')}, {_local('r.declared_at')} "
        "FROM travel_requests t JOIN staff s ON s.staff_id = t.staff_id LEFT JOIN units u ON u.unit_id = s.unit_id "
        "LEFT JOIN staff d ON d.staff_id = t.decided_by LEFT JOIN trip_returns r ON r.request_id = t.id "
        "WHERE {WHERE} ORDER BY s.unit_id, t.created_at, t.id",
        "t.created_at",
    ),
    "returns": (
        f"SELECT {_PERSON}, r.request_id, t.destination, {_local('r.planned_return_at')}, {_local('r.arrived_at')}, "
        f"{_local('r.deadline_at')}, {_local('r.declared_at')}, r.state, "
        "CASE WHEN r.declared_at IS NULL THEN NULL WHEN r.declared_at <= r.deadline_at THEN 1 ELSE 0 END, "
        f"{_local('r.overdue_at')}, {_local('m.test_due_at')}, "
        "CASE WHEN m.test_due_at IS NULL THEN NULL ELSE COALESCE(m.test_result, 'pending') END, "
        f"{_local('m.isolation_until')} "
        "FROM trip_returns r JOIN travel_requests t ON t.id = r.request_id JOIN staff s ON s.staff_id = r.staff_id "
        "LEFT JOIN units u ON u.unit_id = s.unit_id LEFT JOIN return_measures m ON m.request_id = r.request_id "
        "WHERE {WHERE} ORDER BY s.unit_id, r.planned_return_at, r.request_id",
        "r.planned_return_at",
    ),
    "acks": (
        f"SELECT {_PERSON}, b.number, b.title, {_local('b.queued_at')}, r.registered, {_local('r.read_at')} "
        "FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id JOIN staff s ON s.staff_id = r.staff_id "
        "LEFT JOIN units u ON u.unit_id = s.unit_id WHERE {WHERE} ORDER BY s.unit_id, b.id, s.full_name",
        "b.queued_at",
    ),
    "health": (
        f"SELECT {_PERSON}, h.id, {_local('h.created_at')}, h.source, h.symptoms, h.temperature, h.onset_day, "
        f"{CASE_CONTACT_SQL.format(t='h')}, h.urgency "
        "FROM symptom_reports h JOIN staff s ON s.staff_id = h.staff_id LEFT JOIN units u ON u.unit_id = s.unit_id "
        "WHERE {WHERE} ORDER BY s.unit_id, h.created_at, h.id",
        "h.created_at",
    ),
    "violations": (
        f"SELECT {_PERSON}, v.id, {_local('v.created_at')}, v.kind, v.note, "
        "COALESCE(b.full_name, v.recorded_by), v.object "
        "FROM violations v JOIN staff s ON s.staff_id = v.staff_id LEFT JOIN units u ON u.unit_id = s.unit_id "
        "LEFT JOIN staff b ON b.staff_id = v.recorded_by WHERE {WHERE} ORDER BY s.unit_id, v.created_at, v.id",
        "v.created_at",
    ),
}
EXPORT_KINDS = tuple(_EXPORTS)
