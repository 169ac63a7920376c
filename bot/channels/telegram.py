"""Telegram's side of the outbox and of direct replies: keyboards, errors, sending."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeAlias

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes, ExtBot, JobQueue

from bot.channels.own_files import NotOwnFile, read_own_file
from bot.channels.port import (
    Capabilities,
    EditTargetGone,
    LengthUnit,
    PhoneSharing,
    ProactivePolicy,
    RetryLater,
    SendError,
    Transient,
    Undeliverable,
)
from bot.channels.replier import ChannelReplier
from bot.config import Settings
from bot.outgoing import ChannelFile, LocalFile, OutMessage
from bot.services.directory.fetch import FetchRefused
from bot.services.outbox.render import acknowledgement, render_for

log = logging.getLogger(__name__)

CHANNEL = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
TOAST_LIMIT = 200  # answerCallbackQuery refuses longer text (MESSAGE_TOO_LONG)
BOT_API_RATE = 30.0  # messages a second to different chats (the Bot API's FAQ)


def capabilities(send_rate: float = BOT_API_RATE) -> Capabilities:
    """What the Bot API shows: `send_rate` is the pace configured for this bot."""
    return Capabilities(
        max_text=TEXT_LIMIT,
        max_caption=CAPTION_LIMIT,
        max_buttons=100,  # an inline keyboard's limit
        max_buttons_per_row=8,
        max_payload_bytes=64,
        max_button_text=TEXT_LIMIT,  # no documented limit below a message's
        can_edit=True,
        can_delete=True,
        can_acknowledge=True,
        max_acknowledgement=TOAST_LIMIT,
        persistent_menu=True,
        command_menu=True,
        can_quote=True,
        phone_sharing=PhoneSharing.BUTTON,
        proactive=ProactivePolicy(),  # a person who started the bot may be written to any time
        send_rate=send_rate,
        length_unit=LengthUnit.UTF16,
        max_document_bytes=50 * 1024 * 1024,
        max_photo_bytes=10 * 1024 * 1024,
    )


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
MarkupJson = dict[str, object] | None

# The Application ApplicationBuilder().build() makes: default ContextTypes, plain dicts for data.
TelegramApp: TypeAlias = Application[
    ExtBot[None],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]


def render_markup(message: OutMessage) -> MarkupJson:
    """The keyboard as the Bot API's JSON: cheaper to send than PTB's objects, which would be
    built, then turned back into the same dicts, for every message."""
    if message.buttons:
        return {
            "inline_keyboard": [
                [
                    {"text": b.text, "url": b.url}
                    if b.url
                    else {"text": b.text, "callback_data": b.callback}
                    for b in row
                ]
                for row in message.buttons
            ]
        }
    if message.ask_phone:
        return {
            "keyboard": [[{"text": message.ask_phone, "request_contact": True}]],
            "resize_keyboard": True,
            "one_time_keyboard": True,
        }
    if message.menu:
        return {
            "keyboard": [[{"text": item.label} for item in row] for row in message.menu],
            "resize_keyboard": True,
            "is_persistent": True,
        }
    if message.remove_keyboard:
        return {"remove_keyboard": True}
    return None


_TOASTS = capabilities()  # what a toast may be (the pace plays no part in it)


def fits_toast(text: str) -> bool:
    """Whether a press's answer may show as a toast (Telegram counts UTF-16 units)."""
    return acknowledgement(text, _TOASTS) is not None


def _inline_only(markup: MarkupJson) -> MarkupJson:
    """Edits take only an inline keyboard."""
    return markup if markup is not None and "inline_keyboard" in markup else None


def _ptb_markup(markup: MarkupJson) -> Markup:
    """PTB's objects, for the file uploads that go through its typed methods."""
    if markup is None:
        return None
    if "inline_keyboard" in markup:
        return InlineKeyboardMarkup.de_json(markup, None)
    if "keyboard" in markup:
        return ReplyKeyboardMarkup.de_json(markup, None)
    return ReplyKeyboardRemove()


TRANSIENT_400 = (
    "too many requests",
    "rpc_call_fail",
    "rpc_mcget_fail",
    "internal error",
    "internal server error",
    "try again",
)
"""A 400 carrying one of these is Telegram's own passing trouble, not a fault of the request."""

EDIT_TARGET_GONE = (
    "message to edit not found",
    "message can't be edited",
    "there is no text in the message to edit",
    "message_id_invalid",
    "message can't be deleted",
    "message to delete not found",
)


def send_error(exc: TelegramError, *, editing: bool) -> SendError:
    """What a Bot API error means for the outbox: wait and retry, retry, or give up.

    Permanent: a 400 (the request itself is wrong: too long, bad buttons, chat not found,
    message to edit gone), a 403 (blocked, kicked). Retry later: a 429 with retry_after.
    Transient: 5xx, time-outs, the network. A refused token pauses every send a minute:
    nothing is given up for the operator's mistake.
    """
    if isinstance(exc, RetryAfter):
        return RetryLater(_seconds(exc.retry_after))
    if isinstance(exc, Forbidden | ChatMigrated):
        return Undeliverable(exc.message)
    if isinstance(exc, InvalidToken):
        return RetryLater(TOKEN_REFUSED_PAUSE)
    if isinstance(exc, BadRequest):
        lowered = exc.message.lower()
        if editing and any(fragment in lowered for fragment in EDIT_TARGET_GONE):
            return EditTargetGone(exc.message)
        if any(fragment in lowered for fragment in TRANSIENT_400):
            return Transient(exc.message)
        return Undeliverable(exc.message)
    return Transient(str(exc) or type(exc).__name__)


TOKEN_REFUSED_PAUSE = 60.0


GET_FILE_LIMIT = 20 * 1024 * 1024  # the Bot API's getFile hands out files up to 20 MB


class TelegramFiles:
    """Downloads what a person sent (getFile, then the file URL), size checked first."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def __call__(self, channel: str, file_id: str, dest: Path, max_bytes: int) -> None:
        if channel != CHANNEL:
            raise FetchRefused(f"not a {CHANNEL} file")
        try:
            found = await self._bot.get_file(file_id)
        except BadRequest as exc:
            too_big = "too big" in exc.message.lower()
            raise FetchRefused(exc.message, too_big=too_big, size=None) from exc
        except TelegramError as exc:  # time-outs, the network, a refused token
            raise FetchRefused(str(exc)) from exc
        size = found.file_size or 0
        if size > min(max_bytes, GET_FILE_LIMIT):
            raise FetchRefused("file too big", too_big=True, size=size)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            await found.download_to_drive(dest)
        except TelegramError as exc:  # time-outs, the network, a refused token
            raise FetchRefused(str(exc)) from exc


class TelegramTransport:
    """Sends OutMessages through PTB's Bot and turns its errors into outbox outcomes."""

    name = CHANNEL

    def __init__(
        self,
        bot: Bot,
        upload_folders: Sequence[Path],
        *,
        paid_broadcast: bool = False,
        send_rate: float = BOT_API_RATE,
    ) -> None:
        self._bot = bot
        self._upload_folders = tuple(upload_folders)
        self._paid_broadcast = paid_broadcast
        self.capabilities = capabilities(send_rate)

    def render(self, message: OutMessage) -> list[OutMessage]:
        return render_for(message, self.capabilities)

    def _paid(self, message: OutMessage) -> bool:
        """Telegram's paid broadcast (allow_paid_broadcast): up to 1,000 msg/s, for Stars;
        only for copies of a directive, never for anything interactive."""
        return self._paid_broadcast and message.bulk

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        try:
            return await self._send(chat_ref, message)
        except TelegramError as exc:
            if isinstance(exc, BadRequest) and "not modified" in exc.message.lower():
                return message.edit_ref  # the edit's effect is there already
            targeted = message.edit_ref is not None or message.delete_ref is not None
            raise send_error(exc, editing=targeted) from exc

    async def _send(self, chat_ref: str, message: OutMessage) -> str | None:
        # Text goes through PTB's raw _post: its typed methods build a full Message from every
        # answer (about half the sender's CPU per message), and all we need is the message id.
        markup = render_markup(message)
        text = message.text[:TEXT_LIMIT]
        if message.commands:
            await self._set_chat_commands(chat_ref, message.commands)
        if message.delete_ref:
            await self._bot._post(
                "deleteMessage", {"chat_id": int(chat_ref), "message_id": int(message.delete_ref)}
            )
            return message.delete_ref
        if message.edit_ref and message.markup_only:
            await self._bot._post(
                "editMessageReplyMarkup",
                {
                    "chat_id": int(chat_ref),
                    "message_id": int(message.edit_ref),
                    "reply_markup": _inline_only(markup),
                },
            )
            return message.edit_ref
        if message.document is not None or message.photo is not None:
            return await self._send_file(chat_ref, message, markup)
        if message.edit_ref:
            await self._bot._post(
                "editMessageText",
                {
                    "chat_id": int(chat_ref),
                    "message_id": int(message.edit_ref),
                    "text": text,
                    "reply_markup": _inline_only(markup),
                },
            )
            return message.edit_ref
        params: dict[str, object] = {"chat_id": int(chat_ref), "text": text, "reply_markup": markup}
        if message.reply_to:
            params["reply_parameters"] = {"message_id": int(message.reply_to),
                                          "allow_sending_without_reply": True}  # fmt: skip
        if self._paid(message):
            params["allow_paid_broadcast"] = True
        sent = await self._bot._post("sendMessage", params)
        return str(sent["message_id"])

    async def _set_chat_commands(
        self, chat_ref: str, commands: tuple[tuple[str, str], ...]
    ) -> None:
        """This chat's own command menu (scope chat): what this person may do, in their language.
        Setting it again on a retry is harmless."""
        await self._bot._post(
            "setMyCommands",
            {
                "commands": [
                    {"command": name, "description": about[:256]} for name, about in commands
                ],
                "scope": {"type": "chat", "chat_id": int(chat_ref)},
            },
        )

    async def _send_file(self, chat_ref: str, message: OutMessage, markup: MarkupJson) -> str:
        """A document or a photo, the text as its caption: by its Telegram file id, or one of
        the bot's own files uploaded under its name."""
        kind = "document" if message.document is not None else "photo"
        ref = message.document or message.photo
        assert ref is not None
        caption = message.text[:CAPTION_LIMIT] or None
        if isinstance(ref, ChannelFile):
            # Raw, never through PTB's typed methods: they read any string naming a file that
            # exists on this disk and upload it (a forged file id "/etc/hostname").
            params: dict[str, object] = {"chat_id": int(chat_ref), kind: self._file_id(ref),
                                         "caption": caption, "reply_markup": markup}  # fmt: skip
            if self._paid(message):
                params["allow_paid_broadcast"] = True
            method = "sendDocument" if kind == "document" else "sendPhoto"
            sent = await self._bot._post(method, params)
            return str(sent["message_id"])
        uploaded = await self._upload(chat_ref, message, markup, ref)
        return str(uploaded.message_id)

    async def _upload(
        self, chat_ref: str, message: OutMessage, markup: MarkupJson, ref: LocalFile
    ) -> Message:
        content, name = self._own_file(ref)
        paid = self._paid(message) or None
        caption = message.text[:CAPTION_LIMIT] or None
        if message.document is not None:
            return await self._bot.send_document(
                int(chat_ref), content, filename=name, caption=caption,
                reply_markup=_ptb_markup(markup), allow_paid_broadcast=paid,
            )  # fmt: skip
        return await self._bot.send_photo(
            int(chat_ref),
            content,
            caption=caption,
            reply_markup=_ptb_markup(markup),
            allow_paid_broadcast=paid,
        )

    async def send_upload(self, chat_ref: str, message: OutMessage) -> tuple[str | None, str]:
        """A part with one of the bot's own files as its document (`KeepsUploads`): the
        message's id and Telegram's file id of the upload, to send it again by that id."""
        if not isinstance(message.document, LocalFile):
            raise Undeliverable("only the bot's own files are uploaded")
        try:
            uploaded = await self._upload(
                chat_ref, message, render_markup(message), message.document
            )
        except TelegramError as exc:
            raise send_error(exc, editing=False) from exc
        if uploaded.document is None:
            raise Transient("the upload came back without its document")
        return str(uploaded.message_id), uploaded.document.file_id

    def _own_file(self, ref: LocalFile) -> tuple[bytes, str]:
        try:
            return read_own_file(self._upload_folders, ref)
        except NotOwnFile as refused:
            log.warning("refused to upload a file: %s", refused)
            raise Undeliverable(f"not a file of the bot's own: {refused}") from refused

    @staticmethod
    def _file_id(ref: ChannelFile) -> str:
        if ref.channel not in (None, CHANNEL) or not ref.file_id:
            raise Undeliverable(f"not a Telegram file id (channel {ref.channel!r})")
        return ref.file_id


TelegramReplier = ChannelReplier  # the direct replies of Telegram's handlers


def _seconds(retry_after: float | timedelta) -> float:
    if isinstance(retry_after, timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


async def fetch_bot_username(settings: Settings) -> str:
    """Ask the Bot API who we are (for invite links when TELEGRAM_BOT_USERNAME is not set)."""
    bot = Bot(settings.require_token(), base_url=settings.telegram_api_base_url)
    async with bot:
        return bot.username
