"""One OutMessage as the parts a channel can show, from its Capabilities alone.

Text longer than the channel takes is split (numbered parts); buttons go in rows and messages
of the sizes it shows, the rows past the first message's share in further messages; a channel
without buttons gets them as numbered choices in the text (a typed number or label then
answers them, bot/services/kernel/choices.py). An edit where the channel cannot edit becomes a
follow-up message; what it cannot show at all (a persistent menu, a command list, a quote) is
left out, since the message says the same without it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from bot.channels.port import Capabilities, LengthUnit, PhoneSharing
from bot.domain.splitting import MESSAGE_LIMIT, split_message, utf16_len
from bot.outgoing import Button, OutMessage

Rows = tuple[tuple[Button, ...], ...]
MORE_BUTTONS = "…"  # the text of a message that only carries further buttons
CHOICE_NUMBER = "{number}. {label}"


def render_for(message: OutMessage, caps: Capabilities) -> list[OutMessage]:
    """The parts to send in order; [] when there is nothing this channel can do with it."""
    shaped = _shown_features(message, caps)
    if shaped is None:
        return []
    as_text = text_choices(shaped.buttons, caps)
    if as_text:
        kept = () if caps.max_buttons == 0 else _without(shaped.buttons, as_text)
        shaped = replace(shaped, text=with_numbered_choices(shaped.text, as_text), buttons=kept)
    groups = _button_groups(shaped.buttons, caps)
    first, *more = groups or [()]
    after = len(numbered_choices(as_text))  # buttons numbered for their labels come after these
    first, lines = _titled(first, caps, after)
    text = "\n\n".join(part for part in (shaped.text, lines) if part)
    parts = split_text(replace(shaped, text=text, buttons=first), caps)
    for group in more:
        titled, lines = _titled(group, caps, 0)
        parts.append(OutMessage(lines or MORE_BUTTONS, buttons=titled, bulk=message.bulk))
    return parts


def text_choices(buttons: Rows, caps: Capabilities) -> Rows:
    """The buttons this channel shows as numbered choices in the text (answered by a typed
    number or label): all of them where it has no buttons; else those whose data is longer
    than it takes (`max_payload_bytes`), which would make it refuse the whole message."""
    if caps.max_buttons == 0:
        return buttons
    over = (tuple(b for b in row if _data_too_long(b, caps)) for row in buttons)
    return tuple(row for row in over if row)


def _data_too_long(button: Button, caps: Capabilities) -> bool:
    return button.callback is not None and len(button.callback.encode()) > caps.max_payload_bytes


def _without(buttons: Rows, taken: Rows) -> Rows:
    gone = {id(b) for row in taken for b in row}
    kept = (tuple(b for b in row if id(b) not in gone) for row in buttons)
    return tuple(row for row in kept if row)


def numbered_choices(buttons: Rows) -> list[tuple[str, str]]:
    """(label, payload) of the buttons that carry data, in the order they are numbered."""
    return [(b.text, b.callback) for row in buttons for b in row if b.callback is not None]


def looks_like_choice_number(typed: str) -> bool:
    """`2`, ` 2. `: what answers a numbered choice by its number."""
    cleaned = typed.strip().rstrip(".").strip()
    return cleaned.isdecimal() and len(cleaned) <= 3


def resolve_choice(typed: str, choices: list[tuple[str, str]]) -> str | None:
    """The button data a typed answer to numbered choices means: its number (`2`, `2.`) or
    its label (case and surrounding space ignored); None when it answers none of them."""
    cleaned = typed.strip().rstrip(".").strip()
    if looks_like_choice_number(typed) and 1 <= int(cleaned) <= len(choices):
        return choices[int(cleaned) - 1][1]
    folded = typed.strip().casefold()
    matches = [data for label, data in choices if label.strip().casefold() == folded]
    return matches[0] if matches else None


def with_numbered_choices(text: str, buttons: Rows) -> str:
    """The text followed by one line per button: `1. label`; a link as `label: url`."""
    lines: list[str] = []
    number = 0
    for button in (b for row in buttons for b in row):
        if button.callback is not None:
            number += 1
            lines.append(CHOICE_NUMBER.format(number=number, label=button.text))
        elif button.url:
            lines.append(f"{button.text}: {button.url}")
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


def _shown_features(message: OutMessage, caps: Capabilities) -> OutMessage | None:
    """The message without what the channel cannot show; an edit it cannot make as a new
    message; None when nothing is left to send (a deletion or a buttons-only edit)."""
    if message.delete_ref is not None and not caps.can_delete:
        return message.as_new_message()
    if message.edit_ref is not None and not caps.can_edit:
        if message.markup_only:
            if not message.buttons:
                return None  # buttons that cannot be taken back are refused when pressed
            message = replace(message, text=MORE_BUTTONS)
        message = replace(
            message,
            edit_ref=None,
            markup_only=False,
            send_if_edit_fails=False,
            reply_to=message.edit_ref if caps.can_quote else None,
        )
    if not caps.persistent_menu:
        message = replace(message, menu=(), remove_keyboard=False)
    if not caps.command_menu:
        message = replace(message, commands=())
    if not caps.can_quote:
        message = replace(message, reply_to=None)
    if caps.phone_sharing is PhoneSharing.TYPED:
        message = replace(message, ask_phone=None)
    return message


def _button_groups(buttons: Rows, caps: Capabilities) -> list[Rows]:
    """Rows at most `max_buttons_per_row` wide, packed into messages of `max_buttons`; a row
    is never split across messages."""
    if not buttons or caps.max_buttons == 0:
        return []
    width = max(1, min(caps.max_buttons_per_row, caps.max_buttons))
    rows = [row[i : i + width] for row in buttons for i in range(0, len(row), width)]
    groups: list[list[tuple[Button, ...]]] = [[]]
    for row in rows:
        if groups[-1] and sum(map(len, groups[-1])) + len(row) > caps.max_buttons:
            groups.append([])
        groups[-1].append(row)
    return [tuple(group) for group in groups]


def _titled(group: Rows, caps: Capabilities, after: int) -> tuple[Rows, str]:
    """The group's buttons as the channel shows their labels, and the lines its message adds.
    A label longer than the channel shows is cut; then every label of the group is numbered
    (from `after` + 1) and listed whole in the text, so a cut label is never all the person
    sees of what the button does."""
    if all(_fits_title(b.text, caps) for row in group for b in row):
        return group, ""
    numbers = iter(range(after + 1, after + 1 + sum(map(len, group))))
    lines: list[str] = []
    titled: list[tuple[Button, ...]] = []
    for row in group:
        shown: list[Button] = []
        for button in row:
            label = CHOICE_NUMBER.format(number=next(numbers), label=button.text)
            lines.append(label)
            shown.append(replace(button, text=_cut(label, caps)))
        titled.append(tuple(shown))
    return tuple(titled), "\n".join(lines)


def _fits_title(label: str, caps: Capabilities) -> bool:
    return text_length(label, caps.length_unit) <= caps.max_button_text


def _cut(label: str, caps: Capabilities) -> str:
    """The label, else as much of it as fits with "…" (counted as the messenger counts)."""
    if _fits_title(label, caps):
        return label
    cut = label[: max(1, caps.max_button_text - 1)]
    while len(cut) > 1 and not _fits_title(cut + "…", caps):
        cut = cut[:-1]
    return cut + "…"


def split_text(message: OutMessage, caps: Capabilities | None) -> list[OutMessage]:
    """The message cut to the channel's length, and nothing else: numbered parts at paragraph
    (else sentence) boundaries, the buttons on the last part, a file after a text too long for
    its caption. Rendering a part again gives that part: a sender may cut a message once per
    channel and language and store the parts (a directive to thousands), each with its own
    reference. `caps` None (a channel not connected here): the Bot API's 4,096 UTF-16 units."""
    if caps is None:
        return _text_parts(message, MESSAGE_LIMIT, MESSAGE_LIMIT, LengthUnit.UTF16)
    return _text_parts(message, caps.max_text, caps.max_caption, caps.length_unit)


def acknowledgement(answer: str | None, caps: Capabilities) -> str | None:
    """A press's short answer as the channel's acknowledgement of the press (a toast), when it
    can show one that long; None: the answer goes as a message of its own instead
    (bot/services/kernel/feature.py `with_unshown_answer`), so it is never lost."""
    if not answer or not caps.can_acknowledge:
        return None
    return answer if text_length(answer, caps.length_unit) <= caps.max_acknowledgement else None


def text_length(text: str, unit: LengthUnit) -> int:
    """`text`'s length as the messenger counts it."""
    if unit is LengthUnit.UTF16:
        return utf16_len(text)
    return len(unicodedata.normalize("NFC", text))


def _text_parts(
    message: OutMessage, max_text: int, max_caption: int, unit: LengthUnit
) -> list[OutMessage]:
    """The message cut to the channel's length: a file's caption when it fits, else the text
    first and the file after it; the buttons on the last part. The cut itself counts UTF-16
    units, never fewer than the messenger's own unit, so each part fits either way."""
    has_file = message.document is not None or message.photo is not None
    limit = max_caption if has_file else max_text
    if text_length(message.text, unit) <= limit or (message.markup_only and message.edit_ref):
        return [message]
    texts = split_message(message.text, max_text)
    plain = [OutMessage(text, bulk=message.bulk) for text in texts]
    if has_file:
        # text first: a caption cut short would hide the rest behind the file
        return [*plain, replace(message, text="", reply_to=None, edit_ref=None)]
    first = replace(message, text=texts[0], buttons=())
    last = replace(plain[-1], buttons=message.buttons)
    middle = plain[1:-1]
    if len(texts) == 1:
        return [replace(first, buttons=message.buttons)]
    # the first part keeps what concerns the message as a whole (an edit, a quote, a menu)
    return [first, *middle, last]
