"""Submitting travel requests and deciding them: exactly one decision, every step audited.

Buttons only name the object (`ap:12:y`); who pressed, whether they may decide and whether the
request is still pending are checked here against the database, and the decision itself is a
conditional update, so a double tap or two approvers at once yield one decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.domain.directory import Directory, resolve_route, superiors_of
from bot.domain.models import Staff
from bot.domain.outgoing import Button, OutMessage
from bot.domain.travel_policy import PolicyMode, TripClass, assess_trip
from bot.i18n import Translator
from bot.services.kernel.step import Deps, Step, StepRunner, system_step
from bot.services.travel.buttons import INERT, ApproveAll, RequestAction
from bot.services.travel.policy_state import mode_at, work_calendar
from bot.services.travel.views import (
    approval_message,
    decided_message,
    outcome_line,
    request_lines,
    status_line,
)
from storage.outbox_repo import Recipient
from storage.repos import Conversation
from storage.travel_repo import (
    APPROVED,
    CANCELLED,
    DENIED,
    PENDING,
    RECORDED,
    NewRequest,
    TravelRepo,
    TravelRequest,
)

DENY_FLOW = "deny"
MAX_REASON = 500


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
        mode = await mode_at(step.tx, step.now)
        calendar = await work_calendar(step.tx, self.deps.settings, departure, return_at)
        assessment = assess_trip(departure, return_at, mode, calendar)
        repo = self._repo(step)
        absent = await repo.absent_between(departure.date(), return_at.date())
        directory = await step.directory()
        route = resolve_route(directory, person.staff_id, absent)
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
        await repo.add_deciders(request_id, list(route.deciders), "decider")
        await repo.add_deciders(request_id, list(route.above), "above")
        await self._send_for_approval(step, directory, request, list(route.deciders))
        names = ", ".join(
            directory.staff[s].full_name for s in route.deciders if s in directory.staff
        )
        return [
            OutMessage(
                step.t._(
                    "Request #{id} sent to {names} for approval. You will be told the decision here.",
                    id=request_id,
                    names=names,
                )
            )
        ]

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
        await step.tell_staff(
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
        if request.trip_class == TripClass.WORK_TRIP.value:
            return [
                OutMessage(
                    step.t._(
                        "Request #{id} recorded: the trip is within working hours, so it is a work trip and needs no approval. Your unit head has been informed.",
                        id=request.id,
                    )
                )
            ]
        return [
            OutMessage(
                step.t._(
                    "Request #{id} recorded. Your position needs no approval step; the leaders concerned have been informed.",
                    id=request.id,
                )
            )
        ]

    async def _send_for_approval(
        self, step: Step, directory: Directory, request: TravelRequest, staff_ids: list[str]
    ) -> None:
        repo = self._repo(step)
        for staff_id in staff_ids:
            acting = request.acting_for.get(staff_id)
            queued = await step.tell_staff(
                [staff_id],
                partial(approval_message, directory=directory, request=request, acting_for=acting),
                priority=2,
            )
            for _, outbox_id in queued:
                await repo.remember_message(request.id, outbox_id)

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
        if not reason or len(reason) > MAX_REASON:
            return [
                OutMessage(
                    step.t._("Please type a reason of at most {n} characters.", n=MAX_REASON)
                )
            ]
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
        return person, request

    async def _too_late(self, step: Step, request: TravelRequest) -> str:
        directory = await step.directory()
        if request.status in (APPROVED, DENIED):
            return step.t._("Already decided.") + " " + outcome_line(step.t, directory, request)
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
        )

    async def _edit_approval_messages(
        self, step: Step, directory: Directory, request: TravelRequest
    ) -> None:
        for channel, chat_ref, message_ref, staff_id in await self._repo(step).sent_messages(
            request.id
        ):
            account = await step.accounts.of_staff(staff_id) if staff_id else None
            t = await step.translator_of(staff_id, account.language if account else None)
            await step.send_to(
                Recipient(channel, chat_ref, staff_id),
                decided_message(t, directory, request, message_ref),
                priority=3,
            )

    # --- lists for approvers -----------------------------------------------------------------

    async def pending(self, step: Step) -> list[OutMessage]:
        person = await step.me()
        if person is None:
            return [OutMessage(step.t._("Please register first: /start"))]
        waiting = await self._repo(step).pending_for(person.staff_id)
        if not waiting:
            return [OutMessage(step.t._("Nothing is waiting for your decision."))]
        directory = await step.directory()
        messages = [
            approval_message(step.t, directory, r, r.acting_for.get(person.staff_id))
            for r in waiting[:20]
        ]
        if len(waiting) > 1:
            messages.append(
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
            )
        return messages

    async def approve_all(self, step: Step, confirmed: bool) -> list[OutMessage]:
        person = await step.me()
        if person is None:
            return [OutMessage(step.t._("This button is no longer valid."))]
        waiting = await self._repo(step).pending_for(person.staff_id)
        if not confirmed:
            return [
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
            ]
        approved = 0
        for request in waiting:
            _, _ = await self._decide(step, person, request, APPROVED, None)
            approved += 1
        return [OutMessage(step.t._("{n} requests approved.", n=approved))]

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
                    "Type the new departure and return, e.g. «29/05/2021 07:00 - 30/05/2021 18:00»."
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
                    t._("Please type both with times, e.g. «29/05/2021 07:00 - 30/05/2021 18:00».")
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
        await self._reroute(step, request_id)
        await step.audit.append(
            step.now,
            step.actor,
            "travel.amend",
            f"travel:{request_id}",
            {"departure": departure.isoformat(), "return": return_at.isoformat()},
        )
        return [
            OutMessage(t._("Request #{id} changed and sent again for approval.", id=request_id))
        ]

    async def _reroute(self, step: Step, request_id: int) -> None:
        repo = self._repo(step)
        request = await repo.get(request_id)
        assert request is not None
        directory = await step.directory()
        await self._edit_approval_messages(step, directory, request)
        absent = await repo.absent_between(request.departure_at.date(), request.return_at.date())
        route = resolve_route(directory, request.staff_id, absent)
        await repo.clear_deciders(request_id)
        await repo.add_deciders(request_id, list(route.deciders), "decider")
        await repo.add_deciders(request_id, list(route.above), "above")
        await self._send_for_approval(step, directory, request, list(route.deciders))

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

    # --- the sweep: reminders and escalation -------------------------------------------------

    async def sweep(self, now: datetime) -> int:
        done = 0
        async with self.deps.db.transaction() as tx:
            step = system_step(self.deps, tx, now)
            repo = self._repo(step)
            directory = await step.directory()
            for request in await repo.due_reminders(now):
                deciders = [
                    s for s, kind in (await repo.deciders(request.id)).items() if kind == "decider"
                ]
                await step.tell_staff(
                    deciders, partial(_reminder, directory=directory, request=request), priority=2
                )
                await repo.set_remind_at(request.id, None)
                await step.audit.append(now, "system", "travel.remind", f"travel:{request.id}", {})
                done += 1
            for request in await repo.due_escalations(now):
                await self._escalate(step, directory, request)
                done += 1
        if step.enqueued:
            self.deps.wake_outbox()
        return done

    async def _escalate(self, step: Step, directory: Directory, request: TravelRequest) -> None:
        repo = self._repo(step)
        current = await repo.deciders(request.id)
        chosen = _next_leader_up(directory, request, current)[:1]
        level = request.escalation_level + 1
        next_at = request.departure_at - timedelta(
            minutes=self.deps.settings.escalate_before_departure_minutes
        )
        await repo.set_escalation(request.id, level, next_at if next_at > step.now else None)
        await step.audit.append(
            step.now,
            "system",
            "travel.escalate",
            f"travel:{request.id}",
            {"to": chosen, "level": level},
        )
        if chosen:
            await repo.add_deciders(request.id, chosen, "decider")
            await self._send_for_approval(step, directory, request, chosen)

    def _repo(self, step: Step) -> TravelRepo:
        return TravelRepo(step.tx, self.deps.clock.tz)

    def _remind_at(self, now: datetime) -> datetime:
        return now + timedelta(minutes=self.deps.settings.approval_remind_after_minutes)

    def _escalate_at(self, now: datetime, departure: datetime) -> datetime:
        settings = self.deps.settings
        before = departure - timedelta(minutes=settings.escalate_before_departure_minutes)
        return max(now, min(before, now + timedelta(minutes=settings.escalate_after_minutes)))


def _reminder(t: Translator, directory: Directory, request: TravelRequest) -> OutMessage:
    message = approval_message(t, directory, request)
    return OutMessage(
        t._("⏰ Reminder: this request still waits for your decision.") + "\n\n" + message.text,
        buttons=message.buttons,
    )


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
