"""Retention: finding and deleting, in small batches, what is past its time; the purge's schedule.

Each kind has one query naming its expired rows (the oldest first, through an index on the
column its age is read from) and one function deleting a batch of them with what hangs on them
(an alert's recipients and messages, a request's deciders...). A batch is two trips to the
database (its keys, then all its deletes), so the write lock is held for those only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.domain.retention import Kept
from bot.domain.work_calendar import to_local
from storage.engine import Dialect, Statement, Tx, from_db_time, to_db_time

_OUTBOX_KEPT_FOR_EDITS = (  # a closed link is edited no more: it keeps nothing
    "AND NOT EXISTS (SELECT 1 FROM button_messages m JOIN travel_requests r "
    "ON m.subject = 'travel:' || r.id WHERE m.outbox_id = o.id AND m.closed = 0 "
    "AND r.status = 'pending') "
    "AND NOT EXISTS (SELECT 1 FROM button_messages m JOIN health_alerts a "
    "ON m.subject = 'alert:' || a.id WHERE m.outbox_id = o.id AND m.closed = 0 "
    "AND a.escalate_at IS NOT NULL) "
    "AND NOT EXISTS (SELECT 1 FROM broadcasts b WHERE b.progress_outbox = o.id "
    "AND (b.status = 'sending' OR b.remind_at IS NOT NULL))"
)


def expired(kind: Kept, d: Dialect) -> str:
    """The query yielding the keys of the expired rows of `kind`, oldest first (through an index
    on the column their age is read from); it takes the cutoffs of PARAMS."""
    directive = d.starts_with("purpose", "broadcast:")
    not_directive = "NOT " + d.starts_with("COALESCE(purpose, '')", "broadcast:")
    privacy = d.starts_with("action", "privacy.")
    last_step = d.greatest("detected_at", "COALESCE(authority_at, '')", "COALESCE(people_at, '')")
    return {
        Kept.HEALTH: "SELECT id FROM symptom_reports WHERE created_at < ? ORDER BY created_at",
        Kept.REFERRALS: "SELECT id FROM duty_referrals WHERE created_at < ? ORDER BY created_at",
        Kept.OUTSIDE_REPORTS: (
            "SELECT id FROM outside_reports WHERE created_at < ? ORDER BY created_at"
        ),
        Kept.CASES: "SELECT id FROM case_reports WHERE created_at < ? ORDER BY created_at",
        Kept.MEASURES: (  # once nothing more is reminded
            "SELECT request_id FROM return_measures WHERE updated_at < ? AND remind_at IS NULL "
            "ORDER BY updated_at"
        ),
        Kept.RETURNS: (
            "SELECT request_id FROM trip_returns WHERE updated_at < ? "
            "AND ask_at IS NULL AND remind_at IS NULL ORDER BY updated_at"
        ),
        Kept.MONITORING: (
            "SELECT id FROM monitorings WHERE status <> 'open' AND updated_at < ? "
            "ORDER BY updated_at"
        ),
        Kept.TRAVEL: (  # not while its return declaration is kept: (travel, returns cutoff)
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
            f"SELECT id FROM outbox o {d.indexed_by('outbox_created')} "
            f"WHERE {not_directive} "
            f"AND created_at < ? AND status <> 'pending' {_OUTBOX_KEPT_FOR_EDITS} "
            "ORDER BY created_at"
        ),
        Kept.DIRECTIVE_COPIES: (
            f"SELECT id FROM outbox o {d.indexed_by('outbox_directive_created')} "
            f"WHERE {directive} AND created_at < ? "
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
            "SELECT id FROM consent_superseded WHERE at < ? "
            f"UNION ALL SELECT c.id FROM staff s {d.indexed_by('staff_deactivated')} "
            "JOIN consents c ON c.staff_id = s.staff_id "
            "WHERE s.active = 0 AND s.deactivated_at < ? AND c.at < ? "
            "AND c.id NOT IN (SELECT id FROM consent_superseded)"
        ),
        Kept.VIOLATIONS: "SELECT id FROM violations WHERE created_at < ? ORDER BY created_at",
        Kept.DUTY_SHIFTS: "SELECT id FROM duty_shifts WHERE ends_at < ? ORDER BY ends_at",
        Kept.PRIVACY_REQUESTS: (
            "SELECT id FROM privacy_requests WHERE closed_at IS NOT NULL AND closed_at < ? "
            "AND status IN ('done', 'refused') ORDER BY closed_at"
        ),
        Kept.UPLOADS: (  # the file itself went when the upload closed or expired (its sweep)
            "SELECT id FROM directory_uploads WHERE removed = 1 AND expires_at < ? "
            "ORDER BY expires_at"
        ),
        Kept.UPDATES: (
            "SELECT 'update:' || channel || ':' || update_id FROM processed_updates "
            "WHERE processed_at < ? UNION ALL SELECT 'inbox:' || seq FROM inbox "
            "WHERE done_at IS NOT NULL AND done_at < ? AND outcome = 'done'"
        ),
        Kept.FAILED_UPDATES: (
            "SELECT seq FROM inbox WHERE done_at IS NOT NULL AND done_at < ? "
            "AND outcome = 'failed' ORDER BY done_at"
        ),
        Kept.CHANNEL_CHOICES: (
            f"SELECT c.staff_id FROM staff s {d.indexed_by('staff_deactivated')} "
            "JOIN channel_choices c ON c.staff_id = s.staff_id "
            "WHERE s.active = 0 AND s.deactivated_at < ?"
        ),
        Kept.PENDING_CHOICES: (
            "SELECT channel || ':' || chat_ref FROM pending_choices WHERE sent_at < ? "
            "ORDER BY sent_at"
        ),
        Kept.BUTTON_LINKS: (  # a message's links close together, when its closing edit is queued
            "SELECT DISTINCT b.outbox_id FROM button_messages b JOIN outbox o "
            "ON o.id = b.outbox_id WHERE b.closed = 1 AND o.created_at < ? ORDER BY b.outbox_id"
        ),
        Kept.AUDIT: (f"SELECT id FROM audit_log WHERE at < ? AND NOT {privacy} ORDER BY at"),
        Kept.RECORDS: (
            f"SELECT 'audit:' || id FROM audit_log WHERE at < ? AND {privacy} "
            f"UNION ALL SELECT 'breach:' || id FROM breaches WHERE {last_step} < ?"
        ),
    }[kind]


# The cutoffs each query takes (its own, by default).
PARAMS: dict[Kept, tuple[Kept, ...]] = {
    Kept.TRAVEL: (Kept.TRAVEL, Kept.RETURNS),
    Kept.CONSENTS: (Kept.CONSENTS,) * 3,
    Kept.RECORDS: (Kept.RECORDS, Kept.RECORDS),
    Kept.UPDATES: (Kept.UPDATES, Kept.UPDATES),
}
BY_DAY = frozenset({Kept.ABSENCES})  # compared with a day (YYYY-MM-DD, local) not an instant

# A kind's deletes for a batch of its keys: statements, in order, for one `Tx.batch`.
Delete = Callable[[list[object], str], list[Statement]]


def _marks(keys: Sequence[object]) -> str:
    return ",".join("?" * len(keys))


def _delete_in(table: str, column: str, keys: Sequence[object]) -> Statement:
    return f"DELETE FROM {table} WHERE {column} IN ({_marks(keys)})", list(keys)


def _delete_alerts_in(alerts: str, params: list[object]) -> list[Statement]:
    """The alerts `alerts` (a query of their ids) and what hangs on them: recipients, button
    links, the referrals passed up (with their links)."""
    referrals = f"SELECT id FROM duty_referrals WHERE alert_id IN ({alerts})"
    return [
        (f"DELETE FROM alert_recipients WHERE alert_id IN ({alerts})", params),
        (
            "DELETE FROM button_messages WHERE subject IN "
            f"(SELECT 'referral:' || id FROM ({referrals}) r)",
            params,
        ),
        (f"DELETE FROM duty_referrals WHERE alert_id IN ({alerts})", params),
        (
            f"DELETE FROM button_messages WHERE subject IN (SELECT 'alert:' || id FROM ({alerts}) a)",
            params,
        ),
        (f"DELETE FROM health_alerts WHERE id IN ({alerts})", params),
    ]


def _delete_alerts(objects: list[str]) -> list[Statement]:
    alerts = f"SELECT id FROM health_alerts WHERE object IN ({_marks(objects)})"
    return _delete_alerts_in(alerts, list(objects))


def _health(ids: list[object], cutoff: str) -> list[Statement]:
    return [
        *_delete_alerts([f"symptoms:{i}" for i in ids]),
        _delete_in("symptom_reports", "id", ids),
    ]


def _referrals(ids: list[object], cutoff: str) -> list[Statement]:
    return [
        _delete_in("button_messages", "subject", [f"referral:{i}" for i in ids]),
        _delete_in("duty_referrals", "id", ids),
    ]


def _outside_reports(ids: list[object], cutoff: str) -> list[Statement]:
    return [
        _delete_in("button_messages", "subject", [f"outside:{i}" for i in ids]),
        _delete_in("outside_reports", "id", ids),
    ]


def _cases(ids: list[object], cutoff: str) -> list[Statement]:
    reports = f"SELECT id FROM outside_reports WHERE case_id IN ({_marks(ids)})"
    return [
        *_delete_alerts([f"case:{i}" for i in ids]),
        (  # an outside report refers to its case (a foreign key): it goes first
            f"DELETE FROM button_messages WHERE subject IN (SELECT 'outside:' || id FROM ({reports}) r)",
            ids,
        ),
        _delete_in("outside_reports", "case_id", ids),
        _delete_in("case_nodes", "case_id", ids),
        _delete_in("case_reports", "id", ids),
    ]


def _measures(ids: list[object], cutoff: str) -> list[Statement]:
    return [_delete_in("return_measures", "request_id", ids)]


def _returns(ids: list[object], cutoff: str) -> list[Statement]:
    return [_delete_in("trip_returns", "request_id", ids)]


def _monitoring(ids: list[object], cutoff: str) -> list[Statement]:
    return [_delete_in("checkins", "monitoring_id", ids), _delete_in("monitorings", "id", ids)]


def _travel(ids: list[object], cutoff: str) -> list[Statement]:
    return [
        _delete_in("request_deciders", "request_id", ids),
        _delete_in("trip_returns", "request_id", ids),
        _delete_in("return_measures", "request_id", ids),
        _delete_in("button_messages", "subject", [f"travel:{i}" for i in ids]),
        _delete_in("travel_requests", "id", ids),
    ]


def _leavers(staff_ids: list[object], now: str) -> list[Statement]:
    """A leaver's health data goes; their travel register keeps who went where and when, and
    loses the address they stayed at."""
    marks = _marks(staff_ids)
    reports = f"SELECT id FROM symptom_reports WHERE staff_id IN ({marks})"
    objects = f"SELECT 'symptoms:' || id FROM ({reports}) r"
    watched = f"SELECT id FROM monitorings WHERE staff_id IN ({marks})"
    alerts = f"SELECT id FROM health_alerts WHERE object IN ({objects})"
    return [
        *_delete_alerts_in(alerts, staff_ids),
        _delete_in("symptom_reports", "staff_id", staff_ids),
        (f"DELETE FROM checkins WHERE monitoring_id IN ({watched})", staff_ids),
        _delete_in("monitorings", "staff_id", staff_ids),
        _delete_in("trip_returns", "staff_id", staff_ids),
        _delete_in("return_measures", "staff_id", staff_ids),
        (
            f"UPDATE travel_requests SET address = '' WHERE staff_id IN ({marks}) "
            "AND status <> 'pending' AND address <> ''",
            staff_ids,
        ),
        (
            "INSERT INTO leaver_purges (staff_id, deactivated_at, purged_at) "
            f"SELECT staff_id, deactivated_at, ? FROM staff WHERE staff_id IN ({marks}) "
            "ON CONFLICT(staff_id) DO UPDATE SET deactivated_at = excluded.deactivated_at, "
            "purged_at = excluded.purged_at",
            [now, *staff_ids],
        ),
    ]


def _outbox(ids: list[object], cutoff: str) -> list[Statement]:
    return [_delete_in("button_messages", "outbox_id", ids), _delete_in("outbox", "id", ids)]


def _open_horizon(table: str, cutoff: str) -> Statement:
    """The append-only table's trigger lets entries before this moment go (and no others)."""
    return (
        "INSERT INTO retention_horizons (what, before) VALUES (?, ?) "
        "ON CONFLICT(what) DO UPDATE SET before = excluded.before",
        (table, cutoff),
    )


def _audit(ids: list[object], cutoff: str) -> list[Statement]:
    return [_open_horizon("audit_log", cutoff), _delete_in("audit_log", "id", ids)]


def _pairs(keys: list[object]) -> list[list[str]]:
    """'a:b' keys of a two-column primary key, split at the first colon."""
    return [str(key).split(":", 1) for key in keys]


def _delete_pairs(table: str, columns: tuple[str, str], keys: list[object]) -> list[Statement]:
    """One statement per value of the first column (a directive, a channel: one or two per
    batch), through the primary key, not one per row."""
    by_first: dict[str, list[str]] = {}
    for first, second in _pairs(keys):
        by_first.setdefault(first, []).append(second)
    return [
        (
            f"DELETE FROM {table} WHERE {columns[0]} = ? AND {columns[1]} IN ({_marks(seconds)})",
            [first, *seconds],
        )
        for first, seconds in by_first.items()
    ]


def _directive_reads(keys: list[object], cutoff: str) -> list[Statement]:
    return _delete_pairs("broadcast_recipients", ("broadcast_id", "staff_id"), keys)


def _absences(ids: list[object], cutoff: str) -> list[Statement]:
    return [_delete_in("absences", "id", ids)]


def _drafts(keys: list[object], cutoff: str) -> list[Statement]:
    return _delete_pairs("conversations", ("channel", "user_ref"), keys)


def _consents(ids: list[object], cutoff: str) -> list[Statement]:
    return [
        _open_horizon("consents", cutoff),
        _delete_in("consents", "id", ids),
        _delete_in("consent_superseded", "id", ids),
    ]


def _rows(table: str, column: str = "id") -> Delete:
    """A kind with nothing hanging on its records: its rows by key, and nothing else."""
    return lambda keys, cutoff: [_delete_in(table, column, keys)]


def _prefixed(keys: list[object], prefix: str) -> list[str]:
    """The rest of the 'prefix:rest' keys of a kind whose query unites two tables."""
    return [str(k)[len(prefix) + 1 :] for k in keys if str(k).startswith(prefix + ":")]


def _updates(keys: list[object], cutoff: str) -> list[Statement]:
    handled: list[object] = list(_prefixed(keys, "update"))
    statements = _delete_pairs("processed_updates", ("channel", "update_id"), handled)
    seqs: list[object] = [int(seq) for seq in _prefixed(keys, "inbox")]
    if seqs:
        statements.append(_delete_in("inbox", "seq", seqs))
    return statements


def _pending_choices(keys: list[object], cutoff: str) -> list[Statement]:
    return _delete_pairs("pending_choices", ("channel", "chat_ref"), keys)


def _button_links(outbox_ids: list[object], cutoff: str) -> list[Statement]:
    return [
        (
            f"DELETE FROM button_messages WHERE outbox_id IN ({_marks(outbox_ids)}) AND closed = 1",
            list(outbox_ids),
        )
    ]


def _records(keys: list[object], cutoff: str) -> list[Statement]:
    entries: list[object] = [int(str(k).split(":")[1]) for k in keys if str(k).startswith("audit:")]
    breaches: list[object] = [
        int(str(k).split(":")[1]) for k in keys if str(k).startswith("breach:")
    ]
    statements = _audit(entries, cutoff) if entries else []
    if breaches:
        statements.append(_delete_in("breaches", "id", breaches))
    return statements


DELETE: dict[Kept, Delete] = {
    Kept.HEALTH: _health,
    Kept.REFERRALS: _referrals,
    Kept.OUTSIDE_REPORTS: _outside_reports,
    Kept.CASES: _cases,
    Kept.MEASURES: _measures,
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
    Kept.VIOLATIONS: _rows("violations"),
    Kept.DUTY_SHIFTS: _rows("duty_shifts"),
    Kept.PRIVACY_REQUESTS: _rows("privacy_requests"),
    Kept.UPLOADS: _rows("directory_uploads"),
    Kept.UPDATES: _updates,
    Kept.FAILED_UPDATES: _rows("inbox", "seq"),
    Kept.CHANNEL_CHOICES: _rows("channel_choices", "staff_id"),
    Kept.PENDING_CHOICES: _pending_choices,
    Kept.BUTTON_LINKS: _button_links,
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
            f"SELECT COUNT(*) FROM ({expired(kind, self.tx.dialect)}) AS expired",
            _params(kind, limits),
        )
        return int(found or 0)

    async def delete_batch(
        self, kind: Kept, limits: Mapping[Kept, datetime], now: datetime, limit: int
    ) -> Batch:
        """Up to `limit` expired records of `kind` and what hangs on them."""
        params = _params(kind, limits)
        # A leaver's purge stamps when it ran; the other kinds need the cutoff (audit horizon).
        stamp = to_db_time(now) if kind is Kept.LEAVERS else to_db_time(limits[kind])
        rows = await self.tx.all(f"{expired(kind, self.tx.dialect)} LIMIT ?", (*params, limit))
        keys = [row[0] for row in rows]
        if keys:
            await self.tx.batch(DELETE[kind](keys, stamp))
        return Batch(len(keys), len(keys) == limit)

    # --- the daily run ------------------------------------------------------------------------

    async def purge_due(self, tz: tzinfo) -> datetime | None:
        text: str | None = await self.tx.scalar(
            "SELECT next_at FROM retention_runs WHERE kind = 'purge'"
        )
        return from_db_time(text, tz)

    async def plan_purge(self, next_at: datetime) -> None:
        """The first plan (no row yet); an existing plan is left as it is."""
        await self.tx.execute(
            "INSERT INTO retention_runs (kind, next_at) VALUES ('purge', ?) ON CONFLICT DO NOTHING",
            (to_db_time(next_at),),
        )

    async def claim_purge(self, seen: datetime, now: datetime, next_at: datetime) -> bool:
        """Move the plan on if it still says `seen`: True for the one instance that did."""
        changed = await self.tx.execute(
            "UPDATE retention_runs SET next_at = ?, last_at = ? WHERE kind = 'purge' AND next_at = ?",
            (to_db_time(next_at), to_db_time(now), to_db_time(seen)),
        )
        return changed == 1
