"""A scripted office day with the bot SIGKILLed at random moments: nothing lost, nothing twice.

    .venv/bin/python bench/crash_day.py [--staff 200] [--kills 20] [--seed 7]
    .venv/bin/python bench/crash_day.py --instances 3 [--kill-every 60] [--rate 50] ...

The real bot (`python -m bot run`, long polling) runs in a child process against the sandbox
Bot API in this process; a killer SIGKILLs it at random moments (0.3-3 s after it is back up)
and starts it again, `--kills` times, while the staff go through their day at once:

- travellers (staff without roles) ask for a weekend trip (/travel ... Send); their unit heads
  approve each request that reaches them (decisions); a quarter of the travellers then say the
  trip did not happen (returns: "rt:n");
- a fifth of the staff report a symptom (/symptoms, cough, not measured, since yesterday, no);
- the office's admin sends a directive to everyone, and every recipient taps "read".

Each person acts as a person would: they wait for the bot's answer; when none comes (the answer
was in flight at a kill), they look whether what they did took effect and start the
conversation again if not. At the end (outbox, inbox and sandbox drained) the database and the
chats are checked: lost effects (a trip never recorded or never decided, a report, a return or
a read missing, a directive copy never delivered), duplicated decisions and reports (goal 0
each), and messages delivered twice per kind (in flight at a kill: counted, not a failure).

With `--instances N`: N `python -m bot run --webhook` processes on the one database, the sandbox
posting the webhooks to them in turn (as a load balancer would); every `--kill-every` seconds one
of them (the next in turn) is SIGKILLed and started again under a new name (a machine replaced:
its leases are taken over by the others once they expire), and travellers type their whole
request at once (its answers reach different instances). Checked as well: every person's steps
ran in the order they were sent (the steps' times, by update), and the sends kept the rate cap
(`--rate` per second, counted by the sandbox per rolling second).
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import FIRST_USER, TOKEN, emit, load_note, prepare_db

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bot.sandbox.server import FakeBotApi, FakeUser, SentMessage
from tests.fleet import Fleet
from tests.harness import ENGINE_URLS, db_connect, db_rows
from tests.postgres import PostgresServer, find_binaries

APPROVE = re.compile(r"^ap:(\d+):y$")
READ = re.compile(r"^bc:r:\d+$")
ANSWER_WAIT = 6.0  # seconds a person waits for an answer before looking whether it took effect
TRIES = 4  # a conversation started again at most this often
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class Bot:
    """`python -m bot run` in a child process: started, SIGKILLed, started again."""

    def __init__(self, fake: FakeBotApi, db_path: Path, url: str = "") -> None:
        self.fake = fake
        self.env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.base_url,
            DATABASE_PATH=str(db_path),
            DATABASE_URL=url,
            POLLING_TIMEOUT_SECONDS="1",
            SEND_RATE_PER_SECOND="500",
            PER_CHAT_INTERVAL_SECONDS="0",
            SWEEP_INTERVAL_SECONDS="1",
            PTB_TIMEDELTA="true",
            BROADCAST_SIGNOFF="none",  # the day's directive goes at once (sign-off: own tests)
        )
        self.cwd = db_path.parent
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    async def start(self) -> None:
        polls = self._polls()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await self.fake.wait_for(lambda: self._polls() > polls, timeout=60)

    def _polls(self) -> int:
        return sum(1 for method, _ in self.fake.requests if method == "getUpdates")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, its exit awaited while the sandbox (this event loop) still answers it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


class Day:
    def __init__(self, fake: FakeBotApi, db_path: Path, staff: list[Any], seed: int) -> None:
        self.fake = fake
        self.db_path = db_path
        self.random = random.Random(seed)
        self.user_of = {p.staff_id: FIRST_USER + n for n, p in enumerate(staff)}
        self.users = {uid: fake.user(uid, f"U{uid}") for uid in self.user_of.values()}
        self.staff = staff
        heads = {p.unit_id: self.user_of[p.staff_id] for p in staff if "unit_head" in p.roles}
        self.travellers = [(p.staff_id, heads[p.unit_id]) for p in staff if not p.roles]
        self.admin = next(p.staff_id for p in staff if "district_office" in p.roles)
        self.heads = sorted(set(heads.values()))
        self.unanswered: Counter[str] = Counter()
        self.restarts: Counter[str] = Counter()  # conversations a person had to start again
        self.sent_updates: list[int] = []
        self.travelling = 0
        self.decided: set[int] = set()
        self.burst = False  # travellers type the whole request at once (several instances)

    # ------------------------------------------------------------------ the people

    async def step(self, user_id: int, act: Callable[[], int], kind: str) -> bool:
        """Do one thing; True when the bot answered it (a message, an edit or a toast)."""
        version = self.fake.version
        before = len(self.fake.messages(user_id))
        update_id = act()
        self.sent_updates.append(update_id)
        deadline = time.monotonic() + ANSWER_WAIT
        while time.monotonic() < deadline:
            if len(self.fake.messages(user_id)) > before or self.fake.answer_for(update_id):
                return True
            version = await self.fake.wait_change(version, 0.5)
        self.unanswered[kind] += 1
        return False

    def latest_with(self, user_id: int, wanted: Callable[[str], bool]) -> SentMessage | None:
        for message in reversed(self.fake.messages(user_id)):
            if any(
                wanted(str(b.get("callback_data", ""))) for row in message.buttons() for b in row
            ):
                return message
        return None

    def any_message(self, user_id: int) -> SentMessage | None:
        sent = self.fake.messages(user_id)
        return sent[-1] if sent else None

    async def press(self, user: FakeUser, data: str, kind: str) -> bool:
        message = self.latest_with(user.id, lambda d: d == data) or self.any_message(user.id)
        if message is None:
            return False
        return await self.step(user.id, lambda: self.fake.press(user, message, data), kind)

    async def travel(self, staff_id: str) -> None:
        user = self.users[self.user_of[staff_id]]
        leave = next_saturday(datetime.now(ZONE))
        script = (
            "/travel",
            "da nang",
            "12 Trần Phú, phường Hải Châu",
            f"{leave:%d/%m/%Y %H:%M}",
            f"{leave + timedelta(hours=30):%d/%m/%Y %H:%M}",
            "Thăm gia đình",
        )
        self.travelling += 1
        try:
            for attempt in range(TRIES):
                self.restarts["travel"] += attempt > 0
                if self.burst:
                    await self.typed_at_once(user, script)
                else:
                    for text in script:
                        await self.step(
                            user.id, lambda t=text: self.fake.send_text(user, t), "travel"
                        )
                await self.press(user, "tv:ca:no", "travel")
                await self.press(user, "tv:ok", "travel")
                if await self.settled(lambda: self.count("travel_requests", staff_id) > 0):
                    return
        finally:
            self.travelling -= 1

    async def typed_at_once(self, user: FakeUser, texts: tuple[str, ...]) -> None:
        """Type every answer without waiting for the questions (they arrive in the inbox one
        after the other, each maybe at another instance), then wait for the answers."""
        before = len(self.fake.messages(user.id))
        for text in texts:
            self.sent_updates.append(self.fake.send_text(user, text))
        if not await self.settled(
            lambda: len(self.fake.messages(user.id)) >= before + len(texts), ANSWER_WAIT * 2
        ):
            self.unanswered["travel"] += 1

    async def decide(self, head_id: int) -> None:
        """Approve every request that reaches this head, until the travellers are done."""
        user = self.users[head_id]
        deadline = time.monotonic() + 600
        while (self.travelling or self.pending_for(head_id)) and time.monotonic() < deadline:
            message = self.latest_with(head_id, self._fresh_request)
            if message is None:
                await self.fake.wait_change(self.fake.version, 0.5)
                continue
            data = next(
                str(b["callback_data"])
                for row in message.buttons()
                for b in row
                if self._fresh_request(str(b.get("callback_data", "")))
            )
            request_id = int(data.split(":")[1])
            self.decided.add(request_id)
            await self.step(
                head_id, lambda m=message, d=data: self.fake.press(user, m, d), "decision"
            )
            if not await self.settled(lambda r=request_id: self.status(r) != "pending"):
                self.decided.discard(request_id)  # no effect seen: tap it again

    def status(self, request_id: int) -> str | None:
        return self.db_value("SELECT status FROM travel_requests WHERE id = ?", (request_id,))

    def _fresh_request(self, data: str) -> bool:
        found = APPROVE.match(data)
        return bool(found) and int(found.group(1)) not in self.decided  # type: ignore[union-attr]

    async def give_up_trip(self, staff_id: str) -> bool:
        """Say the approved trip did not happen; False when there was no approved trip."""
        request_id = self.db_value(
            "SELECT id FROM travel_requests WHERE staff_id = ? AND status = 'approved'", (staff_id,)
        )
        if request_id is None:
            return False
        user = self.users[self.user_of[staff_id]]
        for attempt in range(TRIES):
            self.restarts["return"] += attempt > 0
            await self.press(user, f"rt:n:{request_id}", "return")
            if await self.settled(lambda: self.trip_state(int(request_id)) == "cancelled"):
                break
        return True

    async def symptoms(self, staff_id: str) -> None:
        user = self.users[self.user_of[staff_id]]
        for attempt in range(TRIES):
            self.restarts["symptoms"] += attempt > 0
            since = len(self.fake.messages(user.id))
            await self.step(user.id, lambda: self.fake.send_text(user, "/symptoms"), "symptoms")
            for label in ("Ho", "Tiếp", "Chưa đo", "Hôm qua", "Không"):
                found = await self._with_label(user.id, label, "sy:", since)
                if found is None:
                    break
                message, data = found
                await self.step(
                    user.id, lambda m=message, d=data: self.fake.press(user, m, d), "symptoms"
                )
            if await self.settled(lambda: self.count("symptom_reports", staff_id) > 0):
                return

    async def _with_label(
        self, user_id: int, label: str, prefix: str, since: int
    ) -> tuple[SentMessage, str] | None:
        """The latest message since message number `since` with a button of this flow (its data
        starts with `prefix`) labelled `label`, and that button's data; waiting a while for it."""
        deadline = time.monotonic() + ANSWER_WAIT
        version = self.fake.version
        while True:
            for message in reversed(self.fake.messages(user_id)[since:]):
                for row in message.buttons():
                    for button in row:
                        data = str(button.get("callback_data", ""))
                        if data.startswith(prefix) and label in str(button.get("text", "")):
                            return message, data
            if time.monotonic() > deadline:
                return None
            version = await self.fake.wait_change(version, 0.5)

    async def directive(self) -> None:
        user = self.users[self.user_of[self.admin]]
        texts = (
            "/broadcast",
            "CRASH-1/UBND-VP 26/05/2021",
            "Tăng cường phòng, chống dịch",
            "Đề nghị cán bộ, công chức không rời khỏi địa bàn.",
        )
        for attempt in range(TRIES):
            self.restarts["directive"] += attempt > 0
            since = len(self.fake.messages(user.id))
            for text in texts:
                await self.step(user.id, lambda t=text: self.fake.send_text(user, t), "directive")
            for label in ("Xong", "Mọi người", "Gửi ngay"):
                found = await self._with_label(user.id, label, "bc:", since)
                if found is None:
                    break
                message, data = found
                await self.step(
                    user.id, lambda m=message, d=data: self.fake.press(user, m, d), "directive"
                )
            if await self.settled(
                lambda: (
                    self.db_value("SELECT COUNT(*) FROM broadcasts WHERE queued_at IS NOT NULL")
                    == 1
                )
            ):
                return

    async def read(self, staff_id: str, until: float) -> bool:
        """Tap "read" on the directive once it arrives; False if it never did."""
        user_id = self.user_of[staff_id]
        while time.monotonic() < until:
            copy = self.latest_with(user_id, lambda d: bool(READ.match(d)))
            if copy is not None:
                data = next(
                    str(b["callback_data"])
                    for row in copy.buttons()
                    for b in row
                    if READ.match(str(b.get("callback_data", "")))
                )
                for attempt in range(TRIES):
                    self.restarts["read"] += attempt > 0
                    await self.step(
                        user_id,
                        lambda c=copy, d=data: self.fake.press(self.users[user_id], c, d),
                        "read",
                    )
                    if await self.settled(lambda: self.read_at(staff_id) is not None):
                        break
                return True
            await self.fake.wait_change(self.fake.version, 1.0)
        return False

    async def settled(self, check: Callable[[], bool], seconds: float = 20.0) -> bool:
        """Whether `check` holds within `seconds` (the bot may be down and coming back)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return True
            await asyncio.sleep(0.25)
        return check()

    # ------------------------------------------------------------------ the database

    def db_value(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = db_rows(self.db_path, sql, params)
        return rows[0][0] if rows else None

    def db_rows(self, sql: str) -> list[tuple[Any, ...]]:
        return db_rows(self.db_path, sql)

    def count(self, table: str, staff_id: str) -> int:
        return int(self.db_value(f"SELECT COUNT(*) FROM {table} WHERE staff_id = ?", (staff_id,)))

    def pending_for(self, head_id: int) -> bool:
        staff_id = next(s for s, u in self.user_of.items() if u == head_id)
        return bool(
            self.db_value(
                "SELECT COUNT(*) FROM travel_requests r JOIN request_deciders d "
                "ON d.request_id = r.id WHERE r.status = 'pending' "
                "AND d.staff_id = ?",
                (staff_id,),
            )
        )

    def trip_state(self, request_id: int) -> str | None:
        return self.db_value("SELECT state FROM trip_returns WHERE request_id = ?", (request_id,))

    def read_at(self, staff_id: str) -> str | None:
        return self.db_value(
            "SELECT read_at FROM broadcast_recipients WHERE staff_id = ?", (staff_id,)
        )


def several_env(rate: float) -> dict[str, str]:
    return {"SEND_RATE_PER_SECOND": str(rate), "PER_CHAT_INTERVAL_SECONDS": "0",
            "SWEEP_INTERVAL_SECONDS": "1", "BROADCAST_SIGNOFF": "none"}  # fmt: skip


def next_saturday(now: datetime) -> datetime:
    days = (5 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=7, minute=0, second=0, microsecond=0)


async def killer(bot: Bot, kills: int, rng: random.Random, running: Callable[[], bool]) -> None:
    while bot.kills < kills and running():
        await asyncio.sleep(rng.uniform(0.3, 3.0))
        bot.kill()
        await bot.start()


async def fleet_killer(
    fleet: Fleet, kills: int, every: float, rng: random.Random, running: Callable[[], bool]
) -> None:
    """One instance in turn SIGKILLed every `every` seconds, and started again."""
    while fleet.kills < kills and running():
        await asyncio.sleep(every * rng.uniform(0.8, 1.2))
        number = fleet.kills % len(fleet.ports)
        fleet.kill(number)
        await fleet.start(number)


async def run_day(
    day: Day, bot: Bot | Fleet, kills: int, rng: random.Random, kill_every: float = 0.0
) -> dict[str, Any]:
    started = time.monotonic()
    travellers = [staff_id for staff_id, _ in day.travellers]
    done = False
    killing = asyncio.create_task(
        fleet_killer(bot, kills, kill_every, rng, lambda: not done)
        if isinstance(bot, Fleet)
        else killer(bot, kills, rng, lambda: not done)
    )
    await asyncio.gather(  # morning: trips asked for and decided, the directive goes out
        *(day.travel(staff_id) for staff_id in travellers),
        *(day.decide(head) for head in day.heads),
        day.directive(),
    )
    giving_up = rng.sample(travellers, len(travellers) // 4)
    others = [p.staff_id for p in day.staff if p.staff_id not in giving_up + [day.admin]]
    reporters = rng.sample(others, len(day.staff) // 5)
    recipients = [p.staff_id for p in day.staff if p.staff_id != day.admin]
    until = time.monotonic() + 180
    gave_up, _, arrived = await asyncio.gather(  # afternoon: returns, symptoms, reads
        asyncio.gather(*(day.give_up_trip(s) for s in giving_up)),
        asyncio.gather(*(day.symptoms(s) for s in reporters)),
        asyncio.gather(*(day.read(s, until) for s in recipients)),
    )
    while bot.kills < kills:  # kills still to come happen while the bot sweeps and sends
        await asyncio.sleep(0.5)
    done = True
    await killing
    return {
        "seconds": round(time.monotonic() - started, 1),
        "travellers": len(travellers),
        "reporters": reporters,
        "gave_up": [s for s, ok in zip(giving_up, gave_up, strict=True) if ok],
        "recipients": recipients,
        "copies_missing": sum(1 for ok in arrived if not ok),
    }


def check(day: Day, fake: FakeBotApi, facts: dict[str, Any]) -> dict[str, Any]:
    trips = Counter(s for (s,) in day.db_rows("SELECT staff_id FROM travel_requests"))
    undecided = day.db_value("SELECT COUNT(*) FROM travel_requests WHERE status = 'pending'")
    decisions = Counter(
        o
        for (o,) in day.db_rows(
            "SELECT object FROM audit_log WHERE action IN ('travel.approved', 'travel.denied')"
        )
    )
    reports = Counter(s for (s,) in day.db_rows("SELECT staff_id FROM symptom_reports"))
    not_taken = Counter(
        o
        for (o,) in day.db_rows(
            "SELECT object FROM audit_log WHERE action = 'return.trip_not_taken'"
        )
    )
    reads = {
        s
        for (s,) in day.db_rows(
            "SELECT staff_id FROM broadcast_recipients WHERE read_at IS NOT NULL"
        )
    }
    handled = {int(u) for (u,) in day.db_rows("SELECT update_id FROM inbox WHERE outcome = 'done'")}
    lost = {
        "updates": sum(1 for update_id in day.sent_updates if update_id not in handled),
        "trips": sum(1 for s, _ in day.travellers if trips[s] == 0),
        "decisions": int(undecided or 0),
        "reports": sum(1 for s in facts["reporters"] if reports[s] == 0),
        "returns": sum(
            1
            for s in facts["gave_up"]
            if not day.db_value(
                "SELECT COUNT(*) FROM trip_returns WHERE staff_id = ? AND state = 'cancelled'", (s,)
            )
        ),
        "directive_copies": facts["copies_missing"],
        "reads": sum(1 for s in facts["recipients"] if s not in reads),
    }
    duplicated = {
        "decisions": sum(n - 1 for n in decisions.values() if n > 1),
        "reports": sum(n - 1 for n in reports.values() if n > 1),
        "trips": sum(n - 1 for n in trips.values() if n > 1),
        "returns": sum(n - 1 for n in not_taken.values() if n > 1),
    }
    return {
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order(day),
        "messages_twice": messages_twice(day, fake),
        "updates": len(day.sent_updates),
        "unanswered_steps": dict(day.unanswered),
        "restarted": dict(+day.restarts),
    }


def out_of_order(day: Day) -> int:
    """Steps that ran before a step of the same person sent earlier (by arrival in the inbox)."""
    rows = day.db_rows(
        "SELECT i.person, p.processed_at FROM inbox i JOIN processed_updates p "
        "ON p.channel = i.channel AND p.update_id = i.update_id ORDER BY i.seq"
    )
    latest: dict[str, str] = {}
    early = 0
    for person, at in rows:
        if at < latest.get(person, ""):
            early += 1
        latest[person] = max(at, latest.get(person, ""))
    return early


def messages_twice(day: Day, fake: FakeBotApi) -> dict[str, int]:
    """Messages that reached a chat more than once, per kind (in flight at a kill)."""
    twice: Counter[str] = Counter()
    admin = day.user_of[day.admin]  # their preview carries the "read" button too
    for user_id in day.users:
        seen: Counter[tuple[str, str]] = Counter()
        for message in fake.messages(user_id):
            data = [str(b.get("callback_data", "")) for row in message.buttons() for b in row]
            if any(APPROVE.match(d) for d in data):
                seen["approval_request", ",".join(data)] += 1
            elif any(READ.match(d) for d in data) and user_id != admin:
                seen["directive_copy", ",".join(data)] += 1
            elif "Đã phê duyệt" in (message.text or ""):
                seen["decision_notice", message.text or ""] += 1
        for (kind, _), n in seen.items():
            twice[kind] += n - 1
    return {kind: twice[kind] for kind in ("approval_request", "decision_notice", "directive_copy")}


async def settle(day: Day, fake: FakeBotApi, timeout: float = 120) -> None:
    """Until the outbox, the inbox and the sandbox have nothing left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = day.db_value(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'pending') + "
            "(SELECT COUNT(*) FROM inbox WHERE done_at IS NULL)"
        )
        if not busy and fake.pending_updates == 0:
            return
        await asyncio.sleep(0.5)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--staff", type=int, default=200)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--instances", type=int, default=0, help="webhook instances (0: polling)")
    parser.add_argument("--kill-every", type=float, default=60.0, help="seconds (--instances)")
    parser.add_argument("--rate", type=float, default=50.0, help="send cap (--instances)")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    server: PostgresServer | None = None
    if args.engine == "postgresql":
        binaries = find_binaries()
        if binaries is None:
            raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) not found")
        server = PostgresServer(binaries)
        server.start()
    try:
        await the_day(args, server)
    finally:
        if server is not None:
            server.stop()


async def the_day(args: argparse.Namespace, server: PostgresServer | None) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "crash-day.db"
        url = "" if server is None else await server.new_database()
        if url:
            ENGINE_URLS[db_path] = url
        staff = await prepare_db(db_path, Path(folder), args.staff, max(2, args.staff // 20), url)
        admin = next(p.staff_id for p in staff if "district_office" in p.roles)
        with db_connect(db_path) as conn:
            conn.execute("INSERT INTO staff_roles (staff_id, role) VALUES (?, 'admin')", (admin,))
            conn.execute(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
                "WHERE key = 'directory_version'"
            )
        fake = FakeBotApi(token=TOKEN)
        await fake.start()
        day = Day(fake, db_path, staff, args.seed)
        day.burst = args.instances > 0
        bot: Bot | Fleet = Bot(fake, db_path, url)
        if args.instances:
            bot = Fleet(fake, db_path, args.instances, several_env(args.rate), url)
        await bot.start()
        try:
            facts = await run_day(day, bot, args.kills, rng, args.kill_every)
            await settle(day, fake)
            await asyncio.sleep(1.0)  # anything sent twice arrives now
            found = check(day, fake, facts)
        finally:
            await bot.stop()
            await fake.stop()
    lost, duplicated = sum(found["lost"].values()), sum(found["duplicated"].values())
    several: dict[str, Any] = {}
    if args.instances:
        most = fake.most_sends_in_a_second()
        several = {"instances": args.instances, "kill_every_s": args.kill_every,
                   "rate_cap": args.rate, "most_sends_in_a_second": most,
                   "rate_kept": most <= args.rate,
                   "posts_by_instance": list(fake.webhooks.posts_by_url.values())}  # fmt: skip
    kept = several.get("rate_kept", True) and found["out_of_order"] == 0
    emit(
        {
            "bench": "crash_day_several" if args.instances else "crash_day",
            "engine": args.engine,
            "staff": args.staff,
            **several,
            "kills": bot.kills,
            "seconds": facts["seconds"],
            "travellers": facts["travellers"],
            "reporters": len(facts["reporters"]),
            "returns": len(facts["gave_up"]),
            "recipients": len(facts["recipients"]),
            **found,
            "ok": lost == 0 and duplicated == 0 and bot.kills >= args.kills and kept,
            "load": load_note(),
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
