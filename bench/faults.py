"""Faults at the edge: the outbox and direct replies when Telegram has a bad day.

10% of the bot's sends are faulted at random by the sandbox (`FakeBotApi.fault_share`): a 429
(retry after 1 s), a 500, a 502, or a stall after which the call goes ahead anyway (the bot may
have given up waiting: what it sends again arrives twice). Three of the staff have blocked the
bot. The real bot runs in this process with its real sender; the workload is what a busy morning
queues: health alerts, approval requests, decision notices, a directive to everyone, and people
typing /me (answered directly, not through the outbox).

One JSON line per configuration:
- `lost` (goal 0): messages that never arrived and are not recorded as undeliverable;
- `duplicated` per kind: messages that arrived more than once (a send that timed out while
  Telegram was only slow);
- `calls_inside_429_wait` (goal 0): sends that reached the server while a 429's retry_after was
  still running (those within 10 ms of the 429, already on their way, are
  `calls_in_flight_at_429`);
- `blocked_rows` / `blocked_attempts_max` (goal 1): rows to people who blocked the bot, each
  attempted once and recorded undeliverable.

    .venv/bin/python bench/faults.py              # before/after read time-outs, 6 s stalls
    .venv/bin/python bench/faults.py --quick      # fewer messages, one configuration
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import FIRST_USER, START, TOKEN, emit, load_note, prepare_db

from bot.app import build_application, services_of, start_app, stop_app
from bot.config import Settings
from bot.domain.clock import VIETNAM, ManualClock
from bot.outgoing import Button, LaterMessage, OutMessage
from bot.sandbox.server import FakeBotApi
from storage.outbox_repo import OutboxRepo, Recipient

SEED = 20210526
FAULT_SHARE = 0.10
BLOCKED = 3
KINDS = {  # kind: (priority, share of the staff it goes to)
    "alert": (1, 0.2),
    "approval": (2, 0.5),
    "decision": (2, 0.5),
    "directive": (8, 1.0),
}


@dataclass(frozen=True)
class Config:
    name: str
    http_timeout: float
    read_timeout: float
    stall: float


CONFIGS = [
    Config("before: 4 s time-out for every call", 4.0, 4.0, 6.0),
    Config("after: sends wait 30 s (SEND_READ_TIMEOUT_SECONDS default)", 10.0, 30.0, 6.0),
    Config("stalls past even the 30 s read time-out", 10.0, 30.0, 32.0),
]


def tag(kind: str, n: int) -> str:
    return f"«{kind} {n}»"


async def enqueue_workload(db: Any, chats: list[int], now: Any) -> dict[str, list[tuple[int, str]]]:
    """Each kind's messages, one per chosen chat: (chat, tag)."""
    planned: dict[str, list[tuple[int, str]]] = {}
    async with db.transaction() as tx:
        outbox = OutboxRepo(tx)
        for kind, (priority, share) in KINDS.items():
            rows: list[tuple[Recipient, OutMessage | LaterMessage]] = []
            for n, chat in enumerate(chats[: max(1, int(len(chats) * share))]):
                text = f"{tag(kind, n)} Nội dung thử nghiệm cho cán bộ số {chat}."
                buttons = ((Button("✅ Phê duyệt", f"ap:{n}:y"),),) if kind == "approval" else ()
                message = OutMessage(text, buttons=buttons, bulk=kind == "directive")
                rows.append((Recipient("telegram", str(chat)), message))
                planned.setdefault(kind, []).append((chat, tag(kind, n)))
            await outbox.enqueue_many(rows, now, priority=priority)
    return planned


async def type_me(fake: FakeBotApi, users: list[int], gap: float) -> list[float]:
    """Each user types /me in turn; the seconds until their answer (checked every 10 ms)."""
    waits: list[asyncio.Task[float]] = []
    for user_id in users:
        fake.send_text(fake.users[user_id], "/me")
        waits.append(asyncio.create_task(answered(fake, user_id, time.perf_counter())))
        await asyncio.sleep(gap)
    return list(await asyncio.gather(*waits))


async def answered(fake: FakeBotApi, chat: int, since: float) -> float:
    while not any("«" not in (m.text or "") for m in fake.messages(chat)):
        await asyncio.sleep(0.01)
    return time.perf_counter() - since


def outbox_pending(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
        )


def blocked_rows(db_path: Path, blocked: list[int]) -> tuple[int, int, int]:
    """(rows, of which undeliverable, most attempts of one row) for chats that blocked the bot."""
    marks = ",".join("?" * len(blocked))
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            f"SELECT status, attempts FROM outbox WHERE chat_ref IN ({marks})",
            [str(b) for b in blocked],
        ).fetchall()
    return (
        len(rows),
        sum(r[0] == "undeliverable" for r in rows),
        max((r[1] for r in rows), default=0),
    )


def tally(
    fake: FakeBotApi,
    planned: dict[str, list[tuple[int, str]]],
    me_users: list[int],
    blocked: set[int],
) -> tuple[int, dict[str, int]]:
    """(lost, duplicated per kind) from what reached each chat."""
    lost, duplicated = 0, dict.fromkeys([*KINDS, "reply"], 0)
    for kind, rows in planned.items():
        for chat, marker in rows:
            if chat in blocked:
                continue
            arrived = sum(marker in (m.text or "") for m in fake.messages(chat))
            lost += arrived == 0
            duplicated[kind] += max(0, arrived - 1)
    for chat in me_users:
        replies = [m.text for m in fake.messages(chat) if "«" not in (m.text or "")]
        lost += not replies
        duplicated["reply"] += len(replies) - len(set(replies))
    return lost, duplicated


async def run(config: Config, staff_total: int, me_total: int, folder: Path) -> dict[str, Any]:
    db_path = folder / "khaibao.db"
    staff = await prepare_db(db_path, folder, staff_total, max(2, staff_total // 30))
    chats = [FIRST_USER + n for n in range(len(staff))]
    fake = FakeBotApi(token=TOKEN)
    await fake.start()
    for chat in chats:
        fake.user(chat)
    blocked = chats[-BLOCKED:]
    for chat in blocked:
        fake.block(chat)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,
        telegram_api_base_url=fake.base_url,
        database_path=db_path,
        polling_timeout_seconds=1,
        send_rate_per_second=25,  # the default: under Telegram's free 30/s
        http_timeout_seconds=config.http_timeout,
        send_read_timeout_seconds=config.read_timeout,
    )
    app = build_application(settings, ManualClock(START.replace(tzinfo=VIETNAM)))
    await start_app(app, poll_timeout=1)
    try:
        made = fake.fault_share(FAULT_SHARE, stall_seconds=config.stall, retry_after=1, seed=SEED)
        started = time.perf_counter()
        services = services_of(app)
        planned = await enqueue_workload(services.db, chats, services.deps.clock.now())
        services.sender.wake()
        me_users = chats[:me_total]
        typing = asyncio.create_task(type_me(fake, me_users, 0.1))
        deadline = started + 300
        while time.perf_counter() < deadline:
            if typing.done() and outbox_pending(db_path) == 0:
                break
            await asyncio.sleep(0.2)
        seconds = time.perf_counter() - started
        await asyncio.sleep(config.stall + 1)  # stalled calls still land: their duplicates too
        lost, duplicated = tally(fake, planned, me_users, set(blocked))
        reply_seconds = sorted(typing.result()) if typing.done() else []
        rows, undeliverable, attempts = blocked_rows(db_path, blocked)
        sends = sum(1 for name, _ in fake.requests if name in ("sendMessage",))
        return {
            "bench": "faults",
            "config": config.name,
            "http_timeout_s": config.http_timeout,
            "send_read_timeout_s": config.read_timeout,
            "stall_s": config.stall,
            "staff": len(chats),
            "messages": sum(len(rows) for rows in planned.values()) + len(me_users),
            "send_calls": sends,
            "faults": dict(made),
            "seconds_until_all_delivered": round(seconds, 1),
            "reply_p50_s": round(reply_seconds[len(reply_seconds) // 2], 2)
            if reply_seconds
            else None,
            "reply_max_s": round(reply_seconds[-1], 2) if reply_seconds else None,
            "lost": lost,
            "goal_lost": 0,
            "duplicated": duplicated,
            "duplicated_total": sum(duplicated.values()),
            "calls_inside_429_wait": fake.calls_inside_429_wait,
            "goal_calls_inside_429_wait": 0,
            "calls_in_flight_at_429": fake.calls_in_flight_at_429,
            "rate_limited": fake.rate_limited_count,
            "blocked_rows": rows,
            "blocked_rows_undeliverable": undeliverable,
            "blocked_attempts_max": attempts,
            "load": load_note(),
        }
    finally:
        await stop_app(app)
        await fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 staff, the 'after' run only")
    parser.add_argument("--staff", type=int, default=400)
    args = parser.parse_args()
    configs = [CONFIGS[1]] if args.quick else CONFIGS
    staff_total = 200 if args.quick else args.staff
    for config in configs:
        with tempfile.TemporaryDirectory(prefix="khaibao-faults-") as tmp:
            emit(await run(config, staff_total, min(60, staff_total // 4), Path(tmp)))


if __name__ == "__main__":
    asyncio.run(main())
