"""The one sender that drains the outbox, for every channel.

Properties (ARCHITECTURE.md §3): a global rate cap, about one message a second per chat, 429
`retry_after` honoured for everyone, 5xx and time-outs retried with backoff, 403 recorded as
undeliverable. Rows are scheduled on the business Clock (`next_attempt_at`), while transport
backoff uses the monotonic clock in memory: after a restart a row that was backing off is simply
due again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from bot.channels.port import (
    Capabilities,
    Channel,
    EditTargetGone,
    FileUnavailable,
    RetryLater,
    SendError,
    Transient,
    Undeliverable,
    WindowClosed,
)
from bot.domain.clock import Clock
from bot.outage import Outage
from bot.outgoing import LaterMessage, OutMessage
from bot.services.outbox.render import numbered_choices, text_choices
from storage.choices_repo import ChoicesRepo
from storage.engine import Database
from storage.outbox_repo import HELD_PREFIX, OutboxRepo, OutboxRow

log = logging.getLogger(__name__)

MAX_TRANSIENT_ATTEMPTS = 20
MAX_BACKOFF_SECONDS = 300.0


Outcome = tuple[int, datetime, str | None] | Callable[[OutboxRepo], Awaitable[None]]
"""A delivery outcome to commit: a sent row (id, sent at, message ref) or any other update."""


class NotYet(SendError):
    """An edit of a message whose own delivery is not recorded yet: try again shortly."""


EDIT_BY_ROW = "outbox:"
"""`edit_ref` (or `delete_ref`) of an edit queued before its target's delivery was recorded: `outbox:<id>`."""


class Transport(Protocol):
    """The least a channel is: it sends messages as they are. A `Channel` (bot/channels/port.py)
    also renders each message into the parts it can show, and the sender sends those."""

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        """Deliver one message; return the messenger's message reference."""
        ...


__all__ = [
    "EditTargetGone",
    "RetryLater",
    "SendError",
    "Transient",
    "Undeliverable",
    "WindowClosed",
]


class RateLimiter:
    """A global pace of `rate` messages a second, shared by the outbox and direct replies.

    Bulk sends wait for their slot; urgent sends (a reply to someone typing) take the next slot
    at once and push the bulk back, so a broadcast never holds up a reply; they too wait when
    the whole rate was used within the last second (many people answered at once).

    Two guards keep the pace exact without tripping the server's own limit (a count per rolling
    second, as the Bot API's): a slot woken a little late may catch up (`CATCH_UP` seconds of
    credit, so event-loop lateness does not slow the whole run down), and bulk sends never have
    more than `window_capacity` sends in flight or finished less than a second ago. A send
    counts from `acquire` until one second after `release` (its answer arrived, so the server
    counted it before that), which makes the window proof against network jitter. A small
    reserve of the window (1%, none below 100 msg/s) is left for urgent replies.
    """

    CATCH_UP = 0.05
    WINDOW = 1.0

    def __init__(
        self,
        rate: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_free = 0.0
        self._paused_until = 0.0
        self.full_capacity = max(1, int(rate))
        self.window_capacity = max(1, int(rate) - int(rate * 0.01))
        self._in_flight = 0
        self._recent: deque[float] = deque()  # when each released send stops counting, in order

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    @property
    def paused(self) -> bool:
        return self._paused_until > self._monotonic()

    async def wait_out_pause(self) -> None:
        """Until no 429 pause is on; a pause extended meanwhile is waited out as well."""
        while self.paused:
            await self._sleep(self._paused_until - self._monotonic())

    async def acquire(self, urgent: bool = False) -> None:
        """A slot for one send. The pause is checked again after every wait, right before the
        send: a 429 answered to another send while this one waited holds it back too."""
        while True:
            await self.wait_out_pause()
            now = self._monotonic()
            if urgent:  # no pacing, but never more than `rate` in any rolling second
                self._next_free = max(self._next_free, now) + self.interval
                await self._wait_for_window(self.full_capacity)
                if not self.paused:
                    break
                continue
            slot = max(self._next_free, now - min(self.CATCH_UP, 10 * self.interval))
            self._next_free = slot + self.interval
            if slot > now:
                await self._sleep(slot - now)
            await self._wait_for_window()
            if not self.paused:
                break
        self._in_flight += 1

    def release(self) -> None:
        """The send that acquired a slot is answered (or failed): it counts one second more."""
        self._in_flight = max(0, self._in_flight - 1)
        self._recent.append(self._monotonic() + self.WINDOW)

    async def _wait_for_window(self, capacity: int | None = None) -> None:
        while True:
            now = self._monotonic()
            while self._recent and self._recent[0] <= now:
                self._recent.popleft()
            if self._in_flight + len(self._recent) < (capacity or self.window_capacity):
                return
            wait = self._recent[0] - now if self._recent else self.interval
            await self._sleep(max(wait, 0.001))


def _chat_key(row: OutboxRow) -> str:
    """A chat on its channel (two messengers may use the same number for different chats)."""
    return f"{row.channel}\x00{row.chat_ref}"


def reference_part(parts: list[OutMessage]) -> int:
    """Which part's messenger reference stands for the message (what a later edit changes):
    the one with the (first) buttons, else the last."""
    return next((i for i, part in enumerate(parts) if part.buttons), len(parts) - 1)


class OutboxSender:
    def __init__(
        self,
        db: Database,
        transports: Mapping[str, Transport],
        clock: Clock,
        limiter: RateLimiter,
        *,
        bulk_limiter: RateLimiter | None = None,
        per_chat_interval: float = 1.0,
        max_in_flight: int = 32,
        batch_size: int = 200,
        monotonic: Callable[[], float] = time.monotonic,
        render_later: Callable[[LaterMessage, datetime], OutMessage] | None = None,
        may_send: Callable[[], bool] = lambda: True,
        idle_poll: float = 0.5,
    ) -> None:
        self._db = db
        # Several instances: only the one holding the sender's lease sends (so the rate cap is
        # this one limiter's), and it looks for rows other instances queued every `idle_poll`.
        self._may_send = may_send
        self._idle_poll = idle_poll
        self._render_later = render_later
        self._transports = dict(transports)
        self._rendering: dict[str, Channel | None] = {}
        self.on_held: Callable[[OutboxRow], Awaitable[None]] | None = None
        """Told of a row held for its person (window closed, no other way) that has an origin."""
        self.on_file_unavailable: Callable[[OutboxRow, FileUnavailable], Awaitable[None]] | None = (
            None
        )
        """Told the first time a file cannot go out on a channel (its recipients there get the
        text with the message's note instead)."""
        self._clock = clock
        self._limiter = limiter
        # Each channel keeps its own pace (a channel added with its own limiter); the first
        # channels share `limiter` with their replies. Copies of a directive on a channel that
        # sells a faster bulk rate (the Bot API's paid broadcasts) keep their own pace.
        self._limiters: dict[str, RateLimiter] = {}
        self._bulk_limiters: dict[str, RateLimiter] = (
            {} if bulk_limiter is None else dict.fromkeys(self._transports, bulk_limiter)
        )
        self._per_chat_interval = per_chat_interval
        self._slots = asyncio.Semaphore(max_in_flight)
        # A pass starts at most about one second of sends: a row skipped because its chat had a
        # message a moment ago (the admin's own copy of a directive, next to its progress
        # message) is looked at again a second later, not after the whole batch.
        fastest = min(limiter.interval, bulk_limiter.interval if bulk_limiter else 1.0)
        self._max_batch = batch_size
        self._batch_size = min(batch_size, max(10, round(1 / fastest)))
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._backing_off: dict[int, float] = {}
        self._not_yet: dict[int, int] = {}  # edits waiting for their message: how often so far
        # rows rendered in several parts: how many went out, and the reference kept so far
        self._progress: dict[int, tuple[int, str | None]] = {}
        self._chat_free_at: dict[str, float] = {}
        self._chats_sending: set[str] = set()  # a chat's next row waits until its send is answered
        self._chats_with_choices: set[str] = (
            set()
        )  # numbered choices pending (channels with buttons)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._pass_lock = asyncio.Lock()
        self._outcomes: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None

    def add_channel(
        self,
        name: str,
        channel: Transport,
        limiter: RateLimiter | None = None,
        bulk_limiter: RateLimiter | None = None,
    ) -> None:
        """One more channel to deliver to (rows queued for it wait until it is added), at its
        own pace when `limiter` is given (else the shared one); `bulk_limiter`: its directive
        copies' pace, when it has a faster one for them."""
        self._transports[name] = channel
        for own, paces in ((limiter, self._limiters), (bulk_limiter, self._bulk_limiters)):
            if own is not None:
                paces[name] = own
                self._batch_size = max(
                    self._batch_size, min(self._max_batch, round(1 / own.interval))
                )
        self._rendering.pop(name, None)
        self._wake.set()

    def wake(self) -> None:
        """Call after committing new outbox rows."""
        self._wake.set()

    async def run(self) -> None:
        outage = Outage("outbox")
        while not self._stopping:
            if not self._may_send():
                await self._sleep_until_woken(self._idle_poll)
                continue
            try:
                sent_any = await self.pass_once()
                outage.worked()
            except Exception as exc:  # the database away: nothing is lost, the rows wait
                outage.failed(exc)
                sent_any = False
            if not sent_any:
                await self._sleep_until_woken(self._idle_poll)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def pass_once(self) -> bool:
        """Start delivery of every row that may go now; True when any was started."""
        async with self._pass_lock:
            return await self._start_due()

    async def _start_due(self) -> bool:
        rows = await self._due_rows()
        started = False
        claimed_chats: set[str] = set()
        for row in rows:
            if self._stopping or not self._may_send():
                break
            chat = _chat_key(row)
            if chat in claimed_chats or not self._chat_is_free(chat):
                claimed_chats.add(chat)  # keep this chat's later rows in order
                continue
            claimed_chats.add(chat)
            await self._start(row)
            started = True
        return started

    async def _due_rows(self) -> list[OutboxRow]:
        now_mono = self._monotonic()
        for row_id in [r for r, at in self._backing_off.items() if at <= now_mono]:
            del self._backing_off[row_id]
        skip = self._in_flight | set(self._backing_off)
        async with self._db.reading() as tx:
            return await OutboxRepo(tx).due(self._clock.now(), self._batch_size, skip)

    def _chat_is_free(self, chat_ref: str) -> bool:
        return (
            chat_ref not in self._chats_sending
            and self._chat_free_at.get(chat_ref, 0.0) <= self._monotonic()
        )

    def _limiter_for(self, row: OutboxRow) -> RateLimiter:
        bulk = isinstance(row.message, OutMessage) and row.message.bulk
        if bulk and row.channel in self._bulk_limiters:
            return self._bulk_limiters[row.channel]
        return self._limiters.get(row.channel, self._limiter)

    async def _start(self, row: OutboxRow) -> None:
        await self._slots.acquire()
        await self._limiter_for(row).acquire()
        self._in_flight.add(row.id)
        self._chats_sending.add(_chat_key(row))
        self._chat_free_at[_chat_key(row)] = self._monotonic() + self._per_chat_interval
        task = asyncio.create_task(self._deliver(row))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, row: OutboxRow) -> None:
        try:
            await self._attempt(row)
        except Exception:  # the sender must never die
            log.exception("outbox row %s: unexpected failure", row.id)
            self._backing_off[row.id] = self._monotonic() + MAX_BACKOFF_SECONDS
        finally:
            self._in_flight.discard(row.id)
            self._chats_sending.discard(_chat_key(row))
            self._slots.release()
            self._wake.set()

    async def _attempt(self, row: OutboxRow) -> None:
        try:
            message_ref = await self._send_counted(row)
        except NotYet:  # soon at first (the original is usually being recorded), then less often
            waits = self._not_yet[row.id] = self._not_yet.get(row.id, 0) + 1
            self._backing_off[row.id] = self._monotonic() + min(2.0, 0.01 * 2**waits)
            return
        except RetryLater as exc:
            self._limiter_for(row).pause(exc.seconds)
            self._backing_off[row.id] = self._monotonic() + exc.seconds
            await self._record_retry(row, str(exc))
        except EditTargetGone as exc:
            self._progress.pop(row.id, None)
            await self._record_edit_failed(row, str(exc))
        except WindowClosed as exc:
            self._progress.pop(row.id, None)
            await self._record_window_closed(row, str(exc))
        except Undeliverable as exc:
            self._progress.pop(row.id, None)
            await self._record_final(row, "undeliverable", str(exc))
            if str(exc).startswith(HELD_PREFIX):
                await self._tell_origin_held(row)
        except Transient as exc:
            await self._record_transient(row, str(exc))
        else:
            await self._record((row.id, self._clock.now(), message_ref))
            self._progress.pop(row.id, None)
        self._not_yet.pop(row.id, None)

    async def _send_counted(self, row: OutboxRow) -> str | None:
        """The send itself, part by part as the channel renders it; each part's window slot is
        released as soon as the server has answered. Parts already sent by an earlier attempt
        of this row are not sent again (the pause of a 429 between two parts)."""
        limiter = self._limiter_for(row)
        try:
            message = await self._resolved(row.message)
            transport = self._transports[row.channel]
            channel = self._channel(row.channel)
            parts = list(channel.render(message)) if channel else [message]
            if channel is not None:  # before the parts go: an answer typed at once finds them
                await self._remember_choices(row, message, channel.capabilities)
            sent, ref = self._progress.get(row.id, (0, None))
            keep = reference_part(parts)
            for index in range(sent, len(parts)):
                if index > sent:  # the row's own slot paid for its first part
                    limiter.release()
                    await limiter.acquire()
                await limiter.wait_out_pause()  # a 429 since the slot was taken
                try:
                    part_ref = await transport.send(row.chat_ref, parts[index])
                except FileUnavailable as missing:
                    part_ref = await self._send_without_file(row, transport, parts[index], missing)
                if index == keep:
                    ref = part_ref
                self._progress[row.id] = (index + 1, ref)
            return ref if parts else None
        finally:
            limiter.release()

    async def _send_without_file(
        self, row: OutboxRow, transport: Transport, part: OutMessage, missing: FileUnavailable
    ) -> str | None:
        """A part whose file this channel cannot deliver: its text, buttons and note go; the
        one who sent the file is told, once per file and channel."""
        if missing.first and self.on_file_unavailable is not None:
            await self.on_file_unavailable(row, missing)
        instead = part.without_file()
        return None if instead is None else await transport.send(row.chat_ref, instead)

    def capabilities_of(self, name: str) -> Capabilities | None:
        """What the channel `name` can show, when it renders its own messages."""
        channel = self._channel(name) if name in self._transports else None
        return channel.capabilities if channel is not None else None

    def _channel(self, name: str) -> Channel | None:
        """The transport as a `Channel` when it renders its messages (checked once: a protocol
        check costs more than the rest of a send's bookkeeping)."""
        if name not in self._rendering:
            transport = self._transports[name]
            self._rendering[name] = transport if isinstance(transport, Channel) else None
        return self._rendering[name]

    async def _remember_choices(
        self, row: OutboxRow, message: OutMessage, caps: Capabilities
    ) -> None:
        """The numbered choices this chat now has (none: the last message asked nothing, so a
        typed number is plain text again): on a channel without buttons, every message's; on
        one with buttons, those of buttons whose data it cannot carry (`text_choices`), written
        only when the message has some or the chat's last one had (so a broadcast costs no
        write per copy)."""
        choices = numbered_choices(text_choices(message.buttons, caps))
        chat = _chat_key(row)
        if caps.max_buttons and not choices and chat not in self._chats_with_choices:
            return
        if choices:
            self._chats_with_choices.add(chat)
        else:
            self._chats_with_choices.discard(chat)
        async with self._db.transaction() as tx:
            await ChoicesRepo(tx).remember(row.channel, row.chat_ref, choices, self._clock.now())

    async def _resolved(self, message: OutMessage | LaterMessage) -> OutMessage:
        """A LaterMessage is rendered now; an edit queued by outbox row id gets the message ref
        once that row's delivery is in."""
        if isinstance(message, LaterMessage):
            return self._rendered(message)
        target = message.delete_ref or message.edit_ref or ""
        if not target.startswith(EDIT_BY_ROW):
            return message
        row_id = int(target.removeprefix(EDIT_BY_ROW))
        async with self._db.reading() as tx:
            found = await OutboxRepo(tx).delivery_of(row_id)
        if found is None or found[0] in ("undeliverable", "failed"):
            raise EditTargetGone(f"the message to edit (outbox {row_id}) was never delivered")
        if found[1] is None:
            raise NotYet()
        if message.delete_ref:
            return replace(message, delete_ref=found[1])
        return replace(message, edit_ref=found[1])

    def _rendered(self, message: LaterMessage) -> OutMessage:
        try:
            if self._render_later is None:
                raise KeyError(message.view)
            return self._render_later(message, self._clock.now())
        except (KeyError, ValueError, TypeError) as exc:  # a bug, not the network: never retried
            log.error("outbox: cannot render view %r: %r", message.view, exc)
            raise Undeliverable(f"cannot render view {message.view!r}") from exc

    async def _record_edit_failed(self, row: OutboxRow, error: str) -> None:
        """An edit that matters becomes a new message (due at once); any other is given up."""
        instead = row.message.as_new_message() if isinstance(row.message, OutMessage) else None
        if instead is None:
            await self._record_final(row, "undeliverable", error)
            return
        now, note = self._clock.now(), f"{error}; sent as a new message"
        await self._record(lambda repo: repo.retry_as(row.id, instead, now, note))

    async def _record_window_closed(self, row: OutboxRow, error: str) -> None:
        """The person is outside this channel's window: a message of its own goes to their
        other channel if they have one (an edit or a deletion concerns this channel's message
        and is given up); else it is recorded undeliverable with the reason."""
        standalone = isinstance(row.message, LaterMessage) or (
            row.message.edit_ref is None and row.message.delete_ref is None
        )
        other = None
        if standalone:
            async with self._db.reading() as tx:
                other = await OutboxRepo(tx).other_channel_of(row.id)
        if other is None:
            await self._record_final(row, "undeliverable", error)
            return
        now, note = self._clock.now(), f"{error}; sent on {other.channel} instead"
        await self._record(lambda repo: repo.redirect(row.id, other, now, note))

    async def _tell_origin_held(self, row: OutboxRow) -> None:
        """The one who caused a held message is told, once per person it waits for."""
        if row.origin is None or self.on_held is None:
            return
        async with self._db.reading() as tx:
            first = await OutboxRepo(tx).first_held_from_origin(row.id)
        if first:
            await self.on_held(row)

    async def _record_transient(self, row: OutboxRow, error: str) -> None:
        if row.attempts + 1 >= MAX_TRANSIENT_ATTEMPTS:
            log.error("outbox row %s failed for good: %s", row.id, error)
            await self._record_final(row, "failed", error)
            return
        delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2**row.attempts)
        self._backing_off[row.id] = self._monotonic() + delay
        await self._record_retry(row, error)

    async def _record_retry(self, row: OutboxRow, error: str) -> None:
        now = self._clock.now()
        await self._record(lambda repo: repo.mark_retry(row.id, now, error))

    async def _record_final(self, row: OutboxRow, status: str, error: str) -> None:
        await self._record(lambda repo: repo.mark_final(row.id, status, error))

    async def _record(self, outcome: Outcome) -> None:
        """Commit one delivery outcome; returns once it is committed (so the row is not picked up
        again). Group commit: outcomes that arrive while a commit is under way share the next
        one, so a fast broadcast costs one transaction per batch, not one per message, and a
        slow trickle still commits each outcome at once (a crash can resend at most the
        messages in flight, as before)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outcomes.append((outcome, done))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_outcomes())
        await done

    async def _commit_outcomes(self) -> None:
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                async with self._db.transaction() as tx:
                    repo = OutboxRepo(tx)
                    await repo.mark_sent_many([o for o, _ in batch if isinstance(o, tuple)])
                    for outcome, _ in batch:
                        if not isinstance(outcome, tuple):
                            await outcome(repo)
            except Exception as exc:  # each waiter decides what a failed commit means
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _sleep_until_woken(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def drain(self, timeout: float = 10.0) -> None:
        """Deliver until nothing is due or in flight (tests and a clean shutdown)."""
        deadline = self._monotonic() + timeout
        while self._monotonic() < deadline:
            started = await self.pass_once()
            if not started and not self._in_flight:
                async with self._db.reading() as tx:
                    if not await OutboxRepo(tx).due(self._clock.now(), 1, set(self._backing_off)):
                        return
            await asyncio.sleep(0.01)
        raise TimeoutError("outbox did not drain")
