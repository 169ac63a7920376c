"""Who a directive goes to, and what each recipient sees: pure functions, no I/O.

An audience is `{"kind": "all"}` or `{"kind": K, "values": [...]}` with K one of `units` (each
with every unit below it), `kinds` (unit kinds), `groups` (position groups) or `roles`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from bot.channels.port import Capabilities
from bot.domain.directory import Directory
from bot.domain.models import Staff
from bot.domain.text import fold
from bot.i18n import Translator
from bot.outgoing import Button, ChannelFile, OutMessage
from bot.services.broadcast.buttons import INERT, DirectiveAction
from bot.services.outbox.render import split_text
from storage.broadcast_repo import Broadcast

KINDS = ("all", "units", "kinds", "groups", "roles")
CAPTION_LIMIT = 1024


def scope_units(directory: Directory, scope_unit: str | None) -> set[str] | None:
    """The units a directive of this scope may reach (None: every unit)."""
    return None if scope_unit is None else directory.subtree(scope_unit)


def _people_in(directory: Directory, scope: set[str] | None) -> list[Staff]:
    return [
        p for p in directory.staff.values() if p.active and (scope is None or p.unit_id in scope)
    ]


def members(
    directory: Directory, audience: dict[str, Any], scope_unit: str | None = None
) -> list[Staff]:
    """The active staff the audience names within the scope's units, in directory order."""
    kind, values = audience.get("kind"), set(audience.get("values", ()))
    people = _people_in(directory, scope_units(directory, scope_unit))
    if kind == "all":
        return people
    if kind == "units":
        units: set[str] = set()
        for unit_id in values:
            units |= directory.subtree(unit_id)
        return [p for p in people if p.unit_id in units]
    if kind == "kinds":
        units = {u.unit_id for u in directory.units.values() if u.kind.value in values}
        return [p for p in people if p.unit_id in units]
    if kind == "groups":
        return [p for p in people if p.position_group in values]
    if kind == "roles":
        return [p for p in people if p.roles & values]
    return []


def choices(directory: Directory, kind: str, scope_unit: str | None = None) -> dict[str, str]:
    """What the admin may type for an audience kind (within the scope): value → a label."""
    scope = scope_units(directory, scope_unit)
    people = _people_in(directory, scope)
    units = [u for u in directory.units.values() if scope is None or u.unit_id in scope]
    if kind == "units":
        return {u.unit_id: u.name for u in units}
    if kind == "kinds":
        return {k: k for k in sorted({u.kind.value for u in units})}
    if kind == "groups":
        return {g: g for g in sorted({p.position_group for p in people})}
    if kind == "roles":
        return {r: r for r in sorted({r for p in people for r in p.roles})}
    return {}


@dataclass
class Picked:
    chosen: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # words that match nothing
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # word → the labels it matches


def pick_values(typed: str, known: dict[str, str]) -> Picked:
    """Typed values (comma, semicolon or new line separated; an id, a name or part of a name,
    any accents): `tieu hoc hoa binh` finds «Trường Tiểu học Hòa Bình (mẫu)». A part that fits
    several is not guessed: it is returned with what it fits."""
    by_fold = {fold(k): k for k in known} | {fold(v): k for k, v in known.items()}
    picked = Picked()
    for word in _words(typed):
        found = by_fold.get(fold(word))
        matches = [found] if found is not None else _partial_matches(fold(word), known)
        if not matches:
            picked.unknown.append(word)
        elif len(matches) > 1:
            picked.ambiguous[word] = [known[m] for m in matches]
        elif matches[0] not in picked.chosen:
            picked.chosen.append(matches[0])
    return picked


def _partial_matches(folded: str, known: dict[str, str]) -> list[str]:
    """Values whose label holds the typed words in order (whole words first, then any part)."""
    if len(folded) < 3:
        return []
    words = re.compile(r"\b" + re.escape(folded) + r"\b")
    whole = [k for k, label in known.items() if words.search(fold(label))]
    return whole or [k for k, label in known.items() if folded in fold(label)]


def _words(typed: str) -> Iterable[str]:
    for line in typed.replace(";", ",").replace("\n", ",").split(","):
        if line.strip():
            yield line.strip()


def describe_audience(t: Translator, directory: Directory, audience: dict[str, Any]) -> str:
    kind, values = audience.get("kind"), list(audience.get("values", ()))
    if kind == "units":
        names = [directory.units[v].name if v in directory.units else v for v in values]
        return t._("units (with the units below them): {names}", names=", ".join(names))
    labels = {
        "kinds": t._("unit kinds: {values}", values=", ".join(values)),
        "groups": t._("position groups: {values}", values=", ".join(values)),
        "roles": t._("roles: {values}", values=", ".join(values)),
    }
    return labels.get(str(kind), t._("everyone"))


def outside_scope(
    directory: Directory, audience: dict[str, Any], scope_unit: str | None
) -> list[str]:
    """The audience's units that the scope does not cover (a forged or stale draft)."""
    scope = scope_units(directory, scope_unit)
    if scope is None or audience.get("kind") != "units":
        return []
    return [v for v in audience.get("values", ()) if v not in scope]


def describe_scope(t: Translator, directory: Directory, scope_unit: str | None) -> str:
    unit = directory.unit(scope_unit or "")
    if scope_unit is None or unit is None:
        return t._("the whole district")
    return t._("{unit} and the units below it", unit=unit.name)


def header(t: Translator, number: str, issued_on: Any, title: str) -> str:
    return (
        t._("📄 Directive {number}, {date}", number=number, date=t.date(issued_on)) + "\n" + title
    )


def read_button(t: Translator, broadcast_id: int) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t._("✅ I have read it"), DirectiveAction("r", broadcast_id).encode()),),)


def read_at_button(t: Translator, read_at: Any) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t._("✅ Read at {time}", time=read_at.strftime("%H:%M")), INERT.encode()),),)


def directive_messages(
    t: Translator, b: Broadcast, buttons: tuple[tuple[Button, ...], ...] | None = None
) -> list[OutMessage]:
    """What a recipient gets, whole: the text, then the file; the last message carries the
    "read" button. Each channel cuts the text to its own length as it renders it (numbered
    parts at paragraph boundaries, the button on the last part): `directive_parts`."""
    top = header(t, b.number, b.issued_on, b.title)
    if b.corrected_at is not None:
        top += "\n" + t._("✏️ Corrected on {when}", when=t.short(b.corrected_at))
    final_buttons = read_button(t, b.id) if buttons is None else buttons
    text = f"{top}\n\n{b.body}".strip() if b.body.strip() else ""
    messages = [OutMessage(text)] if text else []
    if b.file_id:
        caption = top if not text else "📎 " + (b.file_name or b.number)
        document = ChannelFile(b.admin_channel, b.file_id, b.file_name)
        messages.append(
            OutMessage(caption[:CAPTION_LIMIT], document=document, file_note=file_note(t))
        )
    if not messages:
        messages.append(OutMessage(top))
    messages[-1] = replace(messages[-1], buttons=final_buttons)
    return messages


def directive_parts(messages: list[OutMessage], caps: Capabilities | None) -> list[OutMessage]:
    """The directive as one channel shows it, part by part (the same for every recipient on
    that channel in one language): each part is an outbox row of its own, so a correction, a
    recall or the read mark reaches each message the person got."""
    return [part for message in messages for part in split_text(message, caps)]


def file_note(t: Translator) -> str:
    """Said instead of the directive's file where the recipient's messenger cannot take it."""
    return t._(
        "⚠️ The attached file could not be delivered on this messenger; please ask the sender "
        "for a copy."
    )
