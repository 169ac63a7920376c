"""Whose inbox rows this instance handles: each person's on one instance at a time, in order.

Several instances may share the database (README "Several instances"): each stores what it is
sent, but a person's updates are handled only by the instance holding that person's lease
(storage/leases_repo.py), in arrival order. The instance that stores an update takes the lease
if it is free; one that holds it hands the person's rows stored elsewhere to its own queue when
its queue runs empty, and gives the lease up once nothing of that person is left. Every 3 s
each instance picks up the people whose lease is free or expired (a crashed instance's people,
updates whose step failed because the database was away): they are handled again from the inbox.

Every channel's inbound (bot/inbound/telegram.py, bot/inbound/zalo.py) claims its rows here; how
one row is handled (and in which order within the process) is the channel's `start`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from typing import Any, Generic, TypeVar

from bot.domain.clock import Clock
from bot.outage import Outage
from bot.services.kernel.instance import Instance
from storage.engine import Database, Tx
from storage.inbox_repo import InboxRepo, InboxRow
from storage.leases_repo import Lease, LeasesRepo, person_lease

log = logging.getLogger(__name__)

FLUSH_AFTER = 0.05  # seconds: handled updates of that moment are marked done in one transaction
PICK_UP_EVERY = 3.0  # seconds between looks for people whose lease is free (another instance died)

Parsed = TypeVar("Parsed")
AlsoInStore = Callable[[Tx, list[str]], Awaitable[None]]


class PersonClaims(Generic[Parsed]):
    def __init__(
        self,
        channel: str,
        db: Database,
        clock: Clock,
        # the handling of a row handed over, with what the receiver parsed of it (None: to be
        # read from the row's body)
        start: Callable[[InboxRow, Parsed | None], Coroutine[Any, Any, None]],
        instance: Instance | None = None,
        outage: str = "inbox",
        on_pick_up: Callable[[Tx], Awaitable[None]] | None = None,
    ) -> None:
        """`on_pick_up`: read along with each look for people to pick up (every 3 s)."""
        self.channel = channel
        self.db = db
        self.clock = clock
        self.start = start
        self.instance = instance
        self.on_pick_up = on_pick_up
        self._tasks: set[asyncio.Task[None]] = set()
        # Handled updates whose rows are marked done together, a moment later: nearly every
        # update's step marked its row already, so this is only for those that caused none.
        self._handled: list[str] = []
        self._flushing: asyncio.Task[None] | None = None
        self._queued: dict[str, int] = {}  # person -> their updates handed to processing, not ended
        self._scheduled: set[str] = set()  # update keys handed to processing, not ended
        self._idle: set[str] = set()  # people whose queue ran empty: their lease is given up
        self._picking_up: asyncio.Task[None] | None = None
        self.outage = Outage(outage)

    async def store(
        self,
        rows: Sequence[tuple[str, str]],
        people: Mapping[str, str],
        also: AlsoInStore | None = None,
    ) -> tuple[list[str], list[InboxRow]]:
        """Store the (key, JSON) rows with whose they are (committed on return), take the leases
        of those people where free, in one trip; `also` runs in the same transaction with the
        new keys. (The new keys, the rows not handled yet of the people this instance holds.)"""
        async with self.db.transaction() as tx:
            fresh, todo = await InboxRepo(tx).store_and_take(
                self.channel, rows, self.clock.now(), people, self._lease()
            )
            if also is not None:
                await also(tx, fresh)
        return fresh, todo

    def _lease(self) -> Lease | None:
        if self.instance is None:  # alone on the database: every person is this instance's
            return None
        return Lease(self.instance.name, self.instance.now(), self.instance.expiry())

    async def _take_people(self, tx: Tx, people: Sequence[str]) -> list[InboxRow]:
        """Take the leases of these people where free; the rows not handled yet of those taken."""
        if not people:
            return []
        if self.instance is None:
            return await InboxRepo(tx).open_of(self.channel, people)
        me = self.instance.name
        names = [person_lease(self.channel, person) for person in people]
        LeasesRepo(tx).take_many_later(names, me, self.instance.now(), self.instance.expiry())
        return await InboxRepo(tx).open_held(self.channel, people, me)

    def schedule(self, rows: Sequence[InboxRow], parsed: Mapping[str, Parsed]) -> int:
        """Hand rows over in their order, skipping those already handed over; how many went."""
        handed: set[str] = set()
        count = 0
        for row in rows:
            handed.add(row.person)
            if row.update_id in self._scheduled:
                continue
            self._scheduled.add(row.update_id)
            self._queued[row.person] = self._queued.get(row.person, 0) + 1
            self._track(self.start(row, parsed.get(row.update_id)), row.update_id, row.person)
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
            log.info("%d %s updates from the inbox handled again", count, self.channel)
        if self._picking_up is None:
            self._picking_up = asyncio.create_task(
                self._keep_picking_up(), name=f"{self.channel}-inbox-pick-up"
            )
        return count

    async def _pick_up(self) -> int:
        me = "" if self.instance is None else self.instance.name
        now = self.clock.now() if self.instance is None else self.instance.now()
        async with self.db.reading() as tx:
            people = await InboxRepo(tx).people_to_pick_up(self.channel, me, now)
            if self.on_pick_up is not None:
                await self.on_pick_up(tx)
        people = [person for person in people if not self._queued.get(person)]
        if not people:
            return 0
        async with self.db.transaction() as tx:
            todo = await self._take_people(tx, people)
        for person in set(people) - {row.person for row in todo}:
            self._person_idle(person)  # taken with nothing left (or not taken): given back
        return self.schedule(todo, {})

    async def _keep_picking_up(self) -> None:
        while True:
            await asyncio.sleep(PICK_UP_EVERY)
            try:
                await self._pick_up()
                self.outage.worked()
            except Exception as exc:  # the database away: what is open is picked up once back
                self.outage.failed(exc)

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
            self.outage.failed(task.exception() or Exception())
        left = self._queued.get(person, 1) - 1
        if left > 0:
            self._queued[person] = left
            return
        self._queued.pop(person, None)
        self._person_idle(person)

    def _person_idle(self, person: str) -> None:
        self._idle.add(person)
        self._flush_later()

    def mark_done_soon(self, key: str) -> None:
        """This update was handled: its row is marked done a moment later, with others."""
        self._handled.append(key)
        self._flush_later()

    def _flush_later(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_AFTER)
        try:
            await self._flush()
        except Exception as exc:  # the database away: the rows stay open and are picked up
            self.outage.failed(exc)

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
        self.schedule(todo, {})

    async def _mark_done_and_hand_over(self, keys: list[str], idle: list[str]) -> list[InboxRow]:
        if self.instance is None:
            idle = []
        holder = "" if self.instance is None else self.instance.name
        async with self.db.transaction() as tx:  # one trip, unless rows came in meanwhile
            left = await InboxRepo(tx).finish_and_look(
                self.channel, keys, self.clock.now(), idle, holder
            )
            return await self._take_people(tx, sorted({row.person for row in left}))
