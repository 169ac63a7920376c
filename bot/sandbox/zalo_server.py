"""The sandbox Zalo Official Account server: the OA Open API (`openapi.zalo.me`), the OAuth token
endpoint (`oauth.zaloapp.com`), the signed webhooks and the tests' control API, on one port.

    fake = FakeZaloOA(webhook_url="http://127.0.0.1:8443/zalo/webhook")  # signature_id="app_id"
    await fake.start()
    # ZALO_API_BASE_URL = ZALO_OAUTH_BASE_URL = fake.base_url; ZALO_APP_ID = APP_ID,
    # ZALO_OA_ID = OA_ID, ZALO_APP_SECRET = APP_SECRET, ZALO_OA_SECRET_KEY = OA_SECRET_KEY
    _, refresh = fake.issue_tokens()  # ZALO_REFRESH_TOKEN = refresh
    anh = fake.user("Nguyễn Văn An", phone="84912345678")
    fake.follow(anh)  # a signed `follow` event is posted to the webhook
    sent = await fake.next_message(anh.user_id)  # the next cs message the OA sent An

In-process (a `ZaloStore`; every user action returns the `ZaloEvent` it queued: `.seq`, `.body`,
`.raw`, the bytes posted and signed):
- users: `user(name, user_id=None, phone="")` (not following, never interacted), `follow(user)`,
  `unfollow(user)`, `block(user)` (cs → -217), `send_text(user, text, quote_msg_id=None)`,
  `send_image(user, data, caption="")`, `send_file(user, data, name, mime)` (the event's
  attachment url serves the bytes from this server), `tap(user, sent, title_contains)` (the
  button's payload as `user_send_text`; only `oa.query.*` buttons), `submit_info(user, phone=,
  name=)` (only after a `request_user_info` reached them), `receipt(user, [sent], seen=True)`,
  `send_location(user, lat, lon)`, `send_sticker(user)`,
  `queue_event(user_id, body)` (any body, posted as given). Following, writing, tapping and
  submitting are interactions; unfollowing and receipts are not.
- reads: `messages(user_id)` → [`ZaloSent`] (`kind` text|buttons|request_user_info|image|gif|
  file|template, `text`, `buttons`, `button_titles()`, `payload_of(title)`, `upload`, `billable`,
  `message_id`), `next_message(user_id, timeout)` / `mark_read(user_id)`, `timeline(user_id)`,
  `window(user)` → free|billable|closed, `user_detail(user_id)`, `stats()` (sent, billable,
  refused by code, refreshes, refresh_reuses, billable_by_user, ...), `counters`, `requests`
  ((endpoint, body) of every call), `events`, `peak_calls(window)`.
- Zalo's side: `advance(seconds)` (tokens, uploads and the 7-day window follow it; `clock=` sets
  the base), `issue_tokens()`, `issue_auth_code()`, `expire_access_tokens()`, `code_challenge`
  (PKCE), `expired_token_code` (-216, or -220), `approve_template(id, params)`, `require_follow`,
  `echoes` (post `oa_send_*` for each send), `reply_quota` (None; 8: the legacy rule, -211 past
  it, answers carry `quota`). Every API answer has `X-RateLimit-Limit` / `X-RateLimit-Remain`.
- faults: `fail_next(endpoint, code, count=1, message=None, user_id=None, http_status=None)`,
  `delay_next(endpoint, seconds, count=1)`; endpoints: the keys of `zalo_api.ROUTES`
  ("message/cs", "upload/file", ...) and "access_token".
- webhooks (`fake.webhooks`): `configure(url=, signature_id="app_id"|"oa_id", signature_key=,
  repeat_share=)`, `repeat_next(count)`, `answer_timeout` (2 s), `retry_pauses`, `deliveries`
  (seq, event_name, user_id, num_retry, status, repeat, seconds), `given_up`, `idle`,
  `await wait_idle()`.

Over HTTP, `<base_url>/_zalo/control/<name>` (JSON in and out; 400 `{"error"}` on a bad call):
POST users {display_name, user_id?, phone?, follow?}, text {user_id, text}, image {user_id,
data_base64?, caption?}, file {user_id, name, data_base64}, tap {user_id, message_id, title},
submit_info {user_id, phone?}, follow / unfollow {user_id}, block {user_id, blocked?}, seen
{user_id, message_ids?}, location {user_id, latitude, longitude}, sticker {user_id}, event
{user_id, body}, settings {reply_quota?, require_follow?, echoes?, expired_token_code?,
code_challenge?}, clock {advance_seconds|_hours|_days}, tokens,
auth_code, expire_tokens, template {template_id, params}, fail_next {endpoint, code, count?,
user_id?, message?, http_status?}, delay_next {endpoint, seconds, count?}, webhook {url?,
signature_id?, signature_key?, repeat_share?}, repeat_next {count}; GET messages / timeline /
user ?user_id=, stats, deliveries, requests, events.
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
