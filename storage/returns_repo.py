"""Trip returns: the "are you back?" steps, the return declaration and the 24-hour window."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from bot.domain.reminders import ReminderKind, ScheduledReminder
from storage.engine import Tx, from_db_time, to_db_time

AWAY = "away"
BACK = "back"
DECLARED = "declared"
CANCELLED = "cancelled"
STOPPED = "stopped"  # followed no more: the person withdrew the consent it rested on


@dataclass(frozen=True, slots=True)
class TripReturn:
    request_id: int
    staff_id: str
    state: str
    planned_return_at: datetime
    ask_at: datetime | None
    ask_stage: int
    arrived_at: datetime | None
    deadline_at: datetime | None
    remind_at: datetime | None
    last_seq: int | None
    overdue_at: datetime | None
    declared_at: datetime | None
    evidence_file_id: str | None
    answers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DueReminder:
    """An open window whose next reminder is due, with what its messages need."""

    request_id: int
    staff_id: str
    arrived_at: datetime
    deadline_at: datetime
    last_seq: int | None
    destination: str
    schedule_text: str | None
    channel: str | None  # the person's chat, when registered
    chat_ref: str | None
    language: str | None

    def schedule(self, upto: int | None = None) -> list[ScheduledReminder]:
        """The stored schedule; its first `upto` entries only when that is all that is needed."""
        return parse_schedule(self.schedule_text, upto)


@dataclass(frozen=True, slots=True)
class NewReturn:
    """A trip whose planned return has come: found by the sweep, not yet tracked."""

    request_id: int
    staff_id: str
    planned_return_at: datetime


_COLUMNS = (
    "request_id, staff_id, state, planned_return_at, ask_at, ask_stage, arrived_at, deadline_at, "
    "remind_at, last_seq, overdue_at, declared_at, evidence_file_id, answers"
)
_TIMES = (3, 4, 6, 7, 8, 10, 11)


def _row(row: Any, tz: tzinfo) -> TripReturn:
    values = list(row)
    for index in _TIMES:
        values[index] = from_db_time(values[index], tz)
    values[13] = json.loads(values[13])
    return TripReturn(*values)


def schedule_text(schedule: list[ScheduledReminder]) -> str:
    return ";".join(f"{to_db_time(r.at)},{r.kind.value},{r.seq}" for r in schedule)


_KINDS = {kind.value: kind for kind in ReminderKind}


def parse_schedule(text: str | None, upto: int | None = None) -> list[ScheduledReminder]:
    """Stored once on return, so a sweep of thousands does not recompute it (instants in UTC)."""
    found = []
    for part in (text or "").split(";", upto if upto is not None else -1)[:upto]:
        if part:
            at, kind, seq = part.split(",")
            found.append(ScheduledReminder(datetime.fromisoformat(at), _KINDS[kind], int(seq)))
    return found


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else to_db_time(moment)


class ReturnsRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    # --- finding trips whose return has come ------------------------------------------------

    async def anything_due(self, now: datetime) -> bool:
        """One cheap indexed look, so an idle sweep takes no write lock."""
        at = to_db_time(now)
        row = await self.tx.one(
            f"SELECT EXISTS (SELECT 1 FROM travel_requests {self.tx.dialect.indexed_by('travel_untracked_returns')} "
            "WHERE return_tracked = 0 AND status IN ('approved', 'recorded') AND return_at <= ?) "
            f"OR EXISTS (SELECT 1 FROM trip_returns {self.tx.dialect.indexed_by('trip_returns_ask')} "
            "WHERE state = 'away' AND ask_at IS NOT NULL AND ask_at <= ?) "
            f"OR EXISTS (SELECT 1 FROM trip_returns {self.tx.dialect.indexed_by('trip_returns_remind')} "
            "WHERE state = 'back' AND remind_at IS NOT NULL AND remind_at <= ?)",
            (at, at, at),
        )
        return bool(row and row[0])

    async def untracked_due(self, now: datetime, limit: int = 2000) -> list[NewReturn]:
        rows = await self.tx.all(
            f"SELECT id, staff_id, return_at FROM travel_requests {self.tx.dialect.indexed_by('travel_untracked_returns')} "
            "WHERE return_tracked = 0 "
            "AND status IN ('approved', 'recorded') AND return_at <= ? ORDER BY return_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [NewReturn(r[0], r[1], from_db_time(r[2], self.tz)) for r in rows]

    async def track(
        self,
        request_id: int,
        staff_id: str,
        planned: datetime,
        ask_at: datetime | None,
        ask_stage: int,
        now: datetime,
    ) -> None:
        """Start tracking a trip's return (idempotent: a tracked trip is left as it is)."""
        await self.tx.execute(
            "INSERT INTO trip_returns (request_id, staff_id, state, planned_return_at, "
            "ask_at, ask_stage, created_at, updated_at) VALUES (?, ?, 'away', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                request_id,
                staff_id,
                to_db_time(planned),
                _time(ask_at),
                ask_stage,
                to_db_time(now),
                to_db_time(now),
            ),
        )
        await self.tx.execute(
            "UPDATE travel_requests SET return_tracked = 1 WHERE id = ?", (request_id,)
        )

    async def track_many(
        self, rows: list[tuple[NewReturn, datetime | None, int]], now: datetime
    ) -> None:
        stamp = to_db_time(now)
        await self.tx.executemany(
            "INSERT INTO trip_returns (request_id, staff_id, state, planned_return_at, "
            "ask_at, ask_stage, created_at, updated_at) VALUES (?, ?, 'away', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                (
                    n.request_id,
                    n.staff_id,
                    to_db_time(n.planned_return_at),
                    _time(at),
                    stage,
                    stamp,
                    stamp,
                )
                for n, at, stage in rows
            ],
        )
        await self.tx.executemany(
            "UPDATE travel_requests SET return_tracked = 1 WHERE id = ?",
            [(n.request_id,) for n, _, _ in rows],
        )

    # --- reading ----------------------------------------------------------------------------

    async def get(self, request_id: int) -> TripReturn | None:
        row = await self.tx.one(
            f"SELECT {_COLUMNS} FROM trip_returns WHERE request_id = ?", (request_id,)
        )
        return None if row is None else _row(row, self.tz)

    async def open_of_staff(self, staff_id: str) -> list[TripReturn]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM trip_returns WHERE staff_id = ? AND state IN ('away', 'back') "
            "ORDER BY planned_return_at DESC",
            (staff_id,),
        )
        return [_row(r, self.tz) for r in rows]

    async def current_trip_id(self, staff_id: str, now: datetime) -> int | None:
        """The trip to declare a return for: tracked and still away, else the latest trip that
        has started (or starts soonest) and is not yet tracked."""
        row = await self.tx.one(
            "SELECT request_id FROM trip_returns WHERE staff_id = ? AND state = 'away' "
            "ORDER BY planned_return_at LIMIT 1",
            (staff_id,),
        )
        if row is not None:
            return int(row[0])
        row = await self.tx.one(
            "SELECT id FROM travel_requests WHERE staff_id = ? AND status IN ('approved', 'recorded') "
            "AND return_tracked = 0 ORDER BY (departure_at > ?), departure_at DESC LIMIT 1",
            (staff_id, to_db_time(now)),
        )
        return None if row is None else int(row[0])

    async def due_asks(self, now: datetime, limit: int = 2000) -> list[TripReturn]:
        rows = await self.tx.all(
            f"SELECT {_COLUMNS} FROM trip_returns {self.tx.dialect.indexed_by('trip_returns_ask')} "
            "WHERE state = 'away' AND ask_at IS NOT NULL "
            "AND ask_at <= ? ORDER BY ask_at LIMIT ?",
            (to_db_time(now), limit),
        )
        return [_row(r, self.tz) for r in rows]

    async def due_reminders(self, now: datetime, limit: int = 20000) -> list[DueReminder]:
        rows = await self.tx.all(
            "SELECT r.request_id, r.staff_id, r.arrived_at, r.deadline_at, r.last_seq, t.destination, r.schedule, "
            "a.channel, a.chat_ref, a.language "
            f"FROM trip_returns r {self.tx.dialect.indexed_by('trip_returns_remind')} JOIN travel_requests t ON t.id = r.request_id "
            "LEFT JOIN reachable_accounts a ON a.staff_id = r.staff_id "
            "WHERE r.state = 'back' AND r.remind_at IS NOT NULL AND r.remind_at <= ? "
            "ORDER BY r.remind_at LIMIT ?",
            (to_db_time(now), limit),
        )
        tz = self.tz
        return [
            # arrived_at stays in UTC (only compared); the deadline is shown, so it is local
            DueReminder(
                r[0],
                r[1],
                datetime.fromisoformat(r[2]),
                from_db_time(r[3], tz),
                r[4],
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
            )
            for r in rows
        ]

    # --- moving rows on ---------------------------------------------------------------------

    async def set_asks(self, moves: list[tuple[int, datetime | None, int]], now: datetime) -> None:
        await self.tx.executemany(
            "UPDATE trip_returns SET ask_at = ?, ask_stage = ?, updated_at = ? WHERE request_id = ? AND state = 'away'",
            [(_time(at), stage, to_db_time(now), request_id) for request_id, at, stage in moves],
        )

    async def set_reminders(
        self, moves: list[tuple[int, datetime | None, int | None, bool]], now: datetime
    ) -> None:
        """(request_id, next remind_at, last handled seq, whether the head was just told)."""
        stamp = to_db_time(now)
        await self.tx.executemany(
            "UPDATE trip_returns SET remind_at = ?, last_seq = ?, updated_at = ?, "
            "overdue_at = CASE WHEN ? THEN COALESCE(overdue_at, ?) ELSE overdue_at END "
            "WHERE request_id = ? AND state = 'back'",
            [
                (_time(at), seq, stamp, told, stamp, request_id)
                for request_id, at, seq, told in moves
            ],
        )

    async def mark_back(
        self,
        request_id: int,
        arrived: datetime,
        deadline: datetime,
        schedule: list[ScheduledReminder],
        remind_at: datetime | None,
        answers: dict[str, Any],
        now: datetime,
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE trip_returns SET state = 'back', arrived_at = ?, deadline_at = ?, schedule = ?, remind_at = ?, "
            "last_seq = NULL, ask_at = NULL, answers = ?, updated_at = ? WHERE request_id = ? AND state = 'away'",
            (
                to_db_time(arrived),
                to_db_time(deadline),
                schedule_text(schedule),
                _time(remind_at),
                json.dumps(answers, ensure_ascii=False),
                to_db_time(now),
                request_id,
            ),
        )
        return changed == 1

    async def claim_nag(self, request_id: int, now: datetime, again_after: datetime) -> bool:
        """A head's «remind them» may go: none sent since `again_after` (then it is recorded).
        A conditional update, so two presses at once send one reminder."""
        changed = await self.tx.execute(
            "UPDATE trip_returns SET nagged_at = ? WHERE request_id = ? "
            "AND (nagged_at IS NULL OR nagged_at <= ?)",
            (to_db_time(now), request_id, to_db_time(again_after)),
        )
        return changed == 1

    async def nagged_at(self, request_id: int) -> datetime | None:
        found: str | None = await self.tx.scalar(
            "SELECT nagged_at FROM trip_returns WHERE request_id = ?", (request_id,)
        )
        return from_db_time(found, self.tz) if found else None

    async def mark_declared(
        self, request_id: int, now: datetime, evidence_file_id: str | None
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE trip_returns SET state = 'declared', declared_at = ?, remind_at = NULL, "
            "evidence_file_id = ?, evidence_at = CASE WHEN CAST(? AS TEXT) IS NULL THEN NULL ELSE ? END, updated_at = ? "
            "WHERE request_id = ? AND state = 'back'",
            (
                to_db_time(now),
                evidence_file_id,
                evidence_file_id,
                to_db_time(now),
                to_db_time(now),
                request_id,
            ),
        )
        return changed == 1

    async def add_evidence(self, request_id: int, file_id: str, now: datetime) -> bool:
        changed = await self.tx.execute(
            "UPDATE trip_returns SET evidence_file_id = ?, evidence_at = ?, updated_at = ? "
            "WHERE request_id = ? AND state = 'declared'",
            (file_id, to_db_time(now), to_db_time(now), request_id),
        )
        return changed == 1

    async def delay(
        self, request_id: int, new_return: datetime, ask_at: datetime | None, now: datetime
    ) -> bool:
        changed = await self.tx.execute(
            "UPDATE trip_returns SET planned_return_at = ?, ask_at = ?, ask_stage = 0, updated_at = ? "
            "WHERE request_id = ? AND state = 'away'",
            (to_db_time(new_return), _time(ask_at), to_db_time(now), request_id),
        )
        if changed:
            await self.tx.execute(
                "UPDATE travel_requests SET return_at = ? WHERE id = ?",
                (to_db_time(new_return), request_id),
            )
        return changed == 1

    async def cancel(self, request_id: int, now: datetime) -> bool:
        changed = await self.tx.execute(
            "UPDATE trip_returns SET state = 'cancelled', ask_at = NULL, remind_at = NULL, updated_at = ? "
            "WHERE request_id = ? AND state = 'away'",
            (to_db_time(now), request_id),
        )
        if changed:
            await self.tx.execute(
                "UPDATE travel_requests SET status = 'cancelled' WHERE id = ? AND status IN ('approved', 'recorded', 'pending')",
                (request_id,),
            )
        return changed == 1

    async def stop_following(self, request_ids: list[int], now: datetime) -> None:
        """No more questions or reminders about these trips; what was recorded stays."""
        await self.tx.executemany(
            "UPDATE trip_returns SET state = 'stopped', ask_at = NULL, remind_at = NULL, "
            "updated_at = ? WHERE request_id = ? AND state IN ('away', 'back')",
            [(to_db_time(now), request_id) for request_id in request_ids],
        )

    async def stop_declaration(self, staff_id: str, now: datetime) -> list[int]:
        """The person's returns whose official declaration is still awaited get no reminder or
        overdue notice any more (they withdrew health consent); the trips stay `back`. Their
        ids."""
        rows = await self.tx.all(
            "SELECT request_id FROM trip_returns WHERE staff_id = ? AND state = 'back' "
            "ORDER BY request_id",
            (staff_id,),
        )
        ids = [int(row[0]) for row in rows]
        await self.tx.executemany(
            "UPDATE trip_returns SET remind_at = NULL, updated_at = ? "
            "WHERE request_id = ? AND state = 'back'",
            [(to_db_time(now), request_id) for request_id in ids],
        )
        return ids

    async def untracked_of_staff(self, staff_id: str) -> list[NewReturn]:
        """The person's trips whose return is not tracked yet (not back, or not even left)."""
        rows = await self.tx.all(
            "SELECT id, staff_id, return_at FROM travel_requests WHERE staff_id = ? "
            "AND return_tracked = 0 AND status IN ('approved', 'recorded') ORDER BY id",
            (staff_id,),
        )
        return [NewReturn(r[0], r[1], from_db_time(r[2], self.tz)) for r in rows]

    async def open_ids_of_staff(self, staff_id: str) -> list[int]:
        rows = await self.tx.all(
            "SELECT request_id FROM trip_returns WHERE staff_id = ? AND state IN ('away', 'back') "
            "ORDER BY request_id",
            (staff_id,),
        )
        return [row[0] for row in rows]

    async def close_cancelled(self, request_ids: list[int], now: datetime) -> None:
        """Stop tracking trips whose request was cancelled meanwhile (e.g. replaced by a change)."""
        await self.tx.executemany(
            "UPDATE trip_returns SET state = 'cancelled', ask_at = NULL, remind_at = NULL, updated_at = ? "
            "WHERE request_id = ? AND state IN ('away', 'back')",
            [(to_db_time(now), rid) for rid in request_ids],
        )

    async def counts(self) -> dict[str, int]:
        rows = await self.tx.all("SELECT state, COUNT(*) FROM trip_returns GROUP BY state")
        return {r[0]: r[1] for r in rows}
