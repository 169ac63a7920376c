"""Telegram handlers. `register_all` is the one ordered list of registrations."""

from __future__ import annotations

from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.channels.telegram import TelegramApp
from bot.services.kernel.menu import LANGUAGE_CHOICES
from bot.services.registration.buttons import CONFIRMATIONS
from handlers import actions, errors, registration

PRIVATE = filters.ChatType.PRIVATE


def register_all(app: TelegramApp) -> None:
    handlers = [
        CommandHandler("start", registration.start, filters=PRIVATE),
        CommandHandler("language", registration.language, filters=PRIVATE),
        MessageHandler(filters.COMMAND & PRIVATE, actions.command),
        MessageHandler(filters.CONTACT & PRIVATE, registration.contact),
        CallbackQueryHandler(registration.confirm, pattern=CONFIRMATIONS.owns),
        CallbackQueryHandler(registration.set_language, pattern=LANGUAGE_CHOICES.owns),
        CallbackQueryHandler(actions.button),
        MessageHandler(PRIVATE & ~filters.CONTACT, actions.text),
    ]
    for handler in handlers:
        app.add_handler(handler)
    app.add_error_handler(errors.on_error)
