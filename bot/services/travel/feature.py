"""The travel capability as a dispatcher feature: /travel, /status, /pending, /away, /policy."""

from __future__ import annotations

from bot.domain.models import Staff
from bot.outgoing import OutMessage
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.step import Deps, Step
from bot.services.travel.approvals import BAN_REASON_FLOW, DENY_FLOW, Approvals, close_on_withdrawal
from bot.services.travel.buttons import (
    APPROVE_ALL,
    DECISIONS,
    INERT,
    REQUESTS,
    TRAVEL,
    ApproveAll,
    Decide,
    RequestAction,
    TravelButton,
)
from bot.services.travel.flow import FLOW as TRAVEL_FLOW
from bot.services.travel.flow import TravelFlow
from bot.services.travel.policy_admin import PolicyAdmin
from bot.services.travel.policy_state import mode_at


class Travel:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.approvals = Approvals(deps)
        self.flow = TravelFlow(self.approvals.submit)
        self.policy = PolicyAdmin(deps)

    def feature(self) -> Feature:
        return Feature(
            commands={
                "travel": self._travel,
                "status": lambda step, person, args: self.approvals.status(step),
                "pending": lambda step, person, args: self.approvals.pending(step),
                "policy": lambda step, person, args: self.policy.policy(step, args),
                "away": lambda step, person, args: self.policy.away(step, args),
            },
            flows={
                TRAVEL_FLOW: self.flow.on_text,
                DENY_FLOW: self.approvals.deny_reason,
                BAN_REASON_FLOW: self.approvals.ban_reason,
                "amend": self.approvals.amend,
            },
            buttons=[
                ButtonRoute(TRAVEL, self._travel_button),
                ButtonRoute(DECISIONS, self._decision),
                ButtonRoute(APPROVE_ALL, self._approve_all),
                ButtonRoute(REQUESTS, self._request_button),
            ],
            jobs=[self.approvals.sweep, self.policy.sweep],
            wakes=[self.approvals.next_departure, self.policy.next_ban_start],
            withdrawals=[close_on_withdrawal],
        )

    async def _travel(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        return await self.flow.begin(step, await mode_at(step.tx, step.now))

    async def _travel_button(self, step: Step, button: TravelButton) -> Answer:
        if button == INERT:
            return None, []
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is None or conversation.flow != TRAVEL_FLOW:
            return None, [OutMessage(step.t._("This button is no longer valid."))]
        return None, await self.flow.on_button(step, conversation, button)

    async def _decision(self, step: Step, button: Decide) -> Answer:
        return await self.approvals.press(step, button.request_id, button.approve)

    async def _approve_all(self, step: Step, button: ApproveAll) -> Answer:
        return None, await self.approvals.approve_all(step, button.confirmed)

    async def _change(self, step: Step, request_id: int) -> list[OutMessage]:
        """«🗓 Change» on an approved trip: the explanation, then at once the first question."""
        messages = await self.approvals.start_change(step, request_id)
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if (
            conversation is not None
            and conversation.flow == TRAVEL_FLOW
            and conversation.draft.get("replaces") == request_id
        ):
            messages += await self.flow.ask(step, dict(conversation.draft), conversation.step)
        return messages

    async def _request_button(self, step: Step, button: RequestAction) -> Answer:
        handlers = {
            "x": self.approvals.cancel,
            "am": self.approvals.start_amend,
            "ch": self._change,
            "keep": self.policy.keep_under_ban,
            "why": self.approvals.start_ban_reason,
        }
        return None, await handlers[button.action](step, button.ref)
