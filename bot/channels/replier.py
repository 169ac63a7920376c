"""Direct replies to the person whose event is being handled, for any channel."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.channels.port import (
    Channel,
    EditTargetGone,
    FileUnavailable,
    RetryLater,
    Transient,
    Undeliverable,
)
from bot.outgoing import OutMessage
from bot.services.outbox.sender import RateLimiter

log = logging.getLogger(__name__)


class ChannelReplier:
    """Direct replies to the person whose update is being handled.

    They share the outbox's rate limiter but go first; a reply that fails for a passing reason
    is retried a few times (the person is waiting for it).
    """

    def __init__(
        self,
        transport: Channel,
        limiter: RateLimiter,
        *,
        direct: Callable[[], bool] = lambda: True,
        queue: Callable[[str, Sequence[OutMessage]], Awaitable[None]] | None = None,
    ) -> None:
        self._transport = transport
        self._limiter = limiter
        # Several instances: only the sender's instance owns the rate (`limiter`); the others
        # hand their replies to the outbox (`queue`), which that instance sends first.
        self._direct = direct
        self._queue = queue

    async def reply(self, chat_ref: str, messages: Sequence[OutMessage]) -> None:
        if self._queue is not None and not self._direct():
            await self._queue(chat_ref, messages)
            return
        for message in messages:
            for part in self._transport.render(message):
                await self._reply_one(chat_ref, part)

    async def _reply_one(self, chat_ref: str, message: OutMessage) -> None:
        for attempt in range(4):
            await self._limiter.acquire(urgent=True)
            try:
                await self._transport.send(chat_ref, message)
                return
            except RetryLater as exc:
                self._limiter.pause(exc.seconds)
            except Transient:
                await asyncio.sleep(0.2 * 2**attempt)
            except EditTargetGone as exc:
                instead = message.as_new_message()
                if instead is None:
                    log.info("reply to %s: edit not possible: %s", chat_ref, exc)
                    return
                message = instead
            except FileUnavailable as exc:  # the text and its note still go
                log.info("reply to %s without its file: %s", chat_ref, exc)
                without = message.without_file()
                if without is None:
                    return
                message = without
            except Undeliverable as exc:
                log.info("reply to %s undeliverable: %s", chat_ref, exc)
                return
            finally:
                self._limiter.release()
        log.warning("reply to %s dropped after retries", chat_ref)
