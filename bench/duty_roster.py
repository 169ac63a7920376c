"""Loading the 24/7 duty roster at district scale: 2,000 units × 3 shifts × 30 days (180,000
rows; goal: under 5 s). Generates the directory through the real CLI (bench/import_directory.py's
generator), writes duty.csv, then runs `python -m bot duty import` in a fresh child process and
prints one JSON line: wall seconds (interpreter start included), the child's peak RSS, the shifts
stored, and a reload of the same file (which replaces every day it covers).

The same file is then sent through the chat (the bot against the sandbox: the district admin
sends duty.csv, waits for the dry run, taps «Áp dụng»), from the same district.

    .venv/bin/python bench/duty_roster.py [--units 2000] [--days 30] [--staff 20000] [--no-chat]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_directory import MEASURE_PY, ROOT, imported_district

GOAL_SECONDS = 5.0
SHIFTS = (("06:00", "14:00"), ("14:00", "22:00"), ("22:00", "06:00"))
FIRST_DAY = date(2021, 6, 1)


def write_roster(db: Path, path: Path, days: int) -> int:
    """Each unit's shifts, staffed by people of the unit (or of the root when it has nobody)."""
    with sqlite3.connect(db) as conn:
        units = [row[0] for row in conn.execute("SELECT unit_id FROM units ORDER BY unit_id")]
        staff: dict[str, list[str]] = {}
        for staff_id, unit_id in conn.execute("SELECT staff_id, unit_id FROM staff"):
            staff.setdefault(unit_id, []).append(staff_id)
        root = conn.execute("SELECT unit_id FROM units WHERE parent_id IS NULL").fetchone()[0]
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "date", "from", "to", "staff_id", "phone"])
        for unit_id in units:
            people = staff.get(unit_id) or staff[root]
            for offset in range(days):
                day = (FIRST_DAY + timedelta(days=offset)).strftime("%d/%m/%Y")
                for index, (start, end) in enumerate(SHIFTS):
                    person = people[(offset * len(SHIFTS) + index) % len(people)]
                    writer.writerow([unit_id, day, start, end, person, ""])
                    rows += 1
    return rows


def run_duty_import(folder: Path, db: Path, roster: Path) -> tuple[int, float, float, str]:
    measure, figures = folder / "measure.py", folder / "figures.json"
    measure.write_text(MEASURE_PY, encoding="utf-8")
    env = {**os.environ, "DATABASE_PATH": str(db), "PYTHONPATH": str(ROOT)}
    begin = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(measure), str(figures), "duty", "import", str(roster)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.perf_counter() - begin
    child = json.loads(figures.read_text(encoding="utf-8"))
    return int(child["code"]), seconds, child["maxrss_kib"] / 1024, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--staff", type=int, default=20_000)
    parser.add_argument("--no-chat", action="store_true", help="only the CLI")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="khaibao-bench-duty-") as name:
        folder = Path(name)
        db, _ = imported_district(folder, args.staff, args.units)
        roster = folder / "duty.csv"
        rows = write_roster(db, roster, args.days)
        chat_db = folder / "chat.db"
        if not args.no_chat:
            shutil.copy(db, chat_db)
        for scenario in ("first load", "reload (days replaced)"):
            code, seconds, rss, output = run_duty_import(folder, db, roster)
            if code != 0:
                raise SystemExit(output[-2000:])
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT COUNT(*) FROM duty_shifts").fetchone()[0]
            figures = {
                "bench": "duty_roster",
                "scenario": scenario,
                "rows": rows,
                "shifts_stored": stored,
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(rss, 1),
                "goal_seconds": GOAL_SECONDS,
                "ok": seconds < GOAL_SECONDS and stored == rows,
            }
            print(json.dumps(figures), flush=True)
        print(json.dumps(gap_check_figures(db)), flush=True)
        if not args.no_chat:
            print(json.dumps(chat_figures(folder, chat_db, roster, rows)), flush=True)


def chat_figures(folder: Path, db: Path, roster: Path, rows: int) -> dict[str, object]:
    """The roster sent to the bot as a file by the district admin: dry run, then «Áp dụng»."""
    import asyncio

    import directory_chat

    from bot.sandbox.server import FakeBotApi
    from tests.harness import BotProcess, make_settings, wait_polling

    directory_chat.link_admin(db)

    async def measure() -> dict[str, object]:
        fake = FakeBotApi()
        await fake.start()
        settings = make_settings(fake, db)
        process = BotProcess(
            settings, folder / "bot.stderr", SWEEP_INTERVAL_SECONDS="2", PRIVACY_BASIS="state_duty"
        )
        try:
            process.start()
            await wait_polling(fake, timeout=60)
            assert process.process is not None
            admin = fake.user(directory_chat.ADMIN_USER, directory_chat.ADMIN_STAFF)
            begin = time.perf_counter()
            fake.send_document(admin, roster.read_bytes(), roster.name, "text/csv")
            dry = await fake.next_message(admin.id, timeout=600)
            while "Chạy thử" not in (dry.text or ""):  # the privacy notice, shown once first
                dry = await fake.next_message(admin.id, timeout=600)
            checked = time.perf_counter()
            fake.press(admin, dry, dry.callback_data("Áp dụng"))
            done = await fake.next_message(admin.id, timeout=600)
            while "lịch trực" not in (done.text or ""):
                done = await fake.next_message(admin.id, timeout=600)
            end = time.perf_counter()
            rss = directory_chat.peak_rss_mb(process.process.pid)
        finally:
            await process.stop()
            await fake.stop()
        with sqlite3.connect(db) as conn:
            stored = conn.execute("SELECT COUNT(*) FROM duty_shifts").fetchone()[0]
        applied = "Đã nạp lịch trực" in (done.text or "")
        if not applied:
            print((dry.text or "")[:600], (done.text or "")[:300], file=sys.stderr)
        return {
            "bench": "duty_roster",
            "scenario": "through the chat",
            "rows": rows,
            "shifts_stored": stored,
            "seconds": round(end - begin, 2),
            "dry_run_seconds": round(checked - begin, 2),
            "apply_seconds": round(end - checked, 2),
            "peak_rss_mb": round(rss, 1),
            "ok": applied and stored == rows,
        }

    return asyncio.run(measure())


def gap_check_figures(db: Path) -> dict[str, object]:
    """The sweep's idle read from 16:00 (which units still have tomorrow unchecked), as it runs
    on every tick until every unit is checked."""
    import asyncio
    from datetime import datetime
    from datetime import time as clock_time

    from bot.domain.clock import VIETNAM
    from storage.db import Database
    from storage.duty_repo import DutyRepo

    async def measure() -> tuple[int, float]:
        database = await Database.open(db)
        try:
            async with database.reading() as tx:
                repo = DutyRepo(tx, VIETNAM)
                today = FIRST_DAY + timedelta(days=10)
                since = datetime.combine(today, clock_time(0), VIETNAM)
                begin = time.perf_counter()
                for _ in range(20):
                    units = await repo.unchecked_units(today + timedelta(days=1), since)
                return len(units), (time.perf_counter() - begin) / 20
        finally:
            await database.close()

    units, seconds = asyncio.run(measure())
    return {"bench": "duty_roster", "scenario": "gap check read", "units": units,
            "ms": round(seconds * 1000, 2)}  # fmt: skip


if __name__ == "__main__":
    main()
