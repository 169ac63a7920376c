"""The Zalo channel's parts put together (called by the composition root, bot/app.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.channels.file_bridge import FileBridge
from bot.channels.port import RetryLater, Transient
from bot.channels.replier import ChannelReplier
from bot.channels.zalo import CHANNEL
from bot.channels.zalo.api import ZaloApi, ZaloConfig
from bot.channels.zalo.channel import Template, WindowFallback, ZaloChannel
from bot.channels.zalo.errors import TokenRefused
from bot.channels.zalo.events import ZaloEvent
from bot.channels.zalo.signature import SignatureCheck
from bot.config import Settings
from bot.inbound.zalo import ZaloInbound, ZaloRouter, ZaloWebhook, incoming
from bot.outgoing import OutMessage
from bot.services.kernel.channel_notices import note_unreached, tell_channel_needs_admin
from bot.services.kernel.dispatch import Dispatcher
from bot.services.kernel.instance import Instance
from bot.services.kernel.step import Deps, Incoming
from bot.services.outbox.sender import RateLimiter
from storage.zalo_repo import ZaloRepo

log = logging.getLogger(__name__)

KEEPER_PAUSE = 3600.0  # seconds between looks at the token's time left
KEEPER_RETRY = 60.0


@dataclass
class ZaloParts:
    api: ZaloApi
    channel: ZaloChannel
    inbound: ZaloInbound
    webhook: ZaloWebhook
    limiter: RateLimiter  # Zalo's own pace (Capabilities.send_rate), replies first
    keeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Keep the token pair fresh even while nothing is sent (the refresh token too ends
        after 3 months unused)."""
        if self.keeper is None:
            self.keeper = asyncio.create_task(keep_tokens_fresh(self.api), name="zalo-tokens")

    async def close(self) -> None:
        if self.keeper is not None:
            self.keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.keeper
        await self.api.close()


async def keep_tokens_fresh(api: ZaloApi) -> None:
    while True:
        try:
            await api.tokens.current()  # refreshes when less than REFRESH_AHEAD is left
            pause = KEEPER_PAUSE
        except (RetryLater, Transient, TokenRefused) as exc:
            log.warning("Zalo token not refreshed now (%s); trying again later", exc)
            pause = KEEPER_RETRY
        await asyncio.sleep(pause)


def zalo_config(settings: Settings) -> ZaloConfig:
    return ZaloConfig(
        app_id=settings.zalo_app_id.strip(),
        app_secret=settings.zalo_app_secret.get_secret_value().strip(),
        first_refresh_token=settings.zalo_refresh_token.get_secret_value().strip(),
        api_base=settings.zalo_api_base_url,
        oauth_base=settings.zalo_oauth_base_url,
        requests_per_minute=settings.zalo_requests_per_minute,
        timeout=settings.http_timeout_seconds,
    )


async def open_zalo(
    settings: Settings,
    deps: Deps,
    dispatcher: Dispatcher,
    apology: Callable[[Incoming], OutMessage],
    *,
    direct: Callable[[], bool] = lambda: True,
    queue: Callable[[str, Sequence[OutMessage]], Awaitable[None]] | None = None,
    file_bridge: FileBridge | None = None,
    instance: Instance | None = None,
) -> ZaloParts:
    """`apology`: what a person is told when what they sent could not be handled. `direct` and
    `queue` as ChannelReplier's: an instance that does not hold the sender's lease queues its
    replies to the outbox. `file_bridge`: how replies send files other channels hold.
    `instance`: this process among several on the database (a person's events are handled
    where their claim is)."""
    settings.require_zalo()
    db, clock = deps.db, deps.clock

    async def needs_admin(reason: str) -> None:
        await tell_channel_needs_admin(deps, CHANNEL, reason)

    async def token_refused(reason: str) -> None:
        await needs_admin(f"the refresh token was refused ({reason})")

    async def unreached(staff_id: str | None, user_id: str, waiting: int) -> None:
        await note_unreached(deps, CHANNEL, staff_id, user_id)

    api = ZaloApi(zalo_config(settings), db, clock, on_token_refused=token_refused)
    template = (
        Template(
            settings.zalo_template_id.strip(),
            settings.zalo_template_text_param,
            settings.zalo_template_name_param,
            settings.zalo_template_max_chars,
        )
        if settings.zalo_template_id.strip()
        else None
    )
    held: set[str] = set()  # Zalo users with messages held for them
    fallback = WindowFallback(db, clock, api, template, unreached, held)
    channel = ZaloChannel(
        api,
        db,
        clock,
        settings.upload_folders,
        fallback,
        settings.zalo_requests_per_minute,
        on_admin_needed=needs_admin,
        form_image=settings.zalo_form_image_url,
    )

    limiter = RateLimiter(channel.capabilities.send_rate)  # the outbox's and the replies'
    replies = file_bridge.around(channel) if file_bridge else channel
    replier = ChannelReplier(replies, limiter, direct=direct, queue=queue)
    reply = replier.reply

    router = ZaloRouter(db, dispatcher, reply)

    async def given_up(event: ZaloEvent) -> None:
        await reply(event.user_id, [apology(incoming(event))])

    inbound = ZaloInbound(
        db,
        clock,
        router,
        held=held,
        wake_outbox=deps.wake_outbox,
        concurrency=settings.concurrent_updates,
        give_up=given_up,
        instance=instance,
    )
    async with db.reading() as tx:
        settled = settings.zalo_signature_id or await ZaloRepo(tx).signature_id()

    async def settle(kind: str) -> None:
        async with db.transaction() as tx:
            await ZaloRepo(tx).settle_signature_id(kind)

    check = SignatureCheck(
        settings.zalo_app_id,
        settings.zalo_oa_id,
        settings.zalo_oa_secret_key.get_secret_value().strip(),
        settled,
        settle,
    )
    webhook = ZaloWebhook(check, inbound, settings.zalo_app_id.strip(), settings.zalo_oa_id.strip())
    return ZaloParts(api, channel, inbound, webhook, limiter)
