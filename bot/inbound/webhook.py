"""The inbound HTTP server of webhook mode: one route per messenger, each storing what it is sent
in the inbox before it answers.

Telegram's route checks the secret header (set with setWebhook's secret_token) in constant time,
writes the update to the inbox and answers 200 at once; handling goes on asynchronously. Without
the right secret: 403 and nothing stored. A body that is not an update: 400. Another messenger
(Zalo) adds its own route to the table.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

from aiohttp import web

from bot.inbound.telegram import BadUpdate, TelegramInbound, update_key

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # Telegram's updates are far smaller; larger bodies get 413
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


class InboundServer:
    """An aiohttp server for a table of routes: path -> handler (POST)."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        for path, handler in self.routes.items():
            app.router.add_post(path, handler)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = int(self._runner.addresses[0][1])
        log.info("webhook server listening on %s:%d (%s)", host, self.port, ", ".join(self.routes))

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


class TelegramWebhook:
    def __init__(self, secret: str, inbound: TelegramInbound) -> None:
        self._secret = secret.encode()
        self.inbound = inbound

    @staticmethod
    def path_for(url: str) -> str:
        """The path Telegram posts to: the public URL's (a reverse proxy keeps it), else /."""
        return urlsplit(url).path or "/"

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="wrong or missing secret token")
        try:
            body = json.loads(await request.read())
            update_key(body)
        except (ValueError, BadUpdate) as exc:  # UnicodeDecodeError and JSONDecodeError too
            return web.Response(status=400, text=f"not a Telegram update: {exc}"[:200])
        try:
            await self.inbound.accept([body])
        except Exception:  # not stored: Telegram must send it again
            log.exception("could not store update %s", body.get("update_id"))
            return web.Response(status=500, text="not stored; send again")
        return web.Response(status=200)
