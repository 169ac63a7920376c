"""Zalo OA webhook events read into what the bot acts on: who, which event, what they sent.

A button tap is an ordinary `user_send_text` whose text is the button's payload; the bot's
payloads start with `PAYLOAD_PREFIX`, so they cannot be mistaken for typed text. Echoes of the
OA's own sends (`oa_send_*`) and events of another app or OA are recognised and ignored. All ids
are strings in the JSON (they exceed 2^53); a number is accepted and read as its digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.channels.port import (
    AttachmentSent,
    Command,
    Intent,
    PhoneShared,
    Press,
    Text,
)
from bot.services.kernel.step import Attachment

PAYLOAD_PREFIX = "#kb:"
MAX_TEXT = 4096  # what is read of a typed text; Zalo's own limit is 2,000
HANDLED = frozenset(
    {
        "user_send_text",
        "user_send_image",
        "user_send_file",
        "user_send_gif",
        "user_send_sticker",
        "user_send_location",
        "user_send_link",
        "user_send_audio",
        "user_send_video",
        "user_submit_info",
        "follow",
        "unfollow",
    }
)


class BadEvent(ValueError):
    """Not a Zalo OA event the bot can read."""


@dataclass(frozen=True, slots=True)
class ZaloEvent:
    name: str
    user_id: str  # the person (sender, or follower)
    key: str  # the inbox key: the message id, else one made of the event's own fields
    timestamp: str
    app_id: str
    oa_id: str  # the OA that received it (recipient, or oa_id); "" when the event does not say
    text: str = ""
    attachments: tuple[tuple[str, str, str], ...] = ()  # (type, url, name)
    phone: str | None = None
    echo: bool = False  # one of the OA's own sends, reported back

    @property
    def interaction(self) -> bool:
        """Whether it opens the person's window (everything they do but leaving)."""
        return not self.echo and self.name != "unfollow"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_event(body: object) -> ZaloEvent:
    """One webhook body; raises BadEvent when it is not an event of a known shape."""
    if not isinstance(body, dict):
        raise BadEvent("an event is a JSON object")
    name = _text(body.get("event_name"))
    if not name:
        raise BadEvent("no event_name")
    echo = name.startswith("oa_send_")
    sender, recipient = _obj(body.get("sender")), _obj(body.get("recipient"))
    follower = _obj(body.get("follower"))
    if echo:  # sender and recipient are swapped: the person is the recipient
        user_id, oa_id = _text(recipient.get("id")), _text(sender.get("id"))
    elif name in ("follow", "unfollow"):
        user_id, oa_id = _text(follower.get("id")), _text(body.get("oa_id"))
    else:
        user_id, oa_id = _text(sender.get("id")), _text(recipient.get("id"))
    timestamp = _text(body.get("timestamp"))
    if not user_id or not timestamp:
        raise BadEvent("no user or no timestamp")
    message = _obj(body.get("message"))
    msg_id = _text(message.get("msg_id"))
    key = msg_id or f"{name}:{user_id}:{timestamp}"
    raw_text = message.get("text")
    text = raw_text[:MAX_TEXT] if isinstance(raw_text, str) else ""
    return ZaloEvent(
        name=name,
        user_id=user_id[:64],
        key=key[:200],
        timestamp=timestamp[:32],
        app_id=_text(body.get("app_id")),
        oa_id=oa_id,
        text=text,
        attachments=_attachments(message.get("attachments")),
        phone=_phone(body.get("info")),
        echo=echo,
    )


def _attachments(value: object) -> tuple[tuple[str, str, str], ...]:
    if not isinstance(value, list):
        return ()
    found = []
    for item in value[:10]:
        entry = _obj(item)
        payload = _obj(entry.get("payload"))
        url = _text(payload.get("url"))
        name = _text(payload.get("name")) or _text(payload.get("title"))
        found.append((_text(entry.get("type")), url, name))
    return tuple(found)


def _phone(info: object) -> str | None:
    """The shared phone: the current shape (`info.phone`) and the older flat one agree on it."""
    phone = _text(_obj(info).get("phone"))
    return phone[:40] or None


def is_foreign(event: ZaloEvent, app_id: str, oa_id: str) -> bool:
    """An event of another app or another OA (the webhook URL given to both)."""
    if event.app_id and app_id and event.app_id != app_id:
        return True
    return bool(event.oa_id and oa_id and event.oa_id != oa_id)


def intent_of(event: ZaloEvent) -> Intent | None:
    """What the person meant, or None for an event that asks nothing (unfollow, an echo)."""
    if event.echo or event.name not in HANDLED or event.name == "unfollow":
        return None
    if event.name == "follow":
        return Command("start")
    if event.name == "user_submit_info":
        return PhoneShared(event.phone, own=True) if event.phone else None
    text = event.text.strip()
    if event.name == "user_send_text":
        if text.startswith(PAYLOAD_PREFIX):
            return Press(text[len(PAYLOAD_PREFIX) :])
        if text.startswith("/") and len(text) > 1:
            words = text.split()
            return Command(words[0][1:].lower(), tuple(words[1:]))
        return Text(text)
    return AttachmentSent(text) if attachment_of(event) is not None else Text(text)


def attachment_of(event: ZaloEvent) -> Attachment | None:
    """A picture or a file the person sent (its URL as the file id, to fetch it again)."""
    for kind, url, name in event.attachments:
        if not url:
            continue
        if kind in ("image", "gif"):
            return Attachment("photo", url)
        if kind == "file":
            return Attachment("document", url, name or None)
    return None
