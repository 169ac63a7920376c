"""Helpers every Telegram handler uses: the incoming event, the services, replying."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes

from bot.channels.telegram import CHANNEL
from bot.domain.outgoing import OutMessage
from bot.services.kernel.step import Attachment, Incoming

if TYPE_CHECKING:
    from bot.app import Services

SERVICES_KEY = "khaibao"


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found: Services = context.application.bot_data[SERVICES_KEY]
    return found


def incoming(update: Update) -> Incoming:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    message = update.callback_query.message if update.callback_query else None
    return Incoming(
        channel=CHANNEL,
        user_ref=str(user.id),
        chat_ref=str(chat.id),
        update_id=update.update_id,
        client_language=user.language_code,
        message_ref=str(message.message_id) if message else None,
        attachment=attachment_of(update),
    )


def attachment_of(update: Update) -> Attachment | None:
    message = update.message
    if message is None:
        return None
    if message.photo:
        return Attachment("photo", message.photo[-1].file_id)
    if message.document is not None:
        document = message.document
        return Attachment("document", document.file_id, document.file_name, document.mime_type)
    return None


async def reply(
    context: ContextTypes.DEFAULT_TYPE, update: Update, messages: Sequence[OutMessage]
) -> None:
    chat = update.effective_chat
    if chat is not None and messages:
        await services(context).replier.reply(str(chat.id), messages)
