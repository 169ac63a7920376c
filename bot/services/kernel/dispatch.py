"""Where a registered person's commands, typed text and button presses go.

One place decides: unregistered people get registration help; a person in the middle of a
conversation gets that conversation; menu labels and commands start actions. Features
(bot/services/kernel/feature.py) bring their own commands, conversations and buttons. Every call
is one committed step.
"""

from __future__ import annotations

from typing import Protocol

from bot.domain.models import Staff
from bot.domain.outgoing import OutMessage
from bot.services.kernel.buttons import ButtonRegistry
from bot.services.kernel.feature import Answer, Feature
from bot.services.kernel.menu import command_for_text, help_text, language_picker, menu_message
from bot.services.kernel.step import Deps, Incoming, Step, StepRunner

MAX_TYPED = 4096  # the Bot API's own limit on a message: a pasted text arrives whole


class Registration(Protocol):
    """What the dispatcher needs of registration (bot/services/registration/feature.py)."""

    async def unregistered(self, step: Step) -> list[OutMessage]:
        """The answer to someone not (or no longer) linked to a person in the staff list."""
        ...

    async def me_step(self, step: Step, person: Staff) -> list[OutMessage]:
        """/me: who the bot knows the person as, and who decides their requests."""
        ...


class Dispatcher:
    def __init__(self, deps: Deps, registration: Registration, features: list[Feature]) -> None:
        self.deps = deps
        self.steps = StepRunner(deps)
        self.registration = registration
        self.features = features
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
