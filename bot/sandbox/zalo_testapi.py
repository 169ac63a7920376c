"""The sandbox Zalo OA's test API under `/_zalo/control/`: act as Zalo users, read what the OA
sent them, move Zalo's clock, hand out tokens, inject faults, over HTTP.

For a fake run in its own process or a test that speaks only HTTP; in-process tests call the
`FakeZaloOA` (a `ZaloStore`) directly. Every answer is JSON; a bad request is HTTP 400
`{"error": ...}` (this API is the tests' own, not Zalo's, so it may use HTTP statuses).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from bot.sandbox.model import TINY_PNG
from bot.sandbox.zalo_api import ZaloFaults
from bot.sandbox.zalo_model import ACCESS_TOKEN_LIFETIME, DAY, HOUR, JSON, ZaloSent, ZaloUser
from bot.sandbox.zalo_store import ZaloEvent, ZaloStore
from bot.sandbox.zalo_webhooks import ZaloWebhooks

PREFIX = "/_zalo/control/"


def event_json(event: ZaloEvent) -> JSON:
    message = event.body.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    return {"seq": event.seq, "event_name": event.event_name, "msg_id": msg_id,
            "body": event.body}  # fmt: skip


class ZaloControlApi:
    def __init__(self, store: ZaloStore, faults: ZaloFaults, webhooks: ZaloWebhooks) -> None:
        self.store = store
        self.faults = faults
        self.webhooks = webhooks

    def install(self, app: web.Application) -> None:
        posts: dict[str, Callable[[JSON], Any]] = {
            "users": self._user, "text": self._text, "image": self._image, "file": self._file,
            "tap": self._tap, "submit_info": self._submit_info, "follow": self._follow,
            "unfollow": self._unfollow, "block": self._block, "event": self._event,
            "clock": self._clock, "tokens": self._tokens, "auth_code": self._auth_code,
            "expire_tokens": self._expire_tokens, "template": self._template,
            "fail_next": self._fail_next, "delay_next": self._delay_next,
            "webhook": self._webhook, "repeat_next": self._repeat_next, "seen": self._seen,
            "location": self._location, "sticker": self._sticker, "settings": self._settings,
        }  # fmt: skip
        for name, action in posts.items():
            app.router.add_post(PREFIX + name, self._handler(action))
        gets: dict[str, Callable[[JSON], Any]] = {
            "messages": self._messages, "timeline": self._timeline, "user": self._user_json,
            "stats": self._stats, "deliveries": self._deliveries, "requests": self._requests,
            "events": self._events,
        }  # fmt: skip
        for name, action in gets.items():
            app.router.add_get(PREFIX + name, self._handler(action))

    @staticmethod
    def _handler(action: Callable[[JSON], Any]) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                if request.method == "GET":
                    body: object = dict(request.query)
                else:
                    body = await request.json() if request.can_read_body else {}
                if not isinstance(body, dict):
                    raise ValueError("a JSON object is expected")
                return web.json_response(action(body))
            except (AssertionError, KeyError, TypeError, ValueError) as exc:
                return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)

        return handle

    def _known(self, body: JSON) -> ZaloUser:
        return self.store.known(str(body["user_id"]))

    def _sent(self, user: ZaloUser, message_id: object) -> ZaloSent:
        for sent in self.store.messages(user.user_id):
            if sent.message_id == message_id:
                return sent
        raise ValueError(f"the OA sent no message {message_id!r} to {user.user_id}")

    # ------------------------------------------------------------------- users' actions

    def _user(self, body: JSON) -> JSON:
        user = self.store.user(str(body.get("display_name") or "Người dùng thử"),
                               user_id=None if body.get("user_id") is None else str(body["user_id"]), phone=str(body.get("phone", "")))  # fmt: skip
        answer = user.to_json()
        if body.get("follow", False):
            answer["event"] = event_json(self.store.follow(user))
        return answer

    def _text(self, body: JSON) -> JSON:
        event = self.store.send_text(self._known(body), str(body["text"]),
                                     quote_msg_id=body.get("quote_msg_id"))  # fmt: skip
        return event_json(event)

    def _image(self, body: JSON) -> JSON:
        data = base64.b64decode(body["data_base64"]) if "data_base64" in body else TINY_PNG
        event = self.store.send_image(self._known(body), data, caption=str(body.get("caption", "")),
                                      mime_type=str(body.get("mime_type", "image/png")))  # fmt: skip
        return event_json(event)

    def _file(self, body: JSON) -> JSON:
        data = base64.b64decode(body["data_base64"])
        event = self.store.send_file(self._known(body), data, str(body["name"]),
                                     str(body.get("mime_type", "application/octet-stream")))  # fmt: skip
        return event_json(event)

    def _tap(self, body: JSON) -> JSON:
        user = self._known(body)
        sent = self._sent(user, body["message_id"])
        return event_json(self.store.tap(user, sent, str(body["title"])))

    def _submit_info(self, body: JSON) -> JSON:
        event = self.store.submit_info(self._known(body), phone=body.get("phone"),
                                       name=body.get("name"))  # fmt: skip
        return event_json(event)

    def _follow(self, body: JSON) -> JSON:
        return event_json(
            self.store.follow(self._known(body), str(body.get("source", "oa_profile")))
        )

    def _unfollow(self, body: JSON) -> JSON:
        return event_json(self.store.unfollow(self._known(body)))

    def _block(self, body: JSON) -> JSON:
        self.store.block(self._known(body), bool(body.get("blocked", True)))
        return {"ok": True}

    def _location(self, body: JSON) -> JSON:
        latitude, longitude = float(body["latitude"]), float(body["longitude"])
        return event_json(self.store.send_location(self._known(body), latitude, longitude))

    def _sticker(self, body: JSON) -> JSON:
        return event_json(self.store.send_sticker(self._known(body)))

    def _settings(self, body: JSON) -> JSON:
        """Zalo's behaviour a test may change: reply_quota (the legacy 8, or null), require_follow,
        echoes, expired_token_code (-216 or -220), code_challenge (PKCE, or null)."""
        store = self.store
        if "reply_quota" in body:
            quota = body["reply_quota"]
            store.reply_quota = None if quota is None else int(quota)
        if "require_follow" in body:
            store.require_follow = bool(body["require_follow"])
        if "echoes" in body:
            store.echoes = bool(body["echoes"])
        if "expired_token_code" in body:
            store.expired_token_code = int(body["expired_token_code"])
        if "code_challenge" in body:
            store.code_challenge = body["code_challenge"]
        return {"reply_quota": store.reply_quota, "require_follow": store.require_follow,
                "echoes": store.echoes, "expired_token_code": store.expired_token_code,
                "code_challenge": store.code_challenge}  # fmt: skip

    def _seen(self, body: JSON) -> JSON:
        user = self._known(body)
        ids = body.get("message_ids") or [m.message_id for m in self.store.messages(user.user_id)]
        sent = [self._sent(user, message_id) for message_id in ids]
        return event_json(self.store.receipt(user, sent, seen=bool(body.get("seen", True))))

    def _event(self, body: JSON) -> JSON:
        if not isinstance(body.get("body"), dict):
            raise ValueError("body (the event's JSON object) is required")
        return event_json(self.store.queue_event(str(body["user_id"]), body["body"]))

    # ------------------------------------------------------------------- Zalo's side

    def _clock(self, body: JSON) -> JSON:
        seconds = float(body.get("advance_seconds", 0)) + float(body.get("advance_hours", 0)) * HOUR
        seconds += float(body.get("advance_days", 0)) * DAY
        return {"now": self.store.advance(seconds), "offset": self.store.offset}

    def _tokens(self, body: JSON) -> JSON:
        access, refresh = self.store.issue_tokens()
        return {"access_token": access, "refresh_token": refresh,
                "expires_in": str(int(ACCESS_TOKEN_LIFETIME))}  # fmt: skip

    def _auth_code(self, body: JSON) -> JSON:
        return {"code": self.store.issue_auth_code(), "oa_id": self.store.oa_id}

    def _expire_tokens(self, body: JSON) -> JSON:
        self.store.expire_access_tokens()
        return {"ok": True}

    def _template(self, body: JSON) -> JSON:
        params = body.get("params", [])
        if not isinstance(params, list):
            raise ValueError("params is a list of names")
        template = self.store.approve_template(str(body["template_id"]), tuple(map(str, params)))
        return {"template_id": template.template_id, "params": list(template.params)}

    def _fail_next(self, body: JSON) -> JSON:
        status = body.get("http_status")
        self.faults.fail_next(str(body["endpoint"]), int(body.get("code", 0)),
                              count=int(body.get("count", 1)), message=body.get("message"),
                              user_id=body.get("user_id"),
                              http_status=None if status is None else int(status))  # fmt: skip
        return {"ok": True}

    def _delay_next(self, body: JSON) -> JSON:
        self.faults.delay_next(str(body["endpoint"]), float(body["seconds"]),
                               int(body.get("count", 1)))  # fmt: skip
        return {"ok": True}

    def _webhook(self, body: JSON) -> JSON:
        share = body.get("repeat_share")
        self.webhooks.configure(url=body.get("url"), signature_id=body.get("signature_id"),
                                signature_key=body.get("signature_key"),
                                repeat_share=None if share is None else float(share))  # fmt: skip
        return {"url": self.webhooks.url, "signature_id": self.webhooks.signature_id,
                "repeat_share": self.webhooks.repeat_share}  # fmt: skip

    def _repeat_next(self, body: JSON) -> JSON:
        self.webhooks.repeat_next(int(body.get("count", 1)))
        return {"ok": True}

    # ------------------------------------------------------------------- reads

    def _messages(self, body: JSON) -> list[JSON]:
        return [sent.to_json() for sent in self.store.messages(self._known(body).user_id)]

    def _timeline(self, body: JSON) -> list[JSON]:
        return self.store.timeline(self._known(body).user_id)

    def _user_json(self, body: JSON) -> JSON:
        user = self._known(body)
        return {**user.to_json(), "window": self.store.window(user)}

    def _stats(self, body: JSON) -> JSON:
        return {**self.store.stats(), "deliveries": len(self.webhooks.deliveries),
                "peak_calls_per_minute": self.store.peak_calls(self.store.rate_window),
                "given_up": len(self.webhooks.given_up), "idle": self.webhooks.idle}  # fmt: skip

    def _deliveries(self, body: JSON) -> list[JSON]:
        return [asdict(delivery) for delivery in self.webhooks.deliveries]

    def _requests(self, body: JSON) -> list[JSON]:
        return [{"endpoint": name, "body": sent} for name, sent in self.store.requests]

    def _events(self, body: JSON) -> list[JSON]:
        return [event_json(event) for event in self.store.events]
