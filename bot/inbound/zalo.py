"""Zalo OA events from the webhook to the services: verified, stored, each person's in order.

`POST /zalo/webhook`: the signature (`X-ZEvent-Signature`) is checked in constant time before
anything else (403 and nothing stored when it is wrong or missing); the event is written to the
inbox, deduplicated on its `msg_id` (Zalo delivers again, with `num_retry`), and 200 goes back
at once; handling goes on asynchronously, one person's events one after another: with several
instances behind a balancer, on the instance that holds the person's claim (bot/inbound/claims.py,
as Telegram's updates). Echoes of the OA's own sends, events of another app or OA, and events the
bot has no use for are answered 200 and dropped without being stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.channels.port import Command, Intent, Text
from bot.channels.zalo import CHANNEL
from bot.channels.zalo.events import (
    HANDLED,
    BadEvent,
    ZaloEvent,
    attachment_of,
    intent_of,
    is_foreign,
    parse_event,
)
from bot.channels.zalo.signature import HEADER, SignatureCheck
from bot.domain.clock import Clock
from bot.inbound.claims import PersonClaims
from bot.outgoing import OutMessage
from bot.services.kernel.dispatch import Dispatcher
from bot.services.kernel.instance import Instance
from bot.services.kernel.step import Incoming
from storage.engine import Database, Tx, unreachable
from storage.inbox_repo import InboxRepo, InboxRow
from storage.repos import AccountsRepo
from storage.zalo_repo import ZaloRepo

log = logging.getLogger(__name__)

PATH = "/zalo/webhook"
MAX_BODY = 64 * 1024
RETRY_PAUSES = (1.0, 5.0)
# A hold recorded this soon after the person wrote raced their message's release; later, a
# person still held after writing is one Zalo refuses for another reason (not retried).
JUST_WROTE = timedelta(seconds=60)
INVITE_CODE = re.compile(r"[A-Za-z0-9_-]{16}")
INVITE_IN_LINK = re.compile(r"[?&]start=([A-Za-z0-9_-]{8,64})")

Reply = Callable[[str, Sequence[OutMessage]], Awaitable[None]]
Apologise = Callable[[Incoming, bool], Awaitable[None]]


class ZaloInbound:
    """The inbox side: store, then hand each person's events over in order.

    The event's row, the person's last interaction and the release of what was held for them
    go in one transaction, before Zalo is answered. At most `concurrency` events are handled
    at once, so the next event's storing never waits behind a crowd of steps."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        handle: Callable[[ZaloEvent], Awaitable[None]],
        *,
        held: set[str] | None = None,
        wake_outbox: Callable[[], None] = lambda: None,
        give_up: Callable[[ZaloEvent], Awaitable[None]] | None = None,
        concurrency: int = 16,
        retry_pauses: Sequence[float] = RETRY_PAUSES,
        instance: Instance | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.handle = handle
        self.held = held if held is not None else set()  # users with messages held for them
        self.wake_outbox = wake_outbox
        self.on_given_up = give_up  # tells the person what they sent could not be handled
        self.retry_pauses = tuple(retry_pauses)
        self._slots = asyncio.Semaphore(concurrency)
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: Counter[str] = Counter()
        self.claims: PersonClaims[ZaloEvent] = PersonClaims(
            CHANNEL, db, clock, self._start, instance, "zalo inbox", self._note_holds
        )

    async def accept(self, event: ZaloEvent, raw: str) -> bool:
        """Store the event (committed on return); True when it was new (then it is handled, here
        or by the instance holding the person)."""
        now, released = self.clock.now(), 0

        async def note(tx: Tx, fresh: list[str]) -> None:
            nonlocal released
            if fresh:
                released = await self._note_interaction(ZaloRepo(tx), event, now)

        fresh, todo = await self.claims.store([(event.key, raw)], {event.key: event.user_id}, note)
        if released:
            log.info("%d held messages for Zalo user %s go out now", released, event.user_id)
            self.wake_outbox()
        self.claims.schedule(todo, {event.key: event})
        return bool(fresh)

    async def _note_interaction(self, repo: ZaloRepo, event: ZaloEvent, now: datetime) -> int:
        """The person's window opens again; what was held for them is due now."""
        if not event.interaction:
            await repo.set_following(event.user_id, event.name != "unfollow")
            return 0
        await repo.touch_user(event.user_id, now)
        if event.user_id not in self.held:
            return 0
        self.held.discard(event.user_id)  # a hold being recorded right now is noted again
        return await repo.release_held(CHANNEL, event.user_id, now)

    async def _note_holds(self, tx: Tx) -> None:
        """The users with messages held for them, as the database has them (every 3 s): the
        holds are recorded by the instance that sends, the person may write to any other. A hold
        recorded just after the person wrote (their release found nothing yet) is released
        here, not at their next message."""
        repo, now = ZaloRepo(tx), self.clock.now()
        held = await repo.held_users(CHANNEL)
        if held:  # a write only when something is held, not every 3 s
            released = await repo.release_held_of_recent(CHANNEL, now - JUST_WROTE, now)
            if released:
                log.info("%d messages held just as their person wrote go out now", released)
                self.wake_outbox()
        self.held |= held

    async def resume(self) -> int:
        """Hand over, in arrival order, the events stored but not finished (by a previous run,
        or by an instance that stopped); then keep looking every 3 s."""
        async with self.db.reading() as tx:
            await self._note_holds(tx)
        return await self.claims.resume()

    @property
    def busy(self) -> int:
        return self.claims.busy

    async def drain(self, timeout: float) -> None:
        await self.claims.drain(timeout)

    def _start(self, row: InboxRow, event: ZaloEvent | None) -> Coroutine[Any, Any, None]:
        if event is None:
            try:
                event = parse_event(json.loads(row.body))
            except (ValueError, RecursionError, BadEvent):
                return self._give_up(row.update_id)
        return self._in_order(event)

    async def _in_order(self, event: ZaloEvent) -> None:
        # asyncio.Lock wakes its waiters first come, first served: the person's events in order
        user = event.user_id
        self._waiting[user] += 1
        lock = self._locks.setdefault(user, asyncio.Lock())
        try:
            async with lock, self._slots:
                await self._attempts(event)
        finally:
            self._waiting[user] -= 1
            if not self._waiting[user]:
                del self._waiting[user]
                self._locks.pop(user, None)

    async def _attempts(self, event: ZaloEvent) -> None:
        for attempt in range(len(self.retry_pauses) + 1):
            if attempt:
                await asyncio.sleep(self.retry_pauses[attempt - 1])
            try:
                await self.handle(event)
            except Exception as exc:
                if unreachable(exc):  # said once by the loops (bot/outage.py): one line here
                    log.warning(
                        "Zalo event %s failed, the database being away (%s)", event.key, exc
                    )
                else:
                    log.exception("Zalo event %s failed (attempt %d)", event.key, attempt + 1)
                async with self.db.transaction() as tx:
                    await InboxRepo(tx).count_attempt(CHANNEL, event.key)
                continue
            self.claims.mark_done_soon(event.key)
            return
        log.error("Zalo event %s given up after %d attempts", event.key, attempt + 1)
        await self._give_up(event.key)
        if self.on_given_up is not None:
            try:
                await self.on_given_up(event)
            except Exception:
                log.exception("could not tell Zalo user %s", event.user_id)

    async def _give_up(self, key: str) -> None:
        async with self.db.transaction() as tx:
            await InboxRepo(tx).give_up(CHANNEL, key, self.clock.now())


class ZaloWebhook:
    """The route on the inbound server."""

    path = PATH

    def __init__(
        self, check: SignatureCheck, inbound: ZaloInbound, app_id: str, oa_id: str
    ) -> None:
        self.check = check
        self.inbound = inbound
        self.app_id = app_id
        self.oa_id = oa_id

    async def handle(self, request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        if len(raw) > MAX_BODY:  # Zalo's events are a few hundred bytes
            return web.Response(status=413)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        if body is None or not await self.check.verify(request.headers.get(HEADER, ""), raw, body):
            return web.Response(status=403, text="wrong or missing signature")
        try:
            event = parse_event(body)
            text = raw.decode()
        except (ValueError, RecursionError, BadEvent) as exc:  # signed, but not an event we read
            log.warning("Zalo webhook: a signed body that is not an event (%s)", exc)
            return web.Response(status=200)
        if event.echo or event.name not in HANDLED or is_foreign(event, self.app_id, self.oa_id):
            return web.Response(status=200)
        try:
            await self.inbound.accept(event, text)
        except Exception:  # not stored: Zalo must deliver it again
            log.exception("could not store Zalo event %s", event.key)
            return web.Response(status=500, text="not stored; send again")
        return web.Response(status=200)


def incoming(event: ZaloEvent) -> Incoming:
    return Incoming(
        channel=CHANNEL,
        user_ref=event.user_id,
        chat_ref=event.user_id,
        update_id=event.key,
        attachment=attachment_of(event),
    )


class ZaloRouter:
    """One stored event to the services: its intent handled, the answers sent."""

    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher,
        reply: Reply,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.reply = reply

    async def __call__(self, event: ZaloEvent) -> None:
        intent = intent_of(event)
        if intent is None:
            return
        answers = await self.route(incoming(event), intent)
        if answers:
            await self.reply(event.user_id, answers)

    async def route(self, who: Incoming, intent: Intent) -> list[OutMessage]:
        """The dispatcher's answer; an invite code typed by someone not registered starts
        registration with it, and a press's short answer (no toasts on Zalo) is a message."""
        if isinstance(intent, Text) and (code := await self._invite_code(who, intent.text)):
            intent = Command("start", (code,))
        toast, messages = await self.dispatcher.handle(who, intent)
        if toast and not any(m.text == toast for m in messages):
            return [OutMessage(toast), *messages]
        return list(messages)

    async def _invite_code(self, who: Incoming, text: str) -> str | None:
        """An invite code typed (or its link pasted) by someone not registered yet."""
        found = INVITE_IN_LINK.search(text)
        code = found.group(1) if found else text.strip()
        if not INVITE_CODE.fullmatch(code) and found is None:
            return None
        async with self.db.reading() as tx:
            account = await AccountsRepo(tx).get(who.channel, who.user_ref)
        return code if account is None or account.staff_id is None else None
