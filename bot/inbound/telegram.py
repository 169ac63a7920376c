"""Telegram updates from the inbox to the handlers: each person's in order, retried on failure.

Whoever receives updates (the polling loop, the webhook) calls `accept`: the updates are written
to the inbox and committed before it returns, so the receiver may then confirm them to Telegram.
Processing is asynchronous: each update goes through PTB's handlers on the per-person processor
(bot/channels/telegram_ordering.py). The step an update causes marks its inbox row done in its own
transaction; an update that caused no step (nothing to do) is marked done after its handlers
finished. An update whose handling failed stays open and is tried again after a pause, before
the person's next update; after the last attempt it is given up and the person is told so.

Several instances may share the database (README "Several instances"): each stores what it is
sent, but a person's updates are handled only by the instance holding that person's lease
(storage/leases_repo.py), in arrival order. The instance that stores an update takes the lease
if it is free; one that holds it hands the person's rows stored elsewhere to its own queue when
its queue runs empty, and gives the lease up once nothing of that person is left. Every 3 s
each instance picks up the people whose lease is free or expired (a crashed instance's people,
updates whose step failed because the database was away): they are handled again from the inbox.
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
from bot.outage import Outage
from bot.services.kernel.instance import Instance
from storage.engine import Database, Tx, dumps
from storage.inbox_repo import InboxRepo, InboxRow
from storage.leases_repo import Lease, LeasesRepo, person_lease

log = logging.getLogger(__name__)

JSON = dict[str, Any]
# For the crash tests only: SIGKILL the process right after the n-th batch is in the inbox and
# before any of it is handled or confirmed to Telegram (the next offset, or the webhook's 200).
CRASH_AFTER_BATCH = "KHAIBAO_TEST_CRASH_AFTER_INBOX_BATCH"
RETRY_PAUSES = (1.0, 5.0)  # seconds before the 2nd and the 3rd attempt; then it is given up
IDS_RESTART_AFTER = timedelta(days=6)  # Telegram: a week without updates, ids start anew
FLUSH_AFTER = 0.05  # seconds: handled updates of that moment are marked done in one transaction
PICK_UP_EVERY = 3.0  # seconds between looks for people whose lease is free (another instance died)
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
        self._tasks: set[asyncio.Task[None]] = set()
        # Handled updates whose rows are marked done together, a moment later: nearly every
        # update's step marked its row already, so this is only for those that caused none.
        self._handled: list[str] = []
        self._flushing: asyncio.Task[None] | None = None
        self._batches = 0
        self._crash_after = int(os.environ.get(CRASH_AFTER_BATCH, "0") or 0)
        self._queued: dict[str, int] = {}  # person -> their updates handed to processing, not ended
        self._scheduled: set[str] = set()  # update keys handed to processing, not ended
        self._idle: set[str] = set()  # people whose queue ran empty: their lease is given up
        self._picking_up: asyncio.Task[None] | None = None
        self._outage = Outage("inbox")
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
        async with self.db.transaction() as tx:  # one trip: stored, leases taken, rows read
            fresh, todo = await InboxRepo(tx).store_and_take(
                CHANNEL, rows, self.clock.now(), people, self._lease()
            )
        self._batches += 1
        if self._crash_after and self._batches >= self._crash_after:
            os.kill(os.getpid(), signal.SIGKILL)
        self._schedule_rows(todo, {str(body["update_id"]): body for body in bodies})
        return len(fresh)

    def _lease(self) -> Lease | None:
        if self.instance is None:  # alone on the database: every person is this instance's
            return None
        return Lease(self.instance.name, self.instance.now(), self.instance.expiry())

    async def _take_people(self, tx: Tx, people: Sequence[str]) -> list[InboxRow]:
        """Take the leases of these people where free; the rows not handled yet of those taken."""
        if not people:
            return []
        if self.instance is None:  # alone on the database: every person is this instance's
            return await InboxRepo(tx).open_of(CHANNEL, people)
        me = self.instance.name
        names = [person_lease(CHANNEL, person) for person in people]
        LeasesRepo(tx).take_many_later(names, me, self.instance.now(), self.instance.expiry())
        return await InboxRepo(tx).open_held(CHANNEL, people, me)

    def _schedule_rows(self, rows: Sequence[InboxRow], parsed: dict[str, JSON]) -> int:
        """Hand rows over in their order, skipping those already handed over; how many went."""
        handed: set[str] = set()
        count = 0
        for row in rows:
            handed.add(row.person)
            if row.update_id in self._scheduled:
                continue
            body = parsed.get(row.update_id)
            self._schedule(json.loads(row.body) if body is None else body, row.person)
            count += 1
        for person in handed:  # taken, but all its rows were done meanwhile: give it back
            if not self._queued.get(person):
                self._person_idle(person)
        return count

    async def resume(self) -> int:
        """Hand over, in arrival order, the updates stored but not finished (by a previous run,
        or by an instance that stopped) of the people whose lease is free. Then keep looking
        every 3 s."""
        count = await self._pick_up()
        if count:
            log.info("%d updates from the inbox handled again after a restart", count)
        if self._picking_up is None:
            self._picking_up = asyncio.create_task(self._keep_picking_up(), name="inbox-pick-up")
        return count

    async def _pick_up(self) -> int:
        me = "" if self.instance is None else self.instance.name
        now = self.clock.now() if self.instance is None else self.instance.now()
        async with self.db.reading() as tx:
            people = await InboxRepo(tx).people_to_pick_up(CHANNEL, me, now)
        people = [person for person in people if not self._queued.get(person)]
        if not people:
            return 0
        async with self.db.transaction() as tx:
            todo = await self._take_people(tx, people)
        for person in set(people) - {row.person for row in todo}:
            self._person_idle(person)  # taken with nothing left (or not taken): given back
        return self._schedule_rows(todo, {})

    async def _keep_picking_up(self) -> None:
        while True:
            await asyncio.sleep(PICK_UP_EVERY)
            try:
                await self._pick_up()
                self._outage.worked()
            except Exception as exc:  # the database away: what is open is picked up once back
                self._outage.failed(exc)

    async def last_update_id(self) -> int | None:
        """The latest update id stored, to confirm from. After a week without updates Telegram
        picks the next id at random (it may be lower), so an older one is not used."""
        since = self.clock.now() - IDS_RESTART_AFTER
        async with self.db.reading() as tx:
            last = await InboxRepo(tx).last_update_id(CHANNEL, since)
        return None if last is None else int(last)

    @property
    def busy(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> None:
        """Let the updates being handled finish (at most `timeout`); the rest stay in the inbox."""
        if self._picking_up is not None:
            self._picking_up.cancel()
            await asyncio.gather(self._picking_up, return_exceptions=True)
            self._picking_up = None
        if self._tasks:
            _, stuck = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in stuck:
                task.cancel()
            if stuck:
                await asyncio.gather(*stuck, return_exceptions=True)
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        await self._flush()

    def _schedule(self, body: JSON, person: str) -> None:
        key = str(body.get("update_id"))
        self._scheduled.add(key)
        self._queued[person] = self._queued.get(person, 0) + 1
        try:
            update = Update.de_json(body, self.app.bot)
        except Exception as exc:  # stored, but not an update PTB can read: never tried again
            log.warning("update %s is unreadable (%s); given up", body.get("update_id"), exc)
            self._track(self._give_up(key), key, person)
            return
        self._track(self.processor.process_update(update, self._handle(update)), key, person)

    def _track(self, work: Coroutine[Any, Any, None], key: str, person: str) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._ended(done, key, person))

    def _ended(self, task: asyncio.Task[None], key: str, person: str) -> None:
        """An update's handling ended (done, given up, or failed with the database away: then
        its row stays open and is picked up again)."""
        self._tasks.discard(task)
        if key not in self._handled:  # a handled one stays "scheduled" until marked done
            self._scheduled.discard(key)
        if not task.cancelled() and task.exception() is not None:
            self._outage.failed(task.exception() or Exception())
        left = self._queued.get(person, 1) - 1
        if left > 0:
            self._queued[person] = left
            return
        self._queued.pop(person, None)
        self._person_idle(person)

    def _person_idle(self, person: str) -> None:
        self._idle.add(person)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon())

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
                self._mark_done_soon(key)
                return
            self._failed.discard(update.update_id)
            if await self._count_failure(key, last=attempt == len(self.retry_pauses)):
                await self._apologise(update, received=True)  # its step committed
                return
        log.error("update %s given up after %d attempts", key, len(self.retry_pauses) + 1)
        await self._apologise(update, received=False)

    def _mark_done_soon(self, key: str) -> None:
        self._handled.append(key)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_AFTER)
        try:
            await self._flush()
        except Exception as exc:  # the database away: the rows stay open and are picked up
            self._outage.failed(exc)

    async def _flush(self) -> None:
        """Mark the handled updates done; give up the leases of the people whose queue ran
        empty, unless rows of theirs came in meanwhile (stored by another instance): those are
        handed to this instance's queue, in order."""
        keys, self._handled = self._handled, []
        idle = sorted(p for p in self._idle if not self._queued.get(p))
        self._idle.clear()
        if not keys and not idle:
            return
        todo: list[InboxRow] = []
        try:
            todo = await self._mark_done_and_hand_over(keys, idle)
        finally:
            self._scheduled.difference_update(keys)
        self._schedule_rows(todo, {})

    async def _mark_done_and_hand_over(self, keys: list[str], idle: list[str]) -> list[InboxRow]:
        if self.instance is None:
            idle = []
        holder = "" if self.instance is None else self.instance.name
        async with self.db.transaction() as tx:  # one trip, unless rows came in meanwhile
            left = await InboxRepo(tx).finish_and_look(
                CHANNEL, keys, self.clock.now(), idle, holder
            )
            return await self._take_people(tx, sorted({row.person for row in left}))

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
