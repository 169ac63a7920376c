"""The outbox's later views are assembled from the features that queue them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.clock import VIETNAM
from bot.i18n import Translations
from bot.outgoing import LaterMessage, OutMessage
from bot.services.outbox.later_views import LaterViews
from bot.services.returns.views import LATER_VIEWS, later_declaration_reminder

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)


def test_a_feature_view_renders_in_the_recipients_language() -> None:
    views = LaterViews(Translations())
    with pytest.raises(KeyError):
        views.render(later_declaration_reminder(12, "Đà Nẵng", NOW + timedelta(hours=3), "vi"), NOW)
    views.add(LATER_VIEWS)
    message = views.render(
        later_declaration_reminder(12, "Đà Nẵng", NOW + timedelta(hours=3), "vi"), NOW
    )
    assert "Đà Nẵng" in message.text and message.buttons


def test_two_features_naming_one_view_is_refused_at_wiring() -> None:
    views = LaterViews(Translations(), {"reminder": lambda t, args, now: OutMessage("")})
    with pytest.raises(ValueError, match="reminder"):
        views.add({"reminder": lambda t, args, now: OutMessage("")})
    with pytest.raises(KeyError):
        views.render(LaterMessage("unknown", {}, "vi"), NOW)
