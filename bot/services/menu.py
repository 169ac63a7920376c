"""The reply-keyboard menu a registered person sees, and mapping its labels back to actions."""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import Translations, Translator


class MenuAction(StrEnum):
    TRAVEL = "travel"
    STATUS = "status"
    PENDING = "pending"
    ME = "me"
    HELP = "help"
    LANGUAGE = "language"


def menu_label(t: Translator, action: MenuAction) -> str:
    labels = {
        MenuAction.TRAVEL: t._("✈️ Ask to leave the city"),
        MenuAction.STATUS: t._("📋 My requests"),
        MenuAction.PENDING: t._("🗂 Waiting for my decision"),
        MenuAction.ME: t._("👤 My details"),
        MenuAction.HELP: t._("❓ Help"),
        MenuAction.LANGUAGE: t._("🌐 Language"),
    }
    return labels[action]


def main_menu(t: Translator, approver: bool = False) -> tuple[tuple[str, ...], ...]:
    rows: list[tuple[str, ...]] = [
        (menu_label(t, MenuAction.TRAVEL),),
        (menu_label(t, MenuAction.STATUS), menu_label(t, MenuAction.ME)),
    ]
    if approver:
        rows.append((menu_label(t, MenuAction.PENDING),))
    rows.append((menu_label(t, MenuAction.HELP), menu_label(t, MenuAction.LANGUAGE)))
    return tuple(rows)


def action_for_text(translations: Translations, text: str) -> MenuAction | None:
    """A tapped menu label in any language (people switch languages; old keyboards linger)."""
    cleaned = text.strip()
    for t in translations.all():
        for action in MenuAction:
            if cleaned == menu_label(t, action):
                return action
    return None
