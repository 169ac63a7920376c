"""`python -m bot demo`: the real bot on a fresh SQLite file with the sample district, polling the
local sandbox Bot API server, with the web page to chat as sample staff and turn the time dial.

Everything listens on 127.0.0.1 only. Ctrl-C (or SIGTERM) stops the bot, the server and removes
the temporary database.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import secrets
import shutil
import signal
import socket
import tempfile
import typing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import SecretStr

from bot.app import BotApplication, build_application, services_of, start_app, stop_app
from bot.clock import OffsetClock, SystemClock
from bot.config import Settings
from bot.i18n import Translations, Translator
from bot.sandbox.server import FakeBotApi
from bot.sandbox.web import Person, SandboxWeb, people_of
from bot.sandbox.zalo_server import FakeZaloOA
from bot.sandbox.zalo_web import ZaloPanes
from bot.services.registration.directory_import import import_directory, write_invites
from storage.directory_repo import DirectoryRepo
from storage.engine import open_database

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SANDBOX_RATE_CAP = 30.0  # sends per second before the sandbox answers 429, as Telegram would


class DemoError(Exception):
    """The demo cannot start (missing sample files, a directory problem, a busy port)."""


@dataclass(frozen=True)
class DemoOptions:
    port: int = 0
    start: datetime | None = None
    examples: Path = EXAMPLES
    keep_db: Path | None = None  # use this database file instead of a temporary one


class Demo:
    def __init__(self, settings: Settings, options: DemoOptions) -> None:
        self.base_settings = settings
        self.options = options
        self.clock = OffsetClock(SystemClock(settings.tz))
        if options.start is not None:
            self.clock.jump_to(options.start)
        self.api = FakeBotApi(
            token=f"{10**8 + secrets.randbelow(9 * 10**8)}:{secrets.token_urlsafe(30)}",  # per run
            control_api=False,
            rate_cap=SANDBOX_RATE_CAP,
            bot_username="khaibao_sandbox_bot",
            clock=lambda: self.clock.now().timestamp(),  # message dates follow the dial
        )
        # The Zalo OA beside it, on its own port: its clock follows the dial too.
        self.zalo = FakeZaloOA(control_api=False, clock=lambda: self.clock.now().timestamp())
        self.zalo_webhook_port = 0
        self.app: BotApplication | None = None
        self.web: SandboxWeb | None = None
        self._tmp: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.api.port}/"

    async def start(self) -> None:
        db_path = self._database_path()
        people = await self._load_sample(db_path)
        panes = ZaloPanes(self.zalo, people)
        self.web = SandboxWeb(self.api, people, self.clock, self.tick, channels=(panes,))
        self.api.add_routes(self.web.install)
        try:
            await self.api.start(HOST, self.options.port)
            await self.zalo.start(HOST)
        except OSError as exc:
            raise DemoError(f"cannot listen on {HOST}:{self.options.port}: {exc}") from exc
        settings = self._settings(db_path)
        self.app = build_application(settings, self.clock)
        await start_app(self.app, poll_timeout=settings.polling_timeout_seconds)

    async def stop(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            await stop_app(app)
        await self.api.stop()
        await self.zalo.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    async def tick(self) -> None:
        """Run the sweep now (after the dial moved), so due reminders go out at once."""
        if self.app is None:
            return
        await services_of(self.app).sweeper.tick()  # one tick at a time: the Sweeper's lock

    def _database_path(self) -> Path:
        if self.options.keep_db is not None:
            return self.options.keep_db
        self._tmp = Path(tempfile.mkdtemp(prefix="khaibao-demo-"))
        return self._tmp / "khaibao-demo.db"

    async def _load_sample(self, db_path: Path) -> list[Person]:
        files = [
            self.options.examples / name for name in ("units.csv", "staff.csv", "routing.toml")
        ]
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise DemoError(f"sample directory files not found: {', '.join(missing)}")
        db = await open_database(db_path)
        try:
            contacts = self.options.examples / "contacts.csv"  # optional: bodies outside the bot
            outcome = await import_directory(
                db,
                self.clock,
                *files,
                dry_run=False,
                actor="demo",
                contacts=contacts if contacts.is_file() else None,
            )
            if outcome.problems:
                raise DemoError(
                    "the sample directory does not load: " + "; ".join(outcome.problems)
                )
            invites_file = db_path.parent / "invites.csv"
            await write_invites(db, self.clock, self.api.bot_username, invites_file)
            async with db.reading() as tx:
                directory = await DirectoryRepo(tx).load()
        finally:
            await db.close()
        return people_of(directory, _invite_links(invites_file))

    def zalo_settings(self) -> dict[str, object]:
        """The bot's Zalo settings for the sandbox OA (the hook for the Zalo channel): the ids,
        keys and a seeded refresh token, both base URLs at the fake, and the inbound server
        the fake posts its signed events to (`/zalo/webhook`). Only the settings `Settings`
        has are applied, so the demo runs Telegram alone until the Zalo channel exists."""
        zalo = self.zalo
        _, refresh = zalo.issue_tokens()
        wanted: dict[str, object] = {
            "zalo_app_id": zalo.app_id, "zalo_oa_id": zalo.oa_id,
            "zalo_app_secret": zalo.app_secret, "zalo_oa_secret_key": zalo.oa_secret_key,
            "zalo_refresh_token": refresh, "zalo_api_base_url": zalo.base_url,
            "zalo_oauth_base_url": zalo.base_url, "zalo_signature_id": zalo.webhooks.signature_id,
            "webhook_listen": HOST, "webhook_port": self.zalo_webhook_port,
        }  # fmt: skip
        known = type(self.base_settings).model_fields
        if "zalo_app_id" not in known:
            return {}
        zalo.webhooks.configure(url=f"http://{HOST}:{self.zalo_webhook_port}/zalo/webhook")
        return {  # model_copy does not validate: secrets go in as the field's own type
            name: SecretStr(str(value)) if _is_secret(known[name].annotation) else value
            for name, value in wanted.items()
            if name in known
        }

    def _settings(self, db_path: Path) -> Settings:
        if "zalo_app_id" in type(self.base_settings).model_fields:
            self.zalo_webhook_port = _free_port()
        return self.base_settings.model_copy(
            update={
                **self.zalo_settings(),
                "telegram_bot_token": SecretStr(self.api.token),  # model_copy does not validate
                "telegram_api_base_url": self.api.base_url,
                "telegram_bot_username": self.api.bot_username,
                "database_path": db_path,
                "exports_dir": None,  # the demo's files stay beside its own database
                "files_dir": None,
                "polling_timeout_seconds": 10,
                "per_chat_interval_seconds": 0.0,
                "send_rate_per_second": min(self.base_settings.send_rate_per_second, 25.0),
                "sweep_interval_seconds": min(self.base_settings.sweep_interval_seconds, 2.0),
            }
        )


async def serve(settings: Settings, options: DemoOptions, t: Translator) -> int:
    """Run the demo until Ctrl-C or SIGTERM; prints the address once everything is up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    demo = Demo(settings, options)
    try:
        await demo.start()
        print(t._("khaibao sandbox: open {url} in your browser (Ctrl-C stops it)", url=demo.url),
              flush=True)  # fmt: skip
        await stop.wait()
        print(t._("khaibao sandbox: stopping"), flush=True)
    finally:
        await demo.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)
    return 0


def parse_start(text: str) -> datetime:
    """`2021-05-26 09:00` or `2021-05-26T09:00` (in the bot's time zone)."""
    return datetime.fromisoformat(text.strip().replace(" ", "T", 1))


def run(settings: Settings, options: DemoOptions) -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    t = Translations(
        default_language=settings.default_language, home_is_province=settings.home_is_province
    ).for_language(settings.default_language)
    try:
        return asyncio.run(serve(settings, options, t))
    except DemoError as exc:
        print(t._("khaibao demo cannot start: {problem}", problem=str(exc)))
        return 1


def _is_secret(annotation: object) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _invite_links(path: Path) -> dict[str, str]:
    """staff_id → invite link, from the file `python -m bot invites` also writes."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["staff_id"]: row["invite_link"] for row in csv.DictReader(handle)}
