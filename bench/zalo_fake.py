"""The sandbox Zalo OA's own speed, so that the Zalo channel's benches measure the bot, not the fake.

    .venv/bin/python bench/zalo_fake.py [--events 3000] [--sends 4000] [--users 500]

1. Webhooks: `--events` user texts queued at once, posted signed to a receiver in this process
   that answers 200 at once: events per second delivered, and the receiver's answer time as the
   fake measured it (p50/p99).
2. The OA API: `--sends` cs text messages to `--users` followers, 20 at a time over HTTP: sends
   per second, each one's round trip (p50/p99), all accepted; then the `-32` of the 4,000 a
   minute limit on the next call.
Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp
from _common import emit, latency_figures, load_note
from aiohttp import web

from bot.sandbox.zalo_server import FakeZaloOA

CONCURRENCY = 20


async def receiver() -> tuple[web.AppRunner, str]:
    async def take(request: web.Request) -> web.Response:
        await request.read()
        return web.Response()

    app = web.Application()
    app.router.add_post("/zalo/webhook", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/zalo/webhook"


async def webhooks(events: int) -> None:
    runner, url = await receiver()
    fake = FakeZaloOA(webhook_url=url)
    await fake.start()
    try:
        users = [fake.user(f"U{n}") for n in range(200)]
        begin = time.perf_counter()
        for number in range(events):
            fake.send_text(users[number % len(users)], f"tin {number}")
        await fake.webhooks.wait_idle(timeout=600)
        elapsed = time.perf_counter() - begin
        taken = [d for d in fake.webhooks.deliveries if d.status == 200]
        emit({"bench": "zalo_fake_webhooks", "events": events, "delivered": len(taken),
              "events_per_second": round(events / elapsed, 1),
              **latency_figures([d.seconds for d in taken]), "note": load_note()})  # fmt: skip
    finally:
        await fake.stop()
        await runner.cleanup()


async def sends(total: int, user_count: int) -> None:
    fake = FakeZaloOA()
    fake.echoes = False  # no webhook here: the echoes would only pile up
    await fake.start()
    try:
        users = [fake.user(f"U{n}") for n in range(user_count)]
        for user in users:
            fake.follow(user)
        access, _ = fake.issue_tokens()
        url = fake.base_url + "/v3.0/oa/message/cs"
        headers = {"access_token": access}
        times: list[float] = []
        codes: list[int] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for number in range(total):
            queue.put_nowait(number)

        async def worker(session: aiohttp.ClientSession) -> None:
            while not queue.empty():
                number = queue.get_nowait()
                body: dict[str, Any] = {"recipient": {"user_id": users[number % user_count].user_id},
                                        "message": {"text": f"Chỉ thị số {number}"}}  # fmt: skip
                started = time.perf_counter()
                async with session.post(url, json=body, headers=headers) as response:
                    codes.append((await response.json())["error"])
                times.append(time.perf_counter() - started)

        begin = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
            elapsed = time.perf_counter() - begin
            async with session.post(url, json={}, headers=headers) as response:
                over = (await response.json())["error"]
        emit({"bench": "zalo_fake_sends", "sends": total, "accepted": codes.count(0),
              "sends_per_second": round(total / elapsed, 1), **latency_figures(times),
              "call_after_the_limit": over if total >= 4000 else None,
              "peak_calls_per_minute": fake.peak_calls(60.0), "note": load_note()})  # fmt: skip
    finally:
        await fake.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--sends", type=int, default=4000)
    parser.add_argument("--users", type=int, default=500)
    args = parser.parse_args()
    await webhooks(args.events)
    await sends(args.sends, args.users)


if __name__ == "__main__":
    asyncio.run(main())
