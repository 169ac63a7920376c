"""What the bot says, in a form no messenger owns: text, buttons, keyboards.

Services build these; a channel adapter (bot/channels/telegram.py) renders them. The outbox
stores them as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback: str | None = None  # short data naming the object, e.g. "ap:1234:y" (≤ 64 bytes)
    url: str | None = None


@dataclass(frozen=True, slots=True)
class OutMessage:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # inline keyboard rows
    keyboard: tuple[tuple[str, ...], ...] = ()  # reply keyboard rows (menu)
    contact_button: str | None = None  # a reply-keyboard button that shares the phone number
    remove_keyboard: bool = False
    edit_ref: str | None = None  # edit this earlier message instead of sending a new one
    extra: dict[str, Any] = field(default_factory=dict)
    document: str | None = None  # a file to send, the text as its caption: a messenger file id or a local path
    markup_only: bool = False  # with edit_ref: change only the inline buttons, keep the text
    photo: str | None = None  # a picture to send, the text as its caption: a messenger file id or a local path

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [
                [{"text": b.text, "callback": b.callback, "url": b.url} for b in row]
                for row in self.buttons
            ]
        if self.keyboard:
            data["keyboard"] = [list(row) for row in self.keyboard]
        if self.contact_button:
            data["contact_button"] = self.contact_button
        if self.remove_keyboard:
            data["remove_keyboard"] = True
        if self.edit_ref:
            data["edit_ref"] = self.edit_ref
        if self.extra:
            data["extra"] = self.extra
        if self.document:
            data["document"] = self.document
        if self.markup_only:
            data["markup_only"] = True
        if self.photo:
            data["photo"] = self.photo
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutMessage:
        buttons = tuple(
            tuple(Button(b["text"], b.get("callback"), b.get("url")) for b in row)
            for row in data.get("buttons", ())
        )
        return cls(
            text=data["text"],
            buttons=buttons,
            keyboard=tuple(tuple(row) for row in data.get("keyboard", ())),
            contact_button=data.get("contact_button"),
            remove_keyboard=bool(data.get("remove_keyboard")),
            edit_ref=data.get("edit_ref"),
            extra=dict(data.get("extra", {})),
            document=data.get("document"),
            markup_only=bool(data.get("markup_only")),
            photo=data.get("photo"),
        )
