"""The notices about people a channel cannot reach name the first ten and count the rest."""

from __future__ import annotations

from bot.i18n import Translations
from bot.services.kernel.channel_notices import NAMED_AT_MOST, people_named


def test_ten_people_are_named_and_the_rest_counted() -> None:
    t = Translations().for_language("vi")
    labels = [f"Người {n}" for n in range(1, 13)]
    text = people_named(t, labels)
    assert text.startswith("Người 1, Người 2") and "Người 10 và 2 người khác" in text
    assert "Người 11" not in text
    assert people_named(t, labels[:NAMED_AT_MOST]) == ", ".join(labels[:NAMED_AT_MOST])


def test_in_english_the_rest_are_counted_in_the_plural() -> None:
    t = Translations().for_language("en")
    assert people_named(t, [f"P{n}" for n in range(11)]).endswith(" and 1 other person")
