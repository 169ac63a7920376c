"""The daily purge on a year of history for 100,000 staff.

    .venv/bin/python bench/purge.py [--staff 100000] [--batch 500]

Prints JSON lines. Rows are written in time order (ids grow with time, as in use). A year (the 365 days before NOW) is written straight into SQLite for
`--staff` people: a travel request each (with its return declaration), symptom reports, case
reports with contacts, finished monitorings with 14 check-ins, 6 directives to everyone (their
copies and their recipients), other sent messages, audit entries, 2 % of the staff deactivated
60 days ago, two consent decisions each (a tenth of them replaced 5½ years ago: the bot's ledger
of earlier years), absences over two years and conversations left half-way, and the tables
covered last: 300,000 handled updates with their inbox rows (1 % given up), tests on return,
violations over 2½ years, three duty shifts a day for 50 units over 400 days, referrals, outside reports, closed data
requests over six years, uploads, numbered and messenger choices, settled button links. Then,
on the real Retention service and Database:
- `dry_run`: the counts (`python -m bot privacy purge --dry-run`), wall time;
- `purge`: the purge itself, wall time (goal < 30 s), the longest transaction holding the write
  lock (goal < 100 ms), the batches, and the longest wait of a small write step made every
  10 ms meanwhile (what a person's step would wait);
- `purge_again`: the next day's run on what is left (nothing expired: the idle cost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.domain.clock import ManualClock  # noqa: E402
from bot.services.privacy.retention import Retention  # noqa: E402
from storage.db import Database, to_db_time  # noqa: E402

NOW = datetime(2021, 5, 31, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
DAY = timedelta(days=1)
YEAR_SECONDS = 365 * 86400


def emit(**fields: object) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def ago(rng: random.Random) -> str:
    return to_db_time(NOW - timedelta(seconds=rng.randrange(YEAR_SECONDS)))


def at(row: tuple[str | None, ...]) -> str:
    """Rows are written in time order, as the bot writes them (ids grow with time)."""
    return str(row[1])


async def migrated(db: Path) -> None:
    await (await Database.open(db)).close()


def write_year(db: Path, staff_total: int, rng: random.Random) -> dict[str, int]:
    ids = [f"S{n:06d}" for n in range(staff_total)]
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA synchronous=OFF")
        left = to_db_time(NOW - 60 * DAY)
        conn.executemany(
            "INSERT INTO staff (staff_id, full_name, name_folded, phone, unit_id, position_group, "
            "active, deactivated_at) VALUES (?, 'Nguyễn Văn A', 'nguyen van a', ?, 'U1', 'staff', ?, ?)",
            [(s, f"09{n:08d}", int(n % 50 != 0), None if n % 50 else left) for n, s in enumerate(ids)],
        )  # fmt: skip
        sizes = {"staff": staff_total}
        sizes.update(_travel(conn, ids, rng))
        sizes.update(_health(conn, ids, rng))
        sizes.update(_messages(conn, ids, rng))
        sizes.update(_people(conn, ids, rng))
        sizes.update(_rest(conn, ids, rng))
    with sqlite3.connect(db) as conn:  # as a running bot's database is: its WAL checkpointed
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sizes


def _travel(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> dict[str, int]:
    requests, returns = [], []
    backs = sorted(NOW - timedelta(seconds=rng.randrange(YEAR_SECONDS)) for _ in ids)
    for n, (staff_id, back) in enumerate(
        zip(ids, backs, strict=True), start=1
    ):  # ids grow with time
        requests.append((n, staff_id, to_db_time(back - 3 * DAY), to_db_time(back)))
        returns.append((n, staff_id, to_db_time(back), to_db_time(back + DAY)))
    conn.executemany(
        "INSERT INTO travel_requests (id, staff_id, status, destination, address, departure_at, "
        "return_at, purpose, case_area, policy_mode, trip_class, rule_name, created_at, return_tracked) "
        "VALUES (?, ?, 'approved', 'Đà Nẵng', 'Hải Châu', ?, ?, 'Công tác', 'no', 'normal', "
        "'needs_approval', 'bench', ?3, 1)",
        requests,
    )  # fmt: skip
    conn.executemany(
        "INSERT INTO request_deciders (request_id, staff_id, kind) VALUES (?, 'S000001', 'decider')",
        [(r[0],) for r in requests],
    )
    conn.executemany(
        "INSERT INTO trip_returns (request_id, staff_id, state, planned_return_at, declared_at, "
        "created_at, updated_at) VALUES (?, ?, 'declared', ?, ?4, ?3, ?4)",
        returns,
    )
    return {"travel_requests": len(requests), "trip_returns": len(returns)}


def _health(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> dict[str, int]:
    reports = sorted(((rng.choice(ids), ago(rng)) for _ in range(len(ids) // 2)), key=at)
    conn.executemany(
        "INSERT INTO symptom_reports (staff_id, source, symptoms, temperature, urgency, created_at) "
        "VALUES (?, 'self', '[\"fever\",\"cough\"]', 38.2, 'urgent', ?)",
        reports,
    )
    conn.execute(
        "INSERT INTO health_alerts (object, staff_id, unit_id, created_at) "
        "SELECT 'symptoms:' || id, staff_id, 'U1', created_at FROM symptom_reports"
    )
    conn.execute("INSERT INTO alert_recipients SELECT id, 'S000002', 0 FROM health_alerts")
    cases = sorted((ago(rng),) for _ in range(len(ids) // 50))
    conn.executemany(
        "INSERT INTO case_reports (unit_id, reported_by, created_at) VALUES ('U1', 'S000002', ?)",
        cases,
    )
    conn.execute(
        "INSERT INTO case_nodes (case_id, staff_id, name, level, added_by, created_at) "
        "SELECT c.id, NULL, 'Người tiếp xúc', 'F1', 'S000002', c.created_at "
        "FROM case_reports c, (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 "
        "UNION ALL SELECT 5)"
    )
    watched = sorted(((rng.choice(ids), ago(rng)) for _ in range(len(ids) // 10)), key=at)
    conn.executemany(
        "INSERT INTO monitorings (staff_id, reason, status, start_day, end_day, created_at, "
        "updated_at) VALUES (?, 'F1', 'done', '2021-01-01', '2021-01-14', ?2, ?2)",
        watched,
    )
    conn.execute(
        "WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 13) "
        "INSERT INTO checkins SELECT m.id, '2021-01-' || printf('%02d', d.n + 1), 'no', m.created_at "
        "FROM monitorings m, d"
    )
    return {
        "symptom_reports": len(reports),
        "case_reports": len(cases),
        "monitorings": len(watched),
        "checkins": 14 * len(watched),
    }


def _messages(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> dict[str, int]:
    rows: list[tuple[str, str, str | None]] = []
    for n in range(6):  # a directive to everyone every two months
        queued = to_db_time(NOW - timedelta(days=60 * n + 2))
        rows += [(s, queued, f"broadcast:{n + 1}") for s in ids]
    rows += [(rng.choice(ids), ago(rng), None) for _ in range(len(ids) * 6)]
    rows.sort(key=at)  # as the outbox fills: in time order
    conn.executemany(
        "INSERT INTO outbox (channel, chat_ref, payload, status, next_attempt_at, created_at, "
        "sent_at, purpose, staff_id) VALUES ('telegram', '1', "
        "'{\"text\":\"Đã nhận báo cáo của anh/chị\"}', 'sent', ?2, ?2, ?2, ?3, ?1)",
        rows,
    )
    entries = sorted((ago(rng),) for _ in range(len(ids) * 10))
    conn.executemany(
        "INSERT INTO audit_log (at, actor, action, object) VALUES (?, 'S000002', 'health.view', "
        "'symptoms:1')",
        entries,
    )
    return {"outbox": len(rows), "audit_log": len(entries)}


def _people(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> dict[str, int]:
    for n in range(6):  # the directives whose copies _messages wrote
        queued = to_db_time(NOW - timedelta(days=60 * n + 2))
        conn.execute(
            "INSERT INTO broadcasts (id, number, issued_on, title, audience, status, created_by, "
            "created_at, send_at, queued_at, admin_channel, admin_chat) VALUES (?, '1/UBND', "
            "'2021-01-01', 'Phòng dịch', '{}', 'done', 'S000002', ?2, ?2, ?2, 'telegram', '1')",
            (n + 1, queued),
        )
        conn.executemany(
            "INSERT INTO broadcast_recipients (broadcast_id, staff_id, unit_id, registered, "
            "read_at) VALUES (?, ?, 'U1', 1, ?3)",
            [(n + 1, s, queued) for s in ids],
        )
    old = NOW - timedelta(days=2190)  # six years ago: the ledger of earlier years
    decisions = [
        (s, purpose, to_db_time(old if n % 10 == 0 else NOW - timedelta(days=400)))
        for n, s in enumerate(ids)
        for purpose in ("directory", "health")
    ] + [(s, "health", to_db_time(old + timedelta(days=180))) for s in ids[::10]]
    decisions.sort(key=lambda row: row[2])
    conn.executemany(
        "INSERT INTO consents (staff_id, purpose, notice_version, decision, channel, at) "
        "VALUES (?, ?, 1, 'granted', 'telegram', ?)",
        decisions,
    )
    days = [NOW - timedelta(days=rng.randrange(730)) for _ in range(len(ids) // 10)]
    conn.executemany(
        "INSERT INTO absences (staff_id, start_day, end_day, created_at) VALUES (?, ?, ?, ?)",
        [(rng.choice(ids), d.date().isoformat(), d.date().isoformat(), to_db_time(d)) for d in days],
    )  # fmt: skip
    drafts = [(str(n), ago(rng)) for n in range(len(ids) // 20)]
    conn.executemany(
        "INSERT INTO conversations (channel, user_ref, flow, step, draft, updated_at) "
        "VALUES ('telegram', ?, 'travel', 'address', '{}', ?)",
        drafts,
    )
    return {
        "broadcast_recipients": 6 * len(ids),
        "consents": len(decisions),
        "absences": len(days),
        "conversations": len(drafts),
    }


def _rest(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> dict[str, int]:
    """The tables retention covered last: handled and given-up updates, tests on return,
    violations, duty shifts and referrals, outside reports, data requests, uploads, numbered
    and messenger choices, settled button links."""
    moments = sorted(ago(rng) for _ in range(len(ids) * 3))  # update ids grow with time
    handled = [(str(700_000_000 + n), moment) for n, moment in enumerate(moments)]
    conn.executemany(
        "INSERT INTO processed_updates (channel, update_id, processed_at) VALUES ('telegram', ?, ?)",
        handled,
    )
    conn.executemany(
        "INSERT INTO inbox (channel, update_id, body, received_at, done_at, outcome) "
        "VALUES ('telegram', ?1, CASE WHEN ?1 % 100 = 0 THEN '{}' ELSE '' END, ?2, ?2, "
        "CASE WHEN ?1 % 100 = 0 THEN 'failed' ELSE 'done' END)",
        handled,
    )
    measures = sorted(
        ((n, rng.choice(ids), ago(rng)) for n in range(1, len(ids) // 10)), key=lambda r: r[2]
    )
    conn.executemany(
        "INSERT INTO return_measures (request_id, staff_id, area, arrived_at, test_result, "
        "created_at, updated_at) VALUES (?, ?, 'Đà Nẵng', ?3, 'negative', ?3, ?3)",
        measures,
    )
    violations = sorted(
        (
            (rng.choice(ids), to_db_time(NOW - timedelta(days=rng.randrange(900))))
            for _ in range(len(ids) // 20)
        ),
        key=at,
    )
    conn.executemany(
        "INSERT INTO violations (staff_id, unit_id, kind, note, recorded_by, created_at) "
        "VALUES (?, 'U1', 'travel', 'đi không xin phép', 'S000001', ?)",
        violations,
    )
    shifts = [
        (
            f"U{unit}",
            to_db_time(NOW - timedelta(hours=8 * n + 8)),
            to_db_time(NOW - timedelta(hours=8 * n)),
        )
        for n in range(3 * 400, -1, -1)
        for unit in range(50)
    ]
    conn.executemany(
        "INSERT INTO duty_shifts (unit_id, starts_at, ends_at, staff_id) VALUES (?, ?, ?, 'S000002')",
        shifts,
    )
    conn.execute(
        "INSERT INTO duty_referrals (alert_id, referred_by, note, sent_to, created_at) "
        "SELECT id, 'S000002', 'sốt cao', '[\"S000001\"]', created_at FROM health_alerts "
        "WHERE id % 100 = 0"
    )
    conn.execute(
        "INSERT INTO outside_reports (case_id, contact_id, body, handed_to, created_at) "
        "SELECT id, 'CDC', 'F0', '[\"S000002\"]', created_at FROM case_reports"
    )
    closed = sorted(
        (
            (rng.choice(ids), to_db_time(NOW - timedelta(days=rng.randrange(2190))))
            for _ in range(len(ids) // 100)
        ),
        key=at,
    )
    conn.executemany(
        "INSERT INTO privacy_requests (staff_id, kind, status, created_at, ack_due_at, due_at, "
        "remind_at, closed_at) VALUES (?, 'delete', 'done', ?2, ?2, ?2, ?2, ?2)",
        closed,
    )
    uploads = sorted((ago(rng),) for _ in range(1000))
    conn.executemany(
        "INSERT INTO directory_uploads (staff_id, batch, kind, path, name, created_at, expires_at, "
        "closed, removed) VALUES ('S000003', 0, 'staff', 'x.csv', 'staff.csv', ?1, ?1, 1, 1)",
        uploads,
    )
    choices = sorted(((str(n), ago(rng)) for n in range(len(ids) // 20)), key=at)
    conn.executemany(
        "INSERT INTO pending_choices (channel, chat_ref, choices, sent_at) VALUES ('zalo', ?, '[]', ?)",
        choices,
    )
    conn.executemany(
        "INSERT INTO channel_choices (staff_id, channel, chosen_at) VALUES (?, 'zalo', ?)",
        [(s, to_db_time(NOW - 400 * DAY)) for s in ids],
    )
    conn.execute(  # a settled link on a message a year of pending ones keeps: one in 20
        "INSERT INTO button_messages (subject, outbox_id, closed) "
        "SELECT 'back:' || id, id, 1 FROM outbox WHERE purpose IS NULL AND id % 20 = 0"
    )
    links = conn.execute("SELECT COUNT(*) FROM button_messages").fetchone()[0]
    return {
        "processed_updates": len(handled),
        "inbox": len(handled),
        "return_measures": len(measures),
        "violations": len(violations),
        "duty_shifts": len(shifts),
        "privacy_requests": len(closed),
        "directory_uploads": len(uploads),
        "pending_choices": len(choices),
        "channel_choices": len(ids),
        "button_messages": links,
    }


async def measure(db: Path, batch: int) -> None:
    settings = Settings(_env_file=None, database_path=db, retention_batch=batch)  # type: ignore[call-arg]
    clock = ManualClock(NOW.astimezone(settings.tz))
    database = await Database.open(db)
    try:
        retention = Retention(database, clock, settings)
        started = time.perf_counter()
        counts = await retention.preview(clock.now())
        emit(name="dry_run", seconds=round(time.perf_counter() - started, 2),
             counts={k.value: n for k, n in counts.items()})  # fmt: skip
        for name in ("purge", "purge_again"):
            waits: list[float] = []
            stop = asyncio.Event()
            prober = asyncio.create_task(probe(database, waits, stop))
            started = time.perf_counter()
            outcome = await retention.purge(clock.now())
            seconds = time.perf_counter() - started
            stop.set()
            await prober
            emit(
                name=name,
                seconds=round(seconds, 2),
                goal_seconds=30,
                longest_lock_ms=round(outcome.longest_hold * 1000, 1),
                goal_lock_ms=100,
                batches=outcome.batches,
                batch=batch,
                deleted=sum(outcome.counts.values()),
                longest_lock_ms_per_kind={
                    k.value: round(v * 1000, 1) for k, v in outcome.holds.items()
                },
                longest_step_wait_ms=round(max(waits, default=0.0) * 1000, 1),
                steps_meanwhile=len(waits),
            )
    finally:
        await database.close()


async def probe(database: Database, waits: list[float], stop: asyncio.Event) -> None:
    """A small write step every 10 ms: how long it waits for the lock and commits."""
    while not stop.is_set():
        started = time.perf_counter()
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES ('bench_probe', '1') "
                "ON CONFLICT(key) DO UPDATE SET value = value + 1"
            )
        waits.append(time.perf_counter() - started)
        await asyncio.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "khaibao.db"
        asyncio.run(migrated(db))
        started = time.perf_counter()
        sizes = write_year(db, args.staff, random.Random(17))
        emit(name="history", seconds=round(time.perf_counter() - started, 1), **sizes)
        asyncio.run(measure(db, args.batch))


if __name__ == "__main__":
    main()
