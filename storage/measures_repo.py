"""Testing and isolation on return (return_measures) and the violations heads record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from storage.engine import Tx, dumps, from_db_time, to_db_time


@dataclass(frozen=True, slots=True)
class ReturnMeasure:
    request_id: int
    staff_id: str
    area: str
    arrived_at: datetime
    test_due_at: datetime | None
    test_result: str | None  # None: pending
    test_at: datetime | None
    evidence_file_id: str | None
    isolation_until: datetime | None
    remind_at: datetime | None
    remind_stage: int
    case_id: int | None


_MEASURE = (
    "request_id, staff_id, area, arrived_at, test_due_at, test_result, test_at, evidence_file_id, "
    "isolation_until, remind_at, remind_stage, case_id"
)
_MEASURE_TIMES = (3, 4, 6, 8, 9)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else to_db_time(moment)


class MeasuresRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    def _measure(self, row: Any) -> ReturnMeasure:
        values = list(row)
        for index in _MEASURE_TIMES:
            values[index] = from_db_time(values[index], self.tz)
        return ReturnMeasure(*values)

    # --- return measures --------------------------------------------------------------------

    async def open_measure(
        self,
        request_id: int,
        staff_id: str,
        area: str,
        arrived: datetime,
        test_due_at: datetime | None,
        isolation_until: datetime | None,
        remind_at: datetime | None,
        now: datetime,
    ) -> None:
        """Once per trip (a redelivered declaration changes nothing)."""
        await self.tx.execute(
            "INSERT INTO return_measures (request_id, staff_id, area, arrived_at, test_due_at, "
            "isolation_until, remind_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (request_id) DO NOTHING",
            (
                request_id,
                staff_id,
                area,
                to_db_time(arrived),
                _time(test_due_at),
                _time(isolation_until),
                _time(remind_at),
                to_db_time(now),
                to_db_time(now),
            ),
        )

    async def measure(self, request_id: int) -> ReturnMeasure | None:
        row = await self.tx.one(
            f"SELECT {_MEASURE} FROM return_measures WHERE request_id = ?", (request_id,)
        )
        return None if row is None else self._measure(row)

    async def record_result(self, request_id: int, result: str, now: datetime) -> bool:
        """The first answer counts: a double tap or a second answer changes nothing."""
        changed = await self.tx.execute(
            "UPDATE return_measures SET test_result = ?, test_at = ?, remind_at = NULL, "
            "updated_at = ? WHERE request_id = ? AND test_result IS NULL AND test_due_at IS NOT NULL",
            (result, to_db_time(now), to_db_time(now), request_id),
        )
        return changed == 1

    async def add_evidence(self, request_id: int, file_id: str, now: datetime) -> None:
        await self.tx.execute(
            "UPDATE return_measures SET evidence_file_id = ?, evidence_at = ?, updated_at = ? "
            "WHERE request_id = ?",
            (file_id, to_db_time(now), to_db_time(now), request_id),
        )

    async def link_case(self, request_id: int, case_id: int, now: datetime) -> None:
        await self.tx.execute(
            "UPDATE return_measures SET case_id = ?, updated_at = ? WHERE request_id = ?",
            (case_id, to_db_time(now), request_id),
        )

    async def anything_due(self, now: datetime) -> bool:
        return bool(
            await self.tx.scalar(
                f"SELECT EXISTS (SELECT 1 FROM return_measures {self.tx.dialect.indexed_by('return_measures_remind')} "
                "WHERE remind_at IS NOT NULL AND test_result IS NULL AND remind_at <= ?)",
                (to_db_time(now),),
            )
        )

    async def due(self, now: datetime, limit: int) -> list[ReturnMeasure]:
        rows = await self.tx.all(
            f"SELECT {_MEASURE} FROM return_measures {self.tx.dialect.indexed_by('return_measures_remind')} "
            "WHERE remind_at IS NOT NULL AND test_result IS NULL AND remind_at <= ? "
            "ORDER BY remind_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [self._measure(r) for r in rows]

    async def stop_reminding(self, staff_id: str, now: datetime) -> None:
        """The person withdrew the consent their trips rest on: no more test steps."""
        await self.tx.execute(
            "UPDATE return_measures SET remind_at = NULL, updated_at = ? "
            "WHERE staff_id = ? AND remind_at IS NOT NULL",
            (to_db_time(now), staff_id),
        )

    async def move_on_many(
        self, moves: Sequence[tuple[int, int, datetime | None]], now: datetime
    ) -> None:
        """(request id, stage now done, next step's time); stage 2 marks the head told."""
        at = to_db_time(now)
        await self.tx.executemany(
            "UPDATE return_measures SET remind_stage = ?, remind_at = ?, updated_at = ?, "
            "overdue_at = CASE WHEN ? >= 2 THEN COALESCE(overdue_at, ?) ELSE overdue_at END "
            "WHERE request_id = ?",
            [(stage, _time(next_at), at, stage, at, rid) for rid, stage, next_at in moves],
        )

    async def of_scope(
        self, scope: Sequence[str], now: datetime, results_since: datetime
    ) -> list[ReturnMeasure]:
        """Those in scope still isolating, with a test pending, or a result since `results_since`."""
        rows = await self.tx.all(
            f"SELECT {_MEASURE} FROM return_measures WHERE staff_id {self.tx.dialect.in_json_list} AND "
            "((isolation_until IS NOT NULL AND isolation_until > ?) "
            "OR (test_due_at IS NOT NULL AND test_result IS NULL) OR test_at >= ?) "
            "ORDER BY arrived_at, request_id",
            (dumps(list(scope)), to_db_time(now), to_db_time(results_since)),
        )
        return [self._measure(r) for r in rows]

    # --- violations -------------------------------------------------------------------------

    async def add_violation(
        self,
        staff_id: str,
        unit_id: str,
        kind: str,
        note: str,
        object_: str | None,
        by: str,
        now: datetime,
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO violations (staff_id, unit_id, kind, note, object, recorded_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (staff_id, unit_id, kind, note, object_, by, to_db_time(now)),
        )
