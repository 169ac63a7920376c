"""Helpers every Telegram handler uses: the incoming event, the services, replying."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram import CHANNEL, TelegramReplier, fits_toast
from bot.outgoing import OutMessage
from bot.services.kernel.admin_alerts import AdminAlerts
from bot.services.kernel.dispatch import Dispatcher
from bot.services.kernel.feature import with_unshown_answer
from bot.services.kernel.step import Attachment, Incoming
from bot.services.registration.feature import RegistrationService

log = logging.getLogger(__name__)

SERVICES_KEY = "khaibao"


class HandlerServices(Protocol):
    """What the handlers use of the services the composition root opens (bot/app.py Services),
    named here so that handlers need not import the root that imports them."""

    @property
    def replier(self) -> TelegramReplier: ...
    @property
    def registration(self) -> RegistrationService: ...
    @property
    def dispatcher(self) -> Dispatcher: ...
    @property
    def admin_alerts(self) -> AdminAlerts: ...


def services(context: ContextTypes.DEFAULT_TYPE) -> HandlerServices:
    found: HandlerServices = context.application.bot_data[SERVICES_KEY]
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


async def acknowledge(
    query: CallbackQuery, toast: str | None = None, *, alert: bool = False
) -> bool:
    """Answer a button press: the spinner stops, `toast` shows. False when Telegram refused
    (a press answered late, e.g. after a restart, is "too old"): the press's step and its
    messages go ahead all the same, so nothing the person must see hangs on the toast."""
    try:
        await query.answer(toast, show_alert=alert)
    except TelegramError as exc:
        log.info("button press %s: answer not shown: %s", query.id, exc)
        return False
    return True


async def answer_press(
    context: ContextTypes.DEFAULT_TYPE,
    update: Update,
    answer: str | None,
    messages: Sequence[OutMessage],
) -> None:
    """A press's answer as a toast when it fits, its messages after. An answer too long for a
    toast, or one whose toast Telegram refused, goes as a message instead, so it is never lost."""
    query = update.callback_query
    assert query is not None
    toast = answer if answer and fits_toast(answer) else None
    shown = await acknowledge(query, toast, alert=bool(toast and not messages and len(toast) > 40))
    await reply(context, update, with_unshown_answer(answer, shown and toast is not None, messages))
