"""The demo page's Zalo side: each sample person's Zalo account on the sandbox OA.

A pane switched to Zalo chats through the fake OA (`ZaloStore`): what the person types arrives
at the bot as a signed `user_send_text`, a tap on one of the (at most 5) buttons as the button's
payload, the 📱 button answers the bot's `request_user_info` with `user_submit_info`. Zalo's look:
no menu keyboard, no edits (an edit comes as a new message). The routes live under
`/_sandbox/zalo/`, behind the page's guard (bot/sandbox/web.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from urllib.parse import quote

from aiohttp import web

from bot.domain.phones import normalize_phone
from bot.sandbox.web import JSON, BadInput, Person
from bot.sandbox.zalo_model import ZaloUser
from bot.sandbox.zalo_store import FIRST_USER_ID, ZaloStore

MAX_TYPED = 2000  # what the Zalo app lets a person type in one message


def zalo_user_id(person: Person) -> str:
    """A person's stable Zalo user id on the sandbox OA (from their sandbox Telegram id)."""
    return str(FIRST_USER_ID + person.user_id)


def zalo_phone(phone: str) -> str:
    """The phone as `user_submit_info` shares it: `84912345678`."""
    normal = normalize_phone(phone)
    return normal.removeprefix("+") if normal else ""


class ZaloPanes:
    name = "zalo"

    def __init__(self, store: ZaloStore, people: list[Person]) -> None:
        self.store = store
        self.people = {person.staff_id: person for person in people}

    @property
    def version(self) -> int:
        return self.store.version

    async def wait_change(self, since: int, timeout: float) -> int:
        return await self.store.wait_change(since, timeout)

    def install(self, app: web.Application) -> None:
        actions: dict[str, Callable[[JSON], JSON]] = {
            "open": self._open, "text": self._text, "tap": self._tap, "contact": self._share,
            "follow": self._follow, "unfollow": self._unfollow,
        }  # fmt: skip
        for name, action in actions.items():
            app.router.add_post(f"/_sandbox/zalo/{name}", self._json_action(action))
        app.router.add_post("/_sandbox/zalo/photo", self._upload("photo"))
        app.router.add_post("/_sandbox/zalo/document", self._upload("document"))
        app.router.add_get("/_sandbox/zalo/file/{upload_id}", self._file)

    def chats(self, staff_ids: list[str]) -> dict[str, list[JSON]]:
        """Each person's Zalo chat, as the page draws it."""
        return {staff_id: self.store.timeline(zalo_user_id(self.people[staff_id]))
                for staff_id in staff_ids if staff_id in self.people}  # fmt: skip

    # ------------------------------------------------------------------- plumbing

    @staticmethod
    def _json_action(
        action: Callable[[JSON], JSON],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise BadInput("a JSON object is expected")
                return web.json_response(action(body))
            except (KeyError, TypeError, ValueError) as exc:  # BadInput is a ValueError
                return web.json_response({"error": str(exc)}, status=400)

        return handle

    def _user(self, staff_id: object) -> ZaloUser:
        person = self.people.get(str(staff_id or ""))
        if person is None:
            raise BadInput(f"no sample person {staff_id!r}")
        user = self.store.users.get(zalo_user_id(person))
        if user is None:
            user = self.store.user(person.full_name, user_id=zalo_user_id(person),
                                   phone=zalo_phone(person.phone))  # fmt: skip
        return user

    # ------------------------------------------------------------------- the person's actions

    def _open(self, body: JSON) -> JSON:
        """The pane switched to Zalo: the person follows the OA the first time (as one does
        to reach it), which the bot sees as a `follow` event."""
        user = self._user(body.get("staff_id"))
        if not user.follower:
            self.store.follow(user)
        return user.to_json()

    def _text(self, body: JSON) -> JSON:
        text = str(body.get("text", "")).strip()
        if not text:
            raise BadInput("empty message")
        event = self.store.send_text(self._user(body.get("staff_id")), text[:MAX_TYPED])
        return {"seq": event.seq}

    def _tap(self, body: JSON) -> JSON:
        user = self._user(body.get("staff_id"))
        message_id = str(body.get("message_id", ""))
        found = [m for m in self.store.messages(user.user_id) if m.message_id == message_id]
        if not found:
            raise BadInput(f"no message {message_id} in this chat")
        return {"seq": self.store.tap(user, found[0], str(body["title"])).seq}

    def _share(self, body: JSON) -> JSON:
        user = self._user(body.get("staff_id"))
        if not user.asked_for_info:
            raise BadInput("on Zalo the phone is shared only when the OA asks for it")
        return {"seq": self.store.submit_info(user).seq}

    def _follow(self, body: JSON) -> JSON:
        return {"seq": self.store.follow(self._user(body.get("staff_id"))).seq}

    def _unfollow(self, body: JSON) -> JSON:
        return {"seq": self.store.unfollow(self._user(body.get("staff_id"))).seq}

    def _upload(self, kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            form = await request.post()
            upload = form.get(kind)
            if not isinstance(upload, web.FileField):
                return web.json_response({"error": "a file is expected"}, status=400)
            try:
                user = self._user(form.get("staff_id"))
            except BadInput as exc:
                return web.json_response({"error": str(exc)}, status=400)
            data = upload.file.read()
            if not data:
                return web.json_response({"error": "the file is empty"}, status=400)
            mime = upload.content_type or "application/octet-stream"
            if kind == "photo":
                event = self.store.send_image(user, data, mime_type=mime)
            else:
                name = PurePosixPath(upload.filename or "file").name[:200]
                event = self.store.send_file(user, data, name, mime)
            return web.json_response({"seq": event.seq})

        return handle

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.store.stored_file(request.match_info["upload_id"])
        if stored is None:
            return web.json_response({"error": "no such file"}, status=404)
        disposition = f"inline; filename*=UTF-8''{quote(stored.name, safe='')}"
        return web.Response(body=stored.data, content_type=stored.mime_type,
                            headers={"Content-Disposition": disposition})  # fmt: skip
