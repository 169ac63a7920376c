"""The sweep with 100,000 open 24-hour windows: cost per tick, 10,000 due, catch-up, RSS.

    .venv/bin/python bench/returns.py [--windows 100000] [--due 10000] [--ticks 300] [--down-hours 20]

Prints JSON lines. A directory of 100,000 staff in 2,000 units is generated and imported with
the real CLI (bench/import_directory.py's generator); accounts, approved trips and open windows
are written straight into the SQLite file; then a fresh child process, measured alone, runs the
bot's real Sweeper (every feature's jobs, as bot/app.py builds them) against it:
- `idle_tick`: one whole tick with nothing due, the database lock it takes included (goal
  ≤ 5 ms; median and p99 over `--ticks`), and the returns job alone beside it;
- `due_10000` (`--due`): 10,000 reminders due at once: one tick enqueues them all (goal ≤ 1 s);
- `restart_after_20h_down`: a new process after `--down-hours` down (three reminder times
  missed), ticking until nothing is due; checked per person against the rows due before it:
  each got exactly one reminder (the latest), nobody two, nobody none, nobody not due;
- `peak_rss_mb` of the children (goal ≤ 200 MB).
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
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import percentile  # noqa: E402

NOW = datetime(2021, 5, 31, 9, 0, tzinfo=UTC)  # 16:00 in Hà Nội: outside quiet hours


def db_time(moment: datetime) -> str:
    from storage.db import to_db_time

    return to_db_time(moment)


def build(folder: Path, windows: int) -> Path:
    from import_directory import imported_district

    units = min(2_000, max(100, windows // 50))  # 50 a unit: a smaller run still has every role
    db, staff = imported_district(folder, windows, units)
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


async def child(db: Path, mode: str, ticks: int, down_hours: float) -> dict[str, object]:
    from bot.app import build_features, sweeper_for
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
    sweeper = sweeper_for(deps, build_features(deps))  # every feature's jobs, as the bot runs them
    figures: dict[str, object] = {}
    try:
        if mode != "catch_up":
            async with database.reading() as tx:
                await deps.directory.get(tx)  # warm, as in a running bot: the directory is loaded
        if mode == "ticks":
            figures["first_tick_done"] = await sweeper.tick()  # sets the digests' next times
            figures |= await idle_ticks("idle_tick", sweeper.tick, ticks)
            returns_job = ReturnsSweep(deps)
            figures |= await idle_ticks(
                "returns_job", lambda: returns_job.sweep(clock.now()), ticks
            )
        elif mode == "due":
            start = time.perf_counter()
            handled = await sweeper.tick()
            figures["due_seconds"] = round(time.perf_counter() - start, 3)
            figures["due_handled"] = handled
        elif mode == "catch_up":
            clock.advance(timedelta(hours=down_hours))
            handled, passes = 0, 0
            while done := await sweeper.tick():  # until a tick finds nothing more due
                handled += done
                passes += 1
            figures["catch_up_seconds"] = round(time.perf_counter() - began, 3)
            figures["catch_up_handled"] = handled
            figures["catch_up_ticks"] = passes + 1
    finally:
        await database.close()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


async def idle_ticks(
    name: str, tick: Callable[[], Awaitable[int]], count: int
) -> dict[str, object]:
    samples, done = [], 0
    for _ in range(count):
        start = time.perf_counter()
        done += await tick()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        f"{name}_ms_median": round(statistics.median(samples), 3),
        f"{name}_ms_p99": round(percentile(samples, 0.99), 3),
        f"{name}_done": done,  # 0: nothing was due
    }


def run_child(db: Path, mode: str, args: argparse.Namespace) -> dict[str, object]:
    options = ["--ticks", str(args.ticks), "--down-hours", str(args.down_hours)]
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(db), mode, *options],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def outbox_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def due_people(db: Path, at: datetime) -> set[str]:
    """Whose window has a reminder due by `at`, read from the rows before the catch-up."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT staff_id FROM trip_returns WHERE state = 'back' AND remind_at <= ?",
            (db_time(at),),
        )
        return {r[0] for r in rows}


def reminders_per_person(db: Path, after_id: int) -> Counter[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            # `returns:<subject>`: a reminder that carries its declaration's buttons
            "SELECT staff_id, COUNT(*) FROM outbox WHERE purpose LIKE 'returns%' AND id > ? "
            "GROUP BY staff_id",
            (after_id,),
        )
        return Counter({staff_id: count for staff_id, count in rows})


def per_person(expected: set[str], got: Counter[str]) -> dict[str, object]:
    """Exactly one each: nobody expected got none, nobody got two, nobody else got any."""
    figures: dict[str, object] = {
        "people_due": len(expected),
        "people_with_one": sum(1 for s in expected if got[s] == 1),
        "people_with_none": sum(1 for s in expected if got[s] == 0),
        "people_with_two_or_more": sum(1 for count in got.values() if count > 1),
        "people_not_due_reminded": sum(1 for s in got if s not in expected),
    }
    figures["one_per_person"] = figures["people_with_one"] == len(expected) and not any(
        figures[k] for k in ("people_with_two_or_more", "people_not_due_reminded")
    )
    return figures


def emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=300)
    parser.add_argument("--down-hours", type=float, default=20.0)
    parser.add_argument("--child", nargs=2, metavar=("DB", "MODE"))
    args = parser.parse_args()
    if args.child:
        figures = child(Path(args.child[0]), args.child[1], args.ticks, args.down_hours)
        print(json.dumps(asyncio.run(figures)))
        return
    with tempfile.TemporaryDirectory(prefix="khaibao-returns-") as tmp:
        db = build(Path(tmp), args.windows)
        base = {"bench": "returns_sweep", "open_windows": args.windows}
        idle = run_child(db, "ticks", args)
        ok = float(idle["idle_tick_ms_p99"]) <= 5 and idle["idle_tick_done"] == 0  # type: ignore[arg-type]
        emit(base | {"scenario": "idle_tick", "ticks": args.ticks, **idle, "goal_ms": 5, "ok": ok})
        make_due(db, args.due)
        due = run_child(db, "due", args)
        sent = outbox_count(db)
        ok = float(due["due_seconds"]) <= 1 and sent == args.due  # type: ignore[arg-type]
        emit(
            base
            | {"scenario": f"due_{args.due}", **due, "enqueued": sent, "goal_seconds": 1, "ok": ok}
        )
        expected = due_people(db, NOW + timedelta(hours=args.down_hours))
        catch = run_child(db, "catch_up", args)
        got = reminders_per_person(db, sent)
        emit(base | {"scenario": f"restart_after_{args.down_hours:g}h_down", **catch,
                     "enqueued": sum(got.values()), **per_person(expected, got)})  # fmt: skip
        peak = max(float(f["peak_rss_mb"]) for f in (idle, due, catch))  # type: ignore[arg-type]
        emit(
            base | {"scenario": "peak_rss", "peak_rss_mb": peak, "goal_mb": 200, "ok": peak <= 200}
        )


if __name__ == "__main__":
    main()
