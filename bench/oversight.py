"""Oversight at district scale: /district, /unit for a 500-person unit, a 100,000-row export.

    .venv/bin/python bench/oversight.py [--staff 100000] [--units 2000] [--trips 100000]

Prints JSON lines. The directory (2,000 units, 100,000 staff) comes from bench/import_directory.py's
generator through the real import; a year of history is written straight into SQLite: `--trips`
travel requests over the 365 days before NOW (their returns: most declared in time, some late,
some overdue, some away), pending requests, symptom reports, open monitorings, and 6 directives to
everyone with 80–95 % read. Then fresh child processes, measured alone, run the real services:
- `district`: Oversight.district (text + PNG chart), cold (first, with matplotlib's import) and
  warm (median of 3); goal ≤ 1 s warm;
- `unit_500`: Oversight.unit for the unit whose subtree is closest to 500 staff; goal ≤ 300 ms;
- `export_100000`: `python -m bot export --what travel` over the whole year, in a child that
  reports its own wall time and peak RSS (resource.getrusage); goals ≤ 10 s and ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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

NOW = datetime(2021, 5, 31, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
DAY = timedelta(days=1)


def t(moment: datetime) -> str:
    from storage.db import to_db_time

    return to_db_time(moment)


def build(folder: Path, staff_total: int, units_total: int, trips: int) -> tuple[Path, list[str]]:
    from import_directory import imported_district

    db, staff = imported_district(folder, staff_total, units_total)
    ids = [p.staff_id for p in staff]
    history(db, ids, trips, random.Random(8))
    return db, ids


def history(db: Path, ids: list[str], trips: int, rng: random.Random) -> None:
    requests, returns = [], []
    for i in range(1, trips + 1):
        staff_id = rng.choice(ids)
        leave = NOW - timedelta(days=365) + timedelta(seconds=rng.randrange(365 * 86400))
        back = leave + timedelta(hours=rng.randrange(24, 96))
        created = leave - timedelta(days=rng.randrange(1, 6))
        decided = created + timedelta(minutes=rng.randrange(5, 600))
        status = "approved" if rng.random() < 0.93 else "denied"
        tracked = status == "approved" and back <= NOW
        requests.append(
            (
                i,
                staff_id,
                status,
                t(leave),
                t(back),
                t(created),
                t(decided),
                "UB-VP-001",
                int(tracked),
            )
        )
        if not tracked:
            continue
        roll = rng.random()
        if roll < 0.004:
            returns.append((i, staff_id, "away", t(back), None, None, None))
            continue
        arrived = back
        deadline = arrived + DAY
        if roll < 0.85:
            declared: datetime | None = arrived + timedelta(hours=rng.uniform(1, 23))
        elif roll < 0.97:
            declared = arrived + timedelta(hours=rng.uniform(25, 60))
        else:
            declared = None
        if declared is not None and declared > NOW:
            declared = None
        state = "declared" if declared else "back"
        returns.append(
            (
                i,
                staff_id,
                state,
                t(back),
                t(arrived),
                t(deadline),
                t(declared) if declared else None,
            )
        )
    for j in range(2_000):  # waiting for a decision
        staff_id = rng.choice(ids)
        leave = NOW + timedelta(days=rng.randrange(1, 10))
        requests.append(
            (
                trips + j + 1,
                staff_id,
                "pending",
                t(leave),
                t(leave + 2 * DAY),
                t(NOW - timedelta(hours=rng.randrange(1, 48))),
                None,
                None,
                0,
            )
        )
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO travel_requests (id, staff_id, status, destination, address, departure_at, return_at, purpose, "
            "case_area, policy_mode, trip_class, rule_name, created_at, decided_at, decided_by, return_tracked) "
            "VALUES (?, ?, ?, 'Đà Nẵng', 'Phường Hải Châu 1, quận Hải Châu', ?, ?, 'Thăm gia đình', 'no', 'normal', "
            "'needs_approval', 'bench', ?, ?, ?, ?)",
            requests,
        )
        conn.executemany(
            "INSERT INTO trip_returns (request_id, staff_id, state, planned_return_at, arrived_at, deadline_at, declared_at, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?4, ?4)",
            returns,
        )
        symptoms(conn, ids, rng)
        directives(conn, ids, rng)


def symptoms(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> None:
    reports = [(rng.choice(ids), t(NOW - timedelta(seconds=rng.randrange(365 * 86400))), rng.choice(("urgent", "routine")))
               for _ in range(5_000)]  # fmt: skip
    conn.executemany(
        "INSERT INTO symptom_reports (staff_id, source, symptoms, temperature, urgency, created_at) "
        "VALUES (?, 'self', '[\"fever\",\"cough\"]', 38.2, ?3, ?2)",
        reports,
    )
    watched = rng.sample(ids, 500)
    conn.executemany(
        "INSERT INTO monitorings (staff_id, reason, status, start_day, end_day, created_at, updated_at) "
        "VALUES (?, 'F1', 'open', '2021-05-25', '2021-06-07', ?, ?2)",
        [(s, t(NOW - 5 * DAY)) for s in watched],
    )


def directives(conn: sqlite3.Connection, ids: list[str], rng: random.Random) -> None:
    units = dict(conn.execute("SELECT staff_id, unit_id FROM staff"))
    for n in range(6):
        queued = NOW - timedelta(days=60 * (5 - n) + 2)
        bid = conn.execute(
            "INSERT INTO broadcasts (number, issued_on, title, audience, status, created_by, created_at, send_at, queued_at, "
            "admin_channel, admin_chat) VALUES (?, ?, ?, '{\"kind\":\"all\"}', 'done', 'UB-VP-003', ?, ?4, ?4, 'telegram', '1')",
            (
                f"{100 + n}/UBND-VP",
                queued.date().isoformat(),
                f"Về việc tăng cường phòng, chống dịch COVID-19 (đợt {n + 1})",
                t(queued),
            ),
        ).lastrowid
        read_share = rng.uniform(0.8, 0.95)
        conn.executemany(
            "INSERT INTO broadcast_recipients (broadcast_id, staff_id, unit_id, registered, read_at) VALUES (?, ?, ?, 1, ?)",
            [
                (
                    bid,
                    s,
                    units[s],
                    t(queued + timedelta(hours=3)) if rng.random() < read_share else None,
                )
                for s in ids
            ],
        )


# --------------------------------------------------------------------------- children


async def child(db: Path, mode: str) -> dict[str, object]:
    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.domain.models import Staff
    from bot.i18n import Translations
    from bot.services.kernel.step import Deps, DirectoryCache, Incoming, Step
    from bot.services.oversight.feature import Oversight, staff_in
    from storage.db import Database
    from storage.repos import Account

    database = await Database.open(db)
    settings = Settings(_env_file=None, database_path=db)  # type: ignore[call-arg]
    clock = ManualClock(NOW.astimezone(settings.tz))
    deps = Deps(database, clock, Translations(), DirectoryCache(), lambda: None, settings)
    oversight = Oversight(deps)
    figures: dict[str, object] = {}
    async with database.reading() as tx:
        directory = await deps.directory.get(tx)  # warm, as in a running bot
    if mode == "district":
        admin = Staff(
            "UB-VP-003", "Quản trị", "+84900000000", "UB-VP", "staff", roles=frozenset({"admin"})
        )
        person, command = admin, oversight.district
    else:
        sizes = {u: len(staff_in(directory, directory.subtree(u))) for u in directory.units}
        unit_id = min(sizes, key=lambda u: (abs(sizes[u] - 500), u))
        person = next(directory.staff[s] for s in directory.head_ids(unit_id))
        figures |= {"unit": unit_id, "unit_staff": sizes[unit_id]}
        command = oversight.unit
    samples = []
    for _ in range(4):
        start = time.perf_counter()
        async with database.transaction() as tx:
            step = Step(
                tx,
                Incoming("bench", "1", "1"),
                Account("bench", "1", "1", person.staff_id, "vi"),
                deps.translations.for_language("vi"),
                clock.now(),
                deps,
            )
            messages = await command(step, person, [])
        samples.append((time.perf_counter() - start) * 1000)
    figures |= {"cold_ms": round(samples[0], 1), "warm_ms": round(statistics.median(samples[1:]), 1),
                "messages": len(messages), "first_line": messages[0].text.splitlines()[0][:160],
                "chars": sum(len(m.text) for m in messages), "photo": any(m.photo for m in messages)}  # fmt: skip
    await database.close()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


def vm_hwm_mb() -> float | None:
    """The kernel's peak RSS of this process's own memory (Linux), as a cross-check."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def export_child(db: Path, out: Path) -> dict[str, object]:
    import os

    os.environ["DATABASE_PATH"] = str(db)
    from bot.__main__ import main

    start = time.perf_counter()
    code = main(
        [
            "export",
            "--what",
            "travel",
            "--from",
            "30/05/2020",
            "--to",
            "31/05/2021",
            "--out",
            str(out),
        ]
    )
    seconds = time.perf_counter() - start
    return {
        "code": code,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "vm_hwm_mb": vm_hwm_mb(),
    }


def run_child(*args: str) -> dict[str, object]:
    options = [a for a in args if a.startswith("--")]
    first = args.index(options[0]) if options else len(args)
    done = subprocess.run(
        [sys.executable, __file__, *args[first:], "--child", *args[:first]],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        if args.child[1] == "build":
            build(Path(args.child[0]).parent, args.staff, args.units, args.trips)
            print(json.dumps({"built": args.child[0]}))
        elif args.child[1] == "export":
            print(json.dumps(export_child(Path(args.child[0]), Path(args.child[2]))))
        else:
            print(json.dumps(asyncio.run(child(Path(args.child[0]), args.child[1]))))
        return
    with tempfile.TemporaryDirectory(prefix="khaibao-oversight-") as tmp:
        began = time.perf_counter()
        db = Path(tmp) / "bench.db"
        # Built in a child too: a child's ru_maxrss starts from its parent's high-water mark
        # (fork/vfork + exec keep it), so the parent must stay small for the figures to mean anything.
        run_child(
            str(db),
            "build",
            "--staff",
            str(args.staff),
            "--units",
            str(args.units),
            "--trips",
            str(args.trips),
        )
        base = {"bench": "oversight", "staff": args.staff, "units": args.units, "trips": args.trips}
        print(
            json.dumps(
                base | {"scenario": "build", "seconds": round(time.perf_counter() - began, 1)}
            ),
            flush=True,
        )
        district = run_child(str(db), "district")
        print(
            json.dumps(
                base
                | {
                    "scenario": "district",
                    **district,
                    "goal_ms": 1000,
                    "ok": float(district["warm_ms"]) <= 1000,
                }
            ),
            flush=True,
        )  # type: ignore[arg-type]
        unit = run_child(str(db), "unit")
        print(
            json.dumps(
                base
                | {
                    "scenario": "unit_500",
                    **unit,
                    "goal_ms": 300,
                    "ok": float(unit["warm_ms"]) <= 300,
                }
            ),
            flush=True,
        )  # type: ignore[arg-type]
        out = Path(tmp) / "travel.xlsx"
        export = run_child(str(db), "export", str(out))
        from openpyxl import load_workbook

        book = load_workbook(out, read_only=True)
        rows = sum(1 for _ in book.active.iter_rows()) - 1  # type: ignore[union-attr]
        book.close()
        ok = (
            export["code"] == 0
            and float(export["seconds"]) <= 10
            and float(export["peak_rss_mb"]) <= 300
            and rows >= 100_000
        )  # type: ignore[arg-type]
        print(json.dumps(base | {"scenario": "export_100000", **export, "rows": rows, "mb": round(out.stat().st_size / 2**20, 1),
                                 "goal_seconds": 10, "goal_mb": 300, "ok": ok}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
