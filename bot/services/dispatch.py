"""Where a registered person's commands, typed text and button presses go.

One place decides: unregistered people get registration help; a person in the middle of a
conversation (travel, deny reason, amend) gets that conversation; menu labels and commands start
actions. Every call is one committed step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.domain.outgoing import OutMessage
from bot.domain.travel_policy import PolicyMode
from bot.services.approvals import DENY_FLOW, Approvals
from bot.services.base import Deps, Incoming, Step, StepRunner
from bot.services.menu import MenuAction, action_for_text
from bot.services.policy_admin import PolicyAdmin
from bot.services.policy_state import mode_at
from bot.services.registration import RegistrationService, help_text, language_picker, menu_message
from bot.services.travel_flow import FLOW as TRAVEL_FLOW
from bot.services.travel_flow import TravelFlow

Answer = tuple[str | None, list[OutMessage]]


class Dispatcher:
    def __init__(self, deps: Deps, registration: RegistrationService) -> None:
        self.deps = deps
        self.steps = StepRunner(deps)
        self.registration = registration
        self.approvals = Approvals(deps)
        self.travel = TravelFlow(self.approvals.submit)
        self.policy = PolicyAdmin(deps)

    async def command(self, who: Incoming, name: str, args: list[str]) -> list[OutMessage]:
        return await self.steps.run(who, self._command, name, args, default=[])

    async def text(self, who: Incoming, text: str) -> list[OutMessage]:
        return await self.steps.run(who, self._text, text, default=[])

    async def button(self, who: Incoming, data: str) -> Answer:
        return await self.steps.run(who, self._button, data, default=(None, []))

    # --- inside one step ---------------------------------------------------------------------

    async def _command(self, step: Step, name: str, args: list[str]) -> list[OutMessage]:
        person = await self.registration.linked(step)
        if person is None:
            return await self.registration.unregistered(step)
        if name == "cancel":
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return [menu_message(step.t, step.t._("Stopped. Nothing was sent."), person)]
        if name == "policy":
            return await self.policy.policy(step, args)
        if name == "away":
            return await self.policy.away(step, args)
        action = {"travel": MenuAction.TRAVEL, "status": MenuAction.STATUS, "pending": MenuAction.PENDING, "me": MenuAction.ME, "help": MenuAction.HELP}.get(name)
        if action is None:
            return [menu_message(step.t, help_text(step.t), person)]
        return await self._menu(step, action)

    async def _text(self, step: Step, text: str) -> list[OutMessage]:
        person = await self.registration.linked(step)
        if person is None:
            return await self.registration.unregistered(step)
        action = action_for_text(self.deps.translations, text)
        if action is not None:
            return await self._menu(step, action)
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        flows: dict[str, Callable[..., Awaitable[list[OutMessage]]]] = {
            TRAVEL_FLOW: self.travel.on_text,
            DENY_FLOW: self.approvals.deny_reason,
            "amend": self.approvals.amend,
        }
        if conversation is not None and conversation.flow in flows:
            return await flows[conversation.flow](step, conversation, text[:4000])
        return [menu_message(step.t, step.t._("I did not understand that. Please use the menu below or /help."), person)]

    async def _menu(self, step: Step, action: MenuAction) -> list[OutMessage]:
        person = await self.registration.linked(step)
        assert person is not None
        if action is MenuAction.TRAVEL:
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return await self.travel.begin(step, await mode_at(step.tx, step.now))
        if action is MenuAction.STATUS:
            return await self.approvals.status(step)
        if action is MenuAction.PENDING:
            return await self.approvals.pending(step)
        if action is MenuAction.ME:
            return await self.registration.me_step(step, person)
        if action is MenuAction.LANGUAGE:
            return [language_picker(step.t)]
        return [menu_message(step.t, help_text(step.t), person)]

    async def _button(self, step: Step, data: str) -> Answer:
        if await self.registration.linked(step) is None:
            return step.t._("Please register first: /start"), []
        prefix, _, rest = data.partition(":")
        if prefix == "tv":
            return None, await self._travel_button(step, data)
        if prefix == "ap":
            request_id, _, choice = rest.partition(":")
            if not request_id.isdigit() or choice not in ("y", "n"):
                return step.t._("This button is no longer valid."), []
            return await self.approvals.press(step, int(request_id), choice == "y")
        if prefix == "apall":
            return None, await self.approvals.approve_all(step, rest == "y")
        if prefix == "rq":
            return None, await self._request_button(step, rest)
        return step.t._("This button is no longer valid."), []

    async def _travel_button(self, step: Step, data: str) -> list[OutMessage]:
        if data == "tv:noop":
            return []
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is None or conversation.flow != TRAVEL_FLOW:
            return [OutMessage(step.t._("This button is no longer valid."))]
        return await self.travel.on_button(step, conversation, data)

    async def _request_button(self, step: Step, rest: str) -> list[OutMessage]:
        action, _, request_id = rest.partition(":")
        if not request_id.isdigit():
            return [OutMessage(step.t._("This button is no longer valid."))]
        handlers = {
            "x": self.approvals.cancel,
            "am": self.approvals.start_amend,
            "ch": self.approvals.start_change,
            "keep": self.policy.keep_under_ban,
        }
        handler = handlers.get(action)
        if handler is None:
            return [OutMessage(step.t._("This button is no longer valid."))]
        return await handler(step, int(request_id))


__all__ = ["Dispatcher", "PolicyMode"]
