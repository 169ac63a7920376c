"""The one composition root: storage, services, channel adapters, the outbox sender, the sweep."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from telegram import BotCommand, Update
from telegram.error import BadRequest, InvalidToken, TelegramError
from telegram.ext import ApplicationBuilder

from bot import redaction
from bot.channels.file_bridge import FileBridge
from bot.channels.port import Channel, FileUnavailable
from bot.channels.telegram import (
    CHANNEL,
    TelegramApp,
    TelegramFiles,
    TelegramReplier,
    TelegramTransport,
)
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_ordering import PerPersonUpdateProcessor
from bot.channels.telegram_startup import (
    TokenRefused,
    connect,
    polling_fault_logger,
    quiet_ptb_token_tracebacks,
    token_refused_line,
)
from bot.channels.zalo import CHANNEL as ZALO
from bot.channels.zalo.files import ZaloFiles
from bot.channels.zalo.wiring import ZaloParts, open_zalo
from bot.clock import SystemClock
from bot.config import Settings, SettingsError
from bot.domain.clock import Clock
from bot.i18n import Translations
from bot.inbound.polling import TelegramPoller
from bot.inbound.telegram import TelegramInbound
from bot.inbound.webhook import InboundServer, Route, TelegramWebhook
from bot.outgoing import OutMessage
from bot.services.broadcast.feature import Broadcasts
from bot.services.directory.feature import DirectoryChat
from bot.services.directory.fetch import FetchRefused, FileFetcher
from bot.services.duty.roster import DutyDesk
from bot.services.health.feature import Health
from bot.services.health.referral import Referrals
from bot.services.kernel.admin_alerts import AdminAlerts
from bot.services.kernel.channel_notices import (
    note_origin_unreached,
    tell_file_undelivered,
    tell_unreached,
)
from bot.services.kernel.dispatch import Dispatcher
from bot.services.kernel.feature import Feature
from bot.services.kernel.instance import OUTBOX, SWEEP, Instance, default_name
from bot.services.kernel.menu import command_menu
from bot.services.kernel.schedule import SweepSchedule
from bot.services.kernel.step import Deps, DirectoryCache
from bot.services.kernel.sweep import Sweeper
from bot.services.outbox.later_views import LaterViews
from bot.services.outbox.sender import OutboxSender, RateLimiter, Transport
from bot.services.oversight.feature import Oversight
from bot.services.privacy.breaches import Breaches
from bot.services.privacy.feature import Privacy
from bot.services.privacy.retention import Retention
from bot.services.registration.feature import RegistrationService, welcome
from bot.services.returns.feature import Returns
from bot.services.travel.feature import Travel
from bot.services.violations.feature import Violations
from handlers import register_all
from handlers.common import SERVICES_KEY, incoming
from storage.engine import Database, open_database
from storage.outbox_repo import OutboxRepo, OutboxRow, Recipient

log = logging.getLogger(__name__)

BotApplication = TelegramApp  # the type other parts name, so they need not import PTB
REPLY_PRIORITY = 0  # a reply queued by an instance that does not send: before everything else
REPLIES_POLL_SECONDS = 0.1  # the sender looks this often for rows other instances queued


@dataclass
class Services:
    settings: Settings
    db: Database
    deps: Deps
    sender: OutboxSender
    replier: TelegramReplier
    registration: RegistrationService
    dispatcher: Dispatcher
    admin_alerts: AdminAlerts
    sweeper: Sweeper
    schedule: SweepSchedule
    inbound: TelegramInbound
    instance: Instance
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    poller: TelegramPoller | None = None
    polling: asyncio.Task[None] | None = None
    server: InboundServer | None = None
    zalo: ZaloParts | None = None


def build_application(
    settings: Settings,
    clock: Clock | None = None,
    on_refused_token: Callable[[], None] | None = None,
) -> BotApplication:
    """The real bot: PTB Application wired to khaibao's services (opened in post_init)."""
    redaction.install(settings.secret_values())
    timeout, refused = settings.http_timeout_seconds, on_refused_token
    app = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.api_file_base_url)
        .concurrent_updates(PerPersonUpdateProcessor(settings.concurrent_updates))
        # aiohttp, not PTB's httpx: httpx tops out at ~650 requests/s
        .request(
            AiohttpRequest(
                timeout=timeout,
                read_timeout=settings.send_read_timeout_seconds,
                on_refused_token=refused,
            )
        )
        .get_updates_request(AiohttpRequest(pool_size=1, timeout=timeout, on_refused_token=refused))
        .updater(None)  # bot/inbound/polling.py polls: it confirms updates only once stored
        .post_init(
            lambda application: _open(application, settings, clock or SystemClock(settings.tz))
        )
        .post_shutdown(_close)
        .build()
    )
    register_all(app)
    return app


@dataclass
class Core:
    """What every channel shares: storage, the outbox, the services, the sweep, the leases."""

    db: Database
    deps: Deps
    sender: OutboxSender
    registration: RegistrationService
    dispatcher: Dispatcher
    admin_alerts: AdminAlerts
    sweeper: Sweeper
    schedule: SweepSchedule
    instance: Instance
    zalo: ZaloParts | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    bridge: FileBridge | None = None  # other channels' files, for the channels' direct replies


async def _tell_origin_held(deps: Deps, row: OutboxRow) -> None:
    await note_origin_unreached(deps, row.channel, row.staff_id, row.chat_ref, row.origin or "")


async def _tell_file_undelivered(deps: Deps, row: OutboxRow, missing: FileUnavailable) -> None:
    await tell_file_undelivered(deps, row.channel, row.origin, missing.file_name, missing.why)


def _bridged(bridge: FileBridge, transport: Transport) -> Transport:
    """A channel sends other channels' files through the bridge (a bare transport as it is)."""
    return bridge.around(transport) if isinstance(transport, Channel) else transport


async def open_core(
    settings: Settings,
    clock: Clock,
    limiter: RateLimiter,
    transports: dict[str, Transport],
    fetchers: dict[str, FileFetcher],
) -> Core:
    """The services over the channels given, and Zalo's when ZALO_APP_ID is set."""
    settings.require_shared_files()
    db = await open_database(settings.database_target)
    name = settings.instance_name or default_name(settings.webhook_port)
    instance = Instance(db, name, SystemClock(settings.tz), settings.lease_seconds)
    paid = settings.telegram_paid_broadcast and CHANNEL in transports
    if settings.zalo_on:
        fetchers = {**fetchers, ZALO: ZaloFiles(settings.send_read_timeout_seconds)}
    bridge = FileBridge(db, clock, settings.files_folder, ByChannel(fetchers))
    transports = {name: _bridged(bridge, each) for name, each in transports.items()}
    translations = Translations(
        default_language=settings.default_language, home_is_province=settings.home_is_province
    )
    later_views = LaterViews(translations)
    sender = OutboxSender(
        db,
        transports,
        clock,
        limiter,
        bulk_limiter=RateLimiter(settings.paid_broadcast_rate_per_second) if paid else None,
        per_chat_interval=settings.per_chat_interval_seconds,
        render_later=later_views.render,
        may_send=lambda: instance.holds(OUTBOX),
        idle_poll=REPLIES_POLL_SECONDS,
    )
    deps = Deps(
        db, clock, translations, DirectoryCache(), sender.wake, settings, sender.capabilities_of
    )
    sender.on_held = partial(_tell_origin_held, deps)
    sender.on_file_unavailable = partial(_tell_file_undelivered, deps)
    privacy = Privacy(deps, welcome)
    registration = RegistrationService(deps, privacy.on_registered)
    features = [privacy.feature(), *build_features(deps, ByChannel(fetchers))]
    privacy.consents.withdrawals.extend(stop for f in features for stop in f.withdrawals)
    for feature in features:
        later_views.add(feature.later_views)
    dispatcher = Dispatcher(deps, registration, features)
    sweeper = sweeper_for(deps, features)
    admin_alerts = AdminAlerts(deps, settings.admin_error_alert_interval_seconds)
    zalo = None
    if settings.zalo_on:
        zalo = await open_zalo(
            settings,
            deps,
            dispatcher,
            partial(admin_alerts.apology, received=False),
            direct=lambda: instance.holds(OUTBOX),
            queue=reply_through_outbox(db, clock, sender.wake, ZALO),
            file_bridge=bridge,
            instance=instance,
        )
        sender.add_channel(ZALO, bridge.around(zalo.channel), zalo.limiter)
    schedule = SweepSchedule(
        sweeper,
        clock,
        SystemClock(settings.tz),
        timedelta(seconds=settings.sweep_interval_seconds),
        [wake for feature in features for wake in feature.wakes],
        may_sweep=lambda: instance.holds(SWEEP),
    )
    instance.want(SWEEP, schedule.sweep_soon)
    instance.want(OUTBOX, sender.wake)
    return Core(
        db,
        deps,
        sender,
        registration,
        dispatcher,
        admin_alerts,
        sweeper,
        schedule,
        instance,
        zalo,
        bridge=bridge,
    )


async def open_services(app: BotApplication, settings: Settings, clock: Clock) -> Services:
    limiter = RateLimiter(settings.send_rate_per_second)
    transport = TelegramTransport(
        app.bot,
        settings.upload_folders,
        paid_broadcast=settings.telegram_paid_broadcast,
        send_rate=settings.send_rate_per_second,
    )
    core = await open_core(
        settings, clock, limiter, {CHANNEL: transport}, {CHANNEL: TelegramFiles(app.bot)}
    )
    replier = TelegramReplier(
        core.bridge.around(transport) if core.bridge else transport,
        limiter,
        direct=lambda: core.instance.holds(OUTBOX),
        queue=reply_through_outbox(core.db, clock, core.sender.wake, CHANNEL),
    )

    async def apologise(update: Update, received: bool) -> None:
        if update.effective_user is not None and update.effective_chat is not None:
            apology = core.admin_alerts.apology(incoming(update), received=received)
            await replier.reply(str(update.effective_chat.id), [apology])

    return Services(
        settings=settings,
        db=core.db,
        deps=core.deps,
        sender=core.sender,
        replier=replier,
        registration=core.registration,
        dispatcher=core.dispatcher,
        admin_alerts=core.admin_alerts,
        sweeper=core.sweeper,
        schedule=core.schedule,
        inbound=TelegramInbound(app, core.db, clock, apologise, instance=core.instance),
        instance=core.instance,
        zalo=core.zalo,
    )


def reply_through_outbox(
    db: Database, clock: Clock, wake: Callable[[], None], channel: str
) -> Callable[[str, Sequence[OutMessage]], Awaitable[None]]:
    """Replies of an instance that does not hold the sender's lease: queued first in line."""

    async def queue(chat_ref: str, messages: Sequence[OutMessage]) -> None:
        async with db.transaction() as tx:
            for message in messages:
                await OutboxRepo(tx).enqueue(
                    Recipient(channel, chat_ref), message, clock.now(), priority=REPLY_PRIORITY
                )
        wake()

    return queue


class ByChannel:
    """Each channel's file fetcher, picked by the file's channel."""

    def __init__(self, fetchers: dict[str, FileFetcher]) -> None:
        self._fetchers = fetchers

    async def __call__(self, channel: str, file_id: str, dest: Path, max_bytes: int) -> None:
        fetcher = self._fetchers.get(channel)
        if fetcher is None:
            raise FetchRefused(f"no files from {channel!r}")
        await fetcher(channel, file_id, dest, max_bytes)


def build_features(deps: Deps, fetch: FileFetcher | None = None) -> list[Feature]:
    travel = Travel(deps)
    returns = Returns(deps, travel.approvals.submit, travel.approvals.status)
    features = [travel.feature(), returns.feature(), Broadcasts(deps).feature()]
    features.append(Health(deps).feature())
    features.append(DutyDesk().feature(deps))
    features.append(Referrals().feature())
    features.append(Oversight(deps).feature())
    features.append(Breaches(deps).feature())
    features.append(Retention(deps.db, deps.clock, deps.settings).feature())
    features.append(Violations(deps).feature())
    features.append(DirectoryChat(deps, fetch).feature())
    features.append(Feature(jobs=[partial(tell_unreached, deps)]))  # a channel's unreached
    return features


def sweeper_for(deps: Deps, features: Sequence[Feature]) -> Sweeper:
    return Sweeper(deps, [job for feature in features for job in feature.jobs])


async def _open(app: BotApplication, settings: Settings, clock: Clock) -> None:
    found = await open_services(app, settings, clock)
    app.bot_data[SERVICES_KEY] = found
    await _set_commands(app, found.deps.translations)
    await found.instance.beat()  # the leases free now are this instance's before it starts
    found.tasks.append(asyncio.create_task(found.instance.run(), name="leases"))
    found.tasks.append(asyncio.create_task(found.sender.run(), name="outbox-sender"))
    found.schedule.start()


async def _close(app: BotApplication) -> None:
    found: Services | None = app.bot_data.pop(SERVICES_KEY, None)
    if found is not None:
        await close_core(found)


async def close_core(found: Services | Core) -> None:
    await found.schedule.stop()  # a sweep under way finishes first
    await found.sender.stop()
    await found.instance.stop()  # the other instances take over at once
    # Let the sender finish what it started (a delivery's outcome) before the
    # database closes; only a loop stuck longer than that is cancelled.
    _, stuck = await asyncio.wait(found.tasks, timeout=5) if found.tasks else (set(), set())
    for task in stuck:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await found.sender.stop()  # deliveries started by a pass that was under way
    if found.zalo is not None:
        await found.zalo.close()
    await found.db.close()


async def _set_commands(app: BotApplication, translations: Translations) -> None:
    """The command menu in each language; a failure (the API went away) only costs the menu's
    update: the previous one stays, and the next start sets it again."""
    for t in translations.all():
        # Everyone's commands; a registered person's chat gets their own menu (command_menu).
        commands = [BotCommand(name, about[:256]) for name, about in command_menu(t, None)]
        try:
            await app.bot.set_my_commands(commands, language_code=t.language)
            if t.language == translations.default_language:
                await app.bot.set_my_commands(commands)
        except TelegramError as exc:
            log.warning("the command menu (%s) was not updated: %s", t.language, exc)
            return


def run(settings: Settings, *, webhook: bool = False) -> int:
    """`python -m bot run [--webhook]`: 0 after SIGTERM or Ctrl-C, 2 when Telegram refuses the
    token (at start or later: a revoked token). An unreachable Bot API is waited out. With
    ZALO_APP_ID and no TELEGRAM_BOT_TOKEN the bot runs on Zalo alone."""
    if settings.zalo_on and not settings.telegram_on:
        return asyncio.run(_serve_zalo_only(settings))
    return asyncio.run(_serve(settings, webhook))


@dataclass
class ZaloOnly:
    """The bot without Telegram: the services, the outbox and Zalo's webhook route."""

    core: Core
    server: InboundServer

    @property
    def zalo(self) -> ZaloParts:
        assert self.core.zalo is not None
        return self.core.zalo


async def start_zalo_only(settings: Settings, clock: Clock) -> ZaloOnly:
    redaction.install(settings.secret_values())
    limiter = RateLimiter(settings.send_rate_per_second)
    core = await open_core(settings, clock, limiter, {}, {})
    assert core.zalo is not None
    await core.instance.beat()  # the leases free now are this instance's before it starts
    core.tasks.append(asyncio.create_task(core.instance.run(), name="leases"))
    core.tasks.append(asyncio.create_task(core.sender.run(), name="outbox-sender"))
    core.schedule.start()
    await core.zalo.inbound.resume()
    core.zalo.start()
    server = InboundServer({core.zalo.webhook.path: core.zalo.webhook.handle})
    await server.start(settings.webhook_listen, settings.webhook_port)
    return ZaloOnly(core, server)


async def stop_zalo_only(running: ZaloOnly) -> None:
    await running.server.stop()
    await running.zalo.inbound.drain(timeout=5)
    await close_core(running.core)


def keep_start_up_out_of_collections() -> None:
    """What start-up built (the libraries, the directory, the catalogs) lives as long as the
    process: frozen, the collector's full passes no longer walk it. Those passes stalled the
    loop for 100-500 ms at 300 updates a second, which every messenger's post waiting then felt
    (bench/zalo_webhook.py, bench/webhook.py)."""
    gc.collect()
    gc.freeze()


async def _serve_zalo_only(settings: Settings) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    running = await start_zalo_only(settings, SystemClock(settings.tz))
    log.info("khaibao runs on Zalo alone (webhook on port %d)", running.server.port)
    keep_start_up_out_of_collections()
    try:
        await stopping.wait()
    finally:
        await stop_zalo_only(running)
    return 0


async def _serve(settings: Settings, webhook: bool) -> int:
    t = Translations(default_language=settings.default_language).for_language(None)
    url = settings.telegram_api_base_url
    stopping, refused = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    app = build_application(settings, on_refused_token=refused.set)
    quiet_ptb_token_tracebacks()
    try:
        if not await _until_stopped(connect(app.initialize, t, url), stopping):
            return 0
        log.info(
            t._("Connected to the Telegram Bot API as @{username}.", username=app.bot.username)
        )
        await _start_running(app, settings.polling_timeout_seconds, webhook=webhook)
        how = f"webhook on {settings.webhook_url}" if webhook else "polling"
        log.info("khaibao runs (%s) against %s", how, url)
        keep_start_up_out_of_collections()
        polling = services_of(app).polling
        if polling is not None:  # a polling loop that ends by itself (token refused) stops the bot
            polling.add_done_callback(lambda _: stopping.set())
        await _until_stopped(refused.wait(), stopping)
        if _ended_on_refused_token(polling) or refused.is_set():
            raise TokenRefused(token_refused_line(t))
        return 0
    except TokenRefused as exc:
        log.error("%s", exc)
        return 2
    finally:
        await stop_app(app)
        for request in app.bot._request:  # open even when the first call to the API failed
            await request.shutdown()


def _ended_on_refused_token(polling: asyncio.Task[None] | None) -> bool:
    """Also reads the loop's exception, so asyncio does not report it as never retrieved."""
    if polling is None or not polling.done() or polling.cancelled():
        return False
    return isinstance(polling.exception(), InvalidToken)


async def _until_stopped(work: Awaitable[object], stopping: asyncio.Event) -> bool:
    """Run `work` until it is done (True) or a stop signal comes first (False)."""
    task, stop = asyncio.ensure_future(work), asyncio.ensure_future(stopping.wait())
    await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, stop):
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pending
    return task.done() and not task.cancelled() and task.exception() is None


async def start_app(app: BotApplication, poll_timeout: int = 1, *, webhook: bool = False) -> None:
    """Open everything, hand over what the inbox still holds, then receive: long polling, or the
    webhook server (with setWebhook). Inside a running event loop (tests, the sandbox)."""
    await app.initialize()
    await _start_running(app, poll_timeout, webhook=webhook)


async def _start_running(app: BotApplication, poll_timeout: int, *, webhook: bool) -> None:
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    found = services_of(app)
    await found.inbound.resume()
    if found.zalo is not None:
        await found.zalo.inbound.resume()
        found.zalo.start()
    if webhook:
        await _start_webhook(app, found)
        return
    if found.zalo is not None:  # Zalo only posts events: the inbound server runs for it alone
        await _start_server(found, {})
    settings = found.settings
    t = Translations(default_language=settings.default_language).for_language(None)
    url = settings.telegram_api_base_url

    async def leave_webhook_mode() -> None:
        await app.bot.delete_webhook(drop_pending_updates=False)

    await connect(leave_webhook_mode, t, url)  # an outage right after connecting is waited out
    found.poller = TelegramPoller(
        app.bot, found.inbound, poll_timeout, on_fault=polling_fault_logger(t, url)
    )
    found.polling = asyncio.create_task(found.poller.run(), name="polling")


async def _start_webhook(app: BotApplication, found: Services) -> None:
    settings = found.settings
    secret = settings.require_webhook()
    route = TelegramWebhook(secret, found.inbound)
    await _start_server(found, {route.path_for(settings.webhook_url): route.handle})
    try:
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    except BadRequest as exc:
        raise SettingsError(
            f"WEBHOOK_URL {settings.webhook_url!r} was refused by Telegram ({exc.message}); "
            "fix it in .env"
        ) from None


async def _start_server(found: Services, routes: dict[str, Route]) -> None:
    """The inbound server: the routes given, and Zalo's when Zalo is on."""
    if found.zalo is not None:
        routes = {**routes, found.zalo.webhook.path: found.zalo.webhook.handle}
    found.server = InboundServer(routes)
    await found.server.start(found.settings.webhook_listen, found.settings.webhook_port)


async def stop_app(app: BotApplication) -> None:
    """Stop receiving, let the updates being handled finish, close everything."""
    found: Services | None = app.bot_data.get(SERVICES_KEY)
    if found is not None:
        if found.poller is not None and found.polling is not None:
            found.poller.stop()  # the batch being stored is stored; no new one is fetched
            await asyncio.wait({found.polling}, timeout=5)
            _ended_on_refused_token(found.polling)  # read, so asyncio does not report it again
        if found.server is not None:
            await found.server.stop()
        await found.inbound.drain(timeout=5)
        if found.zalo is not None:
            await found.zalo.inbound.drain(timeout=5)
    if app.running:
        await app.stop()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    await app.shutdown()


def services_of(app: BotApplication) -> Services:
    found: Services = app.bot_data[SERVICES_KEY]
    return found
