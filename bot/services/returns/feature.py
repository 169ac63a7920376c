"""Coming back from a trip as a dispatcher feature: /return, the returns part of /status, the
`rt:` buttons, the sweep of return windows and the declaration reminder the outbox renders later.

Every button names the trip (`rt:b:12`); who pressed it, whether the trip is theirs (or under
them, for a head's reminder) and whether it is still in that state are checked against the
database, in bot/services/returns/flow.py for the person's own trip and here for the heads'.
"""

from __future__ import annotations

from typing import Any

from bot.domain.models import Staff
from bot.domain.privacy import Purpose
from bot.domain.reminders import REMIND_AGAIN_AFTER
from bot.outgoing import OutMessage
from bot.services.kernel.copies import tell_tracked
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.people import oversees
from bot.services.kernel.step import Deps, Step
from bot.services.privacy.basis import withdrawn
from bot.services.privacy.views import followed_no_more
from bot.services.returns.buttons import (
    OWN_TRIP_ACTIONS,
    RETURNS,
    MeasureAction,
    ReturnButton,
    TripAction,
)
from bot.services.returns.flow import FLOW, ReturnFlow
from bot.services.returns.measures import ReturnMeasures
from bot.services.returns.sweep import ReturnsSweep, stop_declaration_reminders
from bot.services.returns.views import (
    LATER_VIEWS,
    back_question,
    back_subject,
    declaration_reminder,
    declare_subject,
    window_line,
)
from storage.returns_repo import AWAY, BACK, STOPPED, ReturnsRepo
from storage.travel_repo import TravelRepo


class Returns:
    def __init__(self, deps: Deps, submit: Any, travel_status: Any) -> None:
        self.deps = deps
        self.measures = ReturnMeasures(deps)
        self.flow = ReturnFlow(deps, submit, self.measures)
        self.travel_status = travel_status
        self.sweeper = ReturnsSweep(deps)

    def feature(self) -> Feature:
        return Feature(
            commands={"return": self._return_command, "status": self._status},
            flows={FLOW: self.flow.on_text},
            buttons=[ButtonRoute(RETURNS, self._button)],
            jobs=[self.sweeper.sweep, self.measures.sweep],
            later_views=LATER_VIEWS,
            withdrawals=[stop_declaration_reminders],
        )

    async def _return_command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        repo = self._repo(step)
        request_id = await repo.current_trip_id(person.staff_id, step.now)
        if request_id is None:
            return [OutMessage(step.t._("You have no approved trip to report back from."))]
        request = await self.flow.track(step, request_id)
        return [back_question(step.t, request)]

    async def _status(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        messages: list[OutMessage] = await self.travel_status(step)
        lines = []
        travel = TravelRepo(step.tx, self.deps.clock.tz)
        for trip in await self._repo(step).open_of_staff(person.staff_id):
            request = await travel.get(trip.request_id)
            if request is not None:
                lines.append(window_line(step.t, trip, request, step.now))
        lines += await self.measures.status_lines(step, person.staff_id)
        if lines:
            messages.append(OutMessage("\n".join(lines)))
        return messages

    async def _button(self, step: Step, button: ReturnButton) -> Answer:
        if isinstance(button, MeasureAction):
            return await self.measures.button(step, button)
        if not isinstance(button, TripAction):
            return await self.flow.on_button(step, button)
        if button.action in OWN_TRIP_ACTIONS:
            state, on_trip = {  # the person's own trip, which must be in the given state
                "b": (AWAY, self.flow.back_now),
                "t": (AWAY, self.flow.ask_arrival),
                "d": (AWAY, self.flow.ask_delay),
                "n": (AWAY, self.flow.did_not_happen),
                "ok": (BACK, self.flow.declared),
            }[button.action]
            request, refusal = await self.flow.own_trip(step, button.ref, state)
            return (refusal, []) if request is None else await on_trip(step, request)
        overseer = {"nag": self._nag, "ask": self._ask_again}[button.action]
        return await overseer(step, button.ref)

    async def _nag(self, step: Step, request_id: int) -> Answer:
        trip = await self._repo(step).get(request_id)
        request = await TravelRepo(step.tx, self.deps.clock.tz).get(request_id)
        if trip is None or request is None or not await self._oversees(step, request.staff_id):
            return step.t._("You may not do this."), []
        if trip.state == STOPPED or await withdrawn(step, request.staff_id, Purpose.DIRECTORY):
            return await self._followed_no_more(step, request.staff_id), []
        if trip.state != BACK:
            return step.t._("Nothing to remind: the declaration is done or the trip is closed."), []
        if await withdrawn(step, request.staff_id, Purpose.HEALTH):
            person = (await step.directory()).person(request.staff_id)
            name = person.full_name if person else request.staff_id
            return step.t._(
                "{name} withdrew consent to health data: khaibao no longer reminds them of "
                "the declaration.",
                name=name,
            ), []
        deadline = trip.deadline_at
        assert deadline is not None
        already = await self._reminded_lately(step, request_id)
        if already is not None:
            return already, []
        await tell_tracked(
            step,
            [request.staff_id],
            lambda t: declaration_reminder(t, request.id, request.destination, deadline, step.now),
            [declare_subject(request.id)],
            priority=3,
        )
        await step.audit.append(step.now, step.actor, "return.nag", f"travel:{request_id}", {})
        return step.t._("Reminder sent at {time}.", time=f"{step.now:%H:%M}"), []

    async def _ask_again(self, step: Step, request_id: int) -> Answer:
        trip = await self._repo(step).get(request_id)
        request = await TravelRepo(step.tx, self.deps.clock.tz).get(request_id)
        if trip is None or request is None or not await self._oversees(step, request.staff_id):
            return step.t._("You may not do this."), []
        if trip.state == STOPPED or await withdrawn(step, request.staff_id, Purpose.DIRECTORY):
            return await self._followed_no_more(step, request.staff_id), []
        if trip.state != AWAY:
            return step.t._("They have already reported back."), []
        already = await self._reminded_lately(step, request_id)
        if already is not None:
            return already, []
        await tell_tracked(
            step,
            [request.staff_id],
            lambda t: back_question(t, request, again=True),
            [back_subject(request.id)],
            priority=3,
        )
        return step.t._("Reminder sent at {time}.", time=f"{step.now:%H:%M}"), []

    async def _reminded_lately(self, step: Step, request_id: int) -> str | None:
        """A head's reminder about this trip went less than an hour ago: say when (nothing is
        sent); else it is recorded now and None."""
        returns = self._repo(step)
        if await returns.claim_nag(request_id, step.now, step.now - REMIND_AGAIN_AFTER):
            return None
        nagged = await returns.nagged_at(request_id) or step.now
        return step.t._(
            "Already reminded at {time}; you can remind them again from {again}.",
            time=f"{nagged:%H:%M}",
            again=f"{nagged + REMIND_AGAIN_AFTER:%H:%M}",
        )

    async def _followed_no_more(self, step: Step, staff_id: str) -> str:
        person = (await step.directory()).person(staff_id)
        return followed_no_more(step.t, person.full_name if person else staff_id, short=True)

    async def _oversees(self, step: Step, staff_id: str) -> bool:
        me = await step.me()
        return me is not None and oversees(await step.directory(), me, staff_id)

    def _repo(self, step: Step) -> ReturnsRepo:
        return ReturnsRepo(step.tx, self.deps.clock.tz)
