"""The sandbox's web page and its small JSON API, served by the same aiohttp app as the Bot API.

The page chats as sample staff through the sandbox server (it speaks only the Bot API to the
bot), and turns the time dial: the bot's OffsetClock, followed by an immediate sweep tick.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from bot.clock import OffsetClock
from bot.domain.directory import Directory
from bot.i18n import Translations
from bot.sandbox.model import FakeUser
from bot.sandbox.store import ChatStore

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
FIRST_USER_ID = 700_001
LONG_POLL_SECONDS = 20.0
MAX_ADVANCE = timedelta(days=400)
JSON = dict[str, Any]
LOCAL_HOSTS = ("127.0.0.1", "localhost")
TOKEN_HEADER = "X-Sandbox-Token"
PAGE_PATHS = ("/", "/sandbox.js", "/sandbox.css")
API_PREFIX = "/_sandbox/"
UPLOAD_PATHS = ("/photo", "/document")  # multipart; every other action is JSON
DIAL_FORMAT = "%d/%m/%Y %H:%M"
FORWARDED_FROM = "Văn phòng (tin chuyển tiếp)"  # who a forwarded message seems to come from
_VIETNAMESE = Translations().for_language("vi")  # the dial's weekday, as the bot writes it
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Person:
    staff_id: str
    user_id: int
    full_name: str
    position: str
    unit_id: str
    unit_name: str
    phone: str
    language: str
    roles: tuple[str, ...]
    invite: str = ""  # the one-time invite link (`https://t.me/<bot>?start=<code>`), if written

    def to_json(self) -> JSON:
        return {"staff_id": self.staff_id, "user_id": self.user_id, "name": self.full_name,
                "position": self.position, "unit_id": self.unit_id, "unit": self.unit_name,
                "phone": self.phone, "language": self.language, "roles": list(self.roles),
                "invite": self.invite}  # fmt: skip


def people_of(directory: Directory, invites: dict[str, str] | None = None) -> list[Person]:
    """Active staff grouped by unit (in the units file's order), each with a stable user id."""
    active = sorted((p for p in directory.staff.values() if p.active), key=lambda p: p.staff_id)
    user_ids = {person.staff_id: FIRST_USER_ID + number for number, person in enumerate(active)}
    unit_order = {unit_id: number for number, unit_id in enumerate(directory.units)}
    active.sort(key=lambda p: (unit_order.get(p.unit_id, len(unit_order)), p.staff_id))
    people = []
    for person in active:
        unit = directory.unit(person.unit_id)
        people.append(
            Person(
                staff_id=person.staff_id,
                user_id=user_ids[person.staff_id],
                full_name=person.full_name,
                position=person.position or person.position_group,
                unit_id=person.unit_id,
                unit_name=unit.name if unit else person.unit_id,
                phone=person.phone,
                language=person.language,
                roles=tuple(sorted(person.roles)),
                invite=(invites or {}).get(person.staff_id, ""),
            )
        )
    return people


class BadInput(ValueError):
    """A request from the page that cannot be carried out; answered with HTTP 400."""


class PaneChannel(Protocol):
    """Another messenger a pane can switch to (bot/sandbox/zalo_web.py): its routes under
    `/_sandbox/<name>/`, each person's chat on it, and a version that grows at every change."""

    name: str

    @property
    def version(self) -> int: ...

    async def wait_change(self, since: int, timeout: float) -> int: ...

    def install(self, app: web.Application) -> None: ...

    def chats(self, staff_ids: list[str]) -> dict[str, list[JSON]]: ...


class SandboxWeb:
    def __init__(
        self,
        api: ChatStore,
        people: list[Person],
        clock: OffsetClock,
        after_time_moved: Callable[[], Awaitable[None]],
        channels: tuple[PaneChannel, ...] = (),
    ) -> None:
        """`channels`: the messengers besides Telegram a pane can switch to."""
        self.api = api
        self.channels = channels
        self.people = {person.staff_id: person for person in people}
        self.clock = clock
        self.after_time_moved = after_time_moved
        self.token = secrets.token_urlsafe(24)  # this run's: embedded in the page, asked of the API

    def install(self, app: web.Application) -> None:
        app.middlewares.append(self._guard)
        app.router.add_get("/", self._page("index.html"))
        app.router.add_get("/sandbox.js", self._page("sandbox.js"))
        app.router.add_get("/sandbox.css", self._page("sandbox.css"))
        app.router.add_get("/_sandbox/people", self._people)
        app.router.add_get("/_sandbox/state", self._state)
        app.router.add_get("/_sandbox/file/{file_id}", self._file)
        actions = {"open": self._open, "text": self._text, "contact": self._contact,
                   "press": self._press, "clock": self._move_clock, "forward": self._forward}  # fmt: skip
        for name, action in actions.items():
            app.router.add_post(f"/_sandbox/{name}", self._json_action(action))
        app.router.add_post("/_sandbox/photo", self._photo)
        app.router.add_post("/_sandbox/document", self._document)
        for channel in self.channels:
            channel.install(app)

    # ------------------------------------------------------------------- the guard

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The page and its API answer only this computer's browser, on this run's page: the
        Host is 127.0.0.1 or localhost (no DNS rebinding), a browser's Origin is the page's own,
        every API call carries the page's token, and actions come as JSON. The Bot API routes
        (the bot's side, with this run's token) are held to the Host and the Origin too, so no
        other site can take the bot's updates or speak as it."""
        path = request.path
        api = path.startswith(API_PREFIX)
        refusal = self._refusal(request, api, page=api or path in PAGE_PATHS)
        if refusal is not None:
            status, reason = refusal
            log.warning("sandbox refused %s %s: %s", request.method, path, reason)
            return web.json_response({"error": reason}, status=status)
        return await handler(request)

    def _refusal(self, request: web.Request, api: bool, page: bool) -> tuple[int, str] | None:
        host = _host_name(request.host)
        if host not in LOCAL_HOSTS:
            return 403, "only http://127.0.0.1 or http://localhost may open the sandbox"
        origin = request.headers.get("Origin")
        if not page:  # the bot's own Bot API: no web page ever calls it
            return None if origin is None else (403, "the Bot API takes no calls from a web page")
        if origin is not None and not _same_local_origin(origin, request.host):
            return 403, "requests from another web site are refused"
        if not api:
            return None
        given = request.headers.get(TOKEN_HEADER) or (
            request.query.get("token", "") if request.method == "GET" else ""
        )
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return 403, "this run's sandbox token is missing or wrong (reload the page)"
        if request.method == "POST":
            wanted = (
                "multipart/form-data" if request.path.endswith(UPLOAD_PATHS) else "application/json"
            )
            if request.content_type != wanted:
                return 415, f"send {wanted}"
        return None

    # ------------------------------------------------------------------- plumbing

    def _page(self, name: str) -> Handler:
        kinds = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}

        async def serve(request: web.Request) -> web.StreamResponse:
            body = (STATIC / name).read_bytes()
            if name == "index.html":
                body = body.replace(b"{{SANDBOX_TOKEN}}", self.token.encode())
            kind = kinds[Path(name).suffix]
            headers = {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                       "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
                       "Referrer-Policy": "no-referrer"}  # fmt: skip
            return web.Response(body=body, content_type=kind, charset="utf-8", headers=headers)

        return serve

    @staticmethod
    def _json_action(
        action: Callable[[JSON], Awaitable[JSON]],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise BadInput("a JSON object is expected")
                return web.json_response(await action(body))
            except (BadInput, KeyError, TypeError, ValueError) as exc:
                return web.json_response({"error": str(exc)}, status=400)

        return handle

    def _person(self, body: JSON) -> Person:
        person = self.people.get(str(body.get("staff_id", "")))
        if person is None:
            raise BadInput(f"no sample person {body.get('staff_id')!r}")
        return person

    def _user(self, body: JSON) -> FakeUser:
        person = self._person(body)
        user = self.api.known_user(person.user_id)
        return user if user is not None else self._make_user(person)

    def _make_user(self, person: Person) -> FakeUser:
        *family, given = person.full_name.split()
        return self.api.user(person.user_id, given, last_name=" ".join(family) or None,
                             language_code=person.language)  # fmt: skip

    def clock_json(self) -> JSON:
        """The dial as the page shows it: `thứ Tư 26/05/2021 09:00`, and `26/05/2021 09:00` in
        the jump field (dd/mm, as people write dates in Vietnam)."""
        now = self.clock.now()
        local = now.strftime(DIAL_FORMAT)
        return {"iso": now.isoformat(timespec="seconds"), "local": local,
                "label": f"{_capitalised(_VIETNAMESE.weekday(now.date()))} {local}",
                "zone": str(self.clock.tz),
                "offset_seconds": int(self.clock.offset.total_seconds())}  # fmt: skip

    # ------------------------------------------------------------------- reads

    async def _people(self, request: web.Request) -> web.Response:
        return web.json_response([person.to_json() for person in self.people.values()])

    async def _state(self, request: web.Request) -> web.Response:
        """Long poll: answers as soon as anything changed after `since` (or after a while)."""
        try:
            since = int(request.query.get("since", "-1"))
            wanted = [str(s) for s in request.query.get("staff", "").split(",") if s]
        except ValueError:
            return web.json_response({"error": "since must be an integer"}, status=400)
        if since == self._version():
            await self._wait_any_change()
        chats = {staff_id: self.api.timeline(self.people[staff_id].user_id)
                 for staff_id in wanted if staff_id in self.people}  # fmt: skip
        others = {channel.name: channel.chats(wanted) for channel in self.channels}
        return web.json_response({"version": self._version(), "clock": self.clock_json(),
                                  "chats": chats, "channels": others})  # fmt: skip

    def _version(self) -> int:
        """Grows whenever any messenger's chats change (each version only grows)."""
        return self.api.version + sum(channel.version for channel in self.channels)

    async def _wait_any_change(self) -> None:
        waits = [self.api.wait_change(self.api.version, LONG_POLL_SECONDS)]
        waits += [c.wait_change(c.version, LONG_POLL_SECONDS) for c in self.channels]
        tasks = [asyncio.ensure_future(wait) for wait in waits]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.api.file(request.match_info["file_id"])
        if stored is None:
            return web.json_response({"error": "no such file"}, status=404)
        headers = {}
        if stored.file_name:
            headers["Content-Disposition"] = (
                f"inline; filename*=UTF-8''{quote(stored.file_name, safe='')}"
            )
        return web.Response(body=stored.data, headers=headers,
                            content_type=stored.mime_type or "application/octet-stream")  # fmt: skip

    # ------------------------------------------------------------------- the user's actions

    async def _open(self, body: JSON) -> JSON:
        person = self._person(body)
        self._user(body)
        return person.to_json()

    async def _text(self, body: JSON) -> JSON:
        text = str(body.get("text", "")).strip()
        if not text:
            raise BadInput("empty message")
        return {"update_id": self.api.send_text(self._user(body), text[:4096])}

    async def _contact(self, body: JSON) -> JSON:
        person = self._person(body)
        user = self._user(body)
        return {"update_id": self.api.send_contact(user, person.phone, first_name=user.first_name)}

    async def _press(self, body: JSON) -> JSON:
        user = self._user(body)
        message_id = int(body["message_id"])
        found = [m for m in self.api.messages(user.id) if m.message_id == message_id]
        if not found or found[0].deleted:
            raise BadInput(f"no message {message_id} in this chat")
        return {"update_id": self.api.press(user, found[0], str(body["data"]))}

    async def _forward(self, body: JSON) -> JSON:
        """A message forwarded into the bot's chat (as a clerk forwards a directive from the
        office's own chat): the text, and who it came from as Telegram shows a hidden sender."""
        text = str(body.get("text", "")).strip()
        if not text:
            raise BadInput("empty message")
        origin = str(body.get("from_name") or "").strip()[:64] or FORWARDED_FROM
        update_id = self.api.send_forwarded(self._user(body), text[:4096], origin)
        return {"update_id": update_id}

    async def _document(self, request: web.Request) -> web.Response:
        """A PDF or DOCX from the pane (directives are sent as files too)."""
        form = await request.post()
        upload = form.get("document")
        if not isinstance(upload, web.FileField):
            return web.json_response({"error": "a file is expected"}, status=400)
        try:
            user = self._user({"staff_id": form.get("staff_id")})
        except BadInput as exc:
            return web.json_response({"error": str(exc)}, status=400)
        data = upload.file.read()
        if not data:
            return web.json_response({"error": "the file is empty"}, status=400)
        name = PurePosixPath(upload.filename or "file").name[:200]
        mime = upload.content_type or "application/octet-stream"
        return web.json_response({"update_id": self.api.send_document(user, data, name, mime)})

    async def _photo(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("photo")
        if not isinstance(upload, web.FileField):
            return web.json_response({"error": "a photo file is expected"}, status=400)
        try:
            user = self._user({"staff_id": form.get("staff_id")})
        except BadInput as exc:
            return web.json_response({"error": str(exc)}, status=400)
        data = upload.file.read()
        if not data:
            return web.json_response({"error": "the file is empty"}, status=400)
        caption = str(form.get("caption") or "") or None
        update_id = self.api.send_photo(user, data, caption, upload.content_type or "image/jpeg")
        return web.json_response({"update_id": update_id})

    # ------------------------------------------------------------------- the time dial

    async def _move_clock(self, body: JSON) -> JSON:
        if "jump_to" in body:
            moment = _dial_moment(str(body["jump_to"]))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.clock.tz)
            if abs(moment - self.clock.now()) > MAX_ADVANCE:
                raise BadInput("jump at most 400 days away")
            self.clock.jump_to(moment)
        elif "advance_minutes" in body:
            delta = timedelta(minutes=float(body["advance_minutes"]))
            if delta <= timedelta(0) or delta > MAX_ADVANCE:
                raise BadInput("advance by a positive amount, at most 400 days")
            self.clock.advance(delta)
        elif body.get("reset"):
            self.clock.reset()
        else:
            raise BadInput("give advance_minutes, jump_to or reset")
        log.info("sandbox clock moved to %s", self.clock.now().isoformat(timespec="minutes"))
        await self.after_time_moved()
        self.api.notify()
        return self.clock_json()


def _host_name(host: str) -> str:
    """`127.0.0.1:8080` → `127.0.0.1`; `[::1]:80` → `[::1]`."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def _same_local_origin(origin: str, host: str) -> bool:
    try:
        url = URL(origin)
    except ValueError:
        return False
    return url.scheme == "http" and url.host in LOCAL_HOSTS and url.raw_authority == host


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _dial_moment(text: str) -> datetime:
    """`30/05/2021 17:30` (what the page shows) or ISO `2021-05-30T17:30`."""
    try:
        return datetime.strptime(text.strip(), DIAL_FORMAT)
    except ValueError:
        return datetime.fromisoformat(text.strip())
