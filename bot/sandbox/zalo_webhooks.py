"""Webhook delivery of the sandbox Zalo OA: each event is posted to the OA's webhook URL, signed.

As Zalo does (ZALO.md §1 rows 3 and 15): the body is posted as raw JSON with
`X-ZEvent-Signature: mac=sha256(<app_id or oa_id> + body + timestamp + key)`; the bot must answer
200 within 2 s, else the event comes again later with a `num_retry` header (Zalo waits 30 s, 5 min,
15 min, 30 min, 1 h; the fake waits `retry_pauses`, shorter), and some events come twice even after
a 200 (`repeat_share`, `repeat_next`): delivery is at least once. A user's events are first sent
one after another, in order; a retry may come after later events. With `balance(urls)` the posts
go to those URLs in turn, as a load balancer in front of several bot instances spreads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from dataclasses import dataclass

import aiohttp

from bot.sandbox.zalo_model import RETRY_HEADER, SIGNATURE_HEADER, SIGNATURE_IDS, signature
from bot.sandbox.zalo_store import ZaloEvent, ZaloStore

ANSWER_TIMEOUT = 2.0  # seconds the bot has to answer 200
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0, 4.0)  # Zalo: 30 s, 5 min, 15 min, 30 min, 1 h; then no more
REPEAT_PAUSE = 0.05  # a repeated copy comes this long after the first one was taken


@dataclass
class Attempt:
    event: ZaloEvent
    num_retry: int  # 0: the first delivery (no num_retry header)
    due: float  # monotonic
    repeat: bool = False  # a copy sent although the bot took the event


@dataclass(frozen=True)
class Delivery:
    seq: int
    event_name: str
    user_id: str
    num_retry: int
    status: int  # HTTP status, 0 when the bot did not answer in time or refused the connection
    repeat: bool
    seconds: float  # how long the bot took to answer (a bench reads its percentiles)
    url: str = ""  # where it was posted (one of the balanced URLs)


class ZaloWebhooks:
    def __init__(
        self,
        store: ZaloStore,
        *,
        url: str = "",
        signature_id: str = "app_id",
        signature_key: str | None = None,
        answer_timeout: float = ANSWER_TIMEOUT,
        retry_pauses: tuple[float, ...] = RETRY_PAUSES,
        repeat_share: float = 0.0,
        seed: int = 0,
        max_in_flight: int = 20,
    ) -> None:
        """`signature_id`: which id starts the signed string ("app_id" or "oa_id");
        `signature_key`: the key that ends it (default: the store's OA secret key; the App
        Secret is the other candidate); `repeat_share`: the share of events sent a second time
        with `num_retry: 1` although the bot answered 200 (seeded by `seed`)."""
        self.store = store
        self.url = url
        self.balanced_urls: list[str] = []
        self._turn = 0  # the next of the balanced URLs
        self.signature_id = signature_id
        self.signature_key = signature_key
        self.answer_timeout = answer_timeout
        self.retry_pauses = retry_pauses
        self.repeat_share = repeat_share
        self.max_in_flight = max_in_flight
        self.deliveries: list[Delivery] = []
        self.given_up: list[ZaloEvent] = []
        self._rng = random.Random(seed)
        self._repeat_next = 0
        self._waiting: dict[str, deque[ZaloEvent]] = {}
        self._later: list[Attempt] = []
        self._busy: set[str] = set()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.Task[None] | None = None
        self.configure(signature_id=signature_id)

    def configure(
        self,
        *,
        url: str | None = None,
        signature_id: str | None = None,
        signature_key: str | None = None,
        repeat_share: float | None = None,
    ) -> None:
        if signature_id is not None:
            if signature_id not in SIGNATURE_IDS:
                raise ValueError(f"signature_id is one of {SIGNATURE_IDS}")
            self.signature_id = signature_id
        if url is not None:
            self.url = url
        if signature_key is not None:
            self.signature_key = signature_key
        if repeat_share is not None:
            self.repeat_share = repeat_share
        self.store.notify(changed=False)

    def balance(self, urls: list[str]) -> None:
        """Post to these URLs in turn (a load balancer); the first is the OA's webhook URL."""
        self.balanced_urls = list(urls)
        self.configure(url=urls[0])

    def _next_url(self) -> str:
        if not self.balanced_urls:
            return self.url
        url = self.balanced_urls[self._turn % len(self.balanced_urls)]
        self._turn += 1
        return url

    def repeat_next(self, count: int = 1) -> None:
        """The next `count` events the bot takes are posted once more (num_retry: 1)."""
        self._repeat_next += count

    def sign(self, event: ZaloEvent) -> str:
        prefix = self.store.app_id if self.signature_id == "app_id" else self.store.oa_id
        key = self.signature_key if self.signature_key is not None else self.store.oa_secret_key
        return signature(prefix, event.raw, event.timestamp, key)

    @property
    def idle(self) -> bool:
        """Nothing left to post: every event was taken or given up."""
        return not (
            self.store.outbox or any(self._waiting.values()) or self._later or self._in_flight
        )

    async def wait_idle(self, timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.idle:
            if loop.time() >= deadline:
                raise AssertionError(f"Zalo webhooks still busy after {timeout}s")
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------- the loop

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="sandbox-zalo-webhooks")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while not self.store.stopping.is_set():
            if self.url:
                while self.store.outbox:
                    event = self.store.outbox.popleft()
                    self._waiting.setdefault(event.user_id, deque()).append(event)
                self._start_due()
            await self.store.wait_signal(self._next_wait())

    def _next_wait(self) -> float:
        if not self._later:
            return 1.0
        return max(0.01, min(attempt.due for attempt in self._later) - time.monotonic())

    def _start_due(self) -> None:
        now = time.monotonic()
        for attempt in sorted(self._later, key=lambda a: a.due):
            if attempt.due <= now and self._in_flight < self.max_in_flight:
                self._later.remove(attempt)
                self._launch(attempt)
        for user_id, queue in self._waiting.items():
            if queue and user_id not in self._busy and self._in_flight < self.max_in_flight:
                self._busy.add(user_id)
                self._launch(Attempt(queue.popleft(), 0, now))

    def _launch(self, attempt: Attempt) -> None:
        self._in_flight += 1
        task = asyncio.create_task(self._deliver(attempt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, attempt: Attempt) -> None:
        event = attempt.event
        started = time.monotonic()
        url = self._next_url()
        try:
            status = await self._post(attempt, url)
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        finally:
            self._in_flight -= 1
            if attempt.num_retry == 0:
                self._busy.discard(event.user_id)
        self.deliveries.append(Delivery(event.seq, event.event_name, event.user_id,
                                        attempt.num_retry, status, attempt.repeat,
                                        time.monotonic() - started, url))  # fmt: skip
        if status == 200:
            if not attempt.repeat and self._should_repeat():
                self._later.append(Attempt(event, 1, time.monotonic() + REPEAT_PAUSE, True))
        elif attempt.num_retry < len(self.retry_pauses):
            pause = self.retry_pauses[attempt.num_retry]
            self._later.append(Attempt(event, attempt.num_retry + 1, time.monotonic() + pause))
        else:
            self.given_up.append(event)
        self.store.notify(changed=False)

    def _should_repeat(self) -> bool:
        if self._repeat_next > 0:
            self._repeat_next -= 1
            return True
        return self.repeat_share > 0 and self._rng.random() < self.repeat_share

    async def _post(self, attempt: Attempt, url: str) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: self.sign(attempt.event)}
        if attempt.num_retry:
            headers[RETRY_HEADER] = str(attempt.num_retry)
        timeout = aiohttp.ClientTimeout(total=self.answer_timeout)
        async with self._session.post(
            url, data=attempt.event.raw, headers=headers, timeout=timeout
        ) as response:
            await response.read()
            return response.status
