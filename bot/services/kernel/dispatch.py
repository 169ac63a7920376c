"""Where a registered person's commands, typed text and button presses go.

One place decides: unregistered people get registration help; a person in the middle of a
conversation gets that conversation; menu labels and commands start actions. Features
(bot/services/kernel/feature.py) bring their own commands, conversations and buttons. Every call
is one committed step.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from bot.channels.port import AttachmentSent, Command, Intent, PhoneShared, Press, Text
from bot.domain.models import Staff
from bot.outgoing import OutMessage
from bot.services.kernel.buttons import ButtonRegistry
from bot.services.kernel.feature import Answer, Feature
from bot.services.kernel.menu import command_for_text, help_text, language_picker, menu_message
from bot.services.kernel.reach import channel_feature
from bot.services.kernel.step import Deps, Incoming, Step, StepRunner
from bot.services.outbox.render import (
    looks_like_choice_number,
    numbered_choices,
    resolve_choice,
    text_choices,
)
from storage.choices_repo import ChoicesRepo

MAX_TYPED = 4096  # the longest message a messenger delivers: a pasted text arrives whole


class Registration(Protocol):
    """What the dispatcher needs of registration (bot/services/registration/feature.py)."""

    async def unregistered(self, step: Step) -> list[OutMessage]:
        """The answer to someone not (or no longer) linked to a person in the staff list."""
        ...

    async def me_step(self, step: Step, person: Staff) -> list[OutMessage]:
        """/me: who the bot knows the person as, and who decides their requests."""
        ...


class Registering(Registration, Protocol):
    """And registration's own events, each its own step (`Dispatcher.handle`)."""

    async def start(self, who: Incoming, invite_code: str | None) -> list[OutMessage]: ...

    async def contact(
        self, who: Incoming, phone: str, contact_user_ref: str | None
    ) -> list[OutMessage]: ...

    async def language_menu(self, who: Incoming) -> list[OutMessage]: ...

    async def press(self, who: Incoming, data: str) -> list[OutMessage] | None:
        """A registration button's answer; None when `data` is not one of its buttons."""
        ...


class Dispatcher:
    def __init__(
        self,
        deps: Deps,
        registration: Registering,
        features: list[Feature],
        *,
        choice_channels: Collection[str] = (),
    ) -> None:
        """`choice_channels`: the channels that show buttons as numbered choices in the text
        (no buttons of their own), where a typed number or label answers the last message."""
        self.deps = deps
        self.steps = StepRunner(deps)
        self.registration = registration
        features = [*features, channel_feature()]
        self.features = features
        self.choice_channels = frozenset(choice_channels)
        self.commands = {name: fn for f in features for name, fn in f.commands.items()}
        self.flows = {name: fn for f in features for name, fn in f.flows.items()}
        routes = [route for f in features for route in f.buttons]
        self.button_codecs = ButtonRegistry(route.codec for route in routes)
        self.button_routes = {route.codec.prefix: route for route in routes}
        self.gates = [gate for f in features for gate in f.gates]
        self.documents = [handle for f in features for handle in f.documents]
        self.early = {name: fn for f in features for name, fn in f.early_commands.items()}
        self.commands.setdefault("me", self._me)
        self.commands.setdefault("language", self._language)

    async def handle(self, who: Incoming, intent: Intent) -> Answer:
        """One event of any channel: (a short acknowledgement of a press or None, messages).
        A typed number or label answering the chat's pending numbered choices is the press of
        that button."""
        numbered = who.channel in self.choice_channels
        had_choices = False
        if isinstance(intent, Text) and (numbered or looks_like_choice_number(intent.text)):
            intent, had_choices = await self._typed_choice(who, intent)
        answer = await self._route(who, intent)
        if answer[1]:  # the channel shows these next: their choices are pending
            await self._remember_choices(who, answer[1][-1], numbered, had_choices)
        return answer

    async def _remember_choices(
        self, who: Incoming, last: OutMessage, numbered: bool, had_choices: bool
    ) -> None:
        """On a channel without buttons, the last message's choices; on one with buttons, the
        buttons it shows as numbered choices in the text (data too long for it), written
        only when there are some or were some."""
        caps = self.deps.capabilities_of(who.channel)
        if numbered or caps is None:
            choices = numbered_choices(last.buttons) if numbered else []
        else:
            choices = numbered_choices(text_choices(last.buttons, caps))
        if not (numbered or choices or had_choices):
            return
        async with self.deps.db.transaction() as tx:
            await ChoicesRepo(tx).remember(
                who.channel, who.chat_ref, choices, self.deps.clock.now()
            )

    async def _route(self, who: Incoming, intent: Intent) -> Answer:
        registration = self.registration
        match intent:
            case Command("start", args):
                return None, await registration.start(who, args[0] if args else None)
            case Command("language", _):
                return None, await registration.language_menu(who)
            case Command(name, args):
                return None, await self.command(who, name, list(args))
            case Press(payload):
                answer = await registration.press(who, payload)
                if answer is not None:
                    return None, answer
                return await self.button(who, payload)
            case PhoneShared(phone, own):
                owner = who.user_ref if own else None
                return None, await registration.contact(who, phone, owner)
            case Text(text) | AttachmentSent(text):
                return None, await self.text(who, text)
        return None, []

    async def _typed_choice(self, who: Incoming, typed: Text) -> tuple[Text | Press, bool]:
        """The press a typed answer to the chat's pending choices means (else the text), and
        whether the chat had choices pending."""
        async with self.deps.db.reading() as tx:
            pending = await ChoicesRepo(tx).pending(who.channel, who.chat_ref)
        payload = resolve_choice(typed.text, pending)
        return (typed if payload is None else Press(payload)), bool(pending)

    async def command(self, who: Incoming, name: str, args: list[str]) -> list[OutMessage]:
        early = self.early.get(name)
        if early is not None and (answer := await early(who, args)) is not None:
            return answer
        return await self.steps.run(who, self._command, name, args, default=[])

    async def text(self, who: Incoming, text: str) -> list[OutMessage]:
        if who.attachment is not None and who.attachment.kind == "document":
            for handle in self.documents:
                answer = await handle(who)
                if answer is not None:
                    return answer
        return await self.steps.run(who, self._text, text, default=[])

    async def button(self, who: Incoming, data: str) -> Answer:
        return await self.steps.run(who, self._button, data, default=(None, []))

    # --- inside one step ---------------------------------------------------------------------

    async def _command(self, step: Step, name: str, args: list[str]) -> list[OutMessage]:
        person = await step.linked()
        if person is None:
            return await self.registration.unregistered(step)
        if name == "cancel":
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return [menu_message(step.t, step.t._("Stopped. Nothing was sent."), person)]
        before, stop = await self._gated(step, person, f"command:{name}")
        if stop:
            return before
        handler = self.commands.get(name)
        if handler is None:
            return before + [menu_message(step.t, help_text(step.t, person), person)]
        return before + await handler(step, person, args)

    async def _text(self, step: Step, text: str) -> list[OutMessage]:
        person = await step.linked()
        if person is None:
            return await self.registration.unregistered(step)
        command = command_for_text(self.deps.translations, text)
        if command is not None:
            return await self._command(step, command, [])
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is not None and conversation.flow in self.flows:
            before, stop = await self._gated(step, person, f"flow:{conversation.flow}")
            if stop:
                return before
            flow = self.flows[conversation.flow]
            return before + await flow(step, conversation, text[:MAX_TYPED])
        return [
            menu_message(
                step.t,
                step.t._("I did not understand that. Please use the menu below or /help."),
                person,
            )
        ]

    async def _button(self, step: Step, data: str) -> Answer:
        person = await step.linked()
        if person is None:
            if step.account.staff_id is not None:  # deactivated: told as a typed command is
                return None, await self.registration.unregistered(step)
            return step.t._("Please register first: /start"), []
        button = self.button_codecs.decode(data)
        if button is None:
            return step.t._("This button is no longer valid."), []
        before, stop = await self._gated(step, person, f"button:{button.PREFIX}")
        if stop:
            return None, before
        toast, messages = await self.button_routes[button.PREFIX].handle(step, button)
        return toast, before + messages

    async def _gated(self, step: Step, person: Staff, target: str) -> tuple[list[OutMessage], bool]:
        """What the features' gates say before the action: (messages, whether it stops)."""
        before: list[OutMessage] = []
        for gate in self.gates:
            answer = await gate(step, person, target)
            if answer is not None:
                before += answer.messages
                if answer.stop:
                    return before, True
        return before, False

    async def _me(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        return await self.registration.me_step(step, person)

    async def _language(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        return [language_picker(step.t)]


__all__ = ["Answer", "Dispatcher"]
