"""The duty roster: shifts per unit, and who is on duty at a moment."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from bot.domain.duty_roster import Shift
from storage.engine import Row, Tx, from_db_time, to_db_time

_db = lru_cache(maxsize=8192)(to_db_time)  # a roster repeats a few instants over many units

# A shift lasts at most 24 h (`to` not after `from` is the next day): bounding the start lets
# "on duty at T" use the (unit_id, starts_at) index.
MAX_SHIFT = timedelta(days=1)


class DutyRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    async def replace_days(self, days: Iterable[tuple[str, date]], shifts: list[Shift]) -> int:
        """Drop the shifts starting on those (unit, day) pairs, then store `shifts`; returns
        how many were dropped."""
        before = await self._count()
        await self.tx.executemany(
            "DELETE FROM duty_shifts WHERE unit_id = ? AND starts_at >= ? AND starts_at < ?",
            [(unit_id, *self._day_bounds(day)) for unit_id, day in days],
        )
        dropped = before - await self._count()
        await self.tx.executemany(
            "INSERT INTO duty_shifts (unit_id, starts_at, ends_at, staff_id, phone) "
            "VALUES (?, ?, ?, ?, ?)",
            [(s.unit_id, _db(s.starts_at), _db(s.ends_at), s.staff_id, s.phone) for s in shifts],
        )
        return dropped

    async def count_days(self, days: Collection[tuple[str, date]]) -> int:
        """How many shifts start on those (unit, day) pairs: what `replace_days` would drop."""
        if not days:
            return 0
        first, _ = self._day_bounds(min(day for _, day in days))
        _, last = self._day_bounds(max(day for _, day in days))
        rows = await self.tx.all(
            "SELECT unit_id, starts_at FROM duty_shifts WHERE starts_at >= ? AND starts_at < ?",
            (first, last),
        )
        wanted = set(days)
        return sum((r[0], from_db_time(r[1], self.tz).date()) in wanted for r in rows)

    def _day_bounds(self, day: date) -> tuple[str, str]:
        start = datetime.combine(day, time(0), self.tz)
        return _db(start), _db(start + timedelta(days=1))

    async def _count(self) -> int:
        row = await self.tx.one("SELECT COUNT(*) FROM duty_shifts")
        return int(row[0]) if row else 0

    async def on_duty(self, unit_ids: Sequence[str], moment: datetime) -> list[Shift]:
        """The shifts of those units under way at `moment`, in the order of `unit_ids`."""
        if not unit_ids:
            return []
        marks = ", ".join("?" for _ in unit_ids)
        rows = await self.tx.all(
            "SELECT unit_id, starts_at, ends_at, staff_id, phone FROM duty_shifts "
            f"WHERE unit_id IN ({marks}) AND starts_at >= ? AND starts_at <= ? AND ends_at > ? "
            "ORDER BY starts_at",
            (*unit_ids, to_db_time(moment - MAX_SHIFT), to_db_time(moment), to_db_time(moment)),
        )
        shifts = [
            Shift(r[0], from_db_time(r[1], self.tz), from_db_time(r[2], self.tz), r[3], r[4])
            for r in rows
        ]
        order = {unit_id: index for index, unit_id in enumerate(unit_ids)}
        return sorted(shifts, key=lambda s: order[s.unit_id])

    async def keeps_roster(self, unit_ids: Sequence[str], moment: datetime) -> bool:
        """Whether any of those units has a shift starting within a day of `moment`."""
        if not unit_ids:
            return False
        marks = ", ".join("?" for _ in unit_ids)
        row = await self.tx.one(
            f"SELECT 1 FROM duty_shifts WHERE unit_id IN ({marks}) AND starts_at >= ? "
            "AND starts_at <= ? LIMIT 1",
            (*unit_ids, _db(moment - MAX_SHIFT), _db(moment + MAX_SHIFT)),
        )
        return row is not None

    async def unchecked_units(self, day: date, since: datetime) -> list[str]:
        """Units with shifts from `since` to the end of `day` whose `day` is not checked yet."""
        _, day_end = self._day_bounds(day)
        rows = await self.tx.all(
            "SELECT DISTINCT unit_id FROM duty_shifts WHERE starts_at >= ? AND starts_at < ? "
            "AND unit_id NOT IN (SELECT unit_id FROM duty_gap_checks WHERE day = ?) "
            "ORDER BY unit_id",
            (_db(since), day_end, day.isoformat()),
        )
        return [r[0] for r in rows]

    async def shifts_during(self, unit_id: str, start: datetime, end: datetime) -> list[Shift]:
        rows = await self.tx.all(
            "SELECT unit_id, starts_at, ends_at, staff_id, phone FROM duty_shifts "
            "WHERE unit_id = ? AND starts_at >= ? AND starts_at < ? AND ends_at > ?",
            (unit_id, _db(start - MAX_SHIFT), _db(end), _db(start)),
        )
        return [
            Shift(r[0], from_db_time(r[1], self.tz), from_db_time(r[2], self.tz), r[3], r[4])
            for r in rows
        ]

    async def entries_during(
        self, unit_id: str, start: datetime, end: datetime
    ) -> list[tuple[int, Shift]]:
        """The unit's shifts under way at some point of [start, end), with their ids, by start."""
        rows = await self.tx.all(
            "SELECT id, unit_id, starts_at, ends_at, staff_id, phone FROM duty_shifts "
            "WHERE unit_id = ? AND starts_at >= ? AND starts_at < ? AND ends_at > ? "
            "ORDER BY starts_at, id",
            (unit_id, _db(start - MAX_SHIFT), _db(end), _db(start)),
        )
        return [(int(r[0]), self._shift(r[1:])) for r in rows]

    async def entry(self, shift_id: int) -> Shift | None:
        row = await self.tx.one(
            "SELECT unit_id, starts_at, ends_at, staff_id, phone FROM duty_shifts WHERE id = ?",
            (shift_id,),
        )
        return None if row is None else self._shift(row)

    def _shift(self, r: Row) -> Shift:
        return Shift(r[0], from_db_time(r[1], self.tz), from_db_time(r[2], self.tz), r[3], r[4])

    async def add(self, shift: Shift) -> int:
        return await self.tx.insert(
            "INSERT INTO duty_shifts (unit_id, starts_at, ends_at, staff_id, phone) "
            "VALUES (?, ?, ?, ?, ?)",
            (shift.unit_id, _db(shift.starts_at), _db(shift.ends_at), shift.staff_id, shift.phone),
        )

    async def hand_over(self, shift_id: int, from_staff: str, to_staff: str) -> bool:
        """The shift to another person, if still `from_staff`'s (a double tap swaps once)."""
        changed = await self.tx.execute(
            "UPDATE duty_shifts SET staff_id = ? WHERE id = ? AND staff_id = ?",
            (to_staff, shift_id, from_staff),
        )
        return changed > 0

    async def mark_checked(self, unit_id: str, day: date) -> None:
        await self.tx.execute(
            "INSERT INTO duty_gap_checks (unit_id, day) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (unit_id, day.isoformat()),
        )


@dataclass(frozen=True, slots=True)
class Referral:
    """An alert passed up to the district leaders (`sent_to`) by a duty officer, with a note."""

    id: int
    alert_id: int
    referred_by: str
    note: str
    sent_to: tuple[str, ...]
    created_at: datetime
    taken_by: str | None
    taken_at: datetime | None


class ReferralsRepo:
    def __init__(self, tx: Tx, tz: tzinfo) -> None:
        self.tx = tx
        self.tz = tz

    async def add(
        self, alert_id: int, by: str, note: str, sent_to: Sequence[str], now: datetime
    ) -> int:
        return await self.tx.insert(
            "INSERT INTO duty_referrals (alert_id, referred_by, note, sent_to, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (alert_id, by, note, json.dumps(list(sent_to)), to_db_time(now)),
        )

    async def get(self, referral_id: int) -> Referral | None:
        row = await self.tx.one(
            "SELECT id, alert_id, referred_by, note, sent_to, created_at, taken_by, taken_at "
            "FROM duty_referrals WHERE id = ?",
            (referral_id,),
        )
        if row is None:
            return None
        taken_at = from_db_time(row[7], self.tz) if row[7] else None
        created = from_db_time(row[5], self.tz)
        return Referral(
            row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), created, row[6], taken_at
        )

    async def open_for(self, alert_id: int) -> int | None:
        """The alert's referral nobody has taken yet."""
        found: int | None = await self.tx.scalar(
            "SELECT id FROM duty_referrals WHERE alert_id = ? AND taken_by IS NULL", (alert_id,)
        )
        return found

    async def take(self, referral_id: int, staff_id: str, now: datetime) -> bool:
        """Conditional: the first leader to tap takes it."""
        changed = await self.tx.execute(
            "UPDATE duty_referrals SET taken_by = ?, taken_at = ? WHERE id = ? AND taken_by IS NULL",
            (staff_id, to_db_time(now), referral_id),
        )
        return changed > 0
