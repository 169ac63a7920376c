"""What a feature plugs in: its commands, conversations, buttons, sweep jobs and later views.

Each capability (travel, returns, health, broadcasts...) builds one `Feature`; the composition
root hands them all to the Dispatcher. A command's menu label and help line live in
bot/services/kernel/menu.py; its handler lives here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.models import Staff
from bot.domain.outgoing import OutMessage
from bot.services.kernel.step import Step
from bot.services.outbox.later_views import LaterView
from storage.repos import Conversation

Answer = tuple[str | None, list[OutMessage]]
"""A button press's result: a short toast for the button (or None) and the messages to send."""

CommandFn = Callable[[Step, Staff, list[str]], Awaitable[list[OutMessage]]]
FlowFn = Callable[[Step, Conversation, str], Awaitable[list[OutMessage]]]
ButtonFn = Callable[[Step, str], Awaitable[Answer]]
SweepJob = Callable[[datetime], Awaitable[int]]
WakeFn = Callable[[datetime], Awaitable[datetime | None]]
"""The next moment after `now` at which the feature has something due at a set minute (a digest,
a scheduled directive), read from its rows; None when there is none."""


@dataclass
class Feature:
    """`buttons` maps a callback-data prefix (`ap` in `ap:12:y`) to a handler of the rest (`12:y`).
    `flows` maps a conversation's flow name to the handler of what the person types in it; a file
    or photo arrives as the step's `who.attachment`, with its caption as the text.
    `later_views` are the messages it queues as a `LaterMessage`, which the outbox sender
    renders by view name as they leave (bot/services/outbox/later_views.py).
    `jobs` run on every sweep; `wakes` name the set minutes at which the sweep should also run,
    so what is due then goes out at that minute rather than at the next tick."""

    commands: dict[str, CommandFn] = field(default_factory=dict)
    flows: dict[str, FlowFn] = field(default_factory=dict)
    buttons: dict[str, ButtonFn] = field(default_factory=dict)
    jobs: list[SweepJob] = field(default_factory=list)
    later_views: Mapping[str, LaterView] = field(default_factory=dict)
    wakes: list[WakeFn] = field(default_factory=list)
