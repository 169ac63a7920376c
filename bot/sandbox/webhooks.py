"""Webhook delivery of the sandbox Telegram: each pending update is posted to the bot's webhook
with the secret header, until the bot answers 200.

As Telegram does: at most `max_connections` requests at once, one at a time per chat (a chat's
updates arrive in order), an update the bot did not take (not 200, no answer, a refused
connection) is sent again after a pause, and the last error shows in getWebhookInfo.

With `balanced_urls` set (ChatStore.balance_webhook) the posts go to those URLs in turn, as a
load balancer in front of several instances spreads them: an update one instance did not take
(it was killed) goes to the next one when it is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiohttp

from bot.sandbox.model import JSON
from bot.sandbox.store import ChatStore

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ANSWER_TIMEOUT = 10.0  # seconds the bot has to answer a webhook request
RETRY_PAUSES = (0.1, 0.3, 1.0, 2.0)  # then every 2 s (Telegram's own pauses are longer)


def chat_of(update: JSON) -> object:
    """Whose update it is: its chat (or sender), so a chat's updates go one at a time."""
    for body in update.values():
        if isinstance(body, dict):
            chat = body.get("chat") or body.get("from")
            if isinstance(chat, dict) and "id" in chat:
                return chat["id"]
    return None


class WebhookDeliverer:
    def __init__(self, store: ChatStore) -> None:
        self.store = store
        self.deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status or 0) per attempt
        self._in_flight: dict[int, object] = {}  # update_id -> chat
        self._retry_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.Task[None] | None = None
        self._turn = 0  # the next of the balanced URLs
        self.posts_by_url: dict[str, int] = {}

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="sandbox-webhooks")

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
            if self.store.webhook.url:
                self.store.drop_expired_taps()
                self._start_due()
            await self.store.wait_signal(self._next_wait())

    def _next_wait(self) -> float:
        if not self._retry_at:
            return 1.0
        return max(0.01, min(self._retry_at.values()) - time.monotonic())

    def _start_due(self) -> None:
        busy_chats = set(self._in_flight.values())
        now = time.monotonic()
        for gone in set(self._retry_at) - set(self.store.pending):
            del self._retry_at[gone]
        for update_id in list(self.store.pending):
            if len(self._in_flight) >= self.store.webhook.max_connections:
                return
            update = self.store.updates.get(update_id)
            if update is None or update_id in self._in_flight:
                continue
            chat = chat_of(update)
            if chat in busy_chats:
                continue
            busy_chats.add(chat)  # later updates of this chat wait for this one
            if self._retry_at.get(update_id, 0.0) > now:
                continue
            self._in_flight[update_id] = chat
            task = asyncio.create_task(self._deliver(update_id, update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, update_id: int, update: JSON) -> None:
        webhook = self.store.webhook
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        url = self._next_url(webhook.url)
        self.posts_by_url[url] = self.posts_by_url.get(url, 0) + 1
        try:
            status = await self._post(url, update, headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = 0, f"Connection failed: {type(exc).__name__}"
        else:
            error = f"Wrong response from the webhook: {status}"
        finally:
            self._in_flight.pop(update_id, None)
        self.deliveries.append((update_id, status))
        if status == 200:
            self._retry_at.pop(update_id, None)
            self._failures.pop(update_id, None)
            self.store.confirm(update_id)
        else:
            failures = self._failures.get(update_id, 0)
            self._failures[update_id] = failures + 1
            pause = RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)]
            self._retry_at[update_id] = time.monotonic() + pause
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
        self.store.notify(changed=False)

    def _next_url(self, url: str) -> str:
        urls = self.store.balanced_urls
        if not urls:
            return url
        url, self._turn = urls[self._turn % len(urls)], self._turn + 1
        return url

    async def _post(self, url: str, update: JSON, headers: dict[str, str]) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT),
                connector=aiohttp.TCPConnector(limit=100),
            )
        async with self._session.post(url, json=update, headers=headers) as response:
            await response.read()
            return response.status
