"""Messages the outbox sender renders as they leave (bot/outgoing.py LaterMessage)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.i18n import Translations, Translator
from bot.outgoing import LaterMessage, OutMessage

LaterView = Callable[[Translator, dict[str, Any], datetime], OutMessage]


class LaterViews:
    """The registry the sender renders with: view name → function(translator, args, now).

    Each feature brings its own views (its `Feature.later_views`); the composition root adds
    them once the features exist, before the sender's first pass."""

    def __init__(
        self, translations: Translations, views: Mapping[str, LaterView] | None = None
    ) -> None:
        self._translations = translations
        self._views: dict[str, LaterView] = {}
        self.add(views or {})

    def add(self, views: Mapping[str, LaterView]) -> None:
        taken = self._views.keys() & views.keys()
        if taken:  # two features naming a view alike: rows would render as the wrong message
            raise ValueError(f"later views named twice: {', '.join(sorted(taken))}")
        self._views.update(views)

    def render(self, message: LaterMessage, now: datetime) -> OutMessage:
        view = self._views[message.view]  # KeyError: the sender records the row as undeliverable
        return view(self._translations.for_language(message.language), message.args, now)
