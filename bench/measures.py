"""Test deadlines on return (return_measures): the sweep with many results overdue at once.

    .venv/bin/python bench/measures.py [--people 10000] [--ticks 100]

Prints JSON lines. A directory of `--people` staff in 200 units is imported with the real CLI
(bench/import_directory.py's generator), each person registered with an approved trip back from
an area requiring a test, the test due now; then the returns feature's test-deadline job runs
until nothing is due:
- `idle_ms_median` / `_p99`: the job with nothing due (one indexed read, no write lock);
- `overdue_seconds`: every deadline handled (the person reminded, the head told), `rows_per_s`;
- `one_each`: each person got exactly one overdue reminder; `peak_rss_mb`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from figures import percentile  # noqa: E402
from returns import NOW, db_time, seed  # noqa: E402


def build(folder: Path, people: int) -> tuple[Path, list[str]]:
    from import_directory import imported_district

    db, staff = imported_district(folder, people, 200)
    staff_ids = [p.staff_id for p in staff]
    seed(db, staff_ids)
    arrived = NOW - timedelta(hours=48)
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO return_measures (request_id, staff_id, area, arrived_at, test_due_at, "
            "isolation_until, remind_at, remind_stage, created_at, updated_at) "
            "VALUES (?, ?, 'quận Sơn Trà, Đà Nẵng', ?, ?, ?, ?, 1, ?, ?)",
            (
                (
                    i + 1,
                    s,
                    db_time(arrived),
                    db_time(NOW),
                    db_time(arrived + timedelta(days=14)),
                    db_time(NOW),
                    db_time(arrived),
                    db_time(arrived),
                )
                for i, s in enumerate(staff_ids)
            ),
        )
    return db, staff_ids


async def run(db: Path, ticks: int) -> dict[str, object]:
    from bot.config import Settings
    from bot.domain.clock import ManualClock
    from bot.i18n import Translations
    from bot.services.kernel.step import Deps, DirectoryCache
    from bot.services.returns.measures import ReturnMeasures
    from storage.db import Database

    database = await Database.open(db)
    settings = Settings(_env_file=None, database_path=db)  # type: ignore[call-arg]
    clock = ManualClock(NOW.astimezone(settings.tz))
    deps = Deps(database, clock, Translations(), DirectoryCache(), lambda: None, settings)
    job = ReturnMeasures(deps)
    figures: dict[str, object] = {}
    try:
        async with database.reading() as tx:
            await deps.directory.get(tx)  # warm, as in a running bot
        start, handled, passes = time.perf_counter(), 0, 0
        while done := await job.sweep(clock.now()):
            handled += done
            passes += 1
        seconds = time.perf_counter() - start
        figures |= {
            "overdue_seconds": round(seconds, 3),
            "overdue_handled": handled,
            "ticks": passes,
            "rows_per_s": round(handled / seconds) if seconds else None,
        }
        samples = []
        for _ in range(ticks):
            began = time.perf_counter()
            await job.sweep(clock.now())
            samples.append((time.perf_counter() - began) * 1000)
        figures["idle_ms_median"] = round(statistics.median(samples), 3)
        figures["idle_ms_p99"] = round(percentile(samples, 0.99), 3)
    finally:
        await database.close()
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return figures


def one_each(db: Path, staff_ids: list[str]) -> bool:
    """Each person got exactly one overdue reminder, in their language (besides what they
    may get as somebody's head)."""
    with sqlite3.connect(db) as conn:
        rows = dict(
            conn.execute(
                "SELECT staff_id, COUNT(*) FROM outbox WHERE staff_id IN "
                "(SELECT staff_id FROM return_measures) AND (payload LIKE '%Kết quả xét nghiệm%đã quá hạn (hạn%' "
                "OR payload LIKE '%Your test result%is overdue%') "
                "GROUP BY staff_id"
            ).fetchall()
        )
    return all(rows.get(s) == 1 for s in staff_ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="khaibao-measures-") as tmp:
        db, staff_ids = build(Path(tmp), args.people)
        figures = asyncio.run(run(db, args.ticks))
        figures["one_each"] = one_each(db, staff_ids)
        print(json.dumps({"bench": "measures", "people": args.people, **figures}), flush=True)


if __name__ == "__main__":
    main()
