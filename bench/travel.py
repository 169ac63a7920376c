"""Travel requests at district scale: 1,000 staff, 50 approving unit heads, through the HTTP fake.

    .venv/bin/python bench/travel.py [--paced-seconds 15] [--max-seconds 20] [--concurrency 150]

The bot runs alone in a child process (bench/_common.py) polling the fake Bot API in this
process. Everyone is registered beforehand (account links written through the storage repos),
so only travel steps are measured. A step is one user action: /travel, the typed destination,
address, departure, return and purpose, the "published cases: no" and "Send" presses, and the
unit head's Approve press (9 steps a trip; the trip is on a weekend, so it needs approval).
Latency: from the action reaching the fake to the bot's first answer to that user (a message,
or the answer to a button press). The approver's request comes through the outbox; waiting for
it is neither a step nor a latency.

- `paced`: steps released at a steady 50 a second: p50/p99 latency (goal p99 ≤ 100 ms);
- `max`: many requesters at once, no pacing: steps per second sustained (goal ≥ 200).
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from _common import FIRST_USER, BotChild, TimedFake, emit, latency_figures, load_note, prepare_db

STAFF, UNITS = 1_000, 50
PACE = 50.0
GOAL_RATE, GOAL_P99_MS = 200.0, 100.0
APPROVE = re.compile(r"^ap:\d+:y$")
SCRIPT = (
    "/travel",
    "da nang",
    "12 Trần Phú, phường Hải Châu",
    "29/05/2021 07:00",
    "30/05/2021 18:00",
    "Thăm gia đình",
)


class Load:
    """Requesters walking through /travel; their unit heads approving."""

    def __init__(self, fake: TimedFake, staff: list[Any]) -> None:
        self.fake = fake
        user_of = {p.staff_id: FIRST_USER + n for n, p in enumerate(staff)}
        self.users = {user_id: fake.user(user_id, f"U{user_id}") for user_id in user_of.values()}
        heads = {p.unit_id: user_of[p.staff_id] for p in staff if "unit_head" in p.roles}
        self.requesters = [(user_of[p.staff_id], heads[p.unit_id]) for p in staff if not p.roles]
        self.approver_locks = {user_id: asyncio.Lock() for user_id in heads.values()}
        self.approved: set[tuple[int, str]] = set()
        self.latencies: list[tuple[float, float]] = []  # (when answered, seconds)
        self.gate: Callable[[], Awaitable[None]] = _no_gate

    async def trip(self, user_id: int, head_id: int) -> None:
        user = self.users[user_id]
        for text in SCRIPT:
            await self._step(user_id, lambda text=text: self.fake.send_text(user, text))
        await self._press(user_id, "tv:ca:no")
        await self._press(user_id, "tv:ok")
        async with self.approver_locks[head_id]:
            message, data = await self._waiting_request(head_id)
            await self._step(
                head_id, lambda: self.fake.press(self.users[head_id], message, data), press=True
            )

    async def _press(self, user_id: int, data: str) -> None:
        message = await self._message_with(user_id, lambda d: d == data)
        await self._step(
            user_id, lambda: self.fake.press(self.users[user_id], message, data), press=True
        )

    async def _step(self, user_id: int, act: Callable[[], object], *, press: bool = False) -> None:
        await self.gate()
        answered = self.fake.expect(user_id, press=press)
        act()
        seconds = await asyncio.wait_for(answered, 30)
        self.latencies.append((time.perf_counter(), seconds))

    async def _message_with(self, chat_id: int, wanted: Callable[[str], bool]) -> Any:
        while True:
            for message in reversed(self.fake.messages(chat_id)):
                if any(
                    wanted(b.get("callback_data", "")) for row in message.buttons() for b in row
                ):
                    return message
            await self.fake.chat_changed(chat_id)

    async def _waiting_request(self, head_id: int) -> tuple[Any, str]:
        def fresh(data: str) -> bool:
            return bool(APPROVE.match(data)) and (head_id, data) not in self.approved

        message = await self._message_with(head_id, fresh)
        data = next(
            b["callback_data"]
            for row in message.buttons()
            for b in row
            if fresh(b.get("callback_data", ""))
        )
        self.approved.add((head_id, data))
        return message, data


async def _no_gate() -> None:
    return None


def pacer(rate: float) -> tuple[Callable[[], Awaitable[None]], Callable[[], None]]:
    """A gate that lets steps through at a steady `rate` (open loop: permits do not pile up)."""
    permits = asyncio.Queue[None](maxsize=1)

    async def tick() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n in range(10**9):
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
            if permits.empty():
                permits.put_nowait(None)

    task = asyncio.create_task(tick())
    return permits.get, task.cancel


async def run_phase(
    load: Load, requesters: list[tuple[int, int]], seconds: float, concurrency: int
) -> tuple[float, int]:
    """Trips from `requesters` with `concurrency` at once until `seconds` pass: (elapsed, steps)."""
    queue = iter(requesters)
    begin = time.perf_counter()
    deadline = begin + seconds
    first = len(load.latencies)

    async def worker() -> None:
        for user_id, head_id in queue:
            if time.perf_counter() >= deadline:
                return
            await load.trip(user_id, head_id)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    done = [when for when, _ in load.latencies[first:] if when <= deadline]
    return min(time.perf_counter(), deadline) - begin, len(done)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paced-seconds", type=float, default=15.0)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        staff = await prepare_db(db_path, Path(folder), STAFF, UNITS)
        fake = TimedFake()
        await fake.start()
        child = BotChild("khaibao", fake.base_url, db_path)
        try:
            await child.ready()
            load = Load(fake, staff)
            approvers = len(load.approver_locks)
            warm, paced, rest = load.requesters[:5], load.requesters[5:200], load.requesters[200:]
            await run_phase(load, warm, 60, 5)
            load.latencies.clear()
            load.gate, stop_pacer = pacer(PACE)
            elapsed, steps = await run_phase(load, paced, args.paced_seconds, 60)
            stop_pacer()
            figures = latency_figures([s for _, s in load.latencies])
            emit(
                {
                    "bench": "travel",
                    "phase": "paced",
                    "staff": STAFF,
                    "approvers": approvers,
                    "target_steps_per_second": PACE,
                    "steps": len(load.latencies),
                    "steps_per_second": round(steps / elapsed, 1),
                    **figures,
                    "goal_p99_ms": GOAL_P99_MS,
                    "ok": figures["p99_ms"] <= GOAL_P99_MS,
                    "load": load_note(),
                }
            )
            load.latencies.clear()
            load.gate = _no_gate
            elapsed, steps = await run_phase(load, rest, args.max_seconds, args.concurrency)
            rate = steps / elapsed
            emit(
                {
                    "bench": "travel",
                    "phase": "max",
                    "staff": STAFF,
                    "approvers": approvers,
                    "concurrency": args.concurrency,
                    "steps": steps,
                    "seconds": round(elapsed, 1),
                    "steps_per_second": round(rate, 1),
                    **latency_figures([s for _, s in load.latencies]),
                    "goal_steps_per_second": GOAL_RATE,
                    "ok": rate >= GOAL_RATE,
                    "load": load_note(),
                }
            )
        finally:
            child.stop()
            await fake.stop()


if __name__ == "__main__":
    asyncio.run(main())
