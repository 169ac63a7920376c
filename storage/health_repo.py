"""Symptom reports, health alerts, cases and their contact tree, areas with cases, monitoring."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from storage.engine import Row, Tx, dumps, from_db_time, to_db_time

DONE = "done"
ENDED = "ended"


@dataclass(frozen=True, slots=True)
class SymptomReport:
    id: int
    staff_id: str
    source: str
    symptoms: tuple[str, ...]
    other_text: str | None
    temperature: float | None
    onset_day: date | None
    contact_with_case: bool
    contacts: tuple[str, ...]
    urgency: str
    reasons: tuple[str, ...]
    created_at: datetime
    case_contact: str  # yes | no | unknown


@dataclass(frozen=True, slots=True)
class NewReport:
    staff_id: str
    source: str
    symptoms: tuple[str, ...]
    other_text: str | None
    temperature: float | None
    onset_day: date | None
    contact_with_case: bool
    contacts: tuple[str, ...]
    urgency: str
    reasons: tuple[str, ...]
    case_contact: str | None = None  # yes | no | unknown (None: from contact_with_case)


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    object: str
    staff_id: str | None
    unit_id: str | None
    level: int
    escalate_at: datetime | None
    acked_by: str | None
    acked_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CaseReport:
    id: int
    unit_id: str | None
    scenario: str | None
    reported_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CaseNodeRow:
    id: int
    case_id: int
    parent_id: int | None
    staff_id: str | None
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class Area:
    id: int
    province: str
    place: str
    start_day: date
    end_day: date | None
    source: str
    ended_at: datetime | None
    test_hours: int | None = None  # required on return: a test within so many hours
    isolation_days: int | None = None  # required on return: isolation for so many days


@dataclass(frozen=True, slots=True)
class Monitoring:
    id: int
    staff_id: str
    reason: str
    status: str
    start_day: date
    end_day: date
    next_checkin_at: datetime | None
    pending_day: date | None
    pending_stage: str | None
    pending_due_at: datetime | None
    ended_by: str | None
    end_reason: str | None


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _time(value: datetime | None) -> str | None:
    return None if value is None else to_db_time(value)


_REPORT = (
    "id, staff_id, source, symptoms, other_text, temperature, onset_day, contact_with_case, "
    "contacts, urgency, reasons, created_at, case_contact"
)
CASE_CONTACT_SQL = (
    "COALESCE({t}.case_contact, CASE {t}.contact_with_case WHEN 1 THEN 'yes' ELSE 'no' END)"
)
"""The three-valued answer of a symptom_reports row `{t}` (older rows kept only yes/no)."""
_ALERT = "id, object, staff_id, unit_id, level, escalate_at, acked_by, acked_at, created_at"
_MONITORING = (
    "id, staff_id, reason, status, start_day, end_day, next_checkin_at, pending_day, "
    "pending_stage, pending_due_at, ended_by, end_reason"
)


class HealthRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    # --- symptom reports ----------------------------------------------------------------------

    async def add_report(self, new: NewReport, now: datetime) -> int:
        return await self.tx.insert(
            f"INSERT INTO symptom_reports ({_REPORT.removeprefix('id, ')}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new.staff_id,
                new.source,
                dumps(list(new.symptoms)),
                new.other_text,
                new.temperature,
                new.onset_day.isoformat() if new.onset_day else None,
                int(new.contact_with_case),
                dumps(list(new.contacts)),
                new.urgency,
                dumps(list(new.reasons)),
                to_db_time(now),
                new.case_contact or ("yes" if new.contact_with_case else "no"),
            ),
        )

    async def report(self, report_id: int) -> SymptomReport | None:
        row = await self.tx.one(f"SELECT {_REPORT} FROM symptom_reports WHERE id = ?", (report_id,))
        if row is None:
            return None
        return SymptomReport(
            row[0],
            row[1],
            row[2],
            tuple(json.loads(row[3])),
            row[4],
            row[5],
            _day(row[6]),
            bool(row[7]),
            tuple(json.loads(row[8])),
            row[9],
            tuple(json.loads(row[10])),
            from_db_time(row[11], self.tz),
            row[12] or ("yes" if row[7] else "no"),
        )

    # --- alerts -------------------------------------------------------------------------------

    async def add_alert(
        self,
        obj: str,
        staff_id: str | None,
        unit_id: str | None,
        escalate_at: datetime | None,
        now: datetime,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO health_alerts (object, staff_id, unit_id, escalate_at, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (obj, staff_id, unit_id, _time(escalate_at), to_db_time(now)),
        )

    async def alert(self, alert_id: int) -> Alert | None:
        row = await self.tx.one(f"SELECT {_ALERT} FROM health_alerts WHERE id = ?", (alert_id,))
        return None if row is None else self._alert(row)

    def _alert(self, r: Row) -> Alert:
        return Alert(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            from_db_time(r[5], self.tz),
            r[6],
            from_db_time(r[7], self.tz),
            from_db_time(r[8], self.tz),
        )

    async def due_alerts(self, now: datetime) -> list[Alert]:
        rows = await self.tx.all(
            f"SELECT {_ALERT} FROM health_alerts WHERE escalate_at IS NOT NULL "
            "AND escalate_at <= ? AND acked_at IS NULL ORDER BY id",
            (to_db_time(now),),
        )
        return [self._alert(r) for r in rows]

    async def set_escalation(self, alert_id: int, level: int, escalate_at: datetime | None) -> None:
        await self.tx.execute(
            "UPDATE health_alerts SET level = ?, escalate_at = ? WHERE id = ?",
            (level, _time(escalate_at), alert_id),
        )

    async def ack(self, alert_id: int, staff_id: str, now: datetime) -> bool:
        """Exactly one acknowledgement wins."""
        changed = await self.tx.execute(
            "UPDATE health_alerts SET acked_by = ?, acked_at = ?, escalate_at = NULL "
            "WHERE id = ? AND acked_at IS NULL",
            (staff_id, to_db_time(now), alert_id),
        )
        return changed == 1

    async def add_recipients(self, alert_id: int, staff_ids: list[str], level: int) -> None:
        await self.tx.executemany(
            "INSERT INTO alert_recipients (alert_id, staff_id, level) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(alert_id, s, level) for s in staff_ids],
        )

    async def recipients(self, alert_id: int) -> list[str]:
        rows = await self.tx.all(
            "SELECT staff_id FROM alert_recipients WHERE alert_id = ? ORDER BY level", (alert_id,)
        )
        return [r[0] for r in rows]

    async def recipients_at(self, alert_id: int, level: int) -> list[str]:
        """Who was sent the alert at that escalation level."""
        rows = await self.tx.all(
            "SELECT staff_id FROM alert_recipients WHERE alert_id = ? AND level = ?",
            (alert_id, level),
        )
        return [r[0] for r in rows]

    # --- cases --------------------------------------------------------------------------------

    async def add_case(
        self, unit_id: str | None, scenario: str | None, by: str, now: datetime
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO case_reports (unit_id, scenario, reported_by, created_at) VALUES (?, ?, ?, ?)",
            (unit_id, scenario, by, to_db_time(now)),
        )

    async def case(self, case_id: int) -> CaseReport | None:
        row = await self.tx.one(
            "SELECT id, unit_id, scenario, reported_by, created_at FROM case_reports WHERE id = ?",
            (case_id,),
        )
        if row is None:
            return None
        return CaseReport(row[0], row[1], row[2], row[3], from_db_time(row[4], self.tz))

    async def add_node(
        self,
        case_id: int,
        parent_id: int | None,
        staff_id: str | None,
        name: str,
        level: str,
        by: str,
        now: datetime,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO case_nodes (case_id, parent_id, staff_id, name, level, added_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (case_id, parent_id, staff_id, name, level, by, to_db_time(now)),
        )

    async def latest_listing(self, staff_id: str, since: datetime) -> tuple[str, datetime] | None:
        """(level, when) of the latest case report naming the person since `since`."""
        row = await self.tx.one(
            "SELECT level, created_at FROM case_nodes WHERE staff_id = ? AND created_at >= ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (staff_id, to_db_time(since)),
        )
        return None if row is None else (row[0], from_db_time(row[1], self.tz))

    async def nodes(self, case_id: int) -> list[CaseNodeRow]:
        rows = await self.tx.all(
            "SELECT id, case_id, parent_id, staff_id, name, level FROM case_nodes "
            "WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [CaseNodeRow(*r) for r in rows]

    async def node(self, node_id: int) -> CaseNodeRow | None:
        row = await self.tx.one(
            "SELECT id, case_id, parent_id, staff_id, name, level FROM case_nodes WHERE id = ?",
            (node_id,),
        )
        return None if row is None else CaseNodeRow(*row)

    # --- areas --------------------------------------------------------------------------------

    async def add_area(
        self,
        province: str,
        place: str,
        start: date,
        end: date | None,
        source: str,
        by: str,
        now: datetime,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO case_areas (province, place, start_day, end_day, source, created_by, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                province,
                place,
                start.isoformat(),
                end.isoformat() if end else None,
                source,
                by,
                to_db_time(now),
            ),
        )

    async def areas(self, include_ended: bool = False) -> list[Area]:
        where = "" if include_ended else "WHERE ended_at IS NULL"
        rows = await self.tx.all(
            "SELECT id, province, place, start_day, end_day, source, ended_at, test_hours, "
            f"isolation_days FROM case_areas {where} ORDER BY id"
        )
        return [
            Area(
                r[0],
                r[1],
                r[2],
                date.fromisoformat(r[3]),
                _day(r[4]),
                r[5],
                from_db_time(r[6], self.tz),
                r[7],
                r[8],
            )
            for r in rows
        ]

    async def set_area_requirement(
        self, area_id: int, test_hours: int | None, isolation_days: int | None
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE case_areas SET test_hours = ?, isolation_days = ? "
            "WHERE id = ? AND ended_at IS NULL",
            (test_hours, isolation_days, area_id),
        )
        return changed == 1

    async def end_area(self, area_id: int, by: str, now: datetime) -> bool:
        changed = await self.tx.execute(
            "UPDATE case_areas SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL",
            (to_db_time(now), by, area_id),
        )
        return changed == 1

    # --- monitoring ---------------------------------------------------------------------------

    async def open_monitoring(self, staff_id: str) -> Monitoring | None:
        row = await self.tx.one(
            f"SELECT {_MONITORING} FROM monitorings WHERE staff_id = ? AND status = 'open'",
            (staff_id,),
        )
        return None if row is None else self._monitoring(row)

    async def monitoring(self, monitoring_id: int) -> Monitoring | None:
        row = await self.tx.one(
            f"SELECT {_MONITORING} FROM monitorings WHERE id = ?", (monitoring_id,)
        )
        return None if row is None else self._monitoring(row)

    def _monitoring(self, row: Row) -> Monitoring:
        return Monitoring(
            row[0],
            row[1],
            row[2],
            row[3],
            date.fromisoformat(row[4]),
            date.fromisoformat(row[5]),
            from_db_time(row[6], self.tz),
            _day(row[7]),
            row[8],
            from_db_time(row[9], self.tz),
            row[10],
            row[11],
        )

    async def add_monitoring(
        self,
        staff_id: str,
        reason: str,
        start: date,
        end: date,
        next_checkin: datetime,
        now: datetime,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO monitorings (staff_id, reason, status, start_day, end_day, next_checkin_at, "
            "created_at, updated_at) VALUES (?, ?, 'open', ?, ?, ?, ?, ?)",
            (
                staff_id,
                reason,
                start.isoformat(),
                end.isoformat(),
                to_db_time(next_checkin),
                to_db_time(now),
                to_db_time(now),
            ),
        )

    async def extend_monitoring(
        self, monitoring_id: int, end: date, reason: str, now: datetime
    ) -> None:
        await self.tx.execute(
            f"UPDATE monitorings SET end_day = {self.tx.dialect.greatest('end_day', '?')}, reason = reason || '; ' || ?, "
            "updated_at = ? WHERE id = ?",
            (end.isoformat(), reason, to_db_time(now), monitoring_id),
        )

    async def open_monitorings(self) -> list[Monitoring]:
        rows = await self.tx.all(
            f"SELECT {_MONITORING} FROM monitorings WHERE status = 'open' ORDER BY id"
        )
        return [self._monitoring(r) for r in rows]

    async def due_monitorings(self, now: datetime) -> list[Monitoring]:
        at = to_db_time(now)
        rows = await self.tx.all(
            f"SELECT {_MONITORING} FROM monitorings WHERE status = 'open' AND "
            "(next_checkin_at <= ? OR pending_due_at <= ?) ORDER BY id",
            (at, at),
        )
        return [self._monitoring(r) for r in rows]

    async def next_checkin_at(self) -> datetime | None:
        """The earliest daily check-in still to ask in an open monitoring."""
        found = await self.tx.scalar(
            "SELECT MIN(next_checkin_at) FROM monitorings WHERE status = 'open'"
        )
        return from_db_time(found, self.tz) if found else None

    async def set_checkin_state(
        self,
        monitoring_id: int,
        *,
        next_checkin_at: datetime | None,
        pending_day: date | None,
        pending_stage: str | None,
        pending_due_at: datetime | None,
        now: datetime,
    ) -> None:
        await self.tx.execute(
            "UPDATE monitorings SET next_checkin_at = ?, pending_day = ?, pending_stage = ?, "
            "pending_due_at = ?, updated_at = ? WHERE id = ?",
            (
                _time(next_checkin_at),
                pending_day.isoformat() if pending_day else None,
                pending_stage,
                _time(pending_due_at),
                to_db_time(now),
                monitoring_id,
            ),
        )

    async def set_pending(
        self,
        monitoring_id: int,
        pending_day: date | None,
        stage: str | None,
        due_at: datetime | None,
        now: datetime,
    ) -> None:
        await self.tx.execute(
            "UPDATE monitorings SET pending_day = ?, pending_stage = ?, pending_due_at = ?, "
            "updated_at = ? WHERE id = ?",
            (
                pending_day.isoformat() if pending_day else None,
                stage,
                _time(due_at),
                to_db_time(now),
                monitoring_id,
            ),
        )

    async def finish(
        self, monitoring_id: int, status: str, by: str | None, reason: str | None, now: datetime
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE monitorings SET status = ?, ended_by = ?, end_reason = ?, next_checkin_at = NULL, "
            "pending_day = NULL, pending_stage = NULL, pending_due_at = NULL, updated_at = ? "
            "WHERE id = ? AND status = 'open'",
            (status, by, reason, to_db_time(now), monitoring_id),
        )
        return changed == 1

    async def record_checkin(
        self, monitoring_id: int, day: date, answer: str, now: datetime
    ) -> bool:
        """False when that day's check-in was already answered (a double tap)."""
        changed = await self.tx.execute(
            "INSERT INTO checkins (monitoring_id, day, answer, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (monitoring_id, day.isoformat(), answer, to_db_time(now)),
        )
        return changed == 1
