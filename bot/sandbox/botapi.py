"""The Bot API methods of the sandbox Telegram, as strict as the real server, over one chat store.

Each method checks its parameters as Telegram does, changes the shared `ChatStore` and answers with
Telegram's JSON (or its error shape). Faults asked for by a test are applied before the method.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.sandbox.faults import Faults
from bot.sandbox.model import (
    ANSWER_WINDOW,
    CANNOT_DELETE,
    CHAT_NOT_FOUND,
    COMMAND_NAME,
    DELETE_WINDOW_SECONDS,
    JSON,
    MAX_CAPTION,
    MAX_TEXT,
    MAX_TOAST,
    NOT_MODIFIED,
    POLL_CONFLICT,
    QUERY_INVALID,
    STRING_PARAMS,
    TOAST_TOO_LONG,
    WEBHOOK_CONFLICT,
    ApiError,
    StoredFile,
    check_markup,
    inline_markup,
    utf16_len,
)
from bot.sandbox.store import ChatStore, WebhookSetting


@dataclass
class Upload:
    filename: str | None
    data: bytes
    content_type: str | None


@dataclass
class Call:
    params: JSON
    files: dict[str, Upload]
    request: web.Request


Handler = Callable[[Call], Awaitable[Any]]


# --------------------------------------------------------------------------- request decoding


GET_FILE_MAX_BYTES = 20 * 1024 * 1024  # the Bot API hands out files up to 20 MB


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


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


COMMAND_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
     "chat_administrators", "chat_member"}
)  # fmt: skip
CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})


def check_command(command: object) -> None:
    if not isinstance(command, dict):
        raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
    name, description = str(command.get("command", "")), str(command.get("description", ""))
    if not COMMAND_NAME.fullmatch(name):
        raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
    if not 1 <= len(description) <= 256:
        raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")


SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_webhook_url(url: str) -> str:
    """HTTPS, as Telegram demands; plain HTTP only to this machine, as a local Bot API server
    (``--local``) allows."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(
            400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
        )
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOSTS:
        raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
    return url


def check_secret_token(value: object) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or not SECRET_TOKEN.fullmatch(value):
        raise ApiError(400, "Bad Request: bad webhook: secret token contains unallowed characters")
    return value


def check_max_connections(value: object) -> int:
    if value in (None, ""):
        return 40
    number = int(str(value))
    if not 1 <= number <= 100:
        raise ApiError(400, "Bad Request: bad webhook: max_connections must be between 1 and 100")
    return number


class BotApi:
    """The `/bot<token>/<method>` and `/file/bot<token>/<path>` routes."""

    def __init__(self, store: ChatStore, faults: Faults, token: str) -> None:
        self.store = store
        self.faults = faults
        self.token = token
        self._methods = self._method_table()

    def install(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)

    async def handle_unknown(self, request: web.Request) -> web.Response:
        return error_response(ApiError(404, "Not Found"))

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
        self.store.requests.append((name, params))
        if handler is None:
            return error_response(ApiError(404, "Not Found"))
        return await self._answer(name, handler, Call(params, files, request))

    async def _answer(self, name: str, handler: Handler, call: Call) -> web.Response:
        self.store.note_call(name)
        try:
            await self.faults.apply_random(name)
            await self.faults.apply_jitter(name)
            await self.faults.apply_delay(name)
            self.faults.apply_fault(name, call.params)
            result = await handler(call)
        except ApiError as error:
            if error.status == 429:
                self.store.note_too_many_requests(error)
            return error_response(error)
        except (KeyError, TypeError, ValueError) as exc:
            return error_response(ApiError(400, f"Bad Request: invalid parameters: {exc}"))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        stored = self.store.downloadable(request.match_info["path"])
        if stored is None:  # never handed out by getFile, or its link has expired
            return error_response(ApiError(404, "Not Found"))
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    def _upload(self, call: Call, field_name: str, folder: str) -> StoredFile:
        value = call.params.get(field_name)
        upload = call.files.get(field_name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = call.files.get(value.removeprefix("attach://"))
        if upload is not None:
            if not upload.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            return self.store.store_file(upload.data, folder, upload.content_type, upload.filename)
        if isinstance(value, str) and value in self.store.files:
            return self.store.files[value]
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

    # ----------------------------------------------------------------------- Bot API methods

    async def _ok(self, call: Call) -> bool:
        return True

    async def _get_me(self, call: Call) -> JSON:
        return {**self.store.bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}  # fmt: skip

    async def _get_updates(self, call: Call) -> list[JSON]:
        if self.store.webhook.url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        self.store.poll_generation += 1
        generation = self.store.poll_generation
        self.store.notify(
            changed=False
        )  # a long poll still waiting is terminated, as Telegram does
        offset = int(call.params.get("offset") or 0)
        if offset > 0:
            self.store.confirm_below(offset)
        elif offset < 0:
            self.store.keep_last(-offset)
        limit = min(max(int(call.params.get("limit") or 100), 1), 100)
        await self._long_poll(float(call.params.get("timeout") or 0), generation)
        self.store.drop_expired_taps()
        batch = self.store.pending[:limit]
        return [self.store.updates[update_id] for update_id in batch]

    async def _long_poll(self, timeout: float, generation: int) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.store.pending and not self.store.stopping.is_set():
            self.store.drop_expired_taps()
            if generation != self.store.poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await self.store.wait_signal(remaining)

    async def _delete_webhook(self, call: Call) -> bool:
        self.store.webhook = WebhookSetting()
        if call.params.get("drop_pending_updates"):
            self.store.drop_all_pending()
        self.store.notify()
        return True

    async def _set_webhook(self, call: Call) -> bool:
        url = str(call.params.get("url") or "")
        if not url:  # an empty url removes the webhook, as deleteWebhook does
            return await self._delete_webhook(call)
        self.store.webhook = WebhookSetting(
            url=check_webhook_url(url),
            secret_token=check_secret_token(call.params.get("secret_token")),
            max_connections=check_max_connections(call.params.get("max_connections")),
        )
        if call.params.get("drop_pending_updates"):
            self.store.drop_all_pending()
        self.store.notify()
        return True

    async def _get_webhook_info(self, call: Call) -> JSON:
        webhook = self.store.webhook
        info: JSON = {"url": webhook.url, "has_custom_certificate": False,
                      "pending_update_count": len(self.store.pending)}  # fmt: skip
        if webhook.url:
            info["max_connections"] = webhook.max_connections
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
        return info

    async def _send_message(self, call: Call) -> JSON:
        chat_id = self.store.target_chat(call.params)
        text = self._text(call.params)
        markup = check_markup(call.params.get("reply_markup"))
        reply_to = self._reply_to(chat_id, call.params.get("reply_parameters"))
        return self.store.deliver(chat_id, kind="text", text=text, reply_markup=markup,
                             paid=bool(call.params.get("allow_paid_broadcast")),
                             entities=call.params.get("entities"),
                             parse_mode=call.params.get("parse_mode"), reply_to=reply_to)  # fmt: skip

    def _reply_to(self, chat_id: int, parameters: object) -> int | None:
        """reply_parameters: the message must be in this chat (unless sending without the reply
        is allowed, as Telegram does)."""
        if parameters is None:
            return None
        if not isinstance(parameters, dict) or not isinstance(parameters.get("message_id"), int):
            raise ApiError(400, "Bad Request: invalid reply parameters specified")
        wanted = parameters["message_id"]
        if any(m.message_id == wanted and not m.deleted for m in self.store.chats.get(chat_id, [])):
            return int(wanted)
        if parameters.get("allow_sending_without_reply"):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    async def _send_document(self, call: Call) -> JSON:
        return self._send_file(call, "document", "documents")

    async def _send_photo(self, call: Call) -> JSON:
        return self._send_file(call, "photo", "photos")

    def _send_file(self, call: Call, kind: str, folder: str) -> JSON:
        """A document or a photo: the file kept under `folder`, the text as its caption."""
        chat_id = self.store.target_chat(call.params)
        caption = self._caption(call.params)
        markup = check_markup(call.params.get("reply_markup"))
        stored = self._upload(call, kind, folder)
        return self.store.deliver(chat_id, kind=kind, text=None, caption=caption,
                             paid=bool(call.params.get("allow_paid_broadcast")),
                             reply_markup=markup, entities=call.params.get("caption_entities"),
                             parse_mode=call.params.get("parse_mode"),
                             **{kind: stored.attachment()})  # fmt: skip

    async def _edit_message_text(self, call: Call) -> JSON:
        message = self.store.editable(call.params)
        text = self._text(call.params)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = check_markup(call.params.get("reply_markup"))
        entities = call.params.get("entities") or None
        same_markup = inline_markup(markup) == inline_markup(message.reply_markup)
        if text == message.text and entities == (message.entities or None) and same_markup:
            raise ApiError(400, NOT_MODIFIED)
        self.store.apply_edit(message, "editMessageText", markup)
        message.text, message.entities = text, entities
        message.parse_mode = call.params.get("parse_mode")
        return self.store.message_json(message)

    async def _edit_reply_markup(self, call: Call) -> JSON:
        message = self.store.editable(call.params)
        markup = check_markup(call.params.get("reply_markup"))
        if inline_markup(markup) == inline_markup(message.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        self.store.apply_edit(message, "editMessageReplyMarkup", markup)
        return self.store.message_json(message)

    async def _delete_message(self, call: Call) -> bool:
        chat_id = self.store.target_chat(call.params)
        message_id = call.params.get("message_id")
        for message in self.store.chats.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                if self.store.now() - message.date >= DELETE_WINDOW_SECONDS:
                    raise ApiError(400, CANNOT_DELETE)
                message.deleted = True
                self.store.notify()
                return True
        if message_id in self.store.user_message_ids.get(chat_id, set()):
            self.store.user_message_ids[chat_id].discard(message_id)
            return True
        raise ApiError(400, "Bad Request: message to delete not found")

    async def _answer_callback(self, call: Call) -> bool:
        query_id = str(call.params.get("callback_query_id") or "")
        pressed = self.store.queries.get(query_id)
        if pressed is None or self.store.clock() - pressed > ANSWER_WINDOW:
            raise ApiError(400, QUERY_INVALID)
        if utf16_len(str(call.params.get("text") or "")) > MAX_TOAST:
            raise ApiError(400, TOAST_TOO_LONG)
        self.store.record_answer(query_id, {"show_alert": False, **call.params})
        return True

    async def _set_my_commands(self, call: Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            check_command(command)
        self.store.my_commands[self._commands_key(call)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, call: Call) -> list[JSON]:
        return self.store.my_commands.get(self._commands_key(call), [])

    async def _delete_my_commands(self, call: Call) -> bool:
        self.store.my_commands.pop(self._commands_key(call), None)
        return True

    def _commands_key(self, call: Call) -> str:
        """`vi` for the default scope in Vietnamese; `chat:841:` for one chat, any language."""
        language = str(call.params.get("language_code") or "")
        scope = call.params.get("scope")
        if scope is None:
            return language
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise ApiError(400, "Bad Request: wrong bot command scope type specified")
        if scope["type"] == "default":
            return language
        if scope["type"] in CHAT_SCOPES:
            return f"chat:{self.store.target_chat(scope)}:{language}"
        return f"{scope['type']}:{language}"

    async def _send_chat_action(self, call: Call) -> bool:
        self.store.target_chat(call.params)
        return True

    async def _get_file(self, call: Call) -> JSON:
        stored = self.store.files.get(str(call.params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > GET_FILE_MAX_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        self.store.hand_out_link(stored)
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}  # fmt: skip

    async def _get_chat(self, call: Call) -> JSON:
        chat_id = call.params.get("chat_id")
        user = self.store.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise ApiError(400, CHAT_NOT_FOUND)
        gifts = {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}  # fmt: skip
        return {**user.chat(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}  # fmt: skip
