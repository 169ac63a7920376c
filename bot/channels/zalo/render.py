"""OutMessages as Zalo can show them, and each part as the body of a `/v3.0/oa/message/cs` call.

Zalo has no edits, no reply keyboard and no command menu; at most 5 buttons under a text of at
most 2,000 characters; a file goes without text. So: an edit that matters (a decision) is sent
as a new message, any other edit is left out; a long text is split in numbered parts; buttons
past the fifth follow in further messages numbered (2/3), (3/3); "share the phone" is the
`request_user_info` form; a file's text goes just before it.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.channels.port import Capabilities, LengthUnit, PhoneSharing, ProactivePolicy
from bot.channels.zalo.events import PAYLOAD_PREFIX
from bot.domain.outgoing import Button, OutMessage
from bot.domain.splitting import split_message

log = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100  # sources differ (20 or 100): longer titles are cut here
MAX_FORM_TITLE = 100
MAX_FORM_SUBTITLE = 500
FREE_FOR = timedelta(hours=48)
PAID_UNTIL = timedelta(days=7)
DOCUMENT_SUFFIXES = frozenset({".pdf", ".doc", ".docx", ".csv"})
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_PHOTO_BYTES = 1024 * 1024

JSON = dict[str, Any]


def capabilities(requests_per_minute: int) -> Capabilities:
    return Capabilities(
        max_text=MAX_TEXT,
        max_caption=MAX_TEXT,
        max_buttons=MAX_BUTTONS,
        max_buttons_per_row=1,
        max_payload_bytes=64,
        max_button_text=MAX_BUTTON_TITLE,
        can_edit=False,
        can_delete=False,
        can_acknowledge=False,
        max_acknowledgement=0,
        persistent_menu=False,
        command_menu=False,
        can_quote=True,
        phone_sharing=PhoneSharing.FORM,
        proactive=ProactivePolicy(free_for=FREE_FOR, paid_until=PAID_UNTIL),
        # a little under the app's cap: uploads and token refreshes count against it too
        send_rate=requests_per_minute * 0.95 / 60,
        length_unit=LengthUnit.CHARACTERS,
        document_suffixes=DOCUMENT_SUFFIXES,
        max_document_bytes=MAX_DOCUMENT_BYTES,
        max_photo_bytes=MAX_PHOTO_BYTES,
    )


def render(message: OutMessage) -> list[OutMessage]:
    """The parts to send, in order; each fits Zalo (rendering a part again gives itself)."""
    if message.edit_ref or message.delete_ref or message.markup_only:
        instead = message.as_new_message()
        if instead is None:
            log.debug("an edit left out on Zalo (it cannot edit): %.60r", message.text)
            return []
        message = instead
    text = unicodedata.normalize("NFC", message.text).strip()
    base = replace(
        message,
        text="",
        buttons=(),
        keyboard=(),
        contact_button=None,
        remove_keyboard=False,
        commands=(),
    )
    if message.document is not None:
        return _texts(base, text) + [replace(base, reply_to=None, photo=None)]
    if message.photo is not None and len(text) <= MAX_TEXT:
        return [replace(base, text=text, document=None)]
    if message.photo is not None:  # the caption too long: the text first, then the picture
        return _texts(base, text) + [replace(base, reply_to=None, document=None)]
    plain = replace(base, document=None, photo=None)
    parts = _texts(plain, text) if text else []
    buttons = [b for row in message.buttons for b in row]
    groups = [buttons[i : i + MAX_BUTTONS] for i in range(0, len(buttons), MAX_BUTTONS)]
    for number, group in enumerate(groups, start=1):
        rows = tuple((b,) for b in group)
        if number == 1 and parts:
            parts[-1] = replace(parts[-1], buttons=rows)
        else:
            label = f"({number}/{len(groups)})" if len(groups) > 1 else "⋯"
            parts.append(replace(plain, text=label, buttons=rows, reply_to=None))
    if message.contact_button:
        form = replace(plain, text="", contact_button=message.contact_button, reply_to=None)
        parts.append(form)
    return parts


def _texts(base: OutMessage, text: str) -> list[OutMessage]:
    if not text:
        return []
    chunks = split_message(text, MAX_TEXT) if len(text) > MAX_TEXT else [text]
    parts = [replace(base, text=chunk, document=None, photo=None) for chunk in chunks]
    return [parts[0]] + [replace(p, reply_to=None) for p in parts[1:]]


def button_json(button: Button) -> JSON:
    title = button.text[:MAX_BUTTON_TITLE]
    if button.url:
        return {"title": title, "type": "oa.open.url", "payload": {"url": button.url}}
    return {
        "title": title,
        "type": "oa.query.hide",
        "payload": PAYLOAD_PREFIX + (button.callback or ""),
    }


def message_json(part: OutMessage, upload_id: str | None = None, url: str | None = None) -> JSON:
    """The `message` of a cs call for one rendered part (its file: `upload_id`, or a picture
    Zalo holds already: its `url`)."""
    body: JSON = {}
    if part.contact_button:
        element = {"title": part.contact_button[:MAX_FORM_TITLE]}
        if part.text:
            element["subtitle"] = part.text[:MAX_FORM_SUBTITLE]
        payload = {"template_type": "request_user_info", "elements": [element]}
        body["attachment"] = {"type": "template", "payload": payload}
        return body
    if part.document is not None:
        body["attachment"] = {"type": "file", "payload": {"token": upload_id}}
        return body
    if part.text:
        body["text"] = part.text
    if part.reply_to:
        body["quote_message_id"] = part.reply_to
    if part.photo is not None:
        source = {"url": url} if url else {"attachment_id": upload_id}
        element = {"media_type": "image", **source}
        media = {"template_type": "media", "elements": [element]}
        body["attachment"] = {"type": "template", "payload": media}
    elif part.buttons:
        buttons = [button_json(b) for row in part.buttons for b in row]
        body["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
    return body
