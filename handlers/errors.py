"""The error handler: log and tell the admins (rate-limited).

The person is answered by the inbox (bot/inbound/telegram.py): it tries the update again, and
apologises only once it knows whether what they sent took effect.
"""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from handlers.common import services

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    found = services(context)
    where = type(context.error).__name__ if context.error else "error"
    await found.admin_alerts.report(f"{where}: {context.error}")
