"""The sandbox Zalo OA's HTTP API: the OA Open API routes and the OAuth token endpoint.

As Zalo does, every error is HTTP 200 with `{"error": <non-zero>, "message": ...}` and success is
`{"data": {...}, "error": 0, "message": "Success"}`; the token endpoint answers flat JSON. Auth is
a bare `access_token` header. Faults asked for by a test come first (after the call is counted
toward the rate limit), then the token, then the body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.sandbox.faults import Delay, SendJitter, take
from bot.sandbox.zalo_model import (
    JSON,
    V2_SHUT_DOWN,
    OAuthError,
    ZaloError,
    invalid,
    parse_cs,
    user_id_of,
)
from bot.sandbox.zalo_store import ZaloStore

Action = Callable[[web.Request, JSON], Awaitable[JSON]]
ROUTES = {  # endpoint name (for faults and the request log) → method, path
    "message/cs": ("POST", "/v3.0/oa/message/cs"),
    "message/template": ("POST", "/v3.0/oa/message/template"),
    "message": ("POST", "/v2.0/oa/message"),
    "quota/message": ("POST", "/v3.0/oa/quota/message"),
    "quota/message/v2": ("POST", "/v2.0/oa/quota/message"),
    "upload/image": ("POST", "/v2.0/oa/upload/image"),
    "upload/gif": ("POST", "/v2.0/oa/upload/gif"),
    "upload/file": ("POST", "/v2.0/oa/upload/file"),
    "user/detail": ("GET", "/v3.0/oa/user/detail"),
    "getoa": ("GET", "/v2.0/oa/getoa"),
}
TOKEN_PATH = "/v4/oa/access_token"
FILES_PATH = "/_zalo/files"
MAX_REQUEST_BYTES = 8 * 1024 * 1024


@dataclass
class ZaloFault:
    """The next `remaining` calls to `endpoint` (for `user_id`, if given) answer error `code`,
    or, with `http_status`, a bare HTTP error (a proxy's 502, say) instead of Zalo's JSON."""

    endpoint: str
    code: int
    remaining: int
    message: str | None = None
    user_id: str | None = None
    http_status: int | None = None


class ZaloFaults:
    def __init__(self, stopping: asyncio.Event) -> None:
        self._faults: list[ZaloFault] = []
        self._delays: list[Delay] = []
        self._stopping = stopping
        self.jitter = SendJitter()

    def fail_next(
        self,
        endpoint: str,
        code: int,
        *,
        count: int = 1,
        message: str | None = None,
        user_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        if endpoint not in ROUTES and endpoint != "access_token":
            raise ValueError(
                f"unknown endpoint {endpoint!r}: one of {sorted(ROUTES)} or access_token"
            )
        self._faults.append(ZaloFault(endpoint, code, count, message, user_id, http_status))

    def delay_next(self, endpoint: str, seconds: float, count: int = 1) -> None:
        """The next calls wait `seconds` before they are answered (and then go ahead)."""
        self._delays.append(Delay(endpoint, seconds, count))

    async def apply_jitter(self, endpoint: str) -> None:
        if endpoint.startswith("message"):  # the sends: cs, template, v2
            await self.jitter.wait(self._stopping)

    async def apply_delay(self, endpoint: str) -> None:
        delay = take(self._delays, lambda entry: entry.method == endpoint)
        if delay is not None:
            try:
                await asyncio.wait_for(self._stopping.wait(), delay.seconds)
            except TimeoutError:
                return

    def take_fault(self, endpoint: str, user_id: object) -> ZaloFault | None:
        return take(
            self._faults,
            lambda f: f.endpoint == endpoint and f.user_id in (None, user_id),
        )


def success(data: JSON, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"data": data, "error": 0, "message": "Success"}, headers=headers)


def refusal(error: ZaloError, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(error.body(), headers=headers)  # HTTP 200, always


def _recipient_of(body: JSON) -> object:
    recipient = body.get("recipient")
    return recipient.get("user_id") if isinstance(recipient, dict) else body.get("user_id")


class ZaloApi:
    def __init__(self, store: ZaloStore, faults: ZaloFaults) -> None:
        self.store = store
        self.faults = faults
        self._actions: dict[str, Action] = {
            "message/cs": self._cs, "message/template": self._template, "message": self._v2_message,
            "quota/message": self._quota, "quota/message/v2": self._quota_v2,
            "upload/image": self._upload, "upload/gif": self._upload, "upload/file": self._upload,
            "user/detail": self._user_detail, "getoa": self._getoa,
        }  # fmt: skip

    def install(self, app: web.Application) -> None:
        for endpoint, (method, path) in ROUTES.items():
            app.router.add_route(method, path, self._handler(endpoint))
        app.router.add_post(TOKEN_PATH, self._access_token)
        app.router.add_get(FILES_PATH + "/{upload_id}", self._file)
        for prefix in ("/v2.0", "/v3.0", "/v4"):
            app.router.add_route("*", prefix + "/{tail:.*}", self._unknown)

    async def _unknown(self, request: web.Request) -> web.Response:
        return refusal(invalid(f"{request.method} {request.path} is not an API of the OA"))

    def _handler(self, endpoint: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        action = self._actions[endpoint]

        async def handle(request: web.Request) -> web.Response:
            body: JSON = {}
            try:
                body = await self._body(request, endpoint)
                self.store.admit_call(endpoint, body)
                injected = await self._apply_faults(endpoint, body)
                if injected is not None:
                    return injected
                self.store.check_access(request.headers.get("access_token"))
                return success(await action(request, body), self._rate_headers(self.store))
            except ZaloError as error:
                self.store.note_refusal(error.code)
                return refusal(error, self._rate_headers(self.store))

        return handle

    async def _apply_faults(self, endpoint: str, body: JSON) -> web.Response | None:
        await self.faults.apply_jitter(endpoint)
        await self.faults.apply_delay(endpoint)
        fault = self.faults.take_fault(endpoint, _recipient_of(body))
        if fault is None:
            return None
        if fault.http_status is not None:
            return web.Response(status=fault.http_status, text="Bad Gateway")
        raise ZaloError(fault.code, fault.message)

    @staticmethod
    async def _body(request: web.Request, endpoint: str) -> JSON:
        """The JSON body of a POST, the `data` query parameter of a GET; uploads are read by
        their action (multipart)."""
        if endpoint.startswith("upload/"):
            return {}
        if request.method == "GET":
            raw = request.query.get("data")
            if raw is None:
                return {}
        else:
            if request.content_type != "application/json":
                raise invalid("Content-Type must be application/json")
            try:
                raw = (await request.read()).decode()
            except (UnicodeDecodeError, ValueError) as exc:
                raise invalid("body is not valid JSON") from exc
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise invalid("body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise invalid("body must be a JSON object")
        return body

    # ------------------------------------------------------------------- the OA API

    async def _cs(self, request: web.Request, body: JSON) -> JSON:
        sent = self.store.send_cs(parse_cs(body))
        answer: JSON = {"message_id": sent.message_id, "user_id": sent.user_id,
                  "sent_time": str(int(sent.sent_at * 1000))}  # fmt: skip
        quota = self.store.reply_quota
        if quota is not None:
            used = self.store.users[sent.user_id].replies
            answer["quota"] = {"quota_type": "reply", "remain": quota - used, "total": quota}
        return answer

    async def _template(self, request: web.Request, body: JSON) -> JSON:
        user_id = user_id_of(body.get("user_id"))
        sent = self.store.send_template(user_id, body.get("template_id"), body.get("template_data"))
        return {"message_id": sent.message_id, "user_id": sent.user_id,
                "sent_time": str(int(sent.sent_at * 1000))}  # fmt: skip

    async def _v2_message(self, request: web.Request, body: JSON) -> JSON:
        """Polymorphic: a reaction (`sender_action`), an Article broadcast (`recipient.target`);
        any other message through v2 is -240."""
        recipient, action = body.get("recipient"), body.get("sender_action")
        if not isinstance(recipient, dict):
            raise invalid("recipient is invalid")
        if action is not None:
            if not isinstance(action, dict):
                raise invalid("sender_action is invalid")
            icon, message_id = action.get("react_icon"), action.get("react_message_id")
            if not isinstance(icon, str) or not icon or not isinstance(message_id, str):
                raise invalid("sender_action is invalid")
            return self.store.react(user_id_of(recipient.get("user_id")), icon, message_id)
        if "target" in recipient:
            return self._broadcast(body)
        raise ZaloError(V2_SHUT_DOWN)

    def _broadcast(self, body: JSON) -> JSON:
        message = body.get("message")
        attachment = message.get("attachment") if isinstance(message, dict) else None
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        elements = payload.get("elements") if isinstance(payload, dict) else None
        if not (
            isinstance(elements, list)
            and elements
            and isinstance(elements[0], dict)
            and elements[0].get("media_type") == "article"
            and isinstance(elements[0].get("attachment_id"), str)
        ):
            raise invalid("a broadcast carries only an article")
        self.store.broadcasts.append(body)
        return {"message_id": f"broadcast-{len(self.store.broadcasts)}"}

    async def _quota(self, request: web.Request, body: JSON) -> JSON:
        return self.store.quota(user_id_of(body.get("user_id")))

    @staticmethod
    def _rate_headers(store: ZaloStore) -> dict[str, str]:
        """UNVERIFIED header names (one source mentions them): the app's limit and what is left."""
        left = max(0, store.rate_per_minute - store.calls_in_window())
        return {"X-RateLimit-Limit": str(store.rate_per_minute), "X-RateLimit-Remain": str(left)}

    async def _quota_v2(self, request: web.Request, body: JSON) -> JSON:
        if "user_id" in body:
            return self.store.quota(user_id_of(body.get("user_id")))
        return {}

    async def _user_detail(self, request: web.Request, body: JSON) -> JSON:
        return self.store.user_detail(user_id_of(body.get("user_id")))

    async def _getoa(self, request: web.Request, body: JSON) -> JSON:
        return self.store.oa_info()

    async def _upload(self, request: web.Request, body: JSON) -> JSON:
        kind = request.path.rsplit("/", 1)[-1]
        field = await self._upload_field(request)
        stored = self.store.upload(kind, field.file.read(), field.filename or "")
        key = "token" if kind == "file" else "attachment_id"
        return {key: stored.upload_id}

    @staticmethod
    async def _upload_field(request: web.Request) -> web.FileField:
        if not request.content_type.startswith("multipart/"):
            raise invalid("upload as multipart/form-data with a field named file")
        try:
            form = await request.post()
        except Exception as exc:  # a broken multipart body is the client's fault, never a 500
            raise invalid("the multipart body cannot be read") from exc
        field = form.get("file")
        if not isinstance(field, web.FileField):
            raise invalid("file is missing")
        return field

    # ------------------------------------------------------------------- OAuth and files

    async def _access_token(self, request: web.Request) -> web.Response:
        try:
            self.store.admit_call("access_token", {})
            injected = await self._apply_faults("access_token", {})
            if injected is not None:
                return injected
            try:
                form = {key: str(value) for key, value in (await request.post()).items()}
            except Exception as exc:  # a body that is no form is the client's fault
                raise OAuthError(-14001, "Invalid parameter") from exc
            self.store.requests[-1] = ("access_token", _redacted(form))
            answer: JSON = self.store.grant(request.headers.get("secret_key"), form)
        except ZaloError as error:
            self.store.note_refusal(error.code)
            return web.json_response(error.body())
        return web.json_response(answer)

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.store.stored_file(request.match_info["upload_id"])
        if stored is None:
            return web.Response(status=404, text="Not Found")
        self.store.counters.downloads += 1
        headers = {"Content-Disposition": f"inline; filename*=UTF-8''{quote(stored.name, safe='')}"}
        return web.Response(body=stored.data, content_type=stored.mime_type, headers=headers)


def _redacted(form: dict[str, str]) -> dict[str, Any]:
    """The token request as logged: the grant's secret parts shortened."""
    return {key: (value[:8] + "…" if key in ("refresh_token", "code") else value)
            for key, value in form.items()}  # fmt: skip
