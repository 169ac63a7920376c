"""The sandbox's test API under `/_control/`: drive the users and inspect the chats over HTTP.

For a fake run in its own process (`python -m tests.fakebot`); in-process tests call the
`ChatStore` directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.sandbox.faults import Faults
from bot.sandbox.model import JSON, FakeUser
from bot.sandbox.store import ChatStore


class ControlApi:
    def __init__(self, store: ChatStore, faults: Faults) -> None:
        self.store = store
        self.faults = faults

    def install(self, app: web.Application) -> None:
        posts: dict[str, Callable[[JSON], Any]] = {
            "users": self._control_user, "text": self._control_text,
            "contact": self._control_contact, "press": self._control_press,
            "block": self._control_block,
            "fail_next": self._control_fail_next, "delay_next": self._control_delay_next,
        }  # fmt: skip
        for name, action in posts.items():
            app.router.add_post(f"/_control/{name}", self._control_handler(action))
        app.router.add_get("/_control/messages", self._control_messages)
        app.router.add_get("/_control/stats", self._control_stats)

    @staticmethod
    def _control_handler(
        action: Callable[[JSON], Any],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                body = await request.json() if request.can_read_body else {}
                return web.json_response(action(body))
            except (AssertionError, KeyError, TypeError, ValueError) as exc:
                return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)

        return handle

    def _known_user(self, user_id: object) -> FakeUser:
        user = self.store.users.get(int(str(user_id)))
        if user is None:
            raise ValueError(f"unknown user {user_id}; POST /_control/users first")
        return user

    def _control_user(self, body: JSON) -> JSON:
        user = self.store.user(int(body["user_id"]), body.get("first_name", "Test"),
                         last_name=body.get("last_name"), username=body.get("username"),
                         language_code=body.get("language_code", "vi"))  # fmt: skip
        return user.to_api()

    def _control_text(self, body: JSON) -> JSON:
        return {"update_id": self.store.send_text(self._known_user(body["user_id"]), body["text"])}

    def _control_contact(self, body: JSON) -> JSON:
        user = self._known_user(body["user_id"])
        extra = {"contact_user_id": body["contact_user_id"]} if "contact_user_id" in body else {}
        first_name = body.get("first_name", "Contact")
        update_id = self.store.send_contact(
            user, body["phone_number"], first_name=first_name, **extra
        )
        return {"update_id": update_id}

    def _control_press(self, body: JSON) -> JSON:
        user = self._known_user(body["user_id"])
        chat_id, message_id = int(body.get("chat_id", user.id)), int(body["message_id"])
        found = [m for m in self.store.chats.get(chat_id, []) if m.message_id == message_id]
        if not found:
            raise ValueError(f"the bot sent no message {message_id} to chat {chat_id}")
        return {"update_id": self.store.press(user, found[0], body["data"])}

    def _control_block(self, body: JSON) -> JSON:
        self.store.block(int(body["chat_id"]))
        return {"ok": True}

    def _control_fail_next(self, body: JSON) -> JSON:
        chat_id = body.get("chat_id")
        self.faults.fail_next(str(body["method"]), status=int(body["status"]),
                       count=int(body.get("count", 1)), retry_after=body.get("retry_after"),
                       description=body.get("description"),
                       chat_id=None if chat_id is None else int(chat_id))  # fmt: skip
        return {"ok": True}

    def _control_delay_next(self, body: JSON) -> JSON:
        self.faults.delay_next(
            str(body["method"]), float(body["seconds"]), int(body.get("count", 1))
        )
        return {"ok": True}

    async def _control_messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
        except (KeyError, ValueError):
            return web.json_response({"error": "chat_id (an integer) is required"}, status=400)
        return web.json_response([message.to_json() for message in self.store.messages(chat_id)])

    async def _control_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.store.stats())
