"""The channel seam: what a messenger can do, how the outbox talks to it, what it hands in.

No messenger is imported or named here; every part of the bot may import this module.

What the outbox expects from a channel (`Channel`):

- `capabilities`, fixed for the process: the outbox and the shared renderer
  (bot/services/outbox/render.py) read only these to decide how a message is shown.
- `render(message)`: the message as the parts this channel sends, in order. A channel
  usually returns `render_for(message, self.capabilities)` (split to the text length, the
  buttons in groups it can show, an edit turned into a follow-up where it cannot edit); it may
  do more of its own. Every part already fits the channel: `send` never cuts text.
- `send(chat_ref, part)`: deliver one rendered part, return the messenger's reference of the
  message it made (or edited; None when there is none). Failures are raised as the errors
  below and nothing else: `RetryLater` (wait that long, for everyone on the channel),
  `Transient` (retried with backoff), `Undeliverable` (recorded, never retried),
  `EditTargetGone` (the edit becomes a new message when it matters), `WindowClosed` (the person
  is outside the channel's proactive window: the outbox falls back to another channel or holds
  the message). A part may be sent again after a restart: sends must not depend on memory.
- The outbox keeps the channel's pace (its own limiter, built from `Capabilities.send_rate`:
  `OutboxSender.add_channel`) and about one message a second per chat; a channel does no
  pacing of its own.

Inbound, a channel turns each event into an `Incoming` (bot/services/kernel/step.py) plus one
`Intent` below, and hands both to the one Dispatcher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Protocol, runtime_checkable

from bot.outgoing import OutMessage


class PhoneSharing(Enum):
    """How a person hands the bot their phone number."""

    BUTTON = "button"  # a button in the chat shares the number at a tap (a contact)
    FORM = "form"  # the bot sends a form; the person submits it, the number comes as an event
    TYPED = "typed"  # nothing built in: the person types the number


class LengthUnit(Enum):
    """How the messenger counts a text's length."""

    UTF16 = "utf16"  # code units (an emoji outside the BMP counts two)
    CHARACTERS = "characters"  # code points after NFC normalisation


@dataclass(frozen=True, slots=True)
class ProactivePolicy:
    """When the bot may write to a person who has not written first.

    `free_for`: how long after the person's last message a message costs nothing (None: always).
    `paid_until`: after that, how long it still goes, counted as billable (None: never refused);
    past it the channel refuses with `WindowClosed`."""

    free_for: timedelta | None = None
    paid_until: timedelta | None = None

    def closed(self, silent_for: timedelta | None) -> bool:
        """Past the window: the channel refuses (`silent_for` None: not known, never closed)."""
        limit = self.paid_until
        return silent_for is not None and limit is not None and silent_for > limit

    def billable(self, silent_for: timedelta | None) -> bool:
        """A message to someone silent this long is counted as billable."""
        limit = self.free_for
        return silent_for is not None and limit is not None and silent_for > limit


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a messenger can show and how fast it may be used."""

    max_text: int  # one message's text
    max_caption: int  # the text that goes with a file or a picture
    max_buttons: int  # buttons in one message (more: further messages or numbered choices)
    max_buttons_per_row: int  # buttons side by side in one row
    max_payload_bytes: int  # a button's data, UTF-8 bytes
    max_button_text: int  # a button's label
    can_edit: bool  # a sent message's text and buttons can be changed (else: a follow-up)
    can_delete: bool  # a sent message can be taken back
    can_acknowledge: bool  # a press can be answered with a short notice (a toast)
    max_acknowledgement: int  # the notice's length
    persistent_menu: bool  # a keyboard of menu labels that stays under the input field
    command_menu: bool  # a per-person list of commands the app shows
    can_quote: bool  # a message can quote an earlier one
    phone_sharing: PhoneSharing
    proactive: ProactivePolicy
    send_rate: float  # messages a second for the whole channel (its own limit, with margin)
    length_unit: LengthUnit = LengthUnit.CHARACTERS
    # file kinds it takes as documents (lower-case suffixes, ".pdf"); None: any
    document_suffixes: frozenset[str] | None = None
    max_document_bytes: int | None = None
    max_photo_bytes: int | None = None
    # a document a person sent on this channel can be sent again by its id (else it is fetched
    # and uploaded like a file of another channel: bot/channels/file_bridge.py)
    resends_received_files: bool = True


# --- what the outbox expects ---------------------------------------------------------------


class SendError(Exception):
    pass


class RetryLater(SendError):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Undeliverable(SendError):
    """The recipient cannot be reached (blocked the bot, chat gone): record it, never retry."""


class EditTargetGone(Undeliverable):
    """The message to edit is gone (deleted, too old to edit, never delivered)."""


class WindowClosed(Undeliverable):
    """The person is outside the channel's proactive window: another channel, or later."""


class Transient(SendError):
    """A 5xx, a time-out, a network error: try again later."""


class FileUnavailable(Undeliverable):
    """The part's file cannot go on this channel: larger than it takes (`TOO_BIG`), of a kind
    it does not take (`KIND`), or not to be had from the channel holding it (`FETCH`). The
    outbox sends the part without it (`OutMessage.without_file`). `first`: the first time for
    this file on this channel, so that its sender is told once, not once per recipient."""

    TOO_BIG = "too_big"
    KIND = "kind"
    FETCH = "fetch"

    def __init__(self, why: str, file_name: str | None, *, first: bool) -> None:
        super().__init__(f"file {file_name or '?'} not deliverable here: {why}")
        self.why = why
        self.file_name = file_name
        self.first = first


@runtime_checkable
class Channel(Protocol):
    """One messenger as the outbox sees it (see the module's docstring)."""

    @property
    def name(self) -> str:
        """The channel's name as stored with accounts and outbox rows."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    def render(self, message: OutMessage) -> Sequence[OutMessage]:
        """The parts to send, in order, each within the capabilities."""
        ...

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        """Deliver one rendered part; the messenger's reference of the message."""
        ...


@runtime_checkable
class KeepsUploads(Protocol):
    """A channel that gives a file it was sent an id of its own, to send it again by that id
    (bot/channels/file_bridge.py uploads a file of another channel once, then reuses the id)."""

    async def send_upload(self, chat_ref: str, message: OutMessage) -> tuple[str | None, str]:
        """Send one rendered part whose document is one of the bot's own files (LocalFile):
        the messenger's reference of the message, and its id of the file uploaded."""
        ...


# --- what a channel hands in -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command:
    """`/name args…` (or the channel's own way of naming a command)."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Text:
    """Typed text (possibly with an attachment in `Incoming.attachment`). On a channel without
    buttons a typed number or label may answer a pending choice: the Dispatcher resolves it."""

    text: str


@dataclass(frozen=True, slots=True)
class Press:
    """A button pressed: its payload as the button carried it (codec data)."""

    payload: str


@dataclass(frozen=True, slots=True)
class PhoneShared:
    """The person shared a phone number through the channel's own means (`PhoneSharing`).
    `own`: the channel vouches that the number is the sender's own (a contact of someone else
    forwarded is not)."""

    phone: str
    own: bool = True


@dataclass(frozen=True, slots=True)
class AttachmentSent:
    """A file or a picture sent without text (its reference is in `Incoming.attachment`)."""

    caption: str = ""


Intent = Command | Text | Press | PhoneShared | AttachmentSent
