"""The error handler: log and tell the admins (rate-limited).

The person is answered by the inbox (bot/inbound/telegram.py): it tries the update again, and
apologises only once it knows whether what they sent took effect. A step that failed because the
database could not be reached is one line, not a traceback and an alert: the inbox's loops say
once that the database is away (bot/outage.py), and the alert would need the database too.
"""

from __future__ import annotations

import logging

from telegram.ext import ContextTypes

from handlers.common import services
from storage.engine import unreachable

log = logging.getLogger(__name__)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.error is not None and unreachable(context.error):
        log.warning("an update's step failed, the database being away (%s)", context.error)
        return
    log.error("error while handling an update", exc_info=context.error)
    found = services(context)
    where = type(context.error).__name__ if context.error else "error"
    await found.admin_alerts.report(f"{where}: {context.error}")
