"""A minimal OA API stand-in for the channel's unit tests: tokens (single-use refresh tokens),
cs and template sends, uploads, and errors scripted per path. Not the sandbox's Zalo fake."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from bot.channels.zalo.signature import HEADER, mac

APP_ID = "3608465248940903967"
OA_ID = "388613280878808645"
APP_SECRET = "stub-app-secret-value"
FIRST_REFRESH = "stub-first-refresh-token"


class ZaloStub:
    def __init__(self) -> None:
        self.access: set[str] = set()
        self.refresh: set[str] = {FIRST_REFRESH}
        self.refreshes = 0
        self.refuse_refresh = False
        self.sent: list[dict[str, Any]] = []  # cs bodies, in order
        self.templates: list[dict[str, Any]] = []
        self.uploads: list[tuple[str, str, bytes]] = []  # (kind, file name, content)
        self.requests = 0
        self.errors: dict[str, list[int]] = defaultdict(list)  # path -> codes answered next
        self._ids = itertools.count(1)
        self.server: TestServer | None = None
        self.files: dict[str, bytes] = {}  # what people "sent": served at /files/<name>

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v4/oa/access_token", self._token)
        app.router.add_post("/v3.0/oa/message/cs", self._cs)
        app.router.add_post("/v3.0/oa/message/template", self._template)
        app.router.add_post("/v2.0/oa/upload/{kind}", self._upload)
        app.router.add_get("/files/{name}", self._file)
        self.server = TestServer(app)
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    def fail_next(self, path: str, *codes: int) -> None:
        self.errors[path].extend(codes)

    async def _token(self, request: web.Request) -> web.Response:
        self.requests += 1
        form = await request.post()
        token = str(form.get("refresh_token", ""))
        if (
            request.headers.get("secret_key") != APP_SECRET
            or form.get("app_id") != APP_ID
            or form.get("grant_type") != "refresh_token"
            or token not in self.refresh
            or self.refuse_refresh
        ):
            return web.json_response({"error": -14014, "error_description": "Invalid refresh"})
        self.refresh.discard(token)  # single-use
        self.refreshes += 1
        n = next(self._ids)
        access, renewed = f"access-{n}-xxxxxxxx", f"refresh-{n}-xxxxxxxx"
        self.access.add(access)
        self.refresh.add(renewed)
        return web.json_response(
            {"access_token": access, "refresh_token": renewed, "expires_in": "90000"}
        )

    def _refused(self, request: web.Request, path: str) -> web.Response | None:
        self.requests += 1
        if request.headers.get("access_token") not in self.access:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        if self.errors[path]:
            code = self.errors[path].pop(0)
            return web.json_response({"error": code, "message": f"scripted {code}"})
        return None

    async def _cs(self, request: web.Request) -> web.Response:
        refused = self._refused(request, "cs")
        if refused is not None:
            return refused
        body = await request.json()
        text = body.get("message", {}).get("text", "")
        if len(text) > 2000:
            return web.json_response({"error": -201, "message": "text is invalid!"})
        self.sent.append(body)
        data = {"message_id": f"mid{next(self._ids)}", "user_id": body["recipient"]["user_id"]}
        return web.json_response({"error": 0, "message": "Success", "data": data})

    async def _template(self, request: web.Request) -> web.Response:
        refused = self._refused(request, "template")
        if refused is not None:
            return refused
        self.templates.append(await request.json())
        data = {"message_id": f"tid{next(self._ids)}"}
        return web.json_response({"error": 0, "message": "Success", "data": data})

    async def _file(self, request: web.Request) -> web.Response:
        content = self.files.get(request.match_info["name"])
        return web.Response(status=404) if content is None else web.Response(body=content)

    async def _upload(self, request: web.Request) -> web.Response:
        refused = self._refused(request, "upload")
        if refused is not None:
            return refused
        kind = request.match_info["kind"]
        form = await request.post()
        field = form.get("file")
        assert isinstance(field, web.FileField)
        self.uploads.append((kind, field.filename, field.file.read()))
        n = next(self._ids)
        data = {"attachment_id": f"att{n}"} if kind == "image" else {"token": f"tok{n}"}
        return web.json_response({"error": 0, "message": "Success", "data": data})


class ZaloPerson:
    """One person's Zalo app: events posted, signed, to the bot's webhook; what the OA sent
    them read from the stub."""

    def __init__(self, stub: ZaloStub, webhook_url: str, key: str, user_id: str) -> None:
        self.stub = stub
        self.url = webhook_url
        self.key = key
        self.user_id = user_id
        self.read = 0  # how many of the messages to them were taken already
        self._ids = itertools.count(1)

    def _event(self, name: str, **fields: Any) -> dict[str, Any]:
        return {
            "app_id": APP_ID,
            "event_name": name,
            "sender": {"id": self.user_id},
            "recipient": {"id": OA_ID},
            "timestamp": str(1_700_000_000_000 + next(self._ids)),
            **fields,
        }

    async def post(self, body: dict[str, Any]) -> int:
        raw = json.dumps(body, ensure_ascii=False).encode()
        header = "mac=" + mac(APP_ID, raw, str(body["timestamp"]), self.key)
        async with (
            ClientSession() as http,
            http.post(self.url, data=raw, headers={HEADER: header}) as answer,
        ):
            return answer.status

    async def follow(self) -> None:
        body = self._event("follow", follower={"id": self.user_id}, oa_id=OA_ID)
        del body["sender"], body["recipient"]
        assert await self.post(body) == 200

    async def say(self, text: str) -> None:
        msg_id = f"{self.user_id}-{next(self._ids)}"
        assert (
            await self.post(self._event("user_send_text", message={"text": text, "msg_id": msg_id}))
            == 200
        )

    async def tap(self, message: dict[str, Any], title_start: str) -> None:
        """Tap the button whose title has `title_start`: Zalo sends its payload as text."""
        for button in buttons_of(message):
            if title_start in str(button["title"]):
                await self.say(str(button["payload"]))
                return
        raise AssertionError(f"no button {title_start!r} in {message}")

    async def share_phone(self, phone: str) -> None:
        info = {"name": "Người dùng", "phone": phone, "user_dob": "01/01/1990", "gender": "Nam"}
        assert await self.post(self._event("user_submit_info", info=info)) == 200

    def messages(self) -> list[dict[str, Any]]:
        return [b["message"] for b in self.stub.sent if b["recipient"]["user_id"] == self.user_id]

    async def next_message(self, timeout: float = 5.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = self.messages()
            if len(found) > self.read:
                self.read += 1
                return found[self.read - 1]
            await asyncio.sleep(0.01)
        raise AssertionError(f"no message for {self.user_id}; had {self.messages()[-3:]}")

    async def answers(self, quiet: float = 0.3, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The messages that come next, until none has come for `quiet` seconds."""
        found = [await self.next_message(timeout)]
        while True:
            try:
                found.append(await self.next_message(quiet))
            except AssertionError:
                return found

    async def next_with(self, fragment: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message whose text has `fragment` (those before it are skipped)."""
        while True:
            message = await self.next_message(timeout)
            if fragment in str(message.get("text", "")):
                return message


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    payload = message.get("attachment", {}).get("payload", {})
    return list(payload.get("buttons", []))
