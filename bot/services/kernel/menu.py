"""The commands a person can use: their menu labels, help lines and who sees them.

One catalog serves the reply keyboard, /help and setMyCommands, so they never disagree. A
feature adds its command here and its handler in its own `Feature` (bot/services/kernel/feature.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.models import LANGUAGES, BuiltinRole, Staff
from bot.i18n import Translations, Translator
from bot.outgoing import Button, MenuItem, OutMessage
from bot.services.kernel.buttons import Codec, Signal


class Audience(StrEnum):
    EVERYONE = "everyone"
    APPROVER = "approver"
    HEAD = "head"
    HEALTH = "health"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str
    describe: Callable[[Translator], str]
    audience: Audience = Audience.EVERYONE
    label: Callable[[Translator], str] | None = None  # a reply-keyboard button, if any
    row: int = 9  # keyboard row; buttons sharing a row sit side by side
    also: frozenset[Audience] = frozenset()  # others who may use it too

    def shown_to(self, allowed: set[Audience]) -> bool:
        return self.audience in allowed or bool(self.also & allowed)


COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo(
        "travel",
        lambda t: t._("ask to leave {area}", area=t.home_area()),
        label=lambda t: t._("✈️ Ask to leave {area}", area=t.home_area()),
        row=0,
    ),
    CommandInfo(
        "return",
        lambda t: t._("report your return from a trip and your health declaration"),
        label=lambda t: t._("🏠 Report my return"),
        row=1,
    ),
    CommandInfo(
        "symptoms",
        lambda t: t._("report symptoms (fever, cough, …); /symptoms ID shows a report"),
        label=lambda t: t._("🤒 Report symptoms"),
        row=3,
    ),
    CommandInfo("monitor", lambda t: t._("medical monitoring: yours, or of your staff (leaders)")),
    CommandInfo(
        "case",
        lambda t: t._("report an F0/F1 case and its contacts; /case ID shows the tree"),
        Audience.HEAD,
        also=frozenset({Audience.HEALTH, Audience.ADMIN}),
    ),
    CommandInfo(
        "duty",
        lambda t: t._("who is on duty now for your unit and the units above; heads: the roster"),
    ),
    CommandInfo(
        "areas", lambda t: t._("areas with published cases (district admins)"), Audience.ADMIN
    ),
    CommandInfo(
        "status", lambda t: t._("your requests"), label=lambda t: t._("📋 My requests"), row=2
    ),
    CommandInfo(
        "pending",
        lambda t: t._("requests waiting for your decision (leaders)"),
        Audience.APPROVER,
        label=lambda t: t._("🗂 Waiting for my decision"),
        row=4,
    ),
    CommandInfo(
        "away",
        lambda t: t._("declare an absence, so your deputy decides (leaders)"),
        Audience.APPROVER,
    ),
    CommandInfo(
        "policy",
        lambda t: t._("travel policy: ban, normal, days off (district admins)"),
        Audience.ADMIN,
    ),
    CommandInfo(
        "directives",
        lambda t: t._("directives sent to you, to read again"),
        label=lambda t: t._("📄 Directives"),
        row=6,
    ),
    CommandInfo(
        "unit",
        lambda t: t._(
            "your unit today: who is away, returns, declarations, requests, health, unread directives (heads)"
        ),
        Audience.HEAD,
        label=lambda t: t._("🏢 My unit today"),
        row=5,
    ),
    CommandInfo(
        "district",
        lambda t: t._("compliance per unit, worst first, with a chart (district admins)"),
        Audience.ADMIN,
    ),
    CommandInfo(
        "export",
        lambda t: t._(
            "Excel registers: travel, returns, directive reads, health (heads, health officers, admins)"
        ),
        Audience.HEAD,
        also=frozenset({Audience.HEALTH, Audience.ADMIN}),
    ),
    CommandInfo(
        "broadcast",
        lambda t: t._(
            "send a directive to staff; /broadcast ID shows who read it (district admins)"
        ),
        Audience.ADMIN,
    ),
    CommandInfo(
        "privacy",
        lambda t: t._("my data: what is kept, who sees it, my consents, a copy, requests"),
        label=lambda t: t._("🔒 My data"),
        row=7,
    ),
    CommandInfo(
        "directory",
        lambda t: t._("the staff list: send the Excel file, template, export (admins)"),
        Audience.ADMIN,
    ),
    CommandInfo(
        "staff",
        lambda t: t._("one person: /staff add, /staff move ID UNIT, /staff off ID (admins)"),
        Audience.ADMIN,
    ),
    CommandInfo("cancel", lambda t: t._("stop what you are doing")),
    CommandInfo(
        "me",
        lambda t: t._("your details and who approves your requests"),
        label=lambda t: t._("👤 My details"),
        row=2,
    ),
    CommandInfo(
        "language",
        lambda t: t._("choose Vietnamese or English"),
        label=lambda t: t._("🌐 Language"),
        row=8,
    ),
    CommandInfo("channel", lambda t: t._("choose the messenger the bot writes to you on")),
    CommandInfo("help", lambda t: t._("this help"), label=lambda t: t._("❓ Help"), row=8),
)


def audiences_of(person: Staff | None) -> set[Audience]:
    if person is None:
        return set()
    found = {Audience.EVERYONE}
    builtin = {role.value for role in BuiltinRole}
    heads = {BuiltinRole.UNIT_HEAD.value, BuiltinRole.DEPUTY_HEAD.value}
    if person.roles & heads:
        found |= {Audience.HEAD, Audience.APPROVER}
    if person.roles - builtin:  # a named role (party_secretary, ...) decides someone's requests
        found.add(Audience.APPROVER)
    if BuiltinRole.HEALTH_OFFICER.value in person.roles:
        found.add(Audience.HEALTH)
    if BuiltinRole.ADMIN.value in person.roles:
        found.add(Audience.ADMIN)
    return found


def visible_commands(person: Staff | None) -> list[CommandInfo]:
    allowed = audiences_of(person) or {Audience.EVERYONE}
    return [c for c in COMMANDS if c.shown_to(allowed)]


def main_menu(t: Translator, person: Staff | None = None) -> tuple[tuple[MenuItem, ...], ...]:
    rows: dict[int, list[MenuItem]] = {}
    for command in visible_commands(person):
        if command.label is not None:
            rows.setdefault(command.row, []).append(MenuItem(command.name, command.label(t)))
    return tuple(tuple(rows[r]) for r in sorted(rows))


def help_lines(t: Translator, person: Staff | None) -> list[str]:
    return [f"/{c.name}: {c.describe(t)}" for c in visible_commands(person)]


def command_for_text(translations: Translations, text: str) -> str | None:
    """A tapped menu label in any language (people switch languages; old keyboards linger)."""
    cleaned = text.strip()
    for t in translations.all():
        for command in COMMANDS:
            if command.label is not None and cleaned == command.label(t):
                return command.name
    return None


def command_menu(t: Translator, person: Staff | None) -> tuple[tuple[str, str], ...]:
    """The chat's command menu (setMyCommands): the same commands as /help for this person."""
    return (
        ("start", t._("Start or register")),
        *((c.name, c.describe(t)) for c in visible_commands(person)),
    )


def menu_message(t: Translator, text: str, person: Staff | None = None) -> OutMessage:
    """The reply keyboard, and for a registered person their command menu with it (so a new
    language or new roles show in both)."""
    commands = command_menu(t, person) if person is not None else ()
    return OutMessage(text, menu=main_menu(t, person), commands=commands)


def help_text(t: Translator, person: Staff | None = None) -> str:
    return "\n".join(
        [
            t._("khaibao helps you follow the epidemic directives."),
            *help_lines(t, person),
            t._("Questions: contact your unit head or the district office."),
        ]
    )


@dataclass(frozen=True)
class LanguageChoice(Signal):
    """`lang:vi` / `lang:en`, pressed before or after registering (so read by its own handler)."""

    PREFIX = "lang"
    WORDS = LANGUAGES


LANGUAGE_CHOICES = Codec("lang", (LanguageChoice,))


def language_picker(t: Translator) -> OutMessage:
    return OutMessage(
        t._("Choose your language:"),
        buttons=(
            (
                Button("🇻🇳 Tiếng Việt", LanguageChoice("vi").encode()),
                Button("🇬🇧 English", LanguageChoice("en").encode()),
            ),
        ),
    )
