"""The returns sweep with 100,000 open 24-hour windows: cost per tick, 10,000 due, catch-up, RSS.

    .venv/bin/python bench/returns.py [--windows 100000] [--due 10000]

Prints JSON lines. A directory of 100,000 staff in 2,000 units is generated and imported with
the real CLI (bench/import_directory.py's generator); accounts, approved trips and open windows
are written straight into the SQLite file; then a fresh child process, measured alone, runs the
real ReturnsSweep against it:
- `idle_tick`: one sweep with nothing due (goal ≤ 5 ms; median and p99 over 50 ticks);
- `due_10000`: 10,000 reminders due at once: all enqueued in the outbox (goal ≤ 1 s);
- `restart_catch_up`: a new process after 3 hours down, until nothing is due; only the latest
  reminder per person is sent;
- `peak_rss_mb` of the child (goal ≤ 200 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

NOW = datetime(2021, 5, 31, 9, 0, tzinfo=UTC)  # 16:00 in Hà Nội: outside quiet hours


def db_time(moment: datetime) -> str:
    from storage.db import to_db_time

    return to_db_time(moment)


def build(folder: Path, windows: int) -> Path:
    from import_directory import imported_district

    db, staff = imported_district(folder, windows, 2_000)
    seed(db, [p.staff_id for p in staff])
    return db


def schedule_for(arrived: datetime) -> str:
    """What the bot stores when a person declares the return (computed once, then swept)."""
    from bot.domain.reminders import declaration_schedule
    from storage.returns_repo import schedule_text

    return schedule_text(declaration_schedule(arrived))


def seed(db: Path, staff_ids: list[str]) -> None:
    """Every person registered, with one approved trip back 1 hour ago and an open window."""
    arrived = NOW - timedelta(hours=1)
    schedule = schedule_for(arrived)
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO accounts (channel, user_ref, chat_ref, staff_id) VALUES ('telegram', ?, ?, ?)",
            ((str(10_000 + i), str(10_000 + i), s) for i, s in enumerate(staff_ids)),
        )
        conn.executemany(
            "INSERT INTO travel_requests (id, staff_id, status, destination, address, departure_at, "
            "return_at, purpose, case_area, policy_mode, trip_class, rule_name, created_at, "
            "return_tracked) VALUES (?, ?, 'approved', 'Đà Nẵng', 'Hải Châu', ?, ?, 'Thăm gia đình', "
            "'no', 'approval_outside_hours', 'needs_approval', 'bench', ?, 1)",
            (
                (
                    i + 1,
                    s,
                    db_time(arrived - timedelta(days=2)),
                    db_time(arrived),
                    db_time(arrived - timedelta(days=3)),
                )
                for i, s in enumerate(staff_ids)
            ),
        )
        conn.executemany(
            "INSERT INTO trip_returns (request_id, staff_id, state, planned_return_at, arrived_at, "
            "deadline_at, schedule, remind_at, created_at, updated_at) VALUES (?, ?, 'back', ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i + 1,
                    s,
                    db_time(arrived),
                    db_time(arrived),
                    db_time(arrived + timedelta(hours=24)),
                    schedule,
                    db_time(arrived + timedelta(hours=2)),
                    db_time(arrived),
                    db_time(arrived),
                )
                for i, s in enumerate(staff_ids)
            ),
        )


def make_due(db: Path, count: int) -> None:
    """`count` people arrived 2 h 1 min ago: their first reminder is due now."""
    arrived = NOW - timedelta(hours=2, minutes=1)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE trip_returns SET arrived_at = ?, deadline_at = ?, schedule = ?, remind_at = ? WHERE request_id <= ?",
            (
                db_time(arrived),
                db_time(arrived + timedelta(hours=24)),
                schedule_for(arrived),
                db_time(arrived + timedelta(hours=2)),
                count,
            ),
        )


async def child(db: Path, mode: str) -> dict[str, object]:
    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.i18n import Translations
    from bot.services.kernel.step import Deps, DirectoryCache
    from bot.services.returns.sweep import ReturnsSweep
    from storage.db import Database

    began = time.perf_counter()
    database = await Database.open(db)
    settings = Settings(_env_file=None, database_path=db)  # type: ignore[call-arg]
    clock = ManualClock(NOW.astimezone(settings.tz))
    deps = Deps(database, clock, Translations(), DirectoryCache(), lambda: None, settings)
    sweep = ReturnsSweep(deps)
    figures: dict[str, object] = {}
    try:
        if mode == "ticks":
            async with database.reading() as tx:
                await deps.directory.get(tx)  # warm, as in a running bot: the directory is loaded
            figures |= await idle_ticks(sweep, clock.now())
        elif mode == "due":
            async with database.reading() as tx:
                await deps.directory.get(tx)  # warm, as in a running bot: the directory is loaded
            start = time.perf_counter()
            handled = await sweep.sweep(clock.now())
            figures["due_seconds"] = round(time.perf_counter() - start, 3)
            figures["due_handled"] = handled
        elif mode == "catch_up":
            clock.advance(timedelta(hours=3))
            handled = 0
            while True:
                done = await sweep.sweep(clock.now())
                handled += done
                if done == 0:
                    break
            figures["catch_up_seconds"] = round(time.perf_counter() - began, 3)
            figures["catch_up_handled"] = handled
    finally:
        await database.close()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


async def idle_ticks(sweep: object, now: datetime) -> dict[str, object]:
    samples = []
    for _ in range(50):
        start = time.perf_counter()
        await sweep.sweep(now)  # type: ignore[attr-defined]
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "idle_tick_ms_median": round(statistics.median(samples), 3),
        "idle_tick_ms_p99": round(samples[int(len(samples) * 0.99) - 1], 3),
    }


def run_child(db: Path, mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(db), mode],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def outbox_count(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        total = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        people = conn.execute("SELECT COUNT(DISTINCT chat_ref) FROM outbox").fetchone()[0]
    return total, people


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--child", nargs=2, metavar=("DB", "MODE"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(Path(args.child[0]), args.child[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="khaibao-returns-") as tmp:
        db = build(Path(tmp), args.windows)
        base = {"bench": "returns_sweep", "open_windows": args.windows}
        idle = run_child(db, "ticks")
        print(
            json.dumps(
                base
                | {
                    "scenario": "idle_tick",
                    **idle,
                    "goal_ms": 5,
                    "ok": idle["idle_tick_ms_p99"] <= 5,
                }
            ),
            flush=True,
        )
        make_due(db, args.due)
        due = run_child(db, "due")
        sent, people = outbox_count(db)
        print(
            json.dumps(
                base
                | {
                    "scenario": "due_10000",
                    **due,
                    "enqueued": sent,
                    "goal_seconds": 1,
                    "ok": due["due_seconds"] <= 1 and sent == args.due,
                }
            ),
            flush=True,
        )
        before = sent
        catch = run_child(db, "catch_up")
        sent, people = outbox_count(db)
        print(
            json.dumps(
                base
                | {
                    "scenario": "restart_after_3h_down",
                    **catch,
                    "enqueued": sent - before,
                    "people": people,
                    "one_per_person": sent - before <= args.windows,
                }
            ),
            flush=True,
        )
        peak = max(
            float(idle["peak_rss_mb"]), float(due["peak_rss_mb"]), float(catch["peak_rss_mb"])
        )  # type: ignore[arg-type]
        print(
            json.dumps(
                base
                | {"scenario": "peak_rss", "peak_rss_mb": peak, "goal_mb": 200, "ok": peak <= 200}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
