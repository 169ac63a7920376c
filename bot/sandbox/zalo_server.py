"""The sandbox Zalo Official Account server: the OA Open API (`openapi.zalo.me`), the OAuth token
endpoint (`oauth.zaloapp.com`), the signed webhooks and the tests' control API, on one port.

    fake = FakeZaloOA(webhook_url="http://127.0.0.1:8443/zalo/webhook")
    await fake.start()
    # ZALO_API_BASE_URL = ZALO_OAUTH_BASE_URL = fake.base_url
    access, refresh = fake.issue_tokens()  # ZALO_REFRESH_TOKEN = refresh
    anh = fake.user("Nguyễn Văn An", phone="84912345678")
    fake.follow(anh)  # a signed `follow` event reaches the bot
    sent = await fake.next_message(anh.user_id)  # what the OA sent back
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from bot.sandbox.zalo_api import MAX_REQUEST_BYTES, ZaloApi, ZaloFaults
from bot.sandbox.zalo_model import APP_ID, APP_SECRET, OA_ID, OA_SECRET_KEY, ZaloSent, ZaloUser
from bot.sandbox.zalo_store import ZaloEvent, ZaloStore
from bot.sandbox.zalo_testapi import ZaloControlApi
from bot.sandbox.zalo_webhooks import ZaloWebhooks

__all__ = ["APP_ID", "APP_SECRET", "OA_ID", "OA_SECRET_KEY", "FakeZaloOA", "ZaloEvent",
           "ZaloSent", "ZaloUser"]  # fmt: skip


class FakeZaloOA(ZaloStore):
    """The Zalo store served over HTTP, with its webhook deliverer and faults."""

    def __init__(
        self,
        *,
        webhook_url: str = "",
        signature_id: str = "app_id",
        clock: Callable[[], float] = time.time,
        control_api: bool = True,
        rate_per_minute: int = 4000,
        rate_window: float = 60.0,
        repeat_share: float = 0.0,
        retry_pauses: tuple[float, ...] | None = None,
    ) -> None:
        """`control_api`: serve the tests' JSON API under /_zalo/control/ (the demo does not)."""
        super().__init__(clock=clock, rate_per_minute=rate_per_minute, rate_window=rate_window)
        self.faults = ZaloFaults(self.stopping)
        self.fail_next = self.faults.fail_next
        self.delay_next = self.faults.delay_next
        self.webhooks = ZaloWebhooks(self, url=webhook_url, signature_id=signature_id,
                                     repeat_share=repeat_share)  # fmt: skip
        if retry_pauses is not None:
            self.webhooks.retry_pauses = retry_pauses
        self._api = ZaloApi(self, self.faults)
        self._control = ZaloControlApi(self, self.faults, self.webhooks) if control_api else None
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.port = 0

    def install(self, app: web.Application) -> None:
        """The Zalo routes on an app of the caller's (the demo serves them beside Telegram's)."""
        if self._control is not None:
            self._control.install(app)
        self._api.install(app)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        self.install(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = int(self._runner.addresses[0][1])
        self.serving_at(f"http://{host}:{self.port}")
        self.webhooks.start()

    def serving_at(self, base_url: str) -> None:
        """Where the API (and the users' file links) are served: both `ZALO_API_BASE_URL` and
        `ZALO_OAUTH_BASE_URL` point here."""
        self.base_url = base_url
        self.files_base_url = f"{base_url}/_zalo/files"

    async def stop(self) -> None:
        self.stopping.set()
        self.notify()
        await self.webhooks.stop()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
