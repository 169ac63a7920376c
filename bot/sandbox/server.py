"""A local Telegram Bot API server, faithful enough that python-telegram-bot cannot tell it apart.

It is the sandbox of `python -m bot demo` and the fake Telegram of the end-to-end tests
(`tests/fakebot` re-exports it). Run it in-process (``await FakeBotApi().start()``, then point
PTB's ``base_url`` at ``fake.base_url``) or as a separate process (``python -m tests.fakebot``),
driven over the small JSON control API under ``/_control/``. Extra routes (the demo's web page)
are added with ``add_routes`` before ``start``.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import PurePosixPath
from types import EllipsisType
from typing import Any, Protocol, TypeVar

from aiohttp import web

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz12"
BOT_ID = 1000
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
UPLOAD_LIMIT = 50 * 1024 * 1024
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
# Parameters that are plain strings even when they look like JSON ("123", "true", "null").
STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "inline_message_id", "url",
        "language_code", "file_id", "action", "phone_number", "first_name", "last_name", "vcard",
        "description", "short_description", "name", "title", "file_name", "emoji", "data",
        "business_connection_id", "message_effect_id", "secret_token", "ip_address",
        "document", "photo", "audio", "video", "voice", "animation", "thumbnail", "sticker",
    }
)  # fmt: skip
# A valid 1x1 transparent PNG.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
)

COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class Countdown(Protocol):
    remaining: int


T = TypeVar("T", bound=Countdown)


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def too_many_requests(retry_after: int, description: str | None = None) -> ApiError:
    text = description or f"Too Many Requests: retry after {retry_after}"
    return ApiError(429, text, {"retry_after": retry_after})


def injected_error(status: int, retry_after: int | None, description: str | None) -> ApiError:
    if status == 429:
        return too_many_requests(retry_after or 1, description)
    defaults = {400: "Bad Request", 403: BLOCKED, 500: "Internal Server Error"}
    try:
        fallback = defaults.get(status) or HTTPStatus(status).phrase
    except ValueError:
        fallback = "Error"
    return ApiError(status, description or fallback)


def now() -> int:
    return int(time.time())


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[JSON] | None:
    """A bot_command entity for the first word, as Telegram adds to "/start abc"."""
    if not text.startswith("/"):
        return None
    first_word = text.split(maxsplit=1)[0]
    if len(first_word) < 2:
        return None
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(first_word)}]


def inline_rows(markup: object) -> list[list[JSON]]:
    if isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list):
        return markup["inline_keyboard"]
    return []


def inline_markup(markup: object) -> JSON | None:
    """The markup as Telegram attaches it to a message: inline keyboards only, empty = none."""
    if any(inline_rows(markup)):
        assert isinstance(markup, dict)
        return markup
    return None


def check_markup(markup: object) -> JSON | None:
    if markup is None:
        return None
    kinds = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")
    if not isinstance(markup, dict) or not any(kind in markup for kind in kinds):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in inline_rows(markup):
        for button in row:
            check_inline_button(button)
    return markup


def check_inline_button(button: object) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise ApiError(
            400, "Bad Request: can't parse inline keyboard button: Text must be non-empty"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def button_text(button: object) -> str:
    return button if isinstance(button, str) else str(dict(button or {}).get("text", ""))


# --------------------------------------------------------------------------- data model


@dataclass
class FakeUser:
    """A Telegram user; their private chat has the same id."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    language_code: str | None = "vi"
    username: str | None = None

    def to_api(self) -> JSON:
        body: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        optional = {"last_name": self.last_name, "username": self.username,
                    "language_code": self.language_code}  # fmt: skip
        body.update({key: value for key, value in optional.items() if value is not None})
        return body

    def chat(self) -> JSON:
        body: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        optional = {"last_name": self.last_name, "username": self.username}
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@dataclass
class SentMessage:
    """A message the bot sent; edits change it in place and keep the old values in `edits`."""

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: JSON | None
    entities: list[Any] | None
    parse_mode: str | None
    date: int
    kind: str  # "text" | "document" | "photo"
    document: JSON | None = None  # file_name, data, mime_type, file_id, file_size
    caption: str | None = None
    edits: list[JSON] = field(default_factory=list)
    photo: JSON | None = None  # data, file_id, file_size
    deleted: bool = False
    edit_date: int | None = None

    def buttons(self) -> list[list[JSON]]:
        return inline_rows(self.reply_markup)

    def button_texts(self) -> list[str]:
        rows: Any = self.buttons() or dict(self.reply_markup or {}).get("keyboard") or []
        return [button_text(button) for row in rows for button in row]

    def callback_data(self, text_contains: str) -> str:
        for row in self.buttons():
            for button in row:
                if text_contains in button.get("text", "") and "callback_data" in button:
                    return str(button["callback_data"])
        raise AssertionError(f"no inline button containing {text_contains!r} in {self.describe()}")

    def content_json(self) -> JSON:
        """The Telegram Message fields for the content (text or caption and file)."""
        body: JSON = {}
        if self.text is not None:
            body["text"] = self.text
        if self.caption is not None:
            body["caption"] = self.caption
        if self.entities:
            body["entities" if self.kind == "text" else "caption_entities"] = self.entities
        if self.document is not None:
            body["document"] = file_json(self.document, ("file_name", "mime_type"))
        if self.photo is not None:
            body["photo"] = [photo_size(self.photo)]
        return body

    def to_json(self) -> JSON:
        """For the control API: everything but file contents (only their size)."""
        return {
            "message_id": self.message_id, "chat_id": self.chat_id, "kind": self.kind,
            "text": self.text, "caption": self.caption, "entities": self.entities,
            "parse_mode": self.parse_mode, "reply_markup": self.reply_markup, "date": self.date,
            "edit_date": self.edit_date, "deleted": self.deleted, "edits": self.edits,
            "document": file_summary(self.document), "photo": file_summary(self.photo),
        }  # fmt: skip

    def describe(self) -> str:
        body = self.text
        if self.kind != "text":
            body = f"{self.caption!r} file={file_summary(self.document or self.photo)}"
        deleted = " (deleted)" if self.deleted else ""
        return f"[{self.kind} #{self.message_id}{deleted}] {body!r} buttons={self.button_texts()}"


def file_json(attachment: JSON, extra: tuple[str, ...]) -> JSON:
    body = {"file_id": attachment["file_id"], "file_unique_id": attachment["file_unique_id"],
            "file_size": len(attachment["data"])}  # fmt: skip
    body.update({key: attachment[key] for key in extra if attachment.get(key) is not None})
    return body


def photo_size(attachment: JSON) -> JSON:
    return {**file_json(attachment, ()), "width": 320, "height": 320}


def file_summary(attachment: JSON | None) -> JSON | None:
    if attachment is None:
        return None
    summary = {key: value for key, value in attachment.items() if key != "data"}
    summary["size"] = len(attachment["data"])
    return summary


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str | None
    file_name: str | None

    def attachment(self) -> JSON:
        return {"file_name": self.file_name, "data": self.data, "mime_type": self.mime_type,
                "file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "file_size": len(self.data)}  # fmt: skip


@dataclass
class Upload:
    filename: str | None
    data: bytes
    content_type: str | None


@dataclass
class Fault:
    method: str
    status: int
    remaining: int
    retry_after: int | None = None
    description: str | None = None
    chat_id: int | None = None


@dataclass
class Delay:
    method: str
    seconds: float
    remaining: int


@dataclass
class Call:
    params: JSON
    files: dict[str, Upload]
    request: web.Request


Handler = Callable[[Call], Awaitable[Any]]


def take(entries: list[T], matches: Callable[[T], bool]) -> T | None:
    """The first entry that matches, using up one of its `remaining` uses."""
    for entry in entries:
        if matches(entry):
            entry.remaining -= 1
            if entry.remaining <= 0:
                entries.remove(entry)
            return entry
    return None


# --------------------------------------------------------------------------- request decoding


def decode_value(key: str, value: object) -> object:
    """PTB sends non-string values JSON-encoded inside form fields; undo that."""
    if not isinstance(value, str) or key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_body(request: web.Request) -> tuple[dict[str, object], dict[str, Upload]]:
    raw: dict[str, object] = dict(request.query)
    files: dict[str, Upload] = {}
    if not request.can_read_body:
        return raw, files
    if request.content_type == "application/json":
        body = await request.json()
        raw.update(body if isinstance(body, dict) else {})
        return raw, files
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[key] = Upload(value.filename, value.file.read(), value.content_type)
            raw[key] = f"<upload {value.filename!r}, {len(files[key].data)} bytes>"
        else:
            raw[key] = value
    return raw, files


async def decode_request(request: web.Request) -> tuple[JSON, dict[str, Upload]]:
    raw, files = await read_body(request)
    params = {key: value for key, value in raw.items() if key not in files}
    decoded = {key: decode_value(key, value) for key, value in params.items()}
    decoded.update({key: raw[key] for key in files})
    return decoded, files


def client_connected(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


def short(params: JSON, limit: int = 160) -> str:
    text = repr(params)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- the fake


class FakeBotApi:
    """The fake Bot API: state, injection of updates, inspection, fault injection and HTTP."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        rate_cap: float | None = None,
        bot_username: str = "khaibao_test_bot",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.clock = clock  # Telegram's time, for message dates (the sandbox follows its dial)
        self.rate_cap = rate_cap
        self.bot_username = bot_username
        self.bot_id = BOT_ID
        self.base_url = ""
        self.base_file_url = ""
        self.port = 0
        self.requests: list[tuple[str, JSON]] = []
        self.callback_answers: list[JSON] = []
        self.my_commands: dict[str, list[JSON]] = {}
        self.sent_count = 0
        self.rate_limited_count = 0
        self._init_state()
        self._methods = self._method_table()
        self._runner: web.AppRunner | None = None
        self._extra_routes: list[Callable[[web.Application], None]] = []
        self.version = 0  # grows at every change of state (new update, message, edit, answer)

    def add_routes(self, install: Callable[[web.Application], None]) -> None:
        """Call `install(app)` to add routes when the server starts (before the catch-all)."""
        self._extra_routes.append(install)

    def _init_state(self) -> None:
        self._users: dict[int, FakeUser] = {}
        self._messages: dict[int, list[SentMessage]] = {}
        self._message_seq: dict[int, int] = {}
        self._user_message_ids: dict[int, set[int]] = {}
        self._cursors: dict[int, int] = {}
        self._updates: dict[int, JSON] = {}
        self._pending: list[int] = []
        self._sticky: set[int] = set()  # redelivered, not yet handed out again
        self._last_update_id = 0
        self._poll_generation = 0
        self._query_seq = 0
        self._queries: set[str] = set()
        self._press_queries: dict[int, str] = {}
        self._answers: dict[str, JSON] = {}
        self._files: dict[str, StoredFile] = {}
        self._file_paths: dict[str, StoredFile] = {}
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []
        self._blocked: set[int] = set()
        self._send_times: deque[float] = deque()
        self._webhook_url = ""
        self._log: dict[int, list[SentMessage | JSON]] = {}  # each chat, in the order it happened
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()

    # ----------------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._add_control_routes(app)
        for install in self._extra_routes:
            install(app)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = int(self._runner.addresses[0][1])
        self.base_url = f"http://{host}:{self.port}/bot"
        self.base_file_url = f"http://{host}:{self.port}/file/bot"

    async def stop(self) -> None:
        """Stop serving; pending long polls and delayed calls are released at once."""
        self._stopping.set()
        self._notify()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def _now(self) -> int:
        return int(self.clock())

    def notify(self) -> None:
        """Wake everyone waiting for a change (e.g. the sandbox page after the clock moved)."""
        self._notify()

    def _notify(self, *, changed: bool = True) -> None:
        if changed:
            self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    async def wait_change(self, since: int, timeout: float) -> int:
        """Until `version` moves past `since`, the server stops or `timeout` runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.version == since and not self._stopping.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._wait_change(remaining)
        return self.version

    # ----------------------------------------------------------------------- users and updates

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        language_code: str | None = "vi",
        username: str | None = None,
    ) -> FakeUser:
        user = FakeUser(user_id, first_name, last_name, language_code, username)
        self._users[user_id] = user
        return user

    def send_text(self, user: FakeUser, text: str) -> int:
        content: JSON = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return self._queue_update({"message": self._user_message(user, content)})

    def send_contact(
        self,
        user: FakeUser,
        phone_number: str,
        *,
        contact_user_id: int | EllipsisType | None = ...,
        first_name: str = "Contact",
    ) -> int:
        contact: JSON = {"phone_number": phone_number, "first_name": first_name}
        owner = user.id if contact_user_id is ... else contact_user_id
        if owner is not None:
            contact["user_id"] = owner
        return self._queue_update({"message": self._user_message(user, {"contact": contact})})

    def send_photo(
        self,
        user: FakeUser,
        data: bytes = TINY_PNG,
        caption: str | None = None,
        mime_type: str = "image/jpeg",
    ) -> int:
        stored = self._store_file(data, "photos", mime_type, None)
        content: JSON = {"photo": [photo_size(stored.attachment())]}
        if caption is not None:
            content["caption"] = caption
        return self._queue_update({"message": self._user_message(user, content)})

    def press(self, user: FakeUser, message: SentMessage, data: str) -> int:
        self._query_seq += 1
        query_id = str(4_000_000_000_000_000_000 + self._query_seq)
        self._queries.add(query_id)
        query = {"id": query_id, "from": user.to_api(), "message": self._message_json(message),
                 "chat_instance": str(-7_000_000_000 - message.chat_id), "data": data}  # fmt: skip
        labels = [
            b.get("text")
            for row in message.buttons()
            for b in row
            if b.get("callback_data") == data
        ]
        self._log.setdefault(message.chat_id, []).append(
            {"from": "user", "press": data, "button": labels[0] if labels else data,
             "message_id": message.message_id, "date": self._now()}
        )  # fmt: skip
        update_id = self._queue_update({"callback_query": query})
        self._press_queries[update_id] = query_id
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Hand out the very same update again, even if it was confirmed already."""
        if update_id not in self._updates:
            raise AssertionError(f"no update {update_id} was ever queued")
        self._sticky.add(update_id)
        self._store_update(self._updates[update_id])

    def queue_raw_update(self, update: dict[str, Any]) -> int:
        update = dict(update)
        if "update_id" not in update:
            self._last_update_id += 1
            update["update_id"] = self._last_update_id
        self._last_update_id = max(self._last_update_id, int(update["update_id"]))
        self._learn_users(update)
        return self._store_update(update)

    def _learn_users(self, update: JSON) -> None:
        """Senders of raw updates become known users, so the bot can answer them."""
        for body in update.values():
            sender = body.get("from") if isinstance(body, dict) else None
            if (
                isinstance(sender, dict)
                and not sender.get("is_bot")
                and sender["id"] not in self._users
            ):
                self.user(sender["id"], sender.get("first_name", "Test"),
                          last_name=sender.get("last_name"), username=sender.get("username"),
                          language_code=sender.get("language_code"))  # fmt: skip

    def _queue_update(self, body: JSON) -> int:
        self._last_update_id += 1
        return self._store_update({"update_id": self._last_update_id, **body})

    def _store_update(self, update: JSON) -> int:
        update_id = int(update["update_id"])
        self._updates[update_id] = update
        if update_id not in self._pending:
            bisect.insort(self._pending, update_id)
        self._notify()
        return update_id

    def _user_message(self, user: FakeUser, content: JSON) -> JSON:
        self._users.setdefault(user.id, user)
        message_id = self._next_message_id(user.id)
        self._user_message_ids.setdefault(user.id, set()).add(message_id)
        self._log.setdefault(user.id, []).append(
            {"from": "user", "message_id": message_id, "date": self._now(), **content}
        )
        return {"message_id": message_id, "from": user.to_api(), "chat": user.chat(),
                "date": self._now(), **content}  # fmt: skip

    def _next_message_id(self, chat_id: int) -> int:
        self._message_seq[chat_id] = self._message_seq.get(chat_id, 0) + 1
        return self._message_seq[chat_id]

    # ----------------------------------------------------------------------- inspection

    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self._messages.get(chat_id, []))

    def timeline(self, chat_id: int) -> list[JSON]:
        """The whole private chat as its user sees it: their messages and taps, the bot's messages
        (as they are now, after edits), in the order they happened."""
        return [
            {"from": "bot", **entry.to_json()} if isinstance(entry, SentMessage) else dict(entry)
            for entry in self._log.get(chat_id, [])
        ]

    def file(self, file_id: str) -> StoredFile | None:
        return self._files.get(file_id)

    def known_user(self, user_id: int) -> FakeUser | None:
        return self._users.get(user_id)

    def mark_read(self, chat_id: int) -> None:
        """Everything sent to `chat_id` so far counts as read by `next_message`."""
        self._cursors[chat_id] = len(self._messages.get(chat_id, []))

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> SentMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            cursor = self._cursors.get(chat_id, 0)
            sent = self._messages.get(chat_id, [])
            if cursor < len(sent):
                self._cursors[chat_id] = cursor + 1
                return sent[cursor]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_dump(chat_id, timeout))
            await self._wait_change(remaining)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise AssertionError(f"condition not met within {timeout}s: {predicate!r}")
            await asyncio.sleep(0.01)

    def answer_for(self, update_id: int) -> dict[str, Any] | None:
        query_id = self._press_queries.get(update_id)
        return None if query_id is None else self._answers.get(query_id)

    @property
    def pending_updates(self) -> int:
        return len(self._pending)

    def stats(self) -> JSON:
        by_chat = {str(chat): len(sent) for chat, sent in self._messages.items()}
        return {"sent_count": self.sent_count, "rate_limited_count": self.rate_limited_count,
                "messages_by_chat": by_chat, "pending_updates": len(self._pending)}  # fmt: skip

    def _timeout_dump(self, chat_id: int, timeout: float) -> str:
        sent = self._messages.get(chat_id, [])
        lines = [f"no new message to chat {chat_id} within {timeout}s; "
                 f"all {len(sent)} sent so far were already read:"]  # fmt: skip
        lines += [f"  {message.describe()}" for message in sent] or ["  (none)"]
        calls = [f"  {name} {short(params)}" for name, params in self.requests
                 if params.get("chat_id") == chat_id][-10:]  # fmt: skip
        if calls:
            lines += ["last API calls for this chat:", *calls]
        return "\n".join(lines)

    # ----------------------------------------------------------------------- fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        self._faults.append(Fault(method, status, count, retry_after, description, chat_id))

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        self._delays.append(Delay(method, seconds, count))

    def block(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    async def _apply_delay(self, method: str) -> None:
        delay = take(self._delays, lambda entry: entry.method == method)
        if delay is None:
            return
        try:
            await asyncio.wait_for(self._stopping.wait(), delay.seconds)
        except TimeoutError:
            return  # the delay ran out: the call goes ahead, whether the client still waits or not
        raise ApiError(500, "Internal Server Error")  # stopped mid-delay: the call never happened

    def _apply_fault(self, method: str, params: JSON) -> None:
        def matches(fault: Fault) -> bool:
            return fault.method == method and fault.chat_id in (None, params.get("chat_id"))

        fault = take(self._faults, matches)
        if fault is not None:
            raise injected_error(fault.status, fault.retry_after, fault.description)

    # ----------------------------------------------------------------------- HTTP

    def _method_table(self) -> dict[str, tuple[str, Handler]]:
        handlers: dict[str, Handler] = {
            "getMe": self._get_me, "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook, "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info, "close": self._ok, "logOut": self._ok,
            "sendMessage": self._send_message, "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "deleteMessage": self._delete_message, "answerCallbackQuery": self._answer_callback,
            "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands, "setChatMenuButton": self._ok,
            "sendDocument": self._send_document, "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action, "getFile": self._get_file,
            "getChat": self._get_chat,
        }  # fmt: skip
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        asked = request.match_info["method"]
        name, handler = self._methods.get(asked.lower(), (asked, None))
        try:
            params, files = await decode_request(request)
        except ValueError:
            return error_response(ApiError(400, "Bad Request: can't parse request parameters"))
        self.requests.append((name, params))
        if handler is None:
            return error_response(ApiError(404, "Not Found"))
        return await self._answer(name, handler, Call(params, files, request))

    async def _answer(self, name: str, handler: Handler, call: Call) -> web.Response:
        try:
            await self._apply_delay(name)
            self._apply_fault(name, call.params)
            result = await handler(call)
        except ApiError as error:
            if error.status == 429:
                self.rate_limited_count += 1
            return error_response(error)
        except (KeyError, TypeError, ValueError) as exc:
            return error_response(ApiError(400, f"Bad Request: invalid parameters: {exc}"))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        stored = self._file_paths.get(request.match_info["path"])
        if stored is None:
            return error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return error_response(ApiError(404, "Not Found"))

    # ----------------------------------------------------------------------- helpers for methods

    def _bot_user(self) -> JSON:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Khai Báo (test)",
                "username": self.bot_username}  # fmt: skip

    def _chat_json(self, chat_id: int) -> JSON:
        user = self._users.get(chat_id)
        return user.chat() if user else {"id": chat_id, "type": "private", "first_name": "?"}

    def _message_json(self, message: SentMessage) -> JSON:
        body: JSON = {"message_id": message.message_id, "from": self._bot_user(),
                      "chat": self._chat_json(message.chat_id), "date": message.date}  # fmt: skip
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        body.update(message.content_json())
        markup = inline_markup(message.reply_markup)  # Telegram never echoes reply keyboards
        if markup is not None:
            body["reply_markup"] = markup
        return body

    def _target_chat(self, params: JSON) -> int:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        if not isinstance(chat_id, int) or chat_id not in self._users:
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat_id

    def _admit_send(self) -> None:
        if self.rate_cap is None:
            return
        moment = time.monotonic()
        while self._send_times and moment - self._send_times[0] >= 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= self.rate_cap:
            raise too_many_requests(1)
        self._send_times.append(moment)

    def _deliver(self, chat_id: int, **content: Any) -> JSON:
        self._admit_send()
        message = SentMessage(message_id=self._next_message_id(chat_id), chat_id=chat_id,
                              date=self._now(), **content)  # fmt: skip
        self._messages.setdefault(chat_id, []).append(message)
        self._log.setdefault(chat_id, []).append(message)
        self.sent_count += 1
        self._notify()
        return self._message_json(message)

    def _store_file(
        self, data: bytes, folder: str, mime_type: str | None, name: str | None
    ) -> StoredFile:
        number = len(self._files) + 1
        prefix = "BQACAgIAAxk" if folder == "documents" else "AgACAgIAAxk"
        suffix = PurePosixPath(name).suffix if name else ".jpg"
        stored = StoredFile(f"{prefix}{number:08d}", f"AQAD{number:08d}",
                            f"{folder}/file_{number}{suffix}", data, mime_type, name)  # fmt: skip
        self._files[stored.file_id] = stored
        self._file_paths[stored.file_path] = stored
        return stored

    def _upload(self, call: Call, field_name: str, folder: str) -> StoredFile:
        value = call.params.get(field_name)
        upload = call.files.get(field_name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = call.files.get(value.removeprefix("attach://"))
        if upload is not None:
            if not upload.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            return self._store_file(upload.data, folder, upload.content_type, upload.filename)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if value in (None, ""):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    @staticmethod
    def _text(params: JSON) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _caption(params: JSON) -> str | None:
        caption = params.get("caption")
        if caption is not None and len(str(caption)) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        return None if caption is None else str(caption)

    def _editable(self, params: JSON) -> SentMessage:
        if "inline_message_id" not in params:
            chat_id = self._target_chat(params)
            for message in self._messages.get(chat_id, []):
                if message.message_id == params.get("message_id") and not message.deleted:
                    return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _apply_edit(self, message: SentMessage, method: str, markup: JSON | None) -> None:
        message.edits.append({"method": method, "text": message.text, "caption": message.caption,
                              "entities": message.entities, "reply_markup": message.reply_markup,
                              "edit_date": message.edit_date})  # fmt: skip
        if markup is not None or inline_markup(message.reply_markup) is not None:
            message.reply_markup = markup  # an edit without markup removes the inline keyboard
        message.edit_date = self._now()
        self._notify()

    # ----------------------------------------------------------------------- Bot API methods

    async def _ok(self, call: Call) -> bool:
        return True

    async def _get_me(self, call: Call) -> JSON:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}  # fmt: skip

    async def _get_updates(self, call: Call) -> list[JSON]:
        if self._webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify(changed=False)  # a long poll still waiting is terminated, as Telegram does
        self._confirm(int(call.params.get("offset") or 0))
        limit = min(max(int(call.params.get("limit") or 100), 1), 100)
        await self._long_poll(float(call.params.get("timeout") or 0), generation)
        batch = self._pending[:limit]
        if client_connected(call.request):
            self._sticky.difference_update(batch)
        return [self._updates[update_id] for update_id in batch]

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [i for i in self._pending if i >= offset or i in self._sticky]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _long_poll(self, timeout: float, generation: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._pending and not self._stopping.is_set():
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await self._wait_change(remaining)

    async def _delete_webhook(self, call: Call) -> bool:
        self._webhook_url = ""
        if call.params.get("drop_pending_updates"):
            self._pending.clear()
            self._sticky.clear()
        return True

    async def _set_webhook(self, call: Call) -> bool:
        self._webhook_url = str(call.params.get("url") or "")
        return True

    async def _get_webhook_info(self, call: Call) -> JSON:
        return {"url": self._webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._pending)}  # fmt: skip

    async def _send_message(self, call: Call) -> JSON:
        chat_id = self._target_chat(call.params)
        text = self._text(call.params)
        markup = check_markup(call.params.get("reply_markup"))
        return self._deliver(chat_id, kind="text", text=text, reply_markup=markup,
                             entities=call.params.get("entities"),
                             parse_mode=call.params.get("parse_mode"))  # fmt: skip

    async def _send_document(self, call: Call) -> JSON:
        return self._send_file(call, "document", "documents")

    async def _send_photo(self, call: Call) -> JSON:
        return self._send_file(call, "photo", "photos")

    def _send_file(self, call: Call, kind: str, folder: str) -> JSON:
        """A document or a photo: the file kept under `folder`, the text as its caption."""
        chat_id = self._target_chat(call.params)
        caption = self._caption(call.params)
        markup = check_markup(call.params.get("reply_markup"))
        stored = self._upload(call, kind, folder)
        return self._deliver(chat_id, kind=kind, text=None, caption=caption,
                             reply_markup=markup, entities=call.params.get("caption_entities"),
                             parse_mode=call.params.get("parse_mode"),
                             **{kind: stored.attachment()})  # fmt: skip

    async def _edit_message_text(self, call: Call) -> JSON:
        message = self._editable(call.params)
        text = self._text(call.params)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = check_markup(call.params.get("reply_markup"))
        entities = call.params.get("entities") or None
        same_markup = inline_markup(markup) == inline_markup(message.reply_markup)
        if text == message.text and entities == (message.entities or None) and same_markup:
            raise ApiError(400, NOT_MODIFIED)
        self._apply_edit(message, "editMessageText", markup)
        message.text, message.entities = text, entities
        message.parse_mode = call.params.get("parse_mode")
        return self._message_json(message)

    async def _edit_reply_markup(self, call: Call) -> JSON:
        message = self._editable(call.params)
        markup = check_markup(call.params.get("reply_markup"))
        if inline_markup(markup) == inline_markup(message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        self._apply_edit(message, "editMessageReplyMarkup", markup)
        return self._message_json(message)

    async def _delete_message(self, call: Call) -> bool:
        chat_id = self._target_chat(call.params)
        message_id = call.params.get("message_id")
        for message in self._messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                message.deleted = True
                self._notify()
                return True
        if message_id in self._user_message_ids.get(chat_id, set()):
            self._user_message_ids[chat_id].discard(message_id)
            return True
        raise ApiError(400, "Bad Request: message to delete not found")

    async def _answer_callback(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id") or "")
        if query_id not in self._queries:
            raise ApiError(400, QUERY_INVALID)
        answer = {"show_alert": False, **call.params}
        self.callback_answers.append(answer)
        self._answers[query_id] = answer
        self._notify()
        return True

    async def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            check_command(command)
        self.my_commands[str(call.params.get("language_code") or "")] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, call: Call) -> list[JSON]:
        return self.my_commands.get(str(call.params.get("language_code") or ""), [])

    async def _delete_my_commands(self, call: Call) -> bool:
        self.my_commands.pop(str(call.params.get("language_code") or ""), None)
        return True

    async def _send_chat_action(self, call: Call) -> bool:
        self._target_chat(call.params)
        return True

    async def _get_file(self, call: Call) -> JSON:
        stored = self._files.get(str(call.params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}  # fmt: skip

    async def _get_chat(self, call: Call) -> JSON:
        user = self._users.get(call.params.get("chat_id"))  # type: ignore[arg-type]
        if user is None:
            raise ApiError(400, CHAT_NOT_FOUND)
        gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}  # fmt: skip
        return {**user.chat(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}  # fmt: skip

    # ----------------------------------------------------------------------- control API

    def _add_control_routes(self, app: web.Application) -> None:
        posts: dict[str, Callable[[JSON], Any]] = {
            "users": self._control_user, "text": self._control_text,
            "contact": self._control_contact, "press": self._control_press,
            "redeliver": self._control_redeliver, "block": self._control_block,
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
        user = self._users.get(int(str(user_id)))
        if user is None:
            raise ValueError(f"unknown user {user_id}; POST /_control/users first")
        return user

    def _control_user(self, body: JSON) -> JSON:
        user = self.user(int(body["user_id"]), body.get("first_name", "Test"),
                         last_name=body.get("last_name"), username=body.get("username"),
                         language_code=body.get("language_code", "vi"))  # fmt: skip
        return user.to_api()

    def _control_text(self, body: JSON) -> JSON:
        return {"update_id": self.send_text(self._known_user(body["user_id"]), body["text"])}

    def _control_contact(self, body: JSON) -> JSON:
        user = self._known_user(body["user_id"])
        extra = {"contact_user_id": body["contact_user_id"]} if "contact_user_id" in body else {}
        first_name = body.get("first_name", "Contact")
        update_id = self.send_contact(user, body["phone_number"], first_name=first_name, **extra)
        return {"update_id": update_id}

    def _control_press(self, body: JSON) -> JSON:
        user = self._known_user(body["user_id"])
        chat_id, message_id = int(body.get("chat_id", user.id)), int(body["message_id"])
        found = [m for m in self._messages.get(chat_id, []) if m.message_id == message_id]
        if not found:
            raise ValueError(f"the bot sent no message {message_id} to chat {chat_id}")
        return {"update_id": self.press(user, found[0], body["data"])}

    def _control_redeliver(self, body: JSON) -> JSON:
        self.redeliver(int(body["update_id"]))
        return {"update_id": int(body["update_id"])}

    def _control_block(self, body: JSON) -> JSON:
        self.block(int(body["chat_id"]))
        return {"ok": True}

    def _control_fail_next(self, body: JSON) -> JSON:
        chat_id = body.get("chat_id")
        self.fail_next(str(body["method"]), status=int(body["status"]),
                       count=int(body.get("count", 1)), retry_after=body.get("retry_after"),
                       description=body.get("description"),
                       chat_id=None if chat_id is None else int(chat_id))  # fmt: skip
        return {"ok": True}

    def _control_delay_next(self, body: JSON) -> JSON:
        self.delay_next(str(body["method"]), float(body["seconds"]), int(body.get("count", 1)))
        return {"ok": True}

    async def _control_messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = int(request.query["chat_id"])
        except (KeyError, ValueError):
            return web.json_response({"error": "chat_id (an integer) is required"}, status=400)
        return web.json_response([message.to_json() for message in self.messages(chat_id)])

    async def _control_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())


def check_command(command: object) -> None:
    if not isinstance(command, dict):
        raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
    name, description = str(command.get("command", "")), str(command.get("description", ""))
    if not COMMAND_NAME.fullmatch(name):
        raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
    if not 1 <= len(description) <= 256:
        raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
