"""Messages the outbox sender renders as they leave (bot/domain/outgoing.py LaterMessage)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.domain.outgoing import LaterMessage, OutMessage
from bot.i18n import Translations, Translator

LaterView = Callable[[Translator, dict[str, Any], datetime], OutMessage]


class LaterViews:
    """The registry the sender renders with: view name → function(translator, args, now)."""

    def __init__(self, translations: Translations, views: Mapping[str, LaterView]) -> None:
        self._translations = translations
        self._views = dict(views)

    def render(self, message: LaterMessage, now: datetime) -> OutMessage:
        view = self._views[message.view]  # KeyError: the sender records the row as undeliverable
        return view(self._translations.for_language(message.language), message.args, now)
