"""Directive broadcast through the real bot (a `python -m bot run` child) and the fake Bot API.

The fake runs in this process with a rate cap of C sends per rolling second (429 retry_after
beyond it); the bot runs with SEND_RATE_PER_SECOND=C. An admin composes the directive through
the real /broadcast conversation and presses "Send now": from that press until every one of the
N recipients has its copy. Prints one JSON line per scenario:

    capped      C=30, N=1,500 and C=300, N=10,000: seconds vs the goal 1.05 x N / C
    sigkill     the same with a SIGKILL of the bot at half-way and an immediate restart
    ceiling     no cap at the fake, SEND_RATE_PER_SECOND=5000 (above what the sender reaches): msg/s
    latency     p99 of an ordinary user's /me reply without and during a C=300 broadcast

    .venv/bin/python bench/broadcast.py [--only capped,sigkill,ceiling,latency] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from figures import percentile  # noqa: E402

from bot.domain.text import fold  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.fakebot import FakeBotApi, FakeUser  # noqa: E402
from tests.harness import ENGINE_URLS, db_connect  # noqa: E402

BASE_USER = 5_000_000
MARKER = "BENCH-{tag}/UBND-VP"
PROBE = 4_999_999  # the ordinary user whose replies are timed


def load() -> dict[str, Any]:
    return {"loadavg_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


async def make_db(path: Path, n: int) -> None:
    """N registered staff in 20 units, staff 0 is the admin; plus the probe user."""
    if path not in ENGINE_URLS:  # a PostgreSQL database (bench/several.py) comes migrated
        db = await Database.open(path)
        await db.close()
    with db_connect(path) as conn:
        conn.executemany("INSERT INTO units (unit_id, name, kind, parent_id) VALUES (?, ?, ?, ?)",
                         [("ROOT", "Quận mẫu", "government", None)] +
                         [(f"U{u:02d}", f"Phường mẫu {u}", "ward", "ROOT") for u in range(20)])  # fmt: skip
        staff = [(f"S{i:05d}", f"Cán bộ Thứ {i}", fold(f"Cán bộ Thứ {i}"), f"+8491{i:07d}",
                  f"U{i % 20:02d}", "Chuyên viên", "staff", "vi") for i in range(n + 1)]  # fmt: skip
        conn.executemany("INSERT INTO staff (staff_id, full_name, name_folded, phone, unit_id, position, "
                         "position_group, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", staff)  # fmt: skip
        conn.execute("INSERT INTO staff_roles (staff_id, role) VALUES ('S00000', 'admin')")
        users = [
            ("telegram", str(BASE_USER + i), str(BASE_USER + i), f"S{i:05d}", "vi")
            for i in range(n)
        ]
        users.append(("telegram", str(PROBE), str(PROBE), f"S{n:05d}", "vi"))
        conn.executemany(
            "INSERT INTO accounts (channel, user_ref, chat_ref, staff_id, language) VALUES (?, ?, ?, ?, ?)",
            users,
        )
        conn.executemany(  # both purposes agreed at registration, so no consent question comes up
            "INSERT INTO consents (staff_id, purpose, notice_version, decision, channel, at) "
            "VALUES (?, ?, 1, 'granted', 'telegram', '2021-05-26T00:00:00.000000Z')",
            [(u[3], purpose) for u in users for purpose in ("directory", "health")],
        )
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('directory_version', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )


class Bot:
    def __init__(self, fake: FakeBotApi, db_path: Path, rate: float) -> None:
        self.env = dict(os.environ, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
                        DATABASE_PATH=str(db_path), POLLING_TIMEOUT_SECONDS="1",
                        SEND_RATE_PER_SECOND=str(rate), PER_CHAT_INTERVAL_SECONDS="1",
                        SWEEP_INTERVAL_SECONDS=os.environ.get("BENCH_SWEEP", "2"), PTB_TIMEDELTA="true",
                        BROADCAST_SIGNOFF="none")  # fmt: skip  # delivery is measured, not sign-off
        self.cwd = db_path.parent
        self.fake = fake
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        before = sum(1 for m, _ in self.fake.requests if m == "getUpdates")
        self.process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=self.cwd, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        await self.fake.wait_for(
            lambda: sum(1 for m, _ in self.fake.requests if m == "getUpdates") > before, timeout=60
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def say(fake: FakeBotApi, user: FakeUser, text: str) -> Any:
    fake.send_text(user, text)
    return await fake.next_message(user.id, timeout=60)


async def compose(fake: FakeBotApi, admin: FakeUser, tag: str) -> Any:
    """The real /broadcast conversation up to the summary with "Send now"."""
    await say(fake, admin, "/broadcast")
    await say(fake, admin, f"{MARKER.format(tag=tag)} 26/05/2021")
    await say(fake, admin, "Tăng cường phòng, chống dịch COVID-19")
    last = await say(fake, admin, "Đề nghị cán bộ, công chức không rời khỏi địa bàn thành phố.")
    fake.press(admin, last, last.callback_data("Xong"))
    question = await fake.next_message(admin.id, timeout=60)
    fake.press(admin, question, question.callback_data("Mọi người"))
    while True:
        shown = await fake.next_message(admin.id, timeout=60)
        if "Người nhận" in (shown.text or ""):
            return shown


def is_copy(message: Any, marker: str) -> bool:
    """A recipient's copy of the directive: the marker and the "read" button (not the preview)."""
    return marker in (message.text or "") and any(
        str(b.get("callback_data", "")).startswith("bc:r:")
        for row in message.buttons()
        for b in row
    )


def tally(fake: FakeBotApi, n: int, tag: str) -> tuple[int, int]:
    """(recipients with no copy, extra copies)."""
    marker = MARKER.format(tag=tag)
    lost = dupes = 0
    for i in range(n):
        copies = sum(1 for m in fake.messages(BASE_USER + i) if is_copy(m, marker))
        lost += copies == 0
        dupes += max(0, copies - 1)
    return lost, dupes


async def broadcast(name: str, n: int, cap: float | None, rate: float, kill: bool, tmp: Path,
                    probe: bool = False) -> dict[str, Any]:  # fmt: skip
    fake = FakeBotApi(rate_cap=cap)
    await fake.start()
    db_path = tmp / f"{name}.db"
    await make_db(db_path, n)
    admin = fake.user(BASE_USER, "Admin")
    for i in range(1, n):
        fake.user(BASE_USER + i)
    prober = fake.user(PROBE, "Probe")
    bot = Bot(fake, db_path, rate)
    await bot.start()
    try:
        quiet = await probe_latency(fake, prober, 40) if probe else []
        summary = await compose(fake, admin, name)
        baseline = fake.sent_count
        started = time.monotonic()
        fake.press(admin, summary, summary.callback_data("Gửi ngay"))
        busy: list[float] = []
        killed_at = None
        first: float | None = None
        probing = (
            asyncio.create_task(
                probe_latency(fake, prober, 10_000, until=lambda: fake.sent_count - baseline >= n)
            )
            if probe
            else None
        )
        deadline = started + max(60.0, 3 * n / (cap or rate))
        while time.monotonic() < deadline:
            if kill and killed_at is None and fake.sent_count - baseline >= n // 2:
                bot.kill()
                killed_at = time.monotonic() - started
                await bot.start()
            await asyncio.sleep(0.02)
            if first is None and fake.sent_count - baseline > 2:
                first = time.monotonic() - started
            if done(fake, n, name):
                break
        elapsed = time.monotonic() - started
        if probing is not None:
            busy = await probing
        await asyncio.sleep(1.0)  # anything sent twice arrives now
        lost, dupes = tally(fake, n, name)
        result: dict[str, Any] = {"scenario": name, "n": n, "cap": cap, "send_rate": rate,
                                  "seconds": round(elapsed, 2), "first_copy_s": round(first or -1, 2), "msgs_per_s": round(n / elapsed, 1),
                                  "lost": lost, "duplicates": dupes, "rate_limited_429": fake.rate_limited_count}  # fmt: skip
        if cap:
            goal = 1.05 * n / cap
            result |= {
                "goal_seconds": round(goal, 2),
                "ok": elapsed <= goal and lost == 0 and dupes == 0,
            }
        if (
            cap is None
        ):  # the sender's own ceiling; from the first copy on, once the rows are queued
            steady = n / max(1e-9, elapsed - (first or 0.0))
            result |= {
                "steady_msgs_per_s": round(steady, 1),
                "goal_msgs_per_s": 1000,
                "ok": n / elapsed >= 1000 and lost == 0 and dupes == 0,
            }
        if kill:
            result["killed_at_s"] = round(killed_at or -1, 2)
        if probe:
            result |= {"reply_p99_quiet_ms": p99(quiet), "reply_p99_busy_ms": p99(busy), "busy_samples": len(busy),
                       "ok_latency": p99(busy) <= 2 * p99(quiet)}  # fmt: skip
        return result | load()
    finally:
        bot.stop()
        await fake.stop()


_seen: dict[str, int] = {}


def done(fake: FakeBotApi, n: int, tag: str) -> bool:
    """All N have their copy (checked cheaply: only the chats not yet seen)."""
    marker = MARKER.format(tag=tag)
    start = _seen.get(tag, 0)
    while start < n and any(is_copy(m, marker) for m in fake.messages(BASE_USER + start)):
        start += 1
    _seen[tag] = start
    return start >= n


async def probe_latency(
    fake: FakeBotApi, user: FakeUser, count: int, until: Any = None
) -> list[float]:
    samples: list[float] = []
    for _ in range(count):
        if until is not None and until():
            break
        sent = time.monotonic()
        fake.send_text(user, "/me")
        await fake.next_message(user.id, timeout=30)
        samples.append((time.monotonic() - sent) * 1000)
        await asyncio.sleep(0.1)
    return samples


def p99(samples: list[float]) -> float:
    if not samples:
        return -1.0
    return round(percentile(samples, 0.99), 1)


SCENARIOS = {
    "capped": [("capped_c30", 1500, 30, 30, False), ("capped_c300", 10_000, 300, 300, False)],
    "sigkill": [("sigkill_c30", 1500, 30, 30, True), ("sigkill_c300", 10_000, 300, 300, True)],
    "ceiling": [("ceiling", 10_000, None, 5000, False)],
    "latency": [("latency_c300", 10_000, 300, 300, False)],
}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--quick", action="store_true", help="N/10 (a smoke run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for group in args.only.split(","):
            for name, n, cap, rate, kill in SCENARIOS[group]:
                n = n // 10 if args.quick else n
                result = await broadcast(
                    name, n, cap, rate, kill, Path(folder), probe=group == "latency"
                )
                print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
