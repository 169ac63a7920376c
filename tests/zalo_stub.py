"""A minimal OA API stand-in for the channel's unit tests: tokens (single-use refresh tokens),
cs and template sends, uploads, and errors scripted per path. Not the sandbox's Zalo fake."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

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
