"""Telegram updates from the inbox to the handlers: each person's in order, retried on failure.

Whoever receives updates (the polling loop, the webhook) calls `accept`: the updates are written
to the inbox and committed before it returns, so the receiver may then confirm them to Telegram.
Processing is asynchronous: each update goes through PTB's handlers on the per-person processor
(bot/channels/telegram_ordering.py). The step an update causes marks its inbox row done in its own
transaction; an update that caused no step (nothing to do) is marked done after its handlers
finished. An update whose handling failed stays open and is tried again after a pause, before
the person's next update; after the last attempt it is given up and the person is told so.

Several instances may share the database: a person's updates are handled by the instance that
holds their claim (bot/inbound/claims.py), in arrival order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor, ContextTypes

from bot.channels.telegram import CHANNEL, TelegramApp
from bot.domain.clock import Clock
from bot.inbound.claims import PersonClaims
from bot.services.kernel.instance import Instance
from storage.engine import Database, dumps
from storage.inbox_repo import InboxRepo, InboxRow

log = logging.getLogger(__name__)

JSON = dict[str, Any]
# For the crash tests only: SIGKILL the process right after the n-th batch is in the inbox and
# before any of it is handled or confirmed to Telegram (the next offset, or the webhook's 200).
CRASH_AFTER_BATCH = "KHAIBAO_TEST_CRASH_AFTER_INBOX_BATCH"
RETRY_PAUSES = (1.0, 5.0)  # seconds before the 2nd and the 3rd attempt; then it is given up
IDS_RESTART_AFTER = timedelta(days=6)  # Telegram: a week without updates, ids start anew
# Told to the person when their update is given up (received=False) or when it took effect but
# answering them failed (received=True).
Apologise = Callable[[Update, bool], Awaitable[None]]


class BadUpdate(ValueError):
    """Not a Telegram update (no integer update_id)."""


def update_key(body: object) -> str:
    """The inbox key of a raw update: its update_id as text."""
    if not isinstance(body, dict):
        raise BadUpdate("an update is a JSON object")
    update_id = body.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        raise BadUpdate("update_id must be a non-negative integer")
    return str(update_id)


def person_of(body: JSON) -> str:
    """Whose update it is, from its JSON: its sender, else its chat (as PTB's effective_user and
    effective_chat, which the in-process queues use): one person's updates run in order."""
    for part in body.values():
        if isinstance(part, dict):
            sender, chat = part.get("from"), part.get("chat")
            if isinstance(sender, dict) and "id" in sender:
                return f"user:{sender['id']}"
            if isinstance(chat, dict) and "id" in chat:
                return f"chat:{chat['id']}"
    return "other"


class TelegramInbound:
    def __init__(
        self,
        app: TelegramApp,
        db: Database,
        clock: Clock,
        apologise: Apologise,
        retry_pauses: Sequence[float] = RETRY_PAUSES,
        instance: Instance | None = None,
    ) -> None:
        self.app = app
        self.db = db
        self.clock = clock
        self.instance = instance
        self.apologise = apologise
        self.retry_pauses = tuple(retry_pauses)
        self._failed: set[int] = set()  # update ids whose handlers raised in the current attempt
        self._batches = 0
        self._crash_after = int(os.environ.get(CRASH_AFTER_BATCH, "0") or 0)
        self.claims: PersonClaims[JSON] = PersonClaims(CHANNEL, db, clock, self._start, instance)
        app.add_error_handler(self._note_failure, block=True)

    @property
    def processor(self) -> BaseUpdateProcessor:
        return self.app.update_processor

    async def accept(self, bodies: Sequence[JSON]) -> int:
        """Store the updates in the inbox (committed on return), then hand the new ones to
        processing (those of people this instance holds or could take). Updates seen before are
        ignored. The number of new ones."""
        rows = [(update_key(body), dumps(body)) for body in bodies]
        people = {key: person_of(body) for (key, _), body in zip(rows, bodies, strict=True)}
        fresh, todo = await self.claims.store(rows, people)  # one trip: stored, leases, rows
        self._batches += 1
        if self._crash_after and self._batches >= self._crash_after:
            os.kill(os.getpid(), signal.SIGKILL)
        self.claims.schedule(todo, {str(body["update_id"]): body for body in bodies})
        return len(fresh)

    async def resume(self) -> int:
        """Hand over, in arrival order, the updates stored but not finished (by a previous run,
        or by an instance that stopped); then keep looking every 3 s (bot/inbound/claims.py)."""
        return await self.claims.resume()

    async def last_update_id(self) -> int | None:
        """The latest update id stored, to confirm from. After a week without updates Telegram
        picks the next id at random (it may be lower), so an older one is not used."""
        since = self.clock.now() - IDS_RESTART_AFTER
        async with self.db.reading() as tx:
            last = await InboxRepo(tx).last_update_id(CHANNEL, since)
        return None if last is None else int(last)

    @property
    def busy(self) -> int:
        return self.claims.busy

    async def drain(self, timeout: float) -> None:
        """Let the updates being handled finish (at most `timeout`); the rest stay in the inbox."""
        await self.claims.drain(timeout)

    def _start(self, row: InboxRow, body: JSON | None) -> Coroutine[Any, Any, None]:
        if body is None:
            body = json.loads(row.body)
        try:
            update = Update.de_json(body, self.app.bot)
        except Exception as exc:  # stored, but not an update PTB can read: never tried again
            log.warning("update %s is unreadable (%s); given up", row.update_id, exc)
            return self._give_up(row.update_id)
        return self.processor.process_update(update, self._handle(update))

    async def _give_up(self, key: str) -> None:
        async with self.db.transaction() as tx:
            await InboxRepo(tx).give_up(CHANNEL, key, self.clock.now())

    async def _handle(self, update: Update) -> None:
        key = str(update.update_id)
        for attempt in range(len(self.retry_pauses) + 1):
            if attempt:
                await asyncio.sleep(self.retry_pauses[attempt - 1])
            self._failed.discard(update.update_id)
            await self.app.process_update(update)
            if update.update_id not in self._failed:
                self.claims.mark_done_soon(key)
                return
            self._failed.discard(update.update_id)
            if await self._count_failure(key, last=attempt == len(self.retry_pauses)):
                await self._apologise(update, received=True)  # its step committed
                return
        log.error("update %s given up after %d attempts", key, len(self.retry_pauses) + 1)
        await self._apologise(update, received=False)

    async def _count_failure(self, key: str, *, last: bool) -> bool:
        """Count the failed attempt (the `last` one gives the update up); True when the update
        took effect all the same (its step committed before something after it failed): trying
        again could not redo the rest."""
        async with self.db.transaction() as tx:
            repo = InboxRepo(tx)
            if await repo.is_done(CHANNEL, key):
                return True
            await repo.count_attempt(CHANNEL, key)
            if last:
                await repo.give_up(CHANNEL, key, self.clock.now())
            return False

    async def _apologise(self, update: Update, *, received: bool) -> None:
        try:
            await self.apologise(update, received)
        except Exception:
            log.exception("could not apologise for update %s", update.update_id)

    async def _note_failure(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            self._failed.add(update.update_id)
