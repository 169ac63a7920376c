"""OutMessages as Zalo can show them, and each part as the body of a `/v3.0/oa/message/cs` call.

Zalo has no edits, no reply keyboard and no command menu; at most 5 buttons under a text of at
most 2,000 characters; a file goes without text. The shared renderer
(bot/services/outbox/render.py) makes the follow-up of an edit, the numbered parts of a long
text and the further messages of buttons past the fifth; here "share the phone" becomes the
`request_user_info` form, and a file's text goes just before it.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.channels.port import Capabilities, LengthUnit, PhoneSharing, ProactivePolicy
from bot.channels.zalo.events import PAYLOAD_PREFIX
from bot.config import ZALO_FORM_IMAGE
from bot.outgoing import Button, OutMessage
from bot.services.outbox.render import render_for

log = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_BUTTONS = 5
# Sources differ (ZALO.md: one integration validates titles of at most 20 characters, an SDK's
# guide says 100): the stricter one holds, so no OA refuses a message for a title. Longer labels
# are cut and numbered by the renderer, each listed whole in the message's text.
MAX_BUTTON_TITLE = 20
# An oa.query payload: 1,000 characters (the SDK's guide; no other source gives a limit), taken
# as UTF-8 bytes, the stricter reading. What the bot's button data may use of it: the rest.
MAX_QUERY_PAYLOAD_BYTES = 1000
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
        max_payload_bytes=MAX_QUERY_PAYLOAD_BYTES - len(PAYLOAD_PREFIX.encode()),
        max_button_text=MAX_BUTTON_TITLE,
        can_edit=False,
        can_delete=False,
        can_acknowledge=False,
        max_acknowledgement=0,
        persistent_menu=False,
        command_menu=False,
        # quote_message_id is documented for replies to the person's own messages; whether an
        # OA message may be quoted is not: a follow-up of an edit goes unquoted
        can_quote=False,
        phone_sharing=PhoneSharing.FORM,
        proactive=ProactivePolicy(free_for=FREE_FOR, paid_until=PAID_UNTIL),
        # a little under the app's cap: uploads and token refreshes count against it too
        send_rate=requests_per_minute * 0.95 / 60,
        length_unit=LengthUnit.CHARACTERS,
        document_suffixes=DOCUMENT_SUFFIXES,
        max_document_bytes=MAX_DOCUMENT_BYTES,
        max_photo_bytes=MAX_PHOTO_BYTES,
        resends_received_files=False,  # a file sent to the OA comes as a link, not an upload id
    )


def render(message: OutMessage, caps: Capabilities) -> list[OutMessage]:
    """The parts to send, in order, each one cs call (rendering a part again gives itself).
    The shared renderer does the split, the button groups and the follow-up for an edit;
    Zalo adds that a file carries no text and that the phone is asked with a form of its own."""
    text = unicodedata.normalize("NFC", message.text)
    parts: list[OutMessage] = []
    for part in render_for(replace(message, text=text, buttons=_active(message.buttons)), caps):
        parts += _zalo_parts(part)
    return parts


def _active(rows: tuple[tuple[Button, ...], ...]) -> tuple[tuple[Button, ...], ...]:
    """Without the inert labels of a grid (a calendar's weekday names, its blank cells): on
    Zalo every button is a line of its own, and five fill a message."""
    kept = (
        tuple(b for b in row if b.text.strip() and not (b.callback or "").endswith(":noop"))
        for row in rows
    )
    return tuple(row for row in kept if row)


def _zalo_parts(part: OutMessage) -> list[OutMessage]:
    ask = part.ask_phone
    if part.document is not None and (part.text or part.buttons):  # a file carries neither
        text = replace(part, text=part.text or "…", document=None, photo=None, ask_phone=None)
        return [text, replace(part, text="", buttons=(), reply_to=None, ask_phone=None)]
    if ask and (part.text or part.buttons or part.document or part.photo):
        return [replace(part, ask_phone=None), OutMessage("", ask_phone=ask, bulk=part.bulk)]
    return [part]


def button_json(button: Button) -> JSON:
    title = button.text[:MAX_BUTTON_TITLE]
    if button.url:
        return {"title": title, "type": "oa.open.url", "payload": {"url": button.url}}
    return {
        "title": title,
        "type": "oa.query.hide",
        "payload": PAYLOAD_PREFIX + (button.callback or ""),
    }


def message_json(
    part: OutMessage,
    upload_id: str | None = None,
    url: str | None = None,
    form_image: str = ZALO_FORM_IMAGE,
) -> JSON:
    """The `message` of a cs call for one rendered part (its file: `upload_id`, or a picture
    Zalo holds already: its `url`). The phone form shows the ask as its title, the message's
    text (else the ask again) under it, and `form_image`."""
    body: JSON = {}
    if part.ask_phone:
        element = {
            "title": part.ask_phone[:MAX_FORM_TITLE],
            "subtitle": (part.text or part.ask_phone)[:MAX_FORM_SUBTITLE],
            "image_url": form_image,
        }
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
        media_element: JSON = {"media_type": "image"}
        media_element.update({"url": url} if url else {"attachment_id": upload_id})
        media = {"template_type": "media", "elements": [media_element]}
        body["attachment"] = {"type": "template", "payload": media}
    elif part.buttons:
        buttons = [button_json(b) for row in part.buttons for b in row]
        body["attachment"] = {"type": "template", "payload": {"buttons": buttons}}
    return body
