"""The error handler: log, answer the person in their language, tell the admins (rate-limited)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from handlers.common import incoming, reply, services

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    found = services(context)
    where = type(context.error).__name__ if context.error else "error"
    await found.admin_alerts.report(f"{where}: {context.error}")
    if isinstance(update, Update) and update.effective_user and update.effective_chat:
        await reply(context, update, [found.admin_alerts.apology(incoming(update))])
