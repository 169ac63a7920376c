"""RateLimiter under 429s, on a virtual clock: no send starts inside a 429 pause, even one that
was extended while the sender was already waiting (issue: 35 calls inside 11 of 102 waits)."""

from __future__ import annotations

import asyncio
import heapq
import itertools

from bot.services.outbox.sender import RateLimiter


class VirtualTime:
    """A monotonic clock and a sleep on it: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), woken))
        await woken

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def run_until(self, moment: float) -> None:
        """Wake every sleeper due up to `moment`, in order, letting each run on."""
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= moment:
            at, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            woken.set_result(None)
            await self.settle()
        self.now = max(self.now, moment)
        await self.settle()


class Sends:
    """Each acquire's return is a send starting: when it started, and whether a pause was on."""

    def __init__(self, clock: VirtualTime, limiter: RateLimiter) -> None:
        self.clock, self.limiter = clock, limiter
        self.started: list[float] = []
        self.inside_pause = 0

    async def one(self, urgent: bool = False) -> None:
        await self.limiter.acquire(urgent=urgent)
        self.started.append(self.clock.now)
        self.inside_pause += self.limiter.paused
        self.limiter.release()


async def test_a_pause_extended_while_waiting_for_it_is_waited_out() -> None:
    clock = VirtualTime()
    limiter = RateLimiter(100, monotonic=clock.monotonic, sleep=clock.sleep)
    sends = Sends(clock, limiter)
    limiter.pause(1.0)  # a 429: retry after 1 s
    tasks = [asyncio.create_task(sends.one()) for _ in range(5)]
    tasks.append(asyncio.create_task(sends.one(urgent=True)))
    await clock.run_until(0.5)
    limiter.pause(2.0)  # another send's 429, half-way: now until 2.5 s
    await clock.run_until(10.0)
    await asyncio.gather(*tasks)
    assert len(sends.started) == 6
    assert sends.inside_pause == 0 and min(sends.started) >= 2.5


async def test_a_429_while_waiting_for_a_slot_holds_the_send_back() -> None:
    clock = VirtualTime()
    limiter = RateLimiter(10, monotonic=clock.monotonic, sleep=clock.sleep)
    sends = Sends(clock, limiter)
    tasks = [asyncio.create_task(sends.one()) for _ in range(5)]  # slots at 0, 0.1, ... 0.4
    await clock.run_until(0.15)
    limiter.pause(1.0)  # a 429 at 0.15 s: nothing more until 1.15 s
    await clock.run_until(10.0)
    await asyncio.gather(*tasks)
    assert sends.started[:2] == [0.0, 0.1]
    assert sends.inside_pause == 0 and min(sends.started[2:]) >= 1.15
    gaps = [b - a for a, b in zip(sends.started[2:], sends.started[3:], strict=False)]
    assert all(gap >= 0.1 - RateLimiter.CATCH_UP - 1e-9 for gap in gaps)  # paced after it too
