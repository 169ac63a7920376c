"""/channel: which of a person's messengers the bot writes to (ARCHITECTURE.md §6).

Without a choice a message goes to the channel the person used last; a choice holds until
they choose «the one I used last» again. Only channels the person has an account on are offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

from bot.domain.models import Staff
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.kernel.buttons import ButtonData, Codec
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.people import messenger_name
from bot.services.kernel.step import Step

LAST_USED = "last"
_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class ChannelPick(ButtonData):
    """`chan:<channel>`, or `chan:last` for «the one I used last»."""

    PREFIX = "chan"
    channel: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.channel,)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        if len(parts) == 1 and _CHANNEL_NAME.fullmatch(parts[0]):
            return cls(parts[0])
        return None


CHANNEL_PICKS = Codec("chan", (ChannelPick,))


def channel_feature() -> Feature:
    return Feature(
        commands={"channel": channel_command},
        buttons=[ButtonRoute(CHANNEL_PICKS, pick_channel)],
    )


async def channel_command(step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
    accounts = await step.accounts.all_of_staff(person.staff_id)
    current = accounts[0].channel if accounts else step.who.channel
    t = step.t
    if len(accounts) < 2:
        return [
            OutMessage(
                t._(
                    "The bot writes to you on {channel}, the only messenger you registered on.",
                    channel=messenger_name(current),
                )
            )
        ]
    chosen = await step.accounts.chosen_channel(person.staff_id)
    return [channel_picker(t, [a.channel for a in accounts], current, chosen)]


def channel_picker(
    t: Translator, channels: list[str], current: str, chosen: str | None
) -> OutMessage:
    now = (
        t._("Now: {channel} (your choice).", channel=messenger_name(current))
        if chosen
        else t._("Now: {channel} (the one you used last).", channel=messenger_name(current))
    )
    buttons = tuple(
        (Button(messenger_name(channel), ChannelPick(channel).encode()),) for channel in channels
    )
    last = Button(t._("The one I used last"), ChannelPick(LAST_USED).encode())
    return OutMessage(
        t._("Which messenger should the bot write to you on?") + "\n" + now,
        buttons=(*buttons, (last,)),
    )


async def pick_channel(step: Step, pick: ChannelPick) -> Answer:
    person = await step.linked()
    assert person is not None  # the dispatcher routes presses of registered people only
    t = step.t
    if pick.channel == LAST_USED:
        await step.accounts.forget_channel_choice(person.staff_id)
        text = t._("The bot now writes to you on the messenger you used last.")
    elif await step.accounts.of_staff_on(person.staff_id, pick.channel) is None:
        return t._("This button is no longer valid."), []
    else:
        await step.accounts.choose_channel(person.staff_id, pick.channel, step.now)
        text = t._("The bot now writes to you on {channel}.", channel=messenger_name(pick.channel))
    await step.audit.append(step.now, step.actor, "channel.chosen", person.staff_id,
                            {"channel": pick.channel})  # fmt: skip
    return None, [OutMessage(text)]
