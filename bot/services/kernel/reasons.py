"""A reason typed in a conversation (a denial, a directive sent back, monitoring ended early)."""

from __future__ import annotations

from bot.i18n import Translator
from bot.outgoing import OutMessage

MAX_REASON = 500


def refused_reason(t: Translator, reason: str) -> list[OutMessage]:
    """The answer to an empty or over-long reason; nothing when the reason may be used."""
    if reason and len(reason) <= MAX_REASON:
        return []
    return [OutMessage(t._("Please type a reason of at most {n} characters.", n=MAX_REASON))]
