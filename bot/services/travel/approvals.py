"""Submitting travel requests and deciding them: exactly one decision, every step audited.

Buttons only name the object (`ap:12:y`); who pressed, whether they may decide and whether the
request is still pending are checked here against the database, and the decision itself is a
conditional update, so a double tap or two approvers at once yield one decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import Any

from bot.domain.directory import Directory, resolve_route, route_now, superiors_of
from bot.domain.models import BuiltinRole, Route, Staff
from bot.domain.privacy import Purpose
from bot.domain.reminders import shift_out_of_quiet
from bot.domain.travel_policy import PolicyMode, TripClass, assess_trip
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health.alerts import Listing, isolation_of
from bot.services.kernel.calendar import work_calendar
from bot.services.kernel.copies import reply_tracked, settle, tell_tracked
from bot.services.kernel.people import names_of, told_line
from bot.services.kernel.reasons import refused_reason
from bot.services.kernel.step import Deps, Step, StepRunner, system_step
from bot.services.travel.buttons import INERT, ApproveAll, RequestAction
from bot.services.travel.policy_state import mode_at, mode_for_trip
from bot.services.travel.views import (
    Escalation,
    approval_message,
    decided_message,
    list_changed_message,
    outcome_line,
    request_lines,
    sent_text,
    special_reason_question,
    status_line,
    unanswered_for_decider,
    unanswered_for_requester,
)
from storage.buttons_repo import LIST, ButtonCopy, ButtonsRepo
from storage.repos import Conversation
from storage.returns_repo import ReturnsRepo
from storage.travel_repo import (
    APPROVED,
    CANCELLED,
    DENIED,
    PENDING,
    RECORDED,
    WITHDRAWN,
    NewRequest,
    TravelRepo,
    TravelRequest,
)

DENY_FLOW = "deny"
BAN_REASON_FLOW = "banreason"
AWAITING_BAN_REASON = "reason"


class Approvals:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.steps = StepRunner(deps)

    # --- submitting --------------------------------------------------------------------------

    async def submit(self, step: Step, draft: dict[str, Any]) -> list[OutMessage]:
        person = await step.me()
        assert person is not None
        departure = datetime.fromisoformat(draft["dep"])
        return_at = datetime.fromisoformat(draft["ret"])
        mode = await mode_for_trip(step.tx, departure, return_at)
        calendar = await work_calendar(step.tx, self.deps.settings, departure, return_at)
        assessment = assess_trip(departure, return_at, mode, calendar)
        repo = self._repo(step)
        directory = await step.directory()
        route = route_now(directory, person.staff_id, await repo.absent_on(step.now.date()))
        needs = assessment.trip_class is not TripClass.WORK_TRIP and route.needs_approval
        new = NewRequest(
            staff_id=person.staff_id,
            status=PENDING if needs else RECORDED,
            destination=draft["dest"],
            address=draft["address"],
            departure_at=departure,
            return_at=return_at,
            purpose=draft["purpose"],
            case_area=draft["case_area"],
            policy_mode=mode.value,
            trip_class=assessment.trip_class.value,
            reasons=tuple(r.value for r in assessment.reasons),
            rule_name=route.rule_name,
            notify=route.notify,
            acting_for=dict(route.acting_for),
            remind_at=self._remind_at(step.now) if needs else None,
            escalate_at=self._escalate_at(step.now, departure) if needs else None,
            replaces_id=draft.get("replaces"),
        )
        request_id = await repo.create(new, step.now)
        request = await repo.get(request_id)
        assert request is not None
        await step.audit.append(
            step.now,
            person.staff_id,
            "travel.submit",
            f"travel:{request_id}",
            {"status": new.status, "trip_class": new.trip_class, "rule": route.rule_name},
        )
        if not needs:
            return await self._recorded(
                step, directory, person, request, list(route.deciders) or list(route.notify)
            )
        reached = await self._route_request(step, directory, request, route)
        return [OutMessage(sent_text(step.t, directory, request_id, route, reached))]

    async def _route_request(
        self, step: Step, directory: Directory, request: TravelRequest, route: Route
    ) -> list[str]:
        """Record who may decide and send it to those who can be told: [who was sent it]."""
        repo = self._repo(step)
        reached = await self._reachable(step, directory, request.staff_id, route)
        await repo.add_deciders(
            request.id, list(dict.fromkeys([*route.deciders, *reached])), "decider", step.now
        )
        await repo.add_deciders(request.id, list(route.above), "above")
        await repo.add_deciders(request.id, list(route.away), "away")
        await self._send_for_approval(
            step, directory, request, reached, _why_it_comes_to_you(directory, route, reached)
        )
        return reached

    async def _reachable(
        self, step: Step, directory: Directory, requester_id: str, route: Route
    ) -> list[str]:
        """The deciders who have opened the bot; failing them, the nearest leader above who has;
        failing that, the district admins who have."""
        admins = [a for a in directory.role_ids(BuiltinRole.ADMIN) if a != requester_id]
        candidates = list(dict.fromkeys([*route.deciders, *route.above, *admins]))
        registered = {a.staff_id for a in await step.accounts.of_staff_many(candidates)}
        told = [d for d in route.deciders if d in registered]
        if not told:
            told = [a for a in route.above if a in registered][:1]
        return told or [a for a in admins if a in registered]

    async def _recorded(
        self,
        step: Step,
        directory: Directory,
        person: Staff,
        request: TravelRequest,
        told: list[str],
    ) -> list[OutMessage]:
        heads = [
            h.staff_id for h in directory.heads_of(person.unit_id) if h.staff_id != person.staff_id
        ]
        recipients = list(dict.fromkeys(told + heads + list(request.notify)))
        queued = await step.tell_staff(
            recipients,
            lambda t: OutMessage(
                "\n".join(
                    [
                        t._("For your information: a trip was recorded without an approval step."),
                        *request_lines(t, directory, request),
                    ]
                )
            ),
        )
        reached = {staff_id for staff_id, _ in queued}
        t = step.t
        if request.trip_class == TripClass.WORK_TRIP.value:
            text = t._(
                "Request #{id} recorded: the trip is within working hours, so it is a work trip and needs no approval.",
                id=request.id,
            )
        else:
            text = t._(
                "Request #{id} recorded. Your position needs no approval step.", id=request.id
            )
        lines = [text, told_line(t, directory, [r for r in recipients if r in reached])]
        missing = [r for r in recipients if r not in reached]
        if missing:
            lines.append(
                t._(
                    "{names} has not opened the bot yet and was not told.",
                    names=names_of(directory, missing),
                )
            )
        return [OutMessage("\n".join(lines))]

    async def _send_for_approval(
        self,
        step: Step,
        directory: Directory,
        request: TravelRequest,
        staff_ids: list[str],
        why: Callable[[Translator], str] | None = None,
        escalation: Escalation | None = None,
    ) -> None:
        """The approval message to each; `why` says why it comes to them (not the usual route);
        each copy is remembered, to show the outcome once it is decided."""
        isolation = await isolation_of(step, request.staff_id)
        for staff_id in staff_ids:
            acting = request.acting_for.get(staff_id)
            await tell_tracked(
                step,
                [staff_id],
                partial(
                    _approval_with_note,
                    directory=directory,
                    request=request,
                    acting_for=acting,
                    why=why,
                    escalation=escalation,
                    isolation=isolation,
                ),
                [subject(request.id)],
                priority=2,
            )

    # --- deciding ----------------------------------------------------------------------------

    async def press(
        self, step: Step, request_id: int, approve: bool
    ) -> tuple[str | None, list[OutMessage]]:
        """An Approve / Deny press: (short answer for the button, messages)."""
        checked = await self._may_decide(step, request_id)
        if isinstance(checked, str):
            return checked, []
        person, request = checked
        if not approve:
            await step.conversations.set(
                step.who.channel,
                step.who.user_ref,
                Conversation(DENY_FLOW, "reason", {"request_id": request_id}),
                step.now,
            )
            return None, [
                OutMessage(
                    step.t._(
                        "Why do you deny request #{id}? Type the reason; it is sent to the requester.",
                        id=request_id,
                    )
                )
            ]
        return await self._decide(step, person, request, APPROVED, None)

    async def deny_reason(
        self, step: Step, conversation: Conversation, text: str
    ) -> list[OutMessage]:
        reason = text.strip()
        if refused := refused_reason(step.t, reason):
            return refused
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        checked = await self._may_decide(step, int(conversation.draft["request_id"]))
        if isinstance(checked, str):
            return [OutMessage(checked)]
        person, request = checked
        answer, messages = await self._decide(step, person, request, DENIED, reason)
        return messages or [OutMessage(answer or "")]

    async def _may_decide(self, step: Step, request_id: int) -> str | tuple[Staff, TravelRequest]:
        t = step.t
        person = await step.me()
        repo = self._repo(step)
        request = await repo.get(request_id)
        if person is None or not person.active or request is None:
            return t._("This button is no longer valid.")
        if person.staff_id not in await repo.deciders(request_id):
            await step.audit.append(
                step.now, person.staff_id, "travel.decide.refused", f"travel:{request_id}", {}
            )
            return t._("You may not decide this request.")
        if request.status != PENDING:
            return await self._too_late(step, request)
        if request.ban_check == AWAITING_BAN_REASON:
            return t._(
                "A travel ban now covers this trip: it waits for the requester's special reason."
            )
        return person, request

    async def _too_late(self, step: Step, request: TravelRequest) -> str:
        directory = await step.directory()
        if request.status in (APPROVED, DENIED):
            return step.t._("Already decided.") + " " + outcome_line(step.t, directory, request)
        if request.status == WITHDRAWN:
            return step.t._(
                "This request was closed: the requester withdrew their consent. Nothing was changed."
            )
        return step.t._("This request was cancelled.")

    async def _decide(
        self, step: Step, person: Staff, request: TravelRequest, status: str, note: str | None
    ) -> tuple[str | None, list[OutMessage]]:
        repo = self._repo(step)
        if not await repo.decide(request.id, status, person.staff_id, step.now, note):
            fresh = await repo.get(request.id)
            assert fresh is not None
            return await self._too_late(step, fresh), []
        decided = await repo.get(request.id)
        assert decided is not None
        await step.audit.append(
            step.now,
            person.staff_id,
            f"travel.{status}",
            f"travel:{request.id}",
            {"note": note, "acting_for": request.acting_for.get(person.staff_id)},
        )
        await self._announce_decision(step, decided)
        if status == APPROVED and decided.replaces_id:
            await repo.cancel(decided.replaces_id, step.now)
        text = (
            step.t._("Approved.")
            if status == APPROVED
            else step.t._("Denied; the requester has been told.")
        )
        return text, [] if status == APPROVED else [OutMessage(text)]

    async def _announce_decision(self, step: Step, request: TravelRequest) -> None:
        directory = await step.directory()
        await self._edit_approval_messages(step, directory, request)
        await step.tell_staff(
            [request.staff_id],
            lambda t: OutMessage(
                t._(
                    "Your request #{id} ({place}, {start}):",
                    id=request.id,
                    place=request.destination,
                    start=t.short(request.departure_at),
                )
                + "\n"
                + outcome_line(t, directory, request)
            ),
            priority=2,
            origin=request.decided_by,
        )
        told = [s for s in request.notify if s != request.decided_by]
        absent_head = request.acting_for.get(request.decided_by or "")
        if absent_head:
            told.append(absent_head)
        await step.tell_staff(
            told,
            lambda t: OutMessage(
                "\n".join(
                    [
                        t._("For your information:"),
                        *request_lines(t, directory, request),
                        "",
                        outcome_line(t, directory, request),
                    ]
                )
            ),
            origin=request.decided_by,
        )

    async def _edit_approval_messages(
        self, step: Step, directory: Directory, request: TravelRequest
    ) -> None:
        await settle_copies(step, directory, request)

    # --- lists for approvers -----------------------------------------------------------------

    async def pending(self, step: Step) -> list[OutMessage]:
        person = await step.me()
        if person is None:
            return [OutMessage(step.t._("Please register first: /start"))]
        waiting = await self._repo(step).pending_for(person.staff_id)
        if not waiting:
            return [OutMessage(step.t._("Nothing is waiting for your decision."))]
        directory = await step.directory()
        for request in waiting[:20]:
            await reply_tracked(
                step,
                [
                    approval_message(
                        step.t,
                        directory,
                        request,
                        request.acting_for.get(person.staff_id),
                        isolation=await isolation_of(step, request.staff_id),
                    )
                ],
                [subject(request.id)],
            )
        if len(waiting) > 1:
            await reply_tracked(
                step,
                [
                    OutMessage(
                        step.t._("{n} requests are waiting.", n=len(waiting)),
                        buttons=(
                            (
                                Button(
                                    step.t._("✅ Approve all {n}", n=len(waiting)),
                                    ApproveAll(False).encode(),
                                ),
                            ),
                        ),
                    )
                ],
                [subject(r.id) for r in waiting],
                LIST,
            )
        return []

    async def approve_all(self, step: Step, confirmed: bool) -> list[OutMessage]:
        person = await step.me()
        if person is None:
            return [OutMessage(step.t._("This button is no longer valid."))]
        waiting = await self._listed_waiting(step, person)
        if not waiting:
            return [
                OutMessage(
                    step.t._("The list has changed since; /pending shows what waits for you now.")
                )
            ]
        if not confirmed:
            await reply_tracked(
                step,
                [
                    OutMessage(
                        step.t._("Approve all {n} waiting requests?", n=len(waiting)),
                        buttons=(
                            (
                                Button(
                                    step.t._("Yes, approve all {n}", n=len(waiting)),
                                    ApproveAll(True).encode(),
                                ),
                                Button(step.t._("No"), INERT.encode()),
                            ),
                        ),
                    )
                ],
                [subject(r.id) for r in waiting],
                LIST,
            )
            return []
        approved = 0
        for request in waiting:
            _, _ = await self._decide(step, person, request, APPROVED, None)
            approved += 1
        return [OutMessage(step.t._("{n} requests approved.", n=approved))]

    async def _listed_waiting(self, step: Step, person: Staff) -> list[TravelRequest]:
        """The requests an approve-all message (the one pressed) lists that still wait for this
        person: exactly those it named, never one that arrived since."""
        waiting = await self._repo(step).pending_for(person.staff_id)
        if step.who.message_ref is None:
            return []
        listed = set(
            await ButtonsRepo(step.tx).subjects_of(step.who.chat_ref, step.who.message_ref, LIST)
        )
        return [r for r in waiting if subject(r.id) in listed]

    # --- the requester afterwards ------------------------------------------------------------

    async def status(self, step: Step) -> list[OutMessage]:
        person = await step.me()
        if person is None:
            return [OutMessage(step.t._("Please register first: /start"))]
        requests = await self._repo(step).of_staff(person.staff_id)
        if not requests:
            return [OutMessage(step.t._("You have no travel requests yet. Use /travel to ask."))]
        return [self._status_entry(step, r) for r in requests]

    def _status_entry(self, step: Step, request: TravelRequest) -> OutMessage:
        t = step.t
        buttons: list[Button] = []
        if request.departure_at > step.now and request.status in (PENDING, APPROVED, RECORDED):
            buttons.append(Button(t._("🚫 Cancel"), RequestAction("x", request.id).encode()))
        if request.departure_at > step.now and request.status == PENDING:
            buttons.append(Button(t._("🗓 Change dates"), RequestAction("am", request.id).encode()))
        if request.departure_at > step.now and request.status == APPROVED:
            buttons.append(
                Button(
                    t._("🗓 Change (needs approval again)"), RequestAction("ch", request.id).encode()
                )
            )
        return OutMessage(status_line(t, request), buttons=(tuple(buttons),) if buttons else ())

    async def cancel(self, step: Step, request_id: int) -> list[OutMessage]:
        person = await step.me()
        repo = self._repo(step)
        request = await repo.get(request_id)
        if person is None or request is None or request.staff_id != person.staff_id:
            return [OutMessage(step.t._("This button is no longer valid."))]
        if request.departure_at <= step.now or not await repo.cancel(request_id, step.now):
            return [OutMessage(step.t._("This request can no longer be cancelled."))]
        cancelled = await repo.get(request_id)
        assert cancelled is not None
        await step.audit.append(
            step.now,
            person.staff_id,
            "travel.cancel",
            f"travel:{request_id}",
            {"was": request.status},
        )
        await self._tell_cancelled(step, request, cancelled)
        return [OutMessage(step.t._("Request #{id} cancelled.", id=request_id))]

    async def _tell_cancelled(
        self, step: Step, before: TravelRequest, after: TravelRequest
    ) -> None:
        directory = await step.directory()
        if before.status == PENDING:
            await self._edit_approval_messages(step, directory, after)
            return
        told = (
            [before.decided_by]
            if before.decided_by
            else list((await self._repo(step).deciders(before.id)).keys())
        )
        await step.tell_staff(
            told,
            lambda t: OutMessage(
                "\n".join(
                    [t._("A trip you know of was cancelled:"), *request_lines(t, directory, after)]
                )
            ),
        )

    async def start_amend(self, step: Step, request_id: int) -> list[OutMessage]:
        who = step.who
        person = await step.me()
        request = await self._repo(step).get(request_id)
        if (
            person is None
            or request is None
            or request.staff_id != person.staff_id
            or request.status != PENDING
        ):
            return [OutMessage(step.t._("This button is no longer valid."))]
        await step.conversations.set(
            who.channel,
            who.user_ref,
            Conversation("amend", "dates", {"request_id": request_id}),
            step.now,
        )
        return [
            OutMessage(
                step.t._(
                    "Type the new departure and return, e.g. «{departure} - {back}».",
                    **_example_trip(step.t, step.now.date()),
                )
            )
        ]

    async def amend(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        from bot.domain.datetime_parse import ParsedWhen, parse_when
        from bot.domain.travel_policy import validate_trip

        t = step.t
        parts = [p.strip() for p in text.replace("→", "-").split(" - ")]
        parsed = [parse_when(p, step.now) for p in parts] if len(parts) == 2 else []
        times = [p.value for p in parsed if isinstance(p, ParsedWhen) and p.has_time]
        if len(times) != 2:
            return [
                OutMessage(
                    t._(
                        "Please type both with times, e.g. «{departure} - {back}».",
                        **_example_trip(t, step.now.date()),
                    )
                )
            ]
        departure, return_at = times
        if validate_trip(departure, return_at, step.now, self.deps.settings.max_trip_days):
            return [
                OutMessage(
                    t._(
                        "These dates are not valid (in the past, return before departure, or too long). Please type them again."
                    )
                )
            ]
        request_id = int(conversation.draft["request_id"])
        repo = self._repo(step)
        if not await repo.amend_dates(
            request_id,
            departure,
            return_at,
            self._remind_at(step.now),
            self._escalate_at(step.now, departure),
        ):
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return [
                OutMessage(
                    t._("This request was decided or cancelled meanwhile; nothing was changed.")
                )
            ]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        await step.audit.append(
            step.now,
            step.actor,
            "travel.amend",
            f"travel:{request_id}",
            {"departure": departure.isoformat(), "return": return_at.isoformat()},
        )
        if await self._now_under_ban(step, request_id, departure, return_at):
            return [await self._ask_ban_reason_instead(step, request_id)]
        await self._reroute(step, request_id)
        return [
            OutMessage(t._("Request #{id} changed and sent again for approval.", id=request_id))
        ]

    async def _now_under_ban(
        self, step: Step, request_id: int, departure: datetime, return_at: datetime
    ) -> bool:
        """New dates are judged afresh: True when a ban now covers a trip that was not an
        exception under a ban (it then waits for the special reason)."""
        repo = self._repo(step)
        request = await repo.get(request_id)
        assert request is not None
        mode = await mode_for_trip(step.tx, departure, return_at)
        calendar = await work_calendar(step.tx, self.deps.settings, departure, return_at)
        assessment = assess_trip(departure, return_at, mode, calendar)
        if (
            assessment.trip_class is TripClass.EXCEPTION_UNDER_BAN
            and request.trip_class != TripClass.EXCEPTION_UNDER_BAN.value
        ):
            await repo.await_ban_reason(request_id)
            return True
        await repo.set_assessment(
            request_id,
            mode.value,
            assessment.trip_class.value,
            tuple(r.value for r in assessment.reasons),
        )
        return False

    async def _ask_ban_reason_instead(self, step: Step, request_id: int) -> OutMessage:
        repo = self._repo(step)
        request = await repo.get(request_id)
        assert request is not None
        directory = await step.directory()
        await self._edit_approval_messages(step, directory, request)
        return special_reason_question(step.t, directory, request)

    async def _reroute(self, step: Step, request_id: int) -> None:
        repo = self._repo(step)
        request = await repo.get(request_id)
        assert request is not None
        directory = await step.directory()
        await self._edit_approval_messages(step, directory, request)
        route = route_now(directory, request.staff_id, await repo.absent_on(step.now.date()))
        await repo.clear_deciders(request_id)
        await self._route_request(step, directory, request, route)

    async def start_change(self, step: Step, request_id: int) -> list[OutMessage]:
        """Changing an approved trip: a new request prefilled from it, which needs approval again."""
        who = step.who
        person = await step.me()
        request = await self._repo(step).get(request_id)
        if (
            person is None
            or request is None
            or request.staff_id != person.staff_id
            or request.status != APPROVED
        ):
            return [OutMessage(step.t._("This button is no longer valid."))]
        mode = await mode_at(step.tx, step.now)
        draft = {
            "mode": mode.value,
            "dest": request.destination,
            "address": request.address,
            "purpose": request.purpose,
            "case_area": request.case_area,
            "replaces": request.id,
        }
        from bot.services.travel.flow import FLOW

        await step.conversations.set(
            who.channel, who.user_ref, Conversation(FLOW, "dep", draft), step.now
        )
        return [
            OutMessage(
                step.t._(
                    "Changing request #{id}: give the new dates. The approved trip stays valid until the change is approved.",
                    id=request.id,
                )
            )
        ]

    # --- a ban that started after the request: the special reason ---------------------------

    async def start_ban_reason(self, step: Step, request_id: int) -> list[OutMessage]:
        person = await step.me()
        request = await self._repo(step).get(request_id)
        if (
            person is None
            or request is None
            or request.staff_id != person.staff_id
            or request.status != PENDING
            or request.ban_check != AWAITING_BAN_REASON
        ):
            return [OutMessage(step.t._("This button is no longer valid."))]
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(BAN_REASON_FLOW, "reason", {"request_id": request_id}),
            step.now,
        )
        return [
            OutMessage(step.t._("Travel is suspended. What is the special reason you must travel?"))
        ]

    async def ban_reason(
        self, step: Step, conversation: Conversation, text: str
    ) -> list[OutMessage]:
        reason = text.strip()
        if refused := refused_reason(step.t, reason):
            return refused
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        repo = self._repo(step)
        request_id = int(conversation.draft["request_id"])
        request = await repo.get(request_id)
        gone = [
            OutMessage(
                step.t._("This request was decided or cancelled meanwhile; nothing was changed.")
            )
        ]
        if request is None or request.ban_check != AWAITING_BAN_REASON:
            return gone
        purpose = f"{reason} — {request.purpose}"
        if not await repo.give_ban_reason(
            request_id,
            purpose,
            self._remind_at(step.now),
            self._escalate_at(step.now, request.departure_at),
        ):
            return gone
        await step.audit.append(
            step.now, step.actor, "travel.ban_reason", f"travel:{request_id}", {}
        )
        fresh = await repo.get(request_id)
        assert fresh is not None
        directory = await step.directory()
        await self._edit_approval_messages(step, directory, fresh)
        route = route_now(directory, fresh.staff_id, await repo.absent_on(step.now.date()))
        await repo.clear_deciders(request_id)
        reached = await self._route_request(step, directory, fresh, route)
        return [OutMessage(sent_text(step.t, directory, request_id, route, reached))]

    # --- the sweep: reminders and escalation -------------------------------------------------

    async def sweep(self, now: datetime) -> int:
        done = 0
        async with self.deps.db.transaction() as tx:
            step = system_step(self.deps, tx, now)
            repo = self._repo(step)
            directory = await step.directory()
            done += await self._absences(step, directory)
            for request in await repo.due_reminders(now):
                deciders = [
                    s for s, kind in (await repo.deciders(request.id)).items() if kind == "decider"
                ]
                isolation = await isolation_of(step, request.staff_id)
                await tell_tracked(
                    step,
                    deciders,
                    partial(_reminder, directory=directory, request=request, isolation=isolation),
                    [subject(request.id)],
                    priority=2,
                )
                await repo.set_remind_at(request.id, None)
                await step.audit.append(now, "system", "travel.remind", f"travel:{request.id}", {})
                done += 1
            for request in await repo.due_escalations(now):
                await self._escalate(step, directory, request)
                done += 1
            for request in await repo.due_departures(now):
                await self._unanswered_at_departure(step, directory, request)
                done += 1
        if step.enqueued:
            self.deps.wake_outbox()
        return done

    async def next_departure(self, now: datetime) -> datetime | None:
        """The sweep's wake-up: the departure of the next request still undecided."""
        async with self.deps.db.reading() as tx:
            return await TravelRepo(tx, self.deps.clock.tz).next_departure_pending()

    async def _absences(self, step: Step, directory: Directory) -> int:
        """Deciders are those present now: an absence that starts hands its pending requests to
        those who decide meanwhile; someone back gets the requests held for them."""
        repo = self._repo(step)
        today = step.now.date()
        handled = 0
        for absence_id, staff_id in await repo.absences_beginning(today):
            await self.hand_over(step, directory, staff_id)
            await repo.mark_absence_begun(absence_id)
            handled += 1
        back = await repo.back_from_absence(today)
        requests = await repo.get_many(sorted({request_id for request_id, _ in back}))
        for request_id, staff_id in back:
            await repo.set_decider_kind(request_id, staff_id, "decider")
            request = requests.get(request_id)
            if request is not None and request.staff_id in directory.staff:
                await self._send_for_approval(step, directory, request, [staff_id])
            handled += 1
        return handled

    async def hand_over(self, step: Step, directory: Directory, staff_id: str) -> None:
        """`staff_id` is away from today: their pending requests go to who decides meanwhile."""
        repo = self._repo(step)
        absent = await repo.absent_on(step.now.date())
        if staff_id not in absent:
            return
        for request_id in await repo.pending_decided_by(staff_id):
            request = await repo.get(request_id)
            if request is None or request.staff_id not in directory.staff:
                continue
            current = await repo.deciders(request_id)
            route = route_now(directory, request.staff_id, absent)
            reached = await self._reachable(step, directory, request.staff_id, route)
            await repo.set_decider_kind(request_id, staff_id, "away")
            added = [d for d in dict.fromkeys([*route.deciders, *reached]) if d not in current]
            fresh = [d for d in reached if current.get(d) != "decider"]
            if added or fresh:
                acting = {**request.acting_for, **route.acting_for}
                await repo.set_acting_for(request_id, acting)
                await repo.add_deciders(
                    request_id, list(dict.fromkeys([*added, *fresh])), "decider"
                )
                await self._send_for_approval(
                    step,
                    directory,
                    replace(request, acting_for=acting),
                    fresh,
                    _why_it_comes_to_you(directory, route, reached),
                )
            await step.audit.append(
                step.now, "system", "travel.hand_over", f"travel:{request_id}",
                {"away": staff_id, "to": fresh},
            )  # fmt: skip

    async def _unanswered_at_departure(
        self, step: Step, directory: Directory, request: TravelRequest
    ) -> None:
        """Still undecided when the trip starts: both sides are told, the return is tracked."""
        repo = self._repo(step)
        await repo.mark_unanswered(request.id, step.now)
        await ReturnsRepo(step.tx, self.deps.clock.tz).track(
            request.id,
            request.staff_id,
            request.return_at,
            shift_out_of_quiet(request.return_at, self.deps.settings.quiet),
            0,
            step.now,
        )
        await step.audit.append(step.now, "system", "travel.unanswered", f"travel:{request.id}", {})
        await step.tell_staff(
            [request.staff_id],
            lambda t: unanswered_for_requester(t, request),
            priority=2,
        )
        deciders = [s for s, kind in (await repo.deciders(request.id)).items() if kind == "decider"]
        await step.tell_staff(
            deciders, lambda t: unanswered_for_decider(t, directory, request), priority=2
        )

    async def _escalate(self, step: Step, directory: Directory, request: TravelRequest) -> None:
        repo = self._repo(step)
        current = await repo.deciders(request.id)
        waited = await repo.deciders_since(request.id)
        chosen = await self._next_reachable(
            step, directory, request, _next_leader_up(directory, request, current)
        )
        level = request.escalation_level + 1
        next_at = request.departure_at - self.deps.settings.escalate_before_departure_minutes
        await repo.set_escalation(request.id, level, next_at if next_at > step.now else None)
        await step.audit.append(
            step.now,
            "system",
            "travel.escalate",
            f"travel:{request.id}",
            {"to": chosen, "level": level},
        )
        if not chosen:
            return
        escalation = Escalation(
            unanswered=tuple(waited),
            since=min((at for at in waited.values() if at), default=request.created_at),
        )
        await repo.add_deciders(request.id, chosen, "decider", step.now)
        await self._send_for_approval(step, directory, request, chosen, escalation=escalation)
        await self._tell_moved_up(step, directory, request, escalation, chosen)

    async def _tell_moved_up(
        self,
        step: Step,
        directory: Directory,
        request: TravelRequest,
        escalation: Escalation,
        chosen: list[str],
    ) -> None:
        """The approvers who did not answer and the requester learn who may decide it now."""
        names = names_of(directory, chosen)
        await step.tell_staff(
            list(escalation.unanswered),
            lambda t: OutMessage(
                t._(
                    "⏫ Request #{id} of {who} got no answer, so it was also sent to {names}. You may still decide it; the first decision counts.",
                    id=request.id,
                    who=names_of(directory, [request.staff_id]),
                    names=names,
                )
            ),
            priority=2,
        )
        await step.tell_staff(
            [request.staff_id],
            lambda t: OutMessage(
                t._(
                    "⏫ Your request #{id} got no answer yet, so it was also sent to {names}.",
                    id=request.id,
                    names=names,
                )
            ),
            priority=2,
        )

    async def _next_reachable(
        self, step: Step, directory: Directory, request: TravelRequest, leaders: list[str]
    ) -> list[str]:
        """The first leader up who is present and has opened the bot; failing every one, the
        district admins who have (a stuck request must reach someone)."""
        absent = await self._repo(step).absent_on(step.now.date())
        admins = [a for a in directory.role_ids(BuiltinRole.ADMIN) if a != request.staff_id]
        candidates = list(dict.fromkeys([*leaders, *admins]))
        registered = {a.staff_id for a in await step.accounts.of_staff_many(candidates)}
        present = [s for s in leaders if s in registered and s not in absent]
        if present:
            return present[:1]
        current = await self._repo(step).deciders(request.id)
        return [a for a in admins if a in registered and current.get(a) != "decider"]

    def _repo(self, step: Step) -> TravelRepo:
        return TravelRepo(step.tx, self.deps.clock.tz)

    def _remind_at(self, now: datetime) -> datetime:
        return now + self.deps.settings.approval_remind_after_minutes

    def _escalate_at(self, now: datetime, departure: datetime) -> datetime:
        settings = self.deps.settings
        before = departure - settings.escalate_before_departure_minutes
        return max(now, min(before, now + settings.escalate_after_minutes))


def _approval_with_note(
    t: Translator,
    *,
    directory: Directory,
    request: TravelRequest,
    acting_for: str | None,
    why: Callable[[Translator], str] | None,
    escalation: Escalation | None = None,
    isolation: Listing | None = None,
) -> OutMessage:
    message = approval_message(t, directory, request, acting_for, escalation, isolation)
    return message if why is None else replace(message, text=f"{message.text}\n{why(t)}")


def _why_it_comes_to_you(
    directory: Directory, route: Route, reached: list[str]
) -> Callable[[Translator], str] | None:
    """Why a request is sent to someone outside its usual route (the admins, a leader above)."""
    if route.to_admins:
        return lambda t: t._(
            "Nobody in the routing chain is present now, so the district admins decide it."
        )
    unreached = [d for d in route.deciders if d not in reached]
    if unreached and not set(reached) & set(route.deciders):
        return lambda t: t._(
            "{names} has not opened the bot yet, so the request comes to you, who may also decide.",
            names=names_of(directory, unreached),
        )
    return None


def _reminder(
    t: Translator, directory: Directory, request: TravelRequest, isolation: Listing | None
) -> OutMessage:
    message = approval_message(t, directory, request, isolation=isolation)
    return OutMessage(
        t._("⏰ Reminder: this request still waits for your decision.") + "\n\n" + message.text,
        buttons=message.buttons,
    )


async def settle_copies(step: Step, directory: Directory, request: TravelRequest) -> None:
    """Every message carrying this request's buttons shows the outcome and loses them: the
    approvers' copies, reminders, escalations, /pending entries; an approve-all list or
    confirmation that covered it says the list changed."""

    def settled(t: Translator, copy: ButtonCopy) -> OutMessage:
        if copy.role == LIST:
            return list_changed_message(t, copy.text)
        return decided_message(t, directory, request, copy.message_ref)

    await settle(step, subject(request.id), settled)


async def close_on_withdrawal(step: Step, staff_id: str, purpose: Purpose) -> None:
    """The person withdrew consent (a): their requests still pending are closed undecided, with
    no reminder or escalation left, every decider's copy says so and loses its buttons (a stale
    tap is answered by `_too_late`), and the person learns which were closed."""
    if purpose is not Purpose.DIRECTORY:
        return
    repo = TravelRepo(step.tx, step.deps.clock.tz)
    closed = await repo.close_withdrawn(staff_id, step.now)
    if not closed:
        return
    directory = await step.directory()
    for request in (await repo.get_many(closed)).values():
        await settle_copies(step, directory, request)
        await step.audit.append(step.now, "system", "travel.withdrawn", f"travel:{request.id}", {})
    await step.tell_staff(
        [staff_id],
        lambda t: OutMessage(
            t.n_(
                "Your travel request {ids} still waiting for approval was closed "
                "without a decision.",
                "Your travel requests {ids} still waiting for approval were closed "
                "without a decision.",
                len(closed),
                ids=", ".join(f"#{i}" for i in closed),
            )
        ),
    )


def subject(request_id: int) -> str:
    """The request as a subject of button messages."""
    return f"travel:{request_id}"


def _next_leader_up(
    directory: Directory, request: TravelRequest, current: dict[str, str]
) -> list[str]:
    """Who a stuck request climbs to: the people who decide the current deciders' own requests
    (the principal's superior, not the office head of the parent unit), then the heads above."""
    deciders = [s for s, kind in current.items() if kind == "decider"]
    superiors = superiors_of(directory, deciders)
    superiors.extend(resolve_route(directory, request.staff_id).above)
    superiors.extend(h.staff_id for h in _heads_above(directory, current))
    skip = {*deciders, request.staff_id}
    return [s for s in dict.fromkeys(superiors) if s not in skip]


def _heads_above(directory: Directory, current: dict[str, str]) -> list[Staff]:
    found: list[Staff] = []
    for staff_id in current:
        person = directory.person(staff_id)
        if person is None:
            continue
        for unit in directory.ancestors(person.unit_id):
            found.extend(directory.heads_of(unit.unit_id))
    return found


__all__ = ["CANCELLED", "DENY_FLOW", "Approvals", "PolicyMode"]


def _example_trip(t: Translator, today: date) -> dict[str, str]:
    return {"departure": t.example(today, 3, "07:00"), "back": t.example(today, 4, "18:00")}
