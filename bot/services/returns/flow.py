"""The return conversations: "are you back?", the arrival or a delay typed, the return declaration
(provinces, symptoms, contacts) and the official declaration with its screenshot.

Rule 4 of DOMAIN.md. The draft lives in the conversations table and every answer is committed
with the step. A person acts only on their own trip, and only while it is in the state the step
expects (checked here against the database, whatever the button said).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.domain.datetime_parse import ParseFailure, parse_when
from bot.domain.directory import Directory, answerable_heads
from bot.domain.privacy import Purpose
from bot.domain.provinces import all_provinces, search_provinces
from bot.domain.reminders import declaration_schedule, due_now, shift_out_of_quiet
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health import alerts as health_alerts
from bot.services.kernel.copies import reply_tracked, settle
from bot.services.kernel.feature import Answer
from bot.services.kernel.people import told_line
from bot.services.kernel.pickers import matches_keyboard, province_picker
from bot.services.kernel.step import Deps, Step
from bot.services.privacy.basis import may_process
from bot.services.privacy.flow import unit_health_contact
from bot.services.privacy.views import health_elsewhere
from bot.services.returns.buttons import (
    PROVINCES,
    ContactToggle,
    DeclarationButton,
    DeclarationStep,
    ReturnPage,
    ReturnProvince,
    SymptomToggle,
)
from bot.services.returns.measures import ReturnMeasures
from bot.services.returns.views import (
    back_subject,
    contacts_question,
    declare_subject,
    official_question,
    return_report,
    symptoms_question,
)
from storage.repos import Conversation
from storage.returns_repo import AWAY, BACK, DECLARED, ReturnsRepo
from storage.travel_repo import TravelRepo, TravelRequest

FLOW = "return"


class ReturnFlow:
    """Step functions; the caller opens the Step (transaction) and hands it in."""

    def __init__(self, deps: Deps, submit: Any, measures: ReturnMeasures) -> None:
        self.deps = deps
        self._submit = submit  # Approvals.submit: a delay beyond MAX_TRIP_DAYS asks again
        self.measures = measures  # testing and isolation the areas visited require

    async def own_trip(
        self, step: Step, request_id: int, state: str
    ) -> tuple[TravelRequest | None, str | None]:
        """The person's own trip in `state` (tracking it if needed), or a refusal."""
        person = await step.me()
        travel = TravelRepo(step.tx, self.deps.clock.tz)
        request = await travel.get(request_id)
        if person is None or request is None or request.staff_id != person.staff_id:
            return None, step.t._("This button is no longer valid.")
        unanswered_but_tracked = (
            request.status == "pending" and await self._repo(step).get(request_id) is not None
        )
        if request.status not in ("approved", "recorded") and not unanswered_but_tracked:
            return None, step.t._("This trip was cancelled; nothing to declare.")
        await self.track(step, request_id)
        trip = await self._repo(step).get(request_id)
        if trip is None or trip.state != state:
            return None, self._state_answer(step, trip.state if trip else None)
        return request, None

    async def _trip_of_flow(
        self, step: Step, data: dict[str, Any]
    ) -> tuple[TravelRequest | None, list[OutMessage]]:
        """The trip a return conversation is about, still away; else the conversation ends with why."""
        request, refusal = await self.own_trip(step, int(data["rid"]), AWAY)
        if request is None:
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return None, [OutMessage(refusal or "")]
        return request, []

    def _state_answer(self, step: Step, state: str | None) -> str:
        if state == BACK:
            return step.t._(
                "Your return is already declared; only the official declaration is left."
            )
        if state == DECLARED:
            return step.t._("Already done: your return and health declaration are recorded.")
        return step.t._("This button is no longer valid.")

    async def back_now(self, step: Step, request: TravelRequest) -> Answer:
        if request.departure_at > step.now:
            return None, [
                OutMessage(
                    step.t._(
                        "Your trip has not started yet. If it will not happen, tap «The trip did not happen»."
                    )
                )
            ]
        return None, await self._start_declaration(step, request, step.now)

    async def ask_arrival(self, step: Step, request: TravelRequest) -> Answer:
        await self._converse(step, "arrival", {"rid": request.id})
        return None, [
            OutMessage(
                step.t._(
                    "When did you arrive back? Type the date and time, e.g. «{example}» or «hôm nay 8:00».",
                    example=step.t.example(step.now.date(), -1, "17:30"),
                )
            )
        ]

    async def ask_delay(self, step: Step, request: TravelRequest) -> Answer:
        await self._converse(step, "delay", {"rid": request.id})
        return None, [
            OutMessage(
                step.t._(
                    "When will you be back? Type the new date and time, e.g. «{example}».",
                    example=step.t.example(step.now.date(), 2, "18:00"),
                )
            )
        ]

    async def did_not_happen(self, step: Step, request: TravelRequest) -> Answer:
        await self._repo(step).cancel(request.id, step.now)
        await settle(
            step,
            back_subject(request.id),
            lambda t, copy: OutMessage(
                copy.text + "\n\n" + t._("🚫 The trip did not happen; it is cancelled.")
            ),
        )
        await step.audit.append(
            step.now, step.actor, "return.trip_not_taken", f"travel:{request.id}", {}
        )
        directory = await step.directory()
        approvers = self._approvers(directory, request)
        queued = await step.tell_staff(
            approvers,
            lambda t: OutMessage(
                t._(
                    "For your information: trip #{id} of {who} to {place} did not happen; it is cancelled.",
                    id=request.id,
                    who=_name(directory, request.staff_id),
                    place=request.destination,
                )
            ),
        )
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        return None, [
            OutMessage(
                step.t._("Noted: trip #{id} did not happen and is cancelled.", id=request.id)
                + "\n"
                + told_line(step.t, directory, _reached(approvers, queued))
            )
        ]

    async def declared(self, step: Step, request: TravelRequest) -> Answer:
        return None, await self._confirm_official(step, request, None)

    async def _start_declaration(
        self, step: Step, request: TravelRequest, arrived: datetime
    ) -> list[OutMessage]:
        data: dict[str, Any] = {
            "rid": request.id,
            "arrived": arrived.isoformat(),
            "provinces": [request.destination],
            "symptoms": [],
            "contacts": [],
        }
        if not await may_process(step, request.staff_id, Purpose.HEALTH):
            return await self._declared_elsewhere(step, data)
        await self._converse(step, "provinces", data)
        return [self._provinces_question(step, data, 0)]

    async def _declared_elsewhere(self, step: Step, data: dict[str, Any]) -> list[OutMessage]:
        """No health consent: the return is recorded, nothing about health is asked; the person
        is pointed to the unit's health contact and the head learns only that."""
        person = await step.me()
        assert person is not None
        data["outside"] = True
        contact = await unit_health_contact(step, step.t, person.unit_id)
        # through the outbox, so it comes before the thanks that the declaration queues there
        await reply_tracked(step, [health_elsewhere(step.t, contact)], [])
        return await self._finish_declaration(step, data)

    def _provinces_question(self, step: Step, data: dict[str, Any], page: int) -> OutMessage:
        t = step.t
        text = t._(
            "Which provinces have you been to in the last 14 days? So far: {names}. Type or pick another "
            "to add it; tap «Continue» when the list is complete.",
            names=", ".join(data["provinces"]),
        )
        picker = province_picker(t, page, "", PROVINCES)
        return OutMessage(
            text, buttons=(*picker, (Button(t._("➡️ Continue"), DeclarationStep("pd").encode()),))
        )

    async def on_button(self, step: Step, button: DeclarationButton) -> Answer:
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is None or conversation.flow != FLOW:
            return step.t._("This button is no longer valid."), []
        data = conversation.draft
        match button, conversation.step:
            case ReturnPage(page), "provinces":
                return None, [self._provinces_question(step, data, page)]
            case ReturnProvince(index), "provinces":
                return None, await self._add_province(step, data, index)
            case SymptomToggle(code), "symptoms":
                return await self._toggle(step, conversation, "symptoms", code)
            case ContactToggle(code), "contacts":
                return await self._toggle(step, conversation, "contacts", code)
            case DeclarationStep("pd"), "provinces":
                await self._converse(step, "symptoms", data)
                return None, [symptoms_question(step.t, [])]
            case DeclarationStep("sd"), "symptoms":
                await self._converse(step, "contacts", data)
                return None, [contacts_question(step.t, [])]
            case DeclarationStep("cd"), "contacts":
                return None, await self._finish_declaration(step, data)
        return step.t._("This button is no longer valid."), []

    async def _add_province(self, step: Step, data: dict[str, Any], index: int) -> list[OutMessage]:
        name = all_provinces()[index].name
        if name not in data["provinces"]:
            data["provinces"].append(name)
        await self._converse(step, "provinces", data)
        return [self._provinces_question(step, data, 0)]

    async def _toggle(self, step: Step, conversation: Conversation, key: str, code: str) -> Answer:
        data = conversation.draft
        chosen: list[str] = data[key]
        if code in chosen:
            chosen.remove(code)
        else:
            chosen.append(code)
        await self._converse(step, conversation.step, data)
        build = symptoms_question if key == "symptoms" else contacts_question
        return None, [build(step.t, chosen, edit_ref=step.who.message_ref)]

    async def _finish_declaration(self, step: Step, data: dict[str, Any]) -> list[OutMessage]:
        request, refusal = await self._trip_of_flow(step, data)
        if request is None:
            return refusal
        arrived = datetime.fromisoformat(data["arrived"])
        answers = {k: list(data[k]) for k in ("provinces", "symptoms", "contacts")}
        if data.get("outside"):
            answers = {"provinces": [], "symptoms": [], "contacts": [], "outside": ["health"]}
        deadline = arrived + timedelta(hours=24)
        schedule = self._schedule(arrived)
        due = due_now(schedule, step.now, None, self.deps.settings.quiet)
        # without health consent the official declaration is not the bot's to remind of
        remind_at = None if data.get("outside") else due.next_at or step.now
        await self._repo(step).mark_back(
            request.id, arrived, deadline, schedule, remind_at, answers, step.now
        )
        await step.audit.append(
            step.now,
            step.actor,
            "return.declared",
            f"travel:{request.id}",
            {"arrived": arrived.isoformat(), "answers": answers},
        )
        await self._converse(step, "official", {"rid": request.id})
        directory = await step.directory()
        told = self._heads_and_notify(directory, request)
        queued = await step.tell_staff(
            told,
            lambda t: return_report(
                t, directory, request, arrived, answers, health_alerts.minimal(step)
            ),
        )
        await settle(
            step,
            back_subject(request.id),
            lambda t, copy: OutMessage(
                copy.text + "\n\n" + t._("✅ Back: arrived {when}.", when=t.short(arrived))
            ),
        )
        messages = [
            OutMessage(
                step.t._("Thank you, your return is recorded.")
                + "\n"
                + told_line(step.t, directory, _reached(told, queued))
            )
        ]
        messages += await self._health_followup(step, request, answers)
        # In order, through the outbox: the declaration's buttons, then what the areas require.
        await reply_tracked(step, messages, [])
        await reply_tracked(
            step, [official_question(step.t, request.id, deadline)], [declare_subject(request.id)]
        )
        measures = await self.measures.on_return(step, request, arrived, answers["provinces"])
        await reply_tracked(step, measures, [])
        return []

    async def _health_followup(
        self, step: Step, request: TravelRequest, answers: dict[str, list[str]]
    ) -> list[OutMessage]:
        """Symptoms or contacts go straight to the symptom path; a listed area, or the person's
        own «yes, I will visit a place with published cases», starts monitoring (rule 5) and
        the head is told."""
        person = await step.me()
        assert person is not None
        if answers.get("outside"):
            return []
        if answers["symptoms"] or answers["contacts"]:
            return await health_alerts.report_symptoms_from_return(
                step, person, answers["symptoms"], answers["contacts"]
            )
        area = await self._listed_area_visited(step, request, answers["provinces"])
        if area is None and request.case_area != "yes":
            return []
        monitoring, _ = await health_alerts.open_or_extend(
            step, person.staff_id, f"return:{request.id}"
        )
        directory = await step.directory()
        who = _name(directory, person.staff_id)

        def for_head(t: Translator) -> OutMessage:
            day = t.date(monitoring.end_day)
            if area is not None:
                return OutMessage(
                    t._(
                        "{who} is back from {place} and was in an area with published cases ({area}): under medical monitoring until {day}.",
                        who=who,
                        place=request.destination,
                        area=area,
                        day=day,
                    )
                )
            return OutMessage(
                t._(
                    "{who} is back from {place}, having said they would visit a place with published cases: under medical monitoring until {day}.",
                    who=who,
                    place=request.destination,
                    day=day,
                )
            )

        await step.tell_staff(await health_alerts.heads_now(step, person.staff_id), for_head)
        if area is not None:
            text = step.t._(
                "You were in an area with published cases ({area}): you will get a daily health check-in for the coming days.",
                area=area,
            )
        else:
            text = step.t._(
                "You said you would visit a place with published cases: you will get a daily health check-in until {day}. Your unit head has been told.",
                day=step.t.date(monitoring.end_day),
            )
        return [OutMessage(text)]

    async def _listed_area_visited(
        self, step: Step, request: TravelRequest, provinces: list[str]
    ) -> str | None:
        for province in provinces:
            area = await health_alerts.listed_area_for(
                step, province, request.departure_at.date(), step.now.date()
            )
            if area is not None:
                return area
        return None

    async def _confirm_official(
        self, step: Step, request: TravelRequest, evidence: str | None
    ) -> list[OutMessage]:
        if not await self._repo(step).mark_declared(request.id, step.now, evidence):
            return [OutMessage(self._state_answer(step, DECLARED))]
        await settle(
            step,
            declare_subject(request.id),
            lambda t, copy: OutMessage(
                copy.text
                + "\n\n"
                + t._("✅ Official declaration confirmed at {when}.", when=t.short(step.now))
            ),
        )
        await step.audit.append(
            step.now,
            step.actor,
            "return.official_declared",
            f"travel:{request.id}",
            {"evidence": bool(evidence)},
        )
        await self._converse(step, "official", {"rid": request.id})
        return [
            OutMessage(
                step.t._(
                    "✅ Recorded at {when}: your official health declaration is done. No more reminders. You may still send a screenshot as evidence.",
                    when=step.t.short(step.now),
                )
            )
        ]

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        data = conversation.draft
        attachment = step.who.attachment
        if conversation.step == "test":
            return await self.measures.evidence(step, data)
        if conversation.step == "official":
            return await self._evidence(step, data, attachment.file_id if attachment else None)
        if conversation.step == "provinces":
            return await self._typed_province(step, data, text)
        if conversation.step == "arrival":
            return await self._typed_arrival(step, data, text)
        if conversation.step == "delay":
            return await self._typed_delay(step, data, text)
        return [OutMessage(step.t._("Please use the buttons above, or /cancel."))]

    async def _evidence(
        self, step: Step, data: dict[str, Any], file_id: str | None
    ) -> list[OutMessage]:
        request_id = int(data["rid"])
        if file_id is None:
            return [
                OutMessage(step.t._("Send the screenshot as a photo, or tap the button above."))
            ]
        trip = await self._repo(step).get(request_id)
        request = await TravelRepo(step.tx, self.deps.clock.tz).get(request_id)
        if trip is None or request is None:
            return [OutMessage(step.t._("This button is no longer valid."))]
        if trip.state == BACK:
            return await self._confirm_official(step, request, file_id)
        await self._repo(step).add_evidence(request_id, file_id, step.now)
        await step.audit.append(step.now, step.actor, "return.evidence", f"travel:{request_id}", {})
        return [
            OutMessage(
                step.t._("Screenshot kept as evidence ({when}).", when=step.t.short(step.now))
            )
        ]

    async def _typed_province(
        self, step: Step, data: dict[str, Any], text: str
    ) -> list[OutMessage]:
        found = search_provinces(text[:100], limit=6)
        if not found:
            return [
                OutMessage(
                    step.t._(
                        "No province or city matches «{text}». Type it again or pick from the list.",
                        text=text[:100],
                    )
                ),
                self._provinces_question(step, data, 0),
            ]
        exact = [m for m in found if m.exact]
        if len(found) == 1 or exact:
            name = (exact or found)[0].province.name
            if name not in data["provinces"]:
                data["provinces"].append(name)
            await self._converse(step, "provinces", data)
            return [self._provinces_question(step, data, 0)]
        return [
            OutMessage(
                step.t._("Which one do you mean?"),
                buttons=matches_keyboard([m.province for m in found], PROVINCES),
            )
        ]

    async def _typed_arrival(self, step: Step, data: dict[str, Any], text: str) -> list[OutMessage]:
        t = step.t
        request, refusal = await self._trip_of_flow(step, data)
        if request is None:
            return refusal
        parsed = parse_when(text[:100], step.now)
        if isinstance(parsed, ParseFailure) or not parsed.has_time:
            return [
                OutMessage(
                    t._(
                        "I could not recognise the date and time you typed. Type them, e.g. «{example}».",
                        example=t.example(step.now.date(), -1, "17:30"),
                    )
                )
            ]
        if parsed.value > step.now:
            return [
                OutMessage(
                    t._("The arrival cannot be in the future. Type when you actually arrived.")
                )
            ]
        if parsed.value < request.departure_at:
            return [
                OutMessage(
                    t._(
                        "The arrival cannot be before the departure ({when}). Type it again.",
                        when=t.short(request.departure_at),
                    )
                )
            ]
        return await self._start_declaration(step, request, parsed.value)

    async def _typed_delay(self, step: Step, data: dict[str, Any], text: str) -> list[OutMessage]:
        t = step.t
        request, refusal = await self._trip_of_flow(step, data)
        if request is None:
            return refusal
        parsed = parse_when(text[:100], step.now)
        if isinstance(parsed, ParseFailure) or not parsed.has_time:
            return [
                OutMessage(
                    t._(
                        "I could not recognise the date and time you typed. Type them, e.g. «{example}».",
                        example=t.example(step.now.date(), 2, "18:00"),
                    )
                )
            ]
        new_return = parsed.value
        if new_return <= step.now or new_return <= request.departure_at:
            return [OutMessage(t._("The new return must be later than now. Type it again."))]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        if new_return - request.departure_at > timedelta(days=self.deps.settings.max_trip_days):
            return await self._delay_needs_approval(step, request, new_return)
        await self._repo(step).delay(
            request.id,
            new_return,
            shift_out_of_quiet(new_return, self.deps.settings.quiet),
            step.now,
        )
        await step.audit.append(
            step.now,
            step.actor,
            "return.delayed",
            f"travel:{request.id}",
            {"to": new_return.isoformat()},
        )
        directory = await step.directory()
        approvers = self._approvers(directory, request)
        queued = await step.tell_staff(
            approvers,
            lambda tt: OutMessage(
                tt._(
                    "For your information: {who} will be back from {place} later than planned, on {when}.",
                    who=_name(directory, request.staff_id),
                    place=request.destination,
                    when=tt.when(new_return),
                )
            ),
        )
        return [
            OutMessage(
                t._("Noted: you will be back {when}.", when=t.when(new_return))
                + "\n"
                + told_line(t, directory, _reached(approvers, queued))
            )
        ]

    async def _delay_needs_approval(
        self, step: Step, request: TravelRequest, new_return: datetime
    ) -> list[OutMessage]:
        await self._repo(step).delay(
            request.id,
            new_return,
            shift_out_of_quiet(new_return, self.deps.settings.quiet),
            step.now,
        )
        draft = {
            "dep": request.departure_at.isoformat(),
            "ret": new_return.isoformat(),
            "dest": request.destination,
            "address": request.address,
            "purpose": request.purpose,
            "case_area": request.case_area,
            "replaces": request.id,
        }
        note = OutMessage(
            step.t._(
                "A trip longer than {days} days needs approval again: a new request has been made.",
                days=self.deps.settings.max_trip_days,
            )
        )
        return [note, *await self._submit(step, draft)]

    async def track(self, step: Step, request_id: int) -> TravelRequest:
        """The trip, with its return window followed from now on (already followed: unchanged)."""
        travel = TravelRepo(step.tx, self.deps.clock.tz)
        request = await travel.get(request_id)
        assert request is not None
        await self._repo(step).track(
            request.id,
            request.staff_id,
            request.return_at,
            shift_out_of_quiet(request.return_at, self.deps.settings.quiet),
            0,
            step.now,
        )
        return request

    def _schedule(self, arrived: datetime) -> list[Any]:
        return declaration_schedule(
            arrived, self.deps.settings.declaration_reminders, quiet=self.deps.settings.quiet
        )

    async def _converse(self, step: Step, state: str, data: dict[str, Any]) -> None:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, state, data), step.now
        )

    def _approvers(self, directory: Directory, request: TravelRequest) -> list[str]:
        if request.decided_by:
            return [request.decided_by]
        return self._heads_and_notify(directory, request)

    def _heads_and_notify(self, directory: Directory, request: TravelRequest) -> list[str]:
        told = [*answerable_heads(directory, request.staff_id), *request.notify]
        return [s for s in dict.fromkeys(told) if s != request.staff_id]

    def _repo(self, step: Step) -> ReturnsRepo:
        return ReturnsRepo(step.tx, self.deps.clock.tz)


def _name(directory: Directory, staff_id: str) -> str:
    person = directory.person(staff_id)
    return person.full_name if person else staff_id


def _reached(wanted: list[str], queued: list[tuple[str, int]]) -> list[str]:
    """Those of `wanted` a message was really queued for (the others never opened the bot)."""
    sent = {staff_id for staff_id, _ in queued}
    return [s for s in wanted if s in sent]
