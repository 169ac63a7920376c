"""What a feature plugs in: its commands, conversations, buttons, sweep jobs and later views.

Each capability (travel, returns, health, broadcasts...) builds one `Feature`; the composition
root hands them all to the Dispatcher. A command's menu label and help line live in
bot/services/kernel/menu.py; its handler lives here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bot.domain.models import Staff
from bot.domain.privacy import Purpose
from bot.outgoing import OutMessage
from bot.services.kernel.buttons import ButtonData, Codec
from bot.services.kernel.step import Incoming, Step
from bot.services.outbox.later_views import LaterView
from storage.repos import Conversation

Answer = tuple[str | None, list[OutMessage]]
"""A button press's result: a short toast for the button (or None) and the messages to send."""


def with_unshown_answer(
    answer: str | None, shown: bool, messages: Sequence[OutMessage]
) -> list[OutMessage]:
    """The messages of a press, its short answer first as a message of its own when it was not
    `shown` (too long for the channel's acknowledgement, refused, or a channel without
    acknowledgements) and no message says it already: it is never lost."""
    if not answer or shown or any(m.text == answer for m in messages):
        return list(messages)
    return [OutMessage(answer), *messages]


CommandFn = Callable[[Step, Staff, list[str]], Awaitable[list[OutMessage]]]
FlowFn = Callable[[Step, Conversation, str], Awaitable[list[OutMessage]]]
DocumentFn = Callable[[Incoming], Awaitable[list[OutMessage] | None]]
"""A file sent outside any conversation: the feature's answer, or None when it is not for it.
Called before any step (a file may take seconds to fetch and read); it runs its own steps."""
EarlyCommandFn = Callable[[Incoming, list[str]], Awaitable[list[OutMessage] | None]]
"""A command whose work takes seconds, done before its step (like DocumentFn); None: the
command's step answers as usual."""
SweepJob = Callable[[datetime], Awaitable[int]]
WakeFn = Callable[[datetime], Awaitable[datetime | None]]
"""The next moment after `now` at which the feature has something due at a set minute (a digest,
a scheduled directive), read from its rows; None when there is none."""
B = TypeVar("B", bound=ButtonData)


@dataclass(frozen=True)
class GateAnswer:
    """A gate's word before an action: messages to show first, and whether the action stops
    there (a consent not given yet) or goes on after them (a notice shown once)."""

    messages: list[OutMessage]
    stop: bool


GateFn = Callable[[Step, Staff, str], Awaitable[GateAnswer | None]]

WithdrawnFn = Callable[[Step, str, Purpose], Awaitable[None]]
"""A person (staff id) refused or withdrew consent to a purpose in this step: what the feature
stops of its own from that moment (the privacy feature calls it, knowing none of them)."""
"""Asked before every command (`command:travel`), conversation text (`flow:symptoms`) and button
(`button:sy`) of a registered person; None lets the action through untouched."""


@dataclass(frozen=True)
class ButtonRoute(Generic[B]):
    """A feature's codec for one prefix and the handler of the buttons it decodes."""

    codec: Codec[B]
    handle: Callable[[Step, B], Awaitable[Answer]]


@dataclass
class Feature:
    """`buttons` routes each callback-data prefix (`ap` in `ap:12:y`) through its codec to the
    handler of the decoded, typed button (bot/services/kernel/buttons.py).
    `flows` maps a conversation's flow name to the handler of what the person types in it; a file
    or photo arrives as the step's `who.attachment`, with its caption as the text.
    `later_views` are the messages it queues as a `LaterMessage`, which the outbox sender
    renders by view name as they leave (bot/services/outbox/later_views.py).
    `jobs` run on every sweep; `wakes` name the set minutes at which the sweep should also run,
    so what is due then goes out at that minute rather than at the next tick.
    `gates` are asked before any action of a registered person (see GateFn);
    `documents` are offered a file sent outside a conversation, in turn (DocumentFn);
    `early_commands` run before a command's step (EarlyCommandFn);
    `withdrawals` are told of a consent refused or withdrawn, in its step (WithdrawnFn)."""

    commands: dict[str, CommandFn] = field(default_factory=dict)
    flows: dict[str, FlowFn] = field(default_factory=dict)
    buttons: list[ButtonRoute[Any]] = field(default_factory=list)
    jobs: list[SweepJob] = field(default_factory=list)
    later_views: Mapping[str, LaterView] = field(default_factory=dict)
    wakes: list[WakeFn] = field(default_factory=list)
    gates: list[GateFn] = field(default_factory=list)
    documents: list[DocumentFn] = field(default_factory=list)
    early_commands: dict[str, EarlyCommandFn] = field(default_factory=dict)
    withdrawals: list[WithdrawnFn] = field(default_factory=list)
