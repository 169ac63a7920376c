"""What the bot says, in a form no messenger owns: what is meant, not how it is shown.

Services build these; the outbox has each channel render them as they leave (its text length,
its buttons, edits or follow-ups: bot/services/outbox/render.py). The outbox
stores them as JSON. A `LaterMessage` is stored instead when thousands go out at once: a view's
name and arguments, rendered by the sender when the message leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class ChannelFile:
    """A file the messenger already holds (the PDF an admin sent with a directive): its id there.

    It is only ever passed back to that messenger, never looked up on the bot's disk.
    `channel` None: a row queued before files were typed, for the channel it goes out on."""

    channel: str | None
    file_id: str
    # the file's name as the person sent it (a copy on another channel is uploaded under it)
    name: str | None = None


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file the bot wrote itself (an export, a chart). A channel uploads it only when it
    lies, symlinks resolved, inside the bot's files folder (the FILES_DIR setting)."""

    path: str


FileRef = ChannelFile | LocalFile


def file_ref_json(ref: FileRef) -> dict[str, Any]:
    if isinstance(ref, LocalFile):
        return {"kind": "local", "path": ref.path}
    data: dict[str, Any] = {"kind": "channel", "channel": ref.channel, "file_id": ref.file_id}
    if ref.name:
        data["name"] = ref.name
    return data


def file_ref_from_json(data: object) -> FileRef | None:
    """A stored reference read back. A bare string is a row from before the references were
    typed: a path (it started with "/") stays a LocalFile, so the files-folder check refuses
    it; anything else was the messenger's own file id. An unreadable reference becomes an
    empty LocalFile, which every channel refuses (the row is recorded undeliverable)."""
    if data is None or data == "":
        return None
    if isinstance(data, str):
        return LocalFile(data) if data.startswith("/") else ChannelFile(None, data)
    if isinstance(data, dict) and data.get("kind") == "local":
        return LocalFile(str(data.get("path") or ""))
    if isinstance(data, dict) and data.get("kind") == "channel":
        channel = data.get("channel")
        name = data.get("name")
        return ChannelFile(
            None if channel is None else str(channel),
            str(data.get("file_id") or ""),
            str(name) if name else None,
        )
    return LocalFile("")


# The longest button data any messenger takes. Each channel's own limit is its
# Capabilities.max_payload_bytes (64 is the smallest): a button whose data is longer than that is
# shown there as a numbered choice in the text instead (the renderer), so it never makes the
# messenger refuse the whole message. The codecs keep their data within 64 bytes.
CALLBACK_MAX_BYTES = 1000


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    callback: str | None = None  # short data naming the object, e.g. "ap:1234:y"
    url: str | None = None

    def __post_init__(self) -> None:
        # Checked where the button is made: data past every messenger's limit could not be
        # shown as a button anywhere.
        if self.callback is not None and len(self.callback.encode()) > CALLBACK_MAX_BYTES:
            raise ValueError(f"button data over {CALLBACK_MAX_BYTES} bytes: {self.callback!r}")


@dataclass(frozen=True, slots=True)
class MenuItem:
    """One entry of a person's menu: the command it starts and its label in their language.
    `command` is "" in rows stored before menus named their commands (the label still works:
    a typed label is matched in every language)."""

    command: str
    label: str


@dataclass(frozen=True, slots=True)
class OutMessage:
    text: str
    # choices: rows of buttons, each with codec data (or a link); shown as buttons, in groups,
    # or as numbered choices, by what the channel can show
    buttons: tuple[tuple[Button, ...], ...] = ()
    menu: tuple[tuple[MenuItem, ...], ...] = ()  # the person's menu, rows of commands
    ask_phone: str | None = None  # ask for the person's phone number; the label of the ask
    remove_keyboard: bool = False  # the menu is withdrawn (registration ends or restarts)
    # replaces this earlier message: edited where the channel can edit, else a follow-up
    edit_ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    document: FileRef | None = None  # a file to send, the text as its caption
    markup_only: bool = False  # with edit_ref: change only the inline buttons, keep the text
    photo: FileRef | None = None  # a picture to send, the text as its caption
    # with edit_ref: when that message can no longer be edited (deleted, too old), send this as
    # a new message instead; for edits that matter (a decision, an alert acknowledged)
    send_if_edit_fails: bool = False
    bulk: bool = False  # one of many copies (a directive): may go at a channel's paid bulk rate
    # The person's command menu, (command, description) pairs: set for this chat with the message,
    # so the menu always lists what this person may do (empty: leave the chat's menu alone).
    commands: tuple[tuple[str, str], ...] = ()
    reply_to: str | None = None  # a new message quoting this earlier one (shown above it)
    # delete this earlier message (the text is then unused, unless it cannot be deleted and
    # send_if_edit_fails says to send it as a new message instead)
    delete_ref: str | None = None
    # said instead of `document` where the channel cannot deliver that file (too big for it,
    # a kind it does not take, not to be had from the channel holding it)
    file_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.buttons:
            data["buttons"] = [
                [{"text": b.text, "callback": b.callback, "url": b.url} for b in row]
                for row in self.buttons
            ]
        if self.menu:
            data["menu"] = [[[item.command, item.label] for item in row] for row in self.menu]
        if self.ask_phone:
            data["ask_phone"] = self.ask_phone
        if self.remove_keyboard:
            data["remove_keyboard"] = True
        if self.edit_ref:
            data["edit_ref"] = self.edit_ref
        if self.extra:
            data["extra"] = self.extra
        if self.document:
            data["document"] = file_ref_json(self.document)
        if self.markup_only:
            data["markup_only"] = True
        if self.photo:
            data["photo"] = file_ref_json(self.photo)
        if self.send_if_edit_fails:
            data["send_if_edit_fails"] = True
        if self.bulk:
            data["bulk"] = True
        if self.commands:
            data["commands"] = [list(pair) for pair in self.commands]
        if self.reply_to:
            data["reply_to"] = self.reply_to
        if self.delete_ref:
            data["delete_ref"] = self.delete_ref
        if self.file_note:
            data["file_note"] = self.file_note
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutMessage:
        buttons = tuple(
            tuple(Button(b["text"], _within_limit(b.get("callback")), b.get("url")) for b in row)
            for row in data.get("buttons", ())
        )
        return cls(
            text=data["text"],
            buttons=buttons,
            menu=_menu_from_json(data),
            ask_phone=data.get("ask_phone", data.get("contact_button")),
            remove_keyboard=bool(data.get("remove_keyboard")),
            edit_ref=data.get("edit_ref"),
            extra=dict(data.get("extra", {})),
            document=file_ref_from_json(data.get("document")),
            markup_only=bool(data.get("markup_only")),
            photo=file_ref_from_json(data.get("photo")),
            send_if_edit_fails=bool(data.get("send_if_edit_fails")),
            bulk=bool(data.get("bulk")),
            commands=tuple((str(c[0]), str(c[1])) for c in data.get("commands", ())),
            reply_to=data.get("reply_to"),
            delete_ref=data.get("delete_ref"),
            file_note=data.get("file_note"),
        )

    def as_new_message(self) -> OutMessage | None:
        """This edit as a message of its own, when its target is gone and the edit matters."""
        target = self.edit_ref or self.delete_ref
        if not (target and self.send_if_edit_fails) or self.markup_only:
            return None
        return replace(self, edit_ref=None, delete_ref=None, send_if_edit_fails=False)

    def without_file(self) -> OutMessage | None:
        """This message without its file, where the file cannot be delivered: its text and
        buttons, the `file_note` after the text; None when nothing would be left to say."""
        text = "\n\n".join(part for part in (self.text, self.file_note or "") if part)
        if not text and not self.buttons:
            return None
        return replace(self, text=text or "…", document=None, photo=None, file_note=None)


def _menu_from_json(data: dict[str, Any]) -> tuple[tuple[MenuItem, ...], ...]:
    """The menu, also from rows stored before it named commands ("keyboard": rows of labels)."""
    if "menu" in data:
        return tuple(
            tuple(MenuItem(str(c), str(label)) for c, label in row) for row in data["menu"]
        )
    return tuple(
        tuple(MenuItem("", str(label)) for label in row) for row in data.get("keyboard", ())
    )


def _within_limit(callback: str | None) -> str | None:
    """Button data of a row stored before the limit was checked, cut to it: the server-side
    check of the press then refuses it, instead of the whole row failing to load."""
    if callback is None or len(callback.encode()) <= CALLBACK_MAX_BYTES:
        return callback
    return callback.encode()[:CALLBACK_MAX_BYTES].decode(errors="ignore")


@dataclass(frozen=True, slots=True)
class LaterMessage:
    """A message the outbox sender renders as it goes out (in `language`, at that moment).

    Sweeps that enqueue thousands store this small record instead of the text, so their
    transaction stays short; and a text such as "3 h 20 min left" is true when it arrives."""

    view: str  # a name in the sender's view registry, e.g. "returns.declaration_reminder"
    args: dict[str, Any]
    language: str | None

    def to_json(self) -> dict[str, Any]:
        return {"view": self.view, "args": self.args, "language": self.language}


def stored_message(data: dict[str, Any]) -> OutMessage | LaterMessage:
    """An outbox payload read back."""
    if "view" in data:
        return LaterMessage(data["view"], dict(data.get("args") or {}), data.get("language"))
    return OutMessage.from_json(data)
