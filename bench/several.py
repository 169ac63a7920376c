"""Several instances on one database (README "Several instances"): what one and three give.

    .venv/bin/python bench/several.py [--only steps,directive,sigkill,sweep] [--quick]
                                      [--engine sqlite|postgresql] [--profile]

Every scenario runs `python -m bot run --webhook` processes on one database (a SQLite file in WAL
mode, or a throw-away PostgreSQL started for the run: `--engine postgresql`) behind the
sandbox Bot API of this process, which posts the webhooks to them in turn as a load balancer
would, and counts the messages it is sent per rolling second. Prints one JSON line each:

    steps      200 users x 5 `/me` through 1 and through 3 instances: steps/s and CPU ms per step,
               and where the machine's CPU went meanwhile (the bots, PostgreSQL's server, the
               sandbox in this process, everything else on the machine); with `--profile` the
               instances run under cProfile and the functions costing most per step are listed
    directive  a directive to N=1,500 at C=30 and N=10,000 at C=300 through 3 instances: seconds
               vs the goal 1.05 x N / C, lost and extra copies, the most sends in any second
    sigkill    C=300, N=10,000, the instance holding the sender's lease SIGKILLed half-way:
               takeover (seconds from the kill to the next copy), extra copies (in flight)
    sweep      the instance holding the sweep's lease SIGKILLed a second before a directive's
               reminder is due: how late the first reminder goes out (goal: within 10 s)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from broadcast import BASE_USER, compose, done, make_db, tally
from engines import server_cpu_seconds

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from storage.engine import to_db_time
from tests.fakebot import FakeBotApi
from tests.fleet import Fleet, load
from tests.harness import ENGINE_URLS, db_execute
from tests.postgres import PostgresServer, find_binaries

SWEEP_GOAL_SECONDS = 10.0
ROOT = Path(__file__).resolve().parents[1]
SERVER: PostgresServer | None = None  # --engine postgresql
PROFILE = False  # --profile
PROFILE_TOP = 12


async def database(path: Path) -> str:
    """A fresh database for a scenario: its PostgreSQL URL (registered for `path`), or "" for
    the SQLite file `path`."""
    if SERVER is None:
        return ""
    url = await SERVER.new_database()
    ENGINE_URLS[path] = url
    return url


def engine() -> dict[str, str]:
    return {"engine": "postgresql" if SERVER is not None else "sqlite"}


def fleet_env(rate: float) -> dict[str, str]:
    return {"SEND_RATE_PER_SECOND": str(rate), "PER_CHAT_INTERVAL_SECONDS": "1",
            "SWEEP_INTERVAL_SECONDS": "1", "BROADCAST_SIGNOFF": "none"}  # fmt: skip


async def wait_until(check: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(step)
    return check()


def machine_cpu_seconds() -> float:
    """CPU time every process on the machine used so far, all cores together (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_parts(fleet: Fleet) -> dict[str, float]:
    server = None if SERVER is None else SERVER.folder / "data"
    return {"bots": fleet.cpu_seconds(), "postgresql_server": server_cpu_seconds(server),
            "sandbox": time.process_time(), "machine": machine_cpu_seconds()}  # fmt: skip


def where_the_cpu_went(before: dict[str, float], after: dict[str, float], steps: int,
                       seconds: float) -> dict[str, Any]:  # fmt: skip
    used = {part: after[part] - before[part] for part in before}
    rest = used["machine"] - used["bots"] - used["postgresql_server"] - used["sandbox"]
    parts = {part: round(used[part] * 1000 / steps, 2) for part in
             ("bots", "postgresql_server", "sandbox")} | {"rest_of_machine": round(
             rest * 1000 / steps, 2)}  # fmt: skip
    return {"cpu_ms_per_step_by_part": parts,
            "cores_busy": round(used["machine"] / seconds, 2)}  # fmt: skip


def _package(file: str) -> str:
    """Whose code a profiled function is: a library, a folder of ours, the standard library."""
    parts = Path(file).parts
    if file == "~":
        return "built-ins (C)"
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if ROOT in Path(file).parents:
        return Path(file).relative_to(ROOT).parts[0]
    folder = parts[-2] if len(parts) > 1 else ""
    return "stdlib " + (Path(file).stem if folder.startswith("python") else folder or file)


def profile_summary(folder: Path, steps: int) -> dict[str, Any]:
    """The instances' CPU time (all of them, start-up included) by whose code it was spent in,
    and the functions that spent most themselves, in ms per step."""
    files = sorted(str(path) for path in folder.glob("*.prof"))
    if not files:
        return {}
    table = pstats.Stats(*files).stats  # type: ignore[attr-defined]
    by_package: dict[str, float] = {}
    for (file, _, _), (_, _, own, _, _) in table.items():
        by_package[_package(file)] = by_package.get(_package(file), 0.0) + own
    ranked = sorted(by_package.items(), key=lambda item: item[1], reverse=True)
    rows = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:PROFILE_TOP]
    return {
        "profile_own_ms_per_step_by_package": {
            name: round(own * 1000 / steps, 3) for name, own in ranked[:PROFILE_TOP]
        },
        "profile_top_functions": [
            {"function": f"{'/'.join(Path(file).parts[-2:])}:{line}({name})",
             "own_ms_per_step": round(own * 1000 / steps, 3)}
            for (file, line, name), (_, _, own, _, _) in rows
        ],
    }  # fmt: skip


async def steps(tmp: Path, instances: int, users: int, per_user: int) -> dict[str, Any]:
    fake = FakeBotApi()
    await fake.start()
    db_path = tmp / f"steps-{instances}.db"
    url = await database(db_path)
    await make_db(db_path, users)
    people = [fake.user(BASE_USER + i, f"U{i}") for i in range(users)]
    env = fleet_env(1000) | {"PER_CHAT_INTERVAL_SECONDS": "0"}
    profiles = tmp / f"profiles-{instances}" if PROFILE else None
    if profiles is not None:
        profiles.mkdir()
    fleet = Fleet(fake, db_path, instances, env, database_url=url, profile_dir=profiles)
    await fleet.start()
    total = users * per_user
    try:
        fake.send_text(people[1], "/me")  # warm up
        await fake.next_message(people[1].id, timeout=30)
        expected = fake.sent_count + total
        before = cpu_parts(fleet)
        began = time.perf_counter()
        for _ in range(per_user):
            for person in people:
                fake.send_text(person, "/me")
        await wait_until(lambda: fake.sent_count >= expected, 300)
        seconds = time.perf_counter() - began
        after = cpu_parts(fleet)
        cpu_ms = (after["bots"] - before["bots"]) * 1000 / total
        result = {"scenario": f"steps_{instances}", "instances": instances,
                  "steps": total, "seconds": round(seconds, 2),
                  "steps_per_s": round(total / seconds, 1),
                  "cpu_ms_per_step": round(cpu_ms, 2), "answered": fake.sent_count >= expected,
                  "posts_by_instance": list(fake.webhooks.posts_by_url.values())}  # fmt: skip
        result |= where_the_cpu_went(before, after, total, seconds)
    finally:
        await fleet.stop()
        await fake.stop()
    if profiles is not None:
        result |= {"profiled": True} | profile_summary(profiles, total)
    return result | engine() | load()


async def directive(
    tmp: Path, name: str, n: int, cap: float, *, kill_sender: bool = False
) -> dict[str, Any]:
    fake = FakeBotApi(rate_cap=cap)
    await fake.start()
    db_path = tmp / f"{name}.db"
    url = await database(db_path)
    await make_db(db_path, n)
    admin = fake.user(BASE_USER, "Admin")
    for i in range(1, n):
        fake.user(BASE_USER + i)
    fleet = Fleet(fake, db_path, 3, fleet_env(cap), database_url=url)
    await fleet.start()
    try:
        summary = await compose(fake, admin, name)
        baseline = fake.sent_count
        started = time.monotonic()
        fake.press(admin, summary, summary.callback_data("Gửi ngay"))
        killed: dict[str, Any] = {}
        first: float | None = None
        deadline = started + max(60.0, 3 * n / cap)
        while time.monotonic() < deadline and not done(fake, n, name):
            if first is None and fake.sent_count - baseline > 2:
                first = time.monotonic() - started
            if kill_sender and not killed and fake.sent_count - baseline >= n // 2:
                killed = await kill_the_sender(fleet, fake)
            await asyncio.sleep(0.02)
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.0)  # anything sent twice arrives now
        lost, dupes = tally(fake, n, name)
        goal = 1.05 * n / cap
        most = fake.most_sends_in_a_second()
        result = {"scenario": name, "instances": 3, "n": n, "cap": cap,
                  "seconds": round(elapsed, 2), "goal_seconds": round(goal, 2),
                  "first_copy_s": round(first or -1, 2),
                  "msgs_per_s": round(n / elapsed, 1), "lost": lost, "duplicates": dupes,
                  "most_sends_in_a_second": most, "rate_limited_429": fake.rate_limited_count,
                  "ok": (kill_sender or elapsed <= goal) and lost == 0 and most <= cap
                  and (kill_sender or dupes == 0)}  # fmt: skip
        return result | killed | engine() | load()
    finally:
        await fleet.stop()
        await fake.stop()


async def kill_the_sender(fleet: Fleet, fake: FakeBotApi) -> dict[str, Any]:
    """SIGKILL the instance holding the sender's lease; how long until the next copy leaves."""
    holder = fleet.holder("outbox")
    assert holder is not None, "nobody holds the sender's lease"
    fleet.kill(holder)
    killed_at, sent = time.monotonic(), fake.sent_count
    await asyncio.sleep(0.3)  # what was in flight at the kill arrives now, or never
    sent = fake.sent_count
    await wait_until(lambda: fake.sent_count > sent, 60)
    takeover = time.monotonic() - killed_at
    await fleet.start(holder)  # back, under a new name
    return {"killed_instance": holder, "takeover_s": round(takeover, 2),
            "new_holder": fleet.holder("outbox")}  # fmt: skip


async def sweep_failover(tmp: Path, n: int) -> dict[str, Any]:
    """A directive read by nobody; its reminder moved to a few seconds ahead; the sweep's
    instance SIGKILLed a second before it is due."""
    fake = FakeBotApi()
    await fake.start()
    db_path = tmp / "sweep.db"
    url = await database(db_path)
    await make_db(db_path, n)
    admin = fake.user(BASE_USER, "Admin")
    for i in range(1, n):
        fake.user(BASE_USER + i)
    fleet = Fleet(fake, db_path, 3, fleet_env(300), database_url=url)
    await fleet.start()
    try:
        summary = await compose(fake, admin, "sweep")
        fake.press(admin, summary, summary.callback_data("Gửi ngay"))
        await wait_until(lambda: done(fake, n, "sweep"), 60)
        await asyncio.sleep(2.0)  # the progress messages are settled
        due = datetime.now(UTC) + timedelta(seconds=4)
        db_execute(db_path, "UPDATE broadcasts SET remind_at = ?", (to_db_time(due),))
        holder = fleet.holder("sweep")
        assert holder is not None, "nobody holds the sweep's lease"
        await asyncio.sleep(3.0)
        sent = fake.sent_count
        fleet.kill(holder)
        reminded = await wait_until(lambda: fake.sent_count > sent, 60)
        late = (datetime.now(UTC) - due).total_seconds()
        reminders = fake.sent_count - sent
        await wait_until(lambda: fake.sent_count - sent >= n, 30)
        await fleet.start(holder)
        return {"scenario": "sweep_failover", "instances": 3, "killed_instance": holder,
                "new_holder": fleet.holder("sweep"), "reminder_late_s": round(late, 2),
                "goal_s": SWEEP_GOAL_SECONDS, "reminders": fake.sent_count - sent,
                "first_burst": reminders, "recipients": n,
                "ok": reminded and late <= SWEEP_GOAL_SECONDS
                and fake.sent_count - sent == n} | engine() | load()  # fmt: skip
    finally:
        await fleet.stop()
        await fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="steps,directive,sigkill,sweep")
    parser.add_argument("--quick", action="store_true", help="N/10 (a smoke run)")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", action="store_true", help="the steps under cProfile")
    args = parser.parse_args()
    global SERVER, PROFILE
    PROFILE = args.profile
    if args.engine == "postgresql":
        binaries = find_binaries()
        if binaries is None:
            raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) not found")
        SERVER = PostgresServer(binaries)
        SERVER.start()
    try:
        await scenarios(args)
    finally:
        if SERVER is not None:
            SERVER.stop()


async def scenarios(args: argparse.Namespace) -> None:
    scale = 10 if args.quick else 1
    groups = args.only.split(",")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        results: list[dict[str, Any]] = []
        if "steps" in groups:
            for instances in (1, 3):
                results.append(await steps(tmp, instances, 200, 5))
                print(json.dumps(results[-1]), flush=True)
        if "directive" in groups:
            for name, n, cap in (("several_c30", 1500, 30.0), ("several_c300", 10_000, 300.0)):
                results.append(await directive(tmp, name, n // scale, cap))
                print(json.dumps(results[-1]), flush=True)
        if "sigkill" in groups:
            results.append(await directive(tmp, "sender_killed", 10_000 // scale, 300.0,
                                           kill_sender=True))  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
        if "sweep" in groups:
            results.append(await sweep_failover(tmp, 30))
            print(json.dumps(results[-1]), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
