"""Retention: finding and deleting, in small batches, what is past its time; the purge's schedule.

Each kind has one query naming its expired rows (the oldest first, through an index on the
column its age is read from) and one function deleting a batch of them with what hangs on them
(an alert's recipients and messages, a request's deciders...). A batch is one trip to the
database, so the write lock is held for that trip only.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from bot.domain.retention import Kept
from bot.domain.work_calendar import to_local
from storage.db import Tx, from_db_time, to_db_time

_DIRECTIVE = "purpose GLOB 'broadcast:*'"
_NOT_DIRECTIVE = "COALESCE(purpose, '') NOT GLOB 'broadcast:*'"
_OUTBOX_KEPT_FOR_EDITS = (
    "AND NOT EXISTS (SELECT 1 FROM button_messages m JOIN travel_requests r "
    "ON m.subject = 'travel:' || r.id WHERE m.outbox_id = o.id AND r.status = 'pending') "
    "AND NOT EXISTS (SELECT 1 FROM button_messages m JOIN health_alerts a "
    "ON m.subject = 'alert:' || a.id WHERE m.outbox_id = o.id AND a.escalate_at IS NOT NULL) "
    "AND NOT EXISTS (SELECT 1 FROM broadcasts b WHERE b.progress_outbox = o.id "
    "AND (b.status = 'sending' OR b.remind_at IS NOT NULL))"
)

# Each query takes the cutoffs of PARAMS (its own, by default) and yields the keys of the expired rows, oldest first.
EXPIRED: dict[Kept, str] = {
    Kept.HEALTH: "SELECT id FROM symptom_reports WHERE created_at < ? ORDER BY created_at",
    Kept.CASES: "SELECT id FROM case_reports WHERE created_at < ? ORDER BY created_at",
    Kept.RETURNS: (
        "SELECT request_id FROM trip_returns WHERE updated_at < ? "
        "AND ask_at IS NULL AND remind_at IS NULL ORDER BY updated_at"
    ),
    Kept.MONITORING: (
        "SELECT id FROM monitorings WHERE status <> 'open' AND updated_at < ? ORDER BY updated_at"
    ),
    Kept.TRAVEL: (  # not while its return declaration is kept: (travel cutoff, returns cutoff)
        "SELECT id FROM travel_requests t WHERE status <> 'pending' AND return_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM trip_returns r WHERE r.request_id = t.id "
        "AND NOT (r.updated_at < ? AND r.ask_at IS NULL AND r.remind_at IS NULL)) "
        "ORDER BY return_at"
    ),
    Kept.LEAVERS: (
        "SELECT staff_id FROM staff s WHERE active = 0 AND deactivated_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM leaver_purges p WHERE p.staff_id = s.staff_id "
        "AND p.deactivated_at = s.deactivated_at) ORDER BY deactivated_at"
    ),
    Kept.OUTBOX: (
        f"SELECT id FROM outbox o INDEXED BY outbox_created WHERE {_NOT_DIRECTIVE} AND created_at < ? "
        f"AND status <> 'pending' {_OUTBOX_KEPT_FOR_EDITS} ORDER BY created_at"
    ),
    Kept.DIRECTIVE_COPIES: (
        f"SELECT id FROM outbox o INDEXED BY outbox_directive_created "
        f"WHERE {_DIRECTIVE} AND created_at < ? "
        f"AND status <> 'pending' {_OUTBOX_KEPT_FOR_EDITS} ORDER BY created_at"
    ),
    Kept.DIRECTIVE_READS: (  # a directive done with: sent (or stopped), no reminder left
        "SELECT broadcast_id || ':' || staff_id FROM broadcast_recipients "
        "WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE remind_at IS NULL "
        "AND COALESCE(queued_at, send_at) < ? AND status IN ('done', 'cancelled', 'recalled')) "
        "ORDER BY broadcast_id, staff_id"
    ),
    Kept.ABSENCES: "SELECT id FROM absences WHERE end_day < ? ORDER BY end_day",
    Kept.DRAFTS: (
        "SELECT channel || ':' || user_ref FROM conversations WHERE updated_at < ? "
        "ORDER BY updated_at"
    ),
    Kept.CONSENTS: (  # replaced by a later decision before the cutoff, or the person left then
        "SELECT id FROM consent_superseded WHERE at < ?1 "
        "UNION ALL SELECT c.id FROM staff s INDEXED BY staff_deactivated "
        "JOIN consents c ON c.staff_id = s.staff_id "
        "WHERE s.active = 0 AND s.deactivated_at < ?1 AND c.at < ?1 "
        "AND c.id NOT IN (SELECT id FROM consent_superseded)"
    ),
    Kept.AUDIT: (
        "SELECT id FROM audit_log WHERE at < ? AND action NOT GLOB 'privacy.*' ORDER BY at"
    ),
    Kept.RECORDS: (
        "SELECT 'audit:' || id FROM audit_log WHERE at < ?1 AND action GLOB 'privacy.*' "
        "UNION ALL SELECT 'breach:' || id FROM breaches "
        "WHERE MAX(detected_at, COALESCE(authority_at, ''), COALESCE(people_at, '')) < ?1"
    ),
}

PARAMS: dict[Kept, tuple[Kept, ...]] = {Kept.TRAVEL: (Kept.TRAVEL, Kept.RETURNS)}
BY_DAY = frozenset({Kept.ABSENCES})  # compared with a day (YYYY-MM-DD, local) not an instant

Delete = Callable[[sqlite3.Connection, list[object], str], None]


def _marks(keys: Sequence[object]) -> str:
    return ",".join("?" * len(keys))


def _delete_in(raw: sqlite3.Connection, table: str, column: str, keys: Sequence[object]) -> None:
    raw.execute(f"DELETE FROM {table} WHERE {column} IN ({_marks(keys)})", list(keys)).close()


def _delete_alerts(raw: sqlite3.Connection, objects: list[str]) -> None:
    found = raw.execute(
        f"SELECT id FROM health_alerts WHERE object IN ({_marks(objects)})", objects
    ).fetchall()
    alert_ids = [row[0] for row in found]
    if alert_ids:
        _delete_in(raw, "alert_recipients", "alert_id", alert_ids)
        _delete_in(raw, "button_messages", "subject", [f"alert:{i}" for i in alert_ids])
        _delete_in(raw, "health_alerts", "id", alert_ids)


def _health(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _delete_alerts(raw, [f"symptoms:{i}" for i in ids])
    _delete_in(raw, "symptom_reports", "id", ids)


def _cases(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _delete_alerts(raw, [f"case:{i}" for i in ids])
    _delete_in(raw, "case_nodes", "case_id", ids)
    _delete_in(raw, "case_reports", "id", ids)


def _returns(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _delete_in(raw, "trip_returns", "request_id", ids)


def _monitoring(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _delete_in(raw, "checkins", "monitoring_id", ids)
    _delete_in(raw, "monitorings", "id", ids)


def _travel(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    for table in ("request_deciders", "trip_returns"):
        _delete_in(raw, table, "request_id", ids)
    _delete_in(raw, "button_messages", "subject", [f"travel:{i}" for i in ids])
    _delete_in(raw, "travel_requests", "id", ids)


def _leavers(raw: sqlite3.Connection, staff_ids: list[object], now: str) -> None:
    """A leaver's health data goes; their travel register keeps who went where and when, and
    loses the address they stayed at."""
    marks = _marks(staff_ids)
    reports = raw.execute(
        f"SELECT id FROM symptom_reports WHERE staff_id IN ({marks})", staff_ids
    ).fetchall()
    if reports:
        _health(raw, [row[0] for row in reports], now)
    watched = raw.execute(
        f"SELECT id FROM monitorings WHERE staff_id IN ({marks})", staff_ids
    ).fetchall()
    if watched:
        _monitoring(raw, [row[0] for row in watched], now)
    _delete_in(raw, "trip_returns", "staff_id", staff_ids)
    raw.execute(
        f"UPDATE travel_requests SET address = '' WHERE staff_id IN ({marks}) "
        "AND status <> 'pending' AND address <> ''",
        staff_ids,
    ).close()
    raw.execute(
        "INSERT INTO leaver_purges (staff_id, deactivated_at, purged_at) "
        f"SELECT staff_id, deactivated_at, ? FROM staff WHERE staff_id IN ({marks}) "
        "ON CONFLICT(staff_id) DO UPDATE SET deactivated_at = excluded.deactivated_at, "
        "purged_at = excluded.purged_at",
        [now, *staff_ids],
    ).close()


def _outbox(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _delete_in(raw, "button_messages", "outbox_id", ids)
    _delete_in(raw, "outbox", "id", ids)


def _open_horizon(raw: sqlite3.Connection, table: str, cutoff: str) -> None:
    """The append-only table's trigger lets entries before this moment go (and no others)."""
    raw.execute(
        "INSERT INTO retention_horizons (what, before) VALUES (?, ?) "
        "ON CONFLICT(what) DO UPDATE SET before = excluded.before",
        (table, cutoff),
    ).close()


def _audit(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _open_horizon(raw, "audit_log", cutoff)
    _delete_in(raw, "audit_log", "id", ids)


def _pairs(keys: list[object]) -> list[list[str]]:
    """'a:b' keys of a two-column primary key, split at the first colon."""
    return [str(key).split(":", 1) for key in keys]


def _delete_pairs(
    raw: sqlite3.Connection, table: str, columns: tuple[str, str], keys: list[object]
) -> None:
    """One statement per value of the first column (a directive, a channel: one or two per
    batch), through the primary key, not one per row."""
    by_first: dict[str, list[str]] = {}
    for first, second in _pairs(keys):
        by_first.setdefault(first, []).append(second)
    for first, seconds in by_first.items():
        raw.execute(
            f"DELETE FROM {table} WHERE {columns[0]} = ? AND {columns[1]} IN ({_marks(seconds)})",
            [first, *seconds],
        ).close()


def _directive_reads(raw: sqlite3.Connection, keys: list[object], cutoff: str) -> None:
    _delete_pairs(raw, "broadcast_recipients", ("broadcast_id", "staff_id"), keys)


def _absences(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _delete_in(raw, "absences", "id", ids)


def _drafts(raw: sqlite3.Connection, keys: list[object], cutoff: str) -> None:
    _delete_pairs(raw, "conversations", ("channel", "user_ref"), keys)


def _consents(raw: sqlite3.Connection, ids: list[object], cutoff: str) -> None:
    _open_horizon(raw, "consents", cutoff)
    _delete_in(raw, "consents", "id", ids)
    _delete_in(raw, "consent_superseded", "id", ids)


def _records(raw: sqlite3.Connection, keys: list[object], cutoff: str) -> None:
    entries = [int(str(k).split(":")[1]) for k in keys if str(k).startswith("audit:")]
    breaches = [int(str(k).split(":")[1]) for k in keys if str(k).startswith("breach:")]
    if entries:
        _audit(raw, list(entries), cutoff)
    if breaches:
        _delete_in(raw, "breaches", "id", list(breaches))


DELETE: dict[Kept, Delete] = {
    Kept.HEALTH: _health,
    Kept.CASES: _cases,
    Kept.RETURNS: _returns,
    Kept.MONITORING: _monitoring,
    Kept.TRAVEL: _travel,
    Kept.LEAVERS: _leavers,
    Kept.OUTBOX: _outbox,
    Kept.DIRECTIVE_COPIES: _outbox,
    Kept.DIRECTIVE_READS: _directive_reads,
    Kept.ABSENCES: _absences,
    Kept.DRAFTS: _drafts,
    Kept.CONSENTS: _consents,
    Kept.AUDIT: _audit,
    Kept.RECORDS: _records,
}


@dataclass(frozen=True, slots=True)
class Batch:
    deleted: int  # records of the kind (dependents not counted)
    more: bool  # a full batch: there may be more


def _params(kind: Kept, limits: Mapping[Kept, datetime]) -> tuple[str, ...]:
    if kind in BY_DAY:  # the cutoff's day in Vietnam: what ended before that day began
        return (to_local(limits[kind]).date().isoformat(),)
    return tuple(to_db_time(limits[k]) for k in PARAMS.get(kind, (kind,)))


class RetentionRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def count_expired(self, kind: Kept, limits: Mapping[Kept, datetime]) -> int:
        found = await self.tx.scalar(
            f"SELECT COUNT(*) FROM ({EXPIRED[kind]})", _params(kind, limits)
        )
        return int(found or 0)

    async def delete_batch(
        self, kind: Kept, limits: Mapping[Kept, datetime], now: datetime, limit: int
    ) -> Batch:
        """Up to `limit` expired records of `kind` and what hangs on them, in one trip."""
        params = _params(kind, limits)
        # A leaver's purge stamps when it ran; the other kinds need the cutoff (audit horizon).
        stamp = to_db_time(now) if kind is Kept.LEAVERS else to_db_time(limits[kind])
        delete = DELETE[kind]

        def work(raw: sqlite3.Connection) -> Batch:
            rows = raw.execute(f"{EXPIRED[kind]} LIMIT ?", (*params, limit)).fetchall()
            keys = [row[0] for row in rows]
            if keys:
                delete(raw, keys, stamp)
            return Batch(len(keys), len(keys) == limit)

        return await self.tx.run(work)

    # --- the daily run ------------------------------------------------------------------------

    async def purge_due(self, tz: tzinfo) -> datetime | None:
        text: str | None = await self.tx.scalar(
            "SELECT next_at FROM retention_runs WHERE kind = 'purge'"
        )
        return from_db_time(text, tz)

    async def plan_purge(self, next_at: datetime) -> None:
        """The first plan (no row yet); an existing plan is left as it is."""
        await self.tx.execute(
            "INSERT OR IGNORE INTO retention_runs (kind, next_at) VALUES ('purge', ?)",
            (to_db_time(next_at),),
        )

    async def claim_purge(self, seen: datetime, now: datetime, next_at: datetime) -> bool:
        """Move the plan on if it still says `seen`: True for the one instance that did."""
        changed = await self.tx.execute(
            "UPDATE retention_runs SET next_at = ?, last_at = ? WHERE kind = 'purge' AND next_at = ?",
            (to_db_time(next_at), to_db_time(now), to_db_time(seen)),
        )
        return changed == 1


# --- the write-ahead log during a purge -------------------------------------------------------
# A commit that grows the WAL past 1000 pages runs a checkpoint inside that commit, under the
# write lock, for 100+ ms. During a purge that commit is a batch's: the purge switches that off
# on the bot's connection and checkpoints from a connection of its own, beside the lock
# (PASSIVE: it waits for nobody and nobody waits for it).

WAL_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default


async def set_autocheckpoint(tx: Tx, pages: int) -> None:
    await tx.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")


def _checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path, timeout=10)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
    finally:
        conn.close()


async def checkpoint_aside(path: Path) -> None:
    await asyncio.to_thread(_checkpoint, path)
