"""Long polling that loses nothing: getUpdates, the batch into the inbox (committed), then the
next getUpdates, whose offset confirms the batch to Telegram.

Telegram never sends a confirmed update again, so an update is confirmed only once it is in the
database. PTB's own Updater confirms a batch before it is handled; it is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, cast

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.inbound.telegram import TelegramInbound
from bot.outage import Outage

log = logging.getLogger(__name__)

BATCH = 100
MAX_PAUSE = 30.0
STORE_RETRY_PAUSE = 1.0  # seconds before a batch the database did not take is fetched again


class TelegramPoller:
    def __init__(
        self,
        bot: Bot,
        inbound: TelegramInbound,
        timeout: int,
        on_fault: Callable[[TelegramError], None] | None = None,
    ) -> None:
        self.bot = bot
        self.on_fault = on_fault
        self.inbound = inbound
        self.timeout = timeout
        self._stopped = asyncio.Event()
        self._offset: int | None = None
        self._outage = Outage("polling")

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        last = await self.inbound.last_update_id()
        self._offset = None if last is None else last + 1  # confirms what the inbox holds
        pause = 0.0
        while not self._stopped.is_set():
            if pause:
                await self._sleep(pause)
            try:
                bodies = await self._fetch_or_stop()
            except InvalidToken:
                raise
            except TelegramError as exc:
                pause = self._pause_after(exc, pause)
                continue
            pause = 0.0
            if bodies and not await self._stored(bodies):
                pause = STORE_RETRY_PAUSE  # not confirmed: the next getUpdates brings them again
        await self._confirm_last()

    async def _stored(self, bodies: list[dict[str, Any]]) -> bool:
        """Store the batch; False (said once per outage) when the database cannot be reached."""
        try:
            await self._store(bodies)
        except Exception as exc:
            self._outage.failed(exc)
            return False
        self._outage.worked()
        return True

    async def _store(self, bodies: list[dict[str, Any]]) -> None:
        await self.inbound.accept(bodies)
        self._offset = max(int(body["update_id"]) for body in bodies) + 1

    async def _fetch_or_stop(self) -> list[dict[str, Any]]:
        fetch = asyncio.ensure_future(self._fetch(self.timeout))
        stopped = asyncio.ensure_future(self._stopped.wait())
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not fetch.done():
            fetch.cancel()  # nothing fetched is lost: what was not answered yet is not confirmed
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
            return []
        return fetch.result()

    async def _fetch(self, timeout: int, limit: int = BATCH) -> list[dict[str, Any]]:
        data: dict[str, Any] = {"timeout": timeout, "limit": limit,
                                "allowed_updates": Update.ALL_TYPES}  # fmt: skip
        if self._offset is not None:
            data["offset"] = self._offset
        # Bot.get_updates would parse the updates; the inbox keeps them as Telegram sent them.
        read_timeout = (self.bot.request.read_timeout or 10.0) + timeout  # the wait comes on top
        result = await self.bot._post("getUpdates", data, read_timeout=read_timeout)
        return [body for body in cast(list[Any], result) if isinstance(body, dict)]

    def _pause_after(self, exc: Exception, pause: float) -> float:
        if isinstance(exc, RetryAfter):
            seconds = exc.retry_after
            return float(seconds if isinstance(seconds, int | float) else seconds.total_seconds())
        if isinstance(exc, Conflict):
            log.warning("getUpdates refused: %s; trying again", exc.message)
            return 5.0
        pause = min(MAX_PAUSE, max(1.0, pause * 2))
        if self.on_fault is not None and isinstance(exc, TelegramError):
            self.on_fault(exc)
        else:
            log.warning("cannot reach Telegram (%s); trying again in %.0f s", exc, pause)
        return pause

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    async def _confirm_last(self) -> None:
        """One last call whose offset confirms the final batch (the inbox holds it already)."""
        if self._offset is None:
            return
        with contextlib.suppress(Exception):
            await self._fetch(0, limit=1)
