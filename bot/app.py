"""The one composition root: storage, services, channel adapters, the outbox sender, the sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import BotCommand, Update
from telegram.ext import ApplicationBuilder

from bot import redaction
from bot.channels.telegram import CHANNEL, TelegramApp, TelegramReplier, TelegramTransport
from bot.channels.telegram_http import AiohttpRequest
from bot.channels.telegram_ordering import PerPersonUpdateProcessor
from bot.clock import SystemClock
from bot.config import Settings
from bot.domain.clock import Clock
from bot.i18n import Translations
from bot.services.broadcast.feature import Broadcasts
from bot.services.health.feature import Health
from bot.services.kernel.admin_alerts import AdminAlerts
from bot.services.kernel.dispatch import Dispatcher
from bot.services.kernel.feature import Feature
from bot.services.kernel.menu import COMMANDS
from bot.services.kernel.schedule import SweepSchedule
from bot.services.kernel.step import Deps, DirectoryCache
from bot.services.kernel.sweep import Sweeper
from bot.services.outbox.later_views import LaterViews
from bot.services.outbox.sender import OutboxSender, RateLimiter
from bot.services.oversight.feature import Oversight
from bot.services.registration.feature import RegistrationService
from bot.services.returns.feature import Returns
from bot.services.travel.feature import Travel
from handlers import register_all
from handlers.common import SERVICES_KEY
from storage.db import Database

log = logging.getLogger(__name__)

BotApplication = TelegramApp  # the type other parts name, so they need not import PTB


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
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def build_application(settings: Settings, clock: Clock | None = None) -> BotApplication:
    """The real bot: PTB Application wired to khaibao's services (opened in post_init)."""
    redaction.install(settings.secret_values())
    app = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.api_file_base_url)
        .concurrent_updates(PerPersonUpdateProcessor(settings.concurrent_updates))
        .request(AiohttpRequest(timeout=settings.http_timeout_seconds))  # httpx tops out at ~650/s
        .get_updates_request(AiohttpRequest(pool_size=1, timeout=settings.http_timeout_seconds))
        .post_init(
            lambda application: _open(application, settings, clock or SystemClock(settings.tz))
        )
        .post_shutdown(_close)
        .build()
    )
    register_all(app)
    return app


async def open_services(app: BotApplication, settings: Settings, clock: Clock) -> Services:
    db = await Database.open(settings.database_path)
    limiter = RateLimiter(settings.send_rate_per_second)
    paid = settings.telegram_paid_broadcast
    transport = TelegramTransport(app.bot, settings.upload_folders, paid_broadcast=paid)
    translations = Translations(
        default_language=settings.default_language, home_is_province=settings.home_is_province
    )
    later_views = LaterViews(translations)
    sender = OutboxSender(
        db,
        {CHANNEL: transport},
        clock,
        limiter,
        bulk_limiter=RateLimiter(settings.paid_broadcast_rate_per_second) if paid else None,
        per_chat_interval=settings.per_chat_interval_seconds,
        render_later=later_views.render,
    )
    deps = Deps(db, clock, translations, DirectoryCache(), sender.wake, settings)
    registration = RegistrationService(deps)
    features = build_features(deps)
    for feature in features:
        later_views.add(feature.later_views)
    dispatcher = Dispatcher(deps, registration, features)
    sweeper = sweeper_for(deps, features)
    return Services(
        settings=settings,
        db=db,
        deps=deps,
        sender=sender,
        replier=TelegramReplier(transport, limiter),
        registration=registration,
        dispatcher=dispatcher,
        admin_alerts=AdminAlerts(deps, settings.admin_alert_interval()),
        sweeper=sweeper,
        schedule=SweepSchedule(
            sweeper,
            clock,
            SystemClock(settings.tz),
            timedelta(seconds=settings.sweep_interval_seconds),
            [wake for feature in features for wake in feature.wakes],
        ),
    )


def build_features(deps: Deps) -> list[Feature]:
    travel = Travel(deps)
    returns = Returns(deps, travel.approvals.submit, travel.approvals.status)
    features = [travel.feature(), returns.feature(), Broadcasts(deps).feature()]
    features.append(Health(deps).feature())
    features.append(Oversight(deps).feature())
    return features


def sweeper_for(deps: Deps, features: Sequence[Feature]) -> Sweeper:
    return Sweeper(deps, [job for feature in features for job in feature.jobs])


async def _open(app: BotApplication, settings: Settings, clock: Clock) -> None:
    found = await open_services(app, settings, clock)
    app.bot_data[SERVICES_KEY] = found
    await _set_commands(app, found.deps.translations)
    found.tasks.append(asyncio.create_task(found.sender.run(), name="outbox-sender"))
    found.schedule.start()


async def _close(app: BotApplication) -> None:
    found: Services | None = app.bot_data.pop(SERVICES_KEY, None)
    if found is None:
        return
    await found.schedule.stop()  # a sweep under way finishes first
    await found.sender.stop()
    # Let the sender finish what it started (a delivery's outcome) before the
    # database closes; only a loop stuck longer than that is cancelled.
    _, stuck = await asyncio.wait(found.tasks, timeout=5) if found.tasks else (set(), set())
    for task in stuck:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await found.sender.stop()  # deliveries started by a pass that was under way
    await found.db.close()


async def _set_commands(app: BotApplication, translations: Translations) -> None:
    for t in translations.all():
        commands = [BotCommand("start", t._("Start or register"))]
        commands += [BotCommand(c.name, c.describe(t)[:256]) for c in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=t.language)
        if t.language == translations.default_language:
            await app.bot.set_my_commands(commands)


def run_polling(settings: Settings) -> None:
    app = build_application(settings)
    log.info("khaibao starts polling %s", settings.telegram_api_base_url)
    app.run_polling(
        allowed_updates=Update.ALL_TYPES,
        drop_pending_updates=False,
        timeout=settings.polling_timeout_seconds,
    )


async def start_app(app: BotApplication, poll_timeout: int = 1) -> None:
    """Start polling inside a running event loop (tests, the sandbox); run_polling does this itself."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0,
        timeout=poll_timeout,
        drop_pending_updates=False,
        allowed_updates=Update.ALL_TYPES,
    )
    await app.start()


async def stop_app(app: BotApplication) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    await app.shutdown()


def services_of(app: BotApplication) -> Services:
    found: Services = app.bot_data[SERVICES_KEY]
    return found
