"""The sandbox Telegram's data: its users, the messages the bot sent, stored files, API errors.

Shared by the chat store, the Bot API methods, the test API and the web page; imports none of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

JSON = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz12"
BOT_ID = 1000
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_TOAST = 200  # answerCallbackQuery's text
SEND_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"}
)
PAID_BROADCAST_CAP = 1000  # sends a second with allow_paid_broadcast (for Telegram Stars)
IN_FLIGHT_GRACE = 0.01  # seconds after a 429 in which a send was already on its way (localhost)
ANSWER_WINDOW = 15.0  # seconds after the press in which answerCallbackQuery is accepted
DELETE_WINDOW_SECONDS = 48 * 3600  # a bot deletes its messages within 48 hours of sending
CANNOT_DELETE = "Bad Request: message can't be deleted for everyone"
UPLOAD_LIMIT = 50 * 1024 * 1024
BLOCKED = "Forbidden: bot was blocked by the user"
CHAT_NOT_FOUND = "Bad Request: chat not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
TOAST_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
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
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    return cast(list[list[JSON]], rows) if isinstance(rows, list) else []


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
    if isinstance(button, str):
        return button
    return str(button.get("text", "")) if isinstance(button, dict) else ""


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
    reply_to: int | None = None  # the message this one replies to (reply_parameters)

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
