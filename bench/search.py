"""Name search at district scale: 100,000 staff, ranked (whole word, start of a word, inside one;
diacritics as typed first), one page of 7 (six buttons and whether «more» follows).

    .venv/bin/python bench/search.py [--staff 100000] [--units 2000] [--repeat 20]

Prints one JSON line per query: how many names match, the median milliseconds of a first-page
search and of the fifth page, over the whole directory and within one ward's subtree; and one
line for building the folded-name index on the first search. Goal: a page within 50 ms.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_directory import SEED, StaffMaker, make_staff, make_units  # noqa: E402

from bot.domain.directory import Directory  # noqa: E402
from bot.domain.models import Staff, Unit, UnitKind  # noqa: E402
from bot.domain.text import fold  # noqa: E402

GOAL_MS = 50.0
PAGE = 7
QUERIES = ("huong", "Hương", "nguyen", "thi", "ngoc anh", "tuấn", "xyz")


def build(staff_total: int, units_total: int) -> Directory:
    rng = random.Random(SEED)
    units = make_units(units_total)
    rows = make_staff(units, staff_total, StaffMaker(rng, staff_total))
    return Directory(
        [Unit(u.unit_id, u.name, UnitKind(u.kind), u.parent_id or None) for u in units],
        [Staff(r.staff_id, r.full_name, r.stored_phone, r.unit_id, r.position_group) for r in rows],
        [],
    )


def median_ms(repeat: int, run: object) -> float:
    assert callable(run)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    directory = build(args.staff, args.units)
    start = time.perf_counter()
    directory.search("a", limit=1)
    index_ms = round((time.perf_counter() - start) * 1000, 1)
    print(json.dumps({"bench": "search_index", "staff": args.staff, "first_search_ms": index_ms}))
    ward = max(
        (u for u in directory.units.values() if u.kind is UnitKind.WARD),
        key=lambda u: len(directory.subtree(u.unit_id)),
    )
    scope = directory.subtree(ward.unit_id)
    for query in QUERIES:
        needle = fold(query)
        matches = sum(needle in fold(p.full_name) for p in directory.staff.values())
        first = median_ms(args.repeat, lambda q=query: directory.search(q, limit=PAGE))
        fifth = median_ms(args.repeat, lambda q=query: directory.search(q, limit=5 * 6 + 1))
        scoped = median_ms(
            args.repeat, lambda q=query: directory.search(q, limit=PAGE, units=scope)
        )
        print(json.dumps({
            "bench": "search", "query": query, "staff": args.staff, "matches": matches,
            "first_page_ms": first, "fifth_page_ms": fifth, "ward_scope_ms": scoped,
            "ward_units": len(scope), "goal_ms": GOAL_MS, "ok": max(first, fifth, scoped) <= GOAL_MS,
        }, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
