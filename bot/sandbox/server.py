"""A local Telegram Bot API server, faithful enough that python-telegram-bot cannot tell it apart.

It is the sandbox of `python -m bot demo` and the fake Telegram of the end-to-end tests
(`tests/fakebot` re-exports it). Run it in-process (``await FakeBotApi().start()``, then point
PTB's ``base_url`` at ``fake.base_url``) or as a separate process (``python -m tests.fakebot``),
driven over the small JSON control API under ``/_control/``. Extra routes (the demo's web page)
are added with ``add_routes`` before ``start``.

The parts, around one shared chat store (none imports this module):
``model`` (users, messages, files, API errors), ``store`` (the `ChatStore`), ``faults`` (injected
errors and delays), ``botapi`` (the Bot API methods), ``webhooks`` (posting updates to a bot's
webhook), ``testapi`` (the control API) and ``web`` (the demo page's API).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from bot.sandbox.botapi import BotApi
from bot.sandbox.faults import Faults
from bot.sandbox.model import (
    DEFAULT_TOKEN,
    TINY_PNG,
    UPLOAD_LIMIT,
    ApiError,
    FakeUser,
    SentMessage,
    StoredFile,
)
from bot.sandbox.store import ChatStore
from bot.sandbox.testapi import ControlApi
from bot.sandbox.webhooks import WebhookDeliverer

__all__ = [
    "DEFAULT_TOKEN",
    "TINY_PNG",
    "ApiError",
    "ChatStore",
    "FakeBotApi",
    "FakeUser",
    "SentMessage",
    "StoredFile",
]


class FakeBotApi(ChatStore):
    """The chat store served over HTTP: the Bot API, the control API and any extra routes."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        rate_cap: float | None = None,
        bot_username: str = "khaibao_test_bot",
        clock: Callable[[], float] = time.time,
        control_api: bool = True,
    ) -> None:
        """`control_api`: serve the tests' JSON control API under /_control/ (the demo does not:
        its page has its own, guarded)."""
        super().__init__(rate_cap=rate_cap, bot_username=bot_username, clock=clock)
        self.base_url = ""
        self.base_file_url = ""
        self.port = 0
        self.faults = Faults(self.stopping)
        self.fail_next = self.faults.fail_next
        self.delay_next = self.faults.delay_next
        self.fault_share = self.faults.fault_share
        self._bot_api = BotApi(self, self.faults, token)
        self.webhooks = WebhookDeliverer(self)
        self._runner: web.AppRunner | None = None
        self._extra_routes: list[Callable[[web.Application], None]] = (
            [ControlApi(self, self.faults).install] if control_api else []
        )

    @property
    def token(self) -> str:
        return self._bot_api.token

    def revoke_token(self, new_token: str) -> None:
        """As @BotFather's /revoke: from now on the old token gets 401 Unauthorized."""
        self._bot_api.token = new_token

    def add_routes(self, install: Callable[[web.Application], None]) -> None:
        """Call `install(app)` to add routes when the server starts (before the catch-all)."""
        self._extra_routes.append(install)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        self._bot_api.install(app)
        for install in self._extra_routes:
            install(app)
        app.router.add_route("*", "/{tail:.*}", self._bot_api.handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = int(self._runner.addresses[0][1])
        self.base_url = f"http://{host}:{self.port}/bot"
        self.base_file_url = f"http://{host}:{self.port}/file/bot"
        self.webhooks.start()

    async def stop(self) -> None:
        """Stop serving; pending long polls and delayed calls are released at once."""
        self.stopping.set()
        self.notify()
        await self.webhooks.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
