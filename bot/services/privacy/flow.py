"""The personal-data steps: consent at registration and when the notice changes, the gate that
keeps each purpose's flows closed without its basis, /privacy and the requests' queue."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain.directory import answerable_heads
from bot.domain.health_rules import health_contact
from bot.domain.models import BuiltinRole, Staff
from bot.domain.privacy import (
    PURPOSES,
    Deadlines,
    Decision,
    Purpose,
    RequestKind,
    allows,
    extended_due,
    missing_purpose,
    request_times,
)
from bot.domain.work_calendar import WorkCalendar
from bot.i18n import Translator
from bot.outgoing import LocalFile, OutMessage
from bot.services.kernel.calendar import work_calendar
from bot.services.kernel.feature import Answer, GateAnswer, WithdrawnFn
from bot.services.kernel.step import Deps, Step, sweep_due
from bot.services.privacy.basis import STOPPED_ACTION, decisions_of
from bot.services.privacy.buttons import (
    ConsentAnswer,
    RequestAction,
    RightsButton,
    RightsMenu,
    WithdrawPurpose,
)
from bot.services.privacy.views import (
    consent_question,
    decision_name,
    directory_refused,
    followed_no_more,
    health_elsewhere,
    kind_name,
    notice,
    overview,
    purpose_name,
    request_buttons,
    request_for_admins,
    withdraw_picker,
)
from storage.health_repo import ENDED, HealthRepo
from storage.measures_repo import MeasuresRepo
from storage.privacy_repo import ConsentsRepo, PrivacyRequest, PrivacyRequestsRepo, own_records
from storage.repos import Conversation
from storage.returns_repo import ReturnsRepo

FLOW = "privacy"
CALENDAR_AHEAD = timedelta(days=366)  # the longest deadline, extended once, stays inside it
MAX_DETAILS = 1000
OPEN_TARGETS = frozenset(
    {
        "command:privacy",
        "command:help",
        "command:language",
        "command:me",
        "command:cancel",
        "button:pc",
        "button:pv",
        "button:pq",
        f"flow:{FLOW}",
    }
)
HEALTH_TARGETS = frozenset({"command:symptoms", "button:sy", "button:mc", "flow:symptoms"})
DIRECTORY_TARGETS = frozenset(
    {"command:travel", "command:return", "flow:travel", "flow:return", "button:tv", "button:rt"}
)

Welcome = Callable[[Translator, Staff], OutMessage]


def _consents(step: Step) -> ConsentsRepo:
    return ConsentsRepo(step.tx, step.deps.clock.tz)


def _requests(step: Step) -> PrivacyRequestsRepo:
    return PrivacyRequestsRepo(step.tx, step.deps.clock.tz)


async def unit_health_contact(step: Step, t: Translator, unit_id: str) -> str:
    """The number the person calls instead (their unit's health contact, else the default)."""
    default = step.deps.settings.health_contact_default or t._("your local health station")
    return health_contact(await step.directory(), unit_id, default)


class ConsentFlow:
    def __init__(self, deps: Deps, welcome: Welcome) -> None:
        self.deps = deps
        self.welcome = welcome
        self.withdrawals: list[WithdrawnFn] = []  # the features', wired by the composition root

    @property
    def version(self) -> int:
        return self.deps.settings.privacy_notice_version

    async def on_registered(self, step: Step, person: Staff) -> list[OutMessage]:
        """Right after the person is linked, before anything else is asked of them."""
        text = notice(step.t, self.deps.settings)
        if self.deps.settings.privacy_basis == "state_duty":
            await self._record_notice(step, person)
            return [OutMessage(text), self.welcome(step.t, person)]
        # a second account (another channel) of someone who answered already is not asked again
        decisions = await decisions_of(step, person.staff_id)
        return [OutMessage(text), *await self._ask_next(step, person, decisions, welcome=True)]

    async def gate(self, step: Step, person: Staff, target: str) -> GateAnswer | None:
        state_duty = self.deps.settings.privacy_basis == "state_duty"
        if not state_duty and target in OPEN_TARGETS:
            return None  # /privacy, /help, the consent buttons… work before any consent
        decisions = await decisions_of(step, person.staff_id)
        if state_duty:
            if missing_purpose(decisions) is None:
                return None
            await self._record_notice(step, person)
            return GateAnswer([OutMessage(notice(step.t, self.deps.settings))], stop=False)
        if missing_purpose(decisions) is not None:
            asked = await self._ask_next(step, person, decisions, welcome=False)
            return GateAnswer([OutMessage(notice(step.t, self.deps.settings)), *asked], stop=True)
        if target in HEALTH_TARGETS and not allows(decisions, Purpose.HEALTH):
            contact = await unit_health_contact(step, step.t, person.unit_id)
            return GateAnswer([health_elsewhere(step.t, contact)], stop=True)
        if target in DIRECTORY_TARGETS and not allows(decisions, Purpose.DIRECTORY):
            return GateAnswer([directory_refused(step.t)], stop=True)
        return None

    async def answer(self, step: Step, button: ConsentAnswer) -> Answer:
        t = step.t
        person = await step.linked()
        if person is None or button.version != self.version:
            return t._("This button is no longer valid."), []
        decisions = await decisions_of(step, person.staff_id)
        decision = await self.decide(step, person, button.purpose, button.agree, decisions)
        if decision is None:
            return t._("Already recorded."), []
        decisions[button.purpose.value] = decision
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        asking = conversation is not None and conversation.flow == FLOW
        messages = [self._answered(step, button, decision)]
        if asking and conversation is not None and conversation.step == "consent":
            welcome = bool(conversation.draft.get("welcome"))
            return None, messages + await self._ask_next(step, person, decisions, welcome)
        return None, messages

    async def decide(
        self,
        step: Step,
        person: Staff,
        purpose: Purpose,
        agree: bool,
        decisions: dict[str, str],
    ) -> str | None:
        """Record the decision in the ledger; None when it changes nothing."""
        before = decisions.get(purpose.value)
        if agree:
            decision = Decision.GRANTED
        else:
            decision = Decision.WITHDRAWN if before == Decision.GRANTED else Decision.REFUSED
        if before == decision.value or (before is not None and not agree and before != "granted"):
            return None
        await _consents(step).record(
            person.staff_id,
            purpose.value,
            self.version,
            decision.value,
            step.who.channel,
            step.who.message_ref,
            step.now,
        )
        await step.audit.append(
            step.now,
            person.staff_id,
            "privacy.consent",
            f"consent:{purpose.value}",
            {"decision": decision.value, "version": self.version},
        )
        if purpose is Purpose.HEALTH and not agree:
            await self._health_stopped(step, person, decision)
        if purpose is Purpose.DIRECTORY and decision is Decision.WITHDRAWN:
            await self._trips_stopped(step, person)
        if not agree:
            for stop in self.withdrawals:
                await stop(step, person.staff_id, purpose)
        return decision.value

    async def _trips_stopped(self, step: Step, person: Staff) -> None:
        """From now on no question, reminder or overdue notice about the trips already made
        (the sweeps check too: bot/services/privacy/basis.py); the heads learn it once. What
        other features stop of their own (a request still pending) is theirs: `withdrawals`."""
        returns = ReturnsRepo(step.tx, step.deps.clock.tz)
        ahead = await returns.untracked_of_staff(person.staff_id)  # still away, or yet to leave
        await returns.track_many([(trip, None, 0) for trip in ahead], step.now)
        followed = await returns.open_ids_of_staff(person.staff_id)
        await returns.stop_following(followed, step.now)
        await MeasuresRepo(step.tx, step.deps.clock.tz).stop_reminding(person.staff_id, step.now)
        for request_id in followed:
            await step.audit.append(step.now, "system", STOPPED_ACTION, f"travel:{request_id}", {})
        await self._tell_heads(
            step,
            person,
            Purpose.DIRECTORY,
            lambda t: OutMessage(followed_no_more(t, person.full_name)),
        )

    async def _health_stopped(self, step: Step, person: Staff, decision: Decision) -> None:
        """From now on: no monitoring; the heads learn only that this person declares elsewhere
        (the official declaration's reminders stop through `withdrawals`)."""
        health = HealthRepo(step.tx, step.deps.clock.tz)
        monitoring = await health.open_monitoring(person.staff_id)
        if monitoring is not None:
            await health.finish(monitoring.id, ENDED, person.staff_id, decision.value, step.now)
        await self._tell_heads(
            step,
            person,
            Purpose.HEALTH,
            lambda t: OutMessage(
                t._(
                    "For your information: {name} declares their health outside the bot "
                    "(to the unit's health contact).",
                    name=person.full_name,
                )
            ),
        )

    async def _tell_heads(
        self,
        step: Step,
        person: Staff,
        purpose: Purpose,
        message: Callable[[Translator], OutMessage],
    ) -> None:
        """Once per decision: the heads the person answers to learn that it was taken (never
        why, nor anything of the data), and the audit log records whom the bot told."""
        heads = answerable_heads(await step.directory(), person.staff_id)
        told = [h for h in heads if h != person.staff_id]
        await step.tell_staff(told, message)
        await step.audit.append(
            step.now,
            "system",
            "privacy.heads_told",
            f"staff:{person.staff_id}",
            {"purpose": purpose.value, "to": told},
        )

    def _answered(self, step: Step, button: ConsentAnswer, decision: str) -> OutMessage:
        t = step.t
        line = t._(
            "{purpose}: {decision} ({when}).",
            purpose=purpose_name(t, button.purpose.value),
            decision=decision_name(t, decision),
            when=t.short(step.now),
        )
        if step.who.message_ref is None:
            return OutMessage(line)
        return OutMessage(line, edit_ref=step.who.message_ref)

    async def _ask_next(
        self, step: Step, person: Staff, decisions: dict[str, str], welcome: bool
    ) -> list[OutMessage]:
        missing = missing_purpose(decisions)
        if missing is None:
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            if welcome:
                return [self.welcome(step.t, person)]
            return [
                OutMessage(step.t._("Thank you: your choices are recorded. /privacy shows them."))
            ]
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(FLOW, "consent", {"welcome": welcome}),
            step.now,
        )
        return [consent_question(step.t, missing, self.version)]

    async def _record_notice(self, step: Step, person: Staff) -> None:
        for purpose in PURPOSES:
            await _consents(step).record(
                person.staff_id,
                purpose.value,
                self.version,
                Decision.NOTIFIED.value,
                step.who.channel,
                None,
                step.now,
            )
        await step.audit.append(
            step.now, person.staff_id, "privacy.notice", "consent", {"version": self.version}
        )


@dataclass(frozen=True)
class Copy:
    json_path: Path
    xlsx_path: Path
    rows: int


class Rights:
    """/privacy: what is kept, the consents, the copy, and the requests."""

    def __init__(self, deps: Deps, consents: ConsentFlow, desk: RequestDesk) -> None:
        self.deps = deps
        self.consents = consents
        self.desk = desk

    async def command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        decisions = await decisions_of(step, person.staff_id)
        records = await own_records(step.tx, person.staff_id)
        counts = {name: len(rows) for name, rows in records.items()}
        requests = await _requests(step).of_staff(person.staff_id)
        message = overview(step.t, self.deps.settings, decisions, requests, counts)
        agree_now = [  # a purpose refused, withdrawn or not answered yet can be agreed here
            consent_question(step.t, p, self.consents.version)
            for p in PURPOSES
            if self.deps.settings.privacy_basis == "consent"
            and decisions.get(p.value) in (None, "refused", "withdrawn")
        ]
        return [message, *agree_now]

    async def button(self, step: Step, button: RightsButton) -> Answer:
        t = step.t
        person = await step.linked()
        if person is None:
            return t._("This button is no longer valid."), []
        match button:
            case RightsMenu("copy"):
                return None, await self._copy(step, person)
            case RightsMenu("fix"):
                return None, await self._ask_details(step, RequestKind.CORRECT)
            case RightsMenu("del"):
                return None, await self._ask_details(step, RequestKind.DELETE)
            case RightsMenu("obj"):
                return None, await self._ask_details(step, RequestKind.OBJECT)
            case RightsMenu("wd"):
                return None, [withdraw_picker(t, await decisions_of(step, person.staff_id))]
            case WithdrawPurpose(value):
                return None, await self._withdraw(step, person, Purpose(value))
        return t._("This button is no longer valid."), []

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        t = step.t
        person = await step.linked()
        if person is None:
            return []
        if conversation.step == "consent":
            return [
                OutMessage(t._("Please answer with the buttons above: «Agree» or «Do not agree»."))
            ]
        if conversation.step == "refuse":
            return await self.desk.refusal_reason(step, person, conversation, text)
        details = text.strip()
        if not details or len(details) > MAX_DETAILS:
            return [OutMessage(t._("Please write it in at most {n} characters.", n=MAX_DETAILS))]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        return await self.desk.create(step, person, RequestKind(conversation.step), details)

    async def _ask_details(self, step: Step, kind: RequestKind) -> list[OutMessage]:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, kind.value, {}), step.now
        )
        if kind is RequestKind.CORRECT:
            text = step.t._("What is wrong, and what should it be? Type it in one message.")
        elif kind is RequestKind.OBJECT:
            text = step.t._(
                "Which processing do you object to, or want restricted, and why? Type it in one "
                "message."
            )
        else:
            text = step.t._(
                "What should be deleted? Type it in one message (e.g. «all my health reports»)."
            )
        return [OutMessage(text)]

    async def _withdraw(self, step: Step, person: Staff, purpose: Purpose) -> list[OutMessage]:
        decisions = await decisions_of(step, person.staff_id)
        decision = await self.consents.decide(step, person, purpose, False, decisions)
        if decision is None:
            return [OutMessage(step.t._("You have no consent to withdraw."))]
        done = OutMessage(
            step.t._(
                "Withdrawn: from now on khaibao no longer processes your {purpose}.",
                purpose=purpose_name(step.t, purpose.value),
            )
        )
        return [done, *await self.desk.create(step, person, RequestKind.WITHDRAW, purpose.value)]

    async def _copy(self, step: Step, person: Staff) -> list[OutMessage]:
        records = await own_records(step.tx, person.staff_id)
        copy = await write_copy(self.deps, person.staff_id, step.now, records)
        await step.audit.append(
            step.now,
            person.staff_id,
            "privacy.copy",
            f"staff:{person.staff_id}",
            {"rows": copy.rows},
        )
        caption = step.t._("Your data kept by khaibao ({n} records).", n=copy.rows)
        return [
            OutMessage(caption, document=LocalFile(str(copy.xlsx_path))),
            OutMessage(caption, document=LocalFile(str(copy.json_path))),
        ]


async def write_copy(
    deps: Deps, staff_id: str, now: datetime, records: dict[str, list[dict[str, Any]]]
) -> Copy:
    folder = deps.settings.exports_folder / "privacy"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"my-data-{staff_id}-{now:%Y%m%d%H%M%S}"
    json_path = folder / f"{stem}.json"
    json_path.write_text(
        json.dumps({"staff_id": staff_id, "records": records}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    xlsx_path = folder / f"{stem}.xlsx"
    _write_xlsx(xlsx_path, records)
    return Copy(json_path, xlsx_path, sum(len(rows) for rows in records.values()))


def _write_xlsx(path: Path, records: dict[str, list[dict[str, Any]]]) -> None:
    from openpyxl import Workbook  # imported here: only a copy needs it

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in records.items():
        sheet = book.create_sheet(title[:31])
        if not rows:
            continue
        names = list(rows[0])
        sheet.append(names)
        for row in rows:
            sheet.append([_cell(row[name]) for name in names])
    book.save(path)


def _cell(value: Any) -> Any:
    return value if isinstance(value, int | float | str) or value is None else str(value)


class RequestDesk:
    """The queue of requests: the DPO (or the district admins) acknowledge, extend once, answer
    or refuse with a legal reason; the sweep reminds before a deadline and escalates after it."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def _deadlines(self) -> Deadlines:
        s = self.deps.settings
        return Deadlines(
            s.privacy_ack_working_days, s.privacy_view_days, s.privacy_withdraw_days,
            s.privacy_delete_days,
        )  # fmt: skip

    async def _calendar(self, step: Step, start: datetime) -> WorkCalendar:
        """Public holidays and the district's declared days, for a year of deadlines ahead."""
        return await work_calendar(step.tx, self.deps.settings, start, start + CALENDAR_AHEAD)

    async def handlers(self, step: Step) -> list[str]:
        directory = await step.directory()
        dpo = directory.person(self.deps.settings.privacy_dpo_staff_id)
        if dpo is not None and dpo.active:
            return [dpo.staff_id]
        return list(directory.role_ids(BuiltinRole.ADMIN.value))

    async def _escalation_targets(self, step: Step) -> list[str]:
        directory = await step.directory()
        admins = list(directory.role_ids(BuiltinRole.ADMIN.value))
        return list(dict.fromkeys([*await self.handlers(step), *admins]))

    async def create(
        self, step: Step, person: Staff, kind: RequestKind, details: str
    ) -> list[OutMessage]:
        times = request_times(
            step.now,
            kind,
            self._deadlines(),
            self.deps.settings.privacy_remind_before,
            await self._calendar(step, step.now),
        )
        repo = _requests(step)
        request_id = await repo.add(
            person.staff_id, kind.value, details, step.now, times.ack_due, times.due, times.remind
        )
        await step.audit.append(
            step.now,
            person.staff_id,
            "privacy.request",
            f"privacy:{request_id}",
            {"kind": kind.value},
        )
        request = await repo.get(request_id)
        assert request is not None
        await step.tell_staff(
            await self.handlers(step),
            lambda t: request_for_admins(t, request, person.full_name),
            priority=2,
            purpose=f"privacy:{request_id}",
        )
        return [
            OutMessage(
                step.t._(
                    "Request #{id} ({kind}) recorded. It will be acknowledged by {ack} and "
                    "answered by {due}.",
                    id=request_id,
                    kind=kind_name(step.t, kind.value),
                    ack=step.t.date(times.ack_due.date()),
                    due=step.t.date(times.due.date()),
                )
            )
        ]

    async def button(self, step: Step, button: RequestAction) -> Answer:
        t = step.t
        person = await step.linked()
        request = await _requests(step).get(button.ref)
        if person is None or request is None:
            return t._("This button is no longer valid."), []
        if person.staff_id not in await self._escalation_targets(step):
            return t._("You may not do this."), []
        if request.status not in ("open", "acknowledged"):
            return await self._already(step, request), []
        action = {
            "ack": self._acknowledge,
            "done": self._done,
            "ext": self._extend,
            "no": self._ask_reason,
        }[button.action]
        return await action(step, person, request)

    async def _already(self, step: Step, request: PrivacyRequest) -> str:
        """The loser of a race (or a late tap) learns who closed the request."""
        fresh = await _requests(step).get(request.id)
        closer = (await step.directory()).person(fresh.closed_by or "") if fresh else None
        return step.t._("Already closed by {name}.", name=closer.full_name if closer else "?")

    async def _acknowledge(self, step: Step, person: Staff, request: PrivacyRequest) -> Answer:
        if not await _requests(step).acknowledge(request.id, person.staff_id, step.now):
            return step.t._("Already acknowledged."), []
        await self._audit(step, person, request, "acknowledged")
        await self._tell_person(
            step,
            request,
            lambda t: t._(
                "Your request #{id} was received by {name}; the answer comes by {due}.",
                id=request.id,
                name=person.full_name,
                due=t.date(request.due_at.date()),
            ),
        )
        return step.t._("Acknowledged: the request is yours."), []

    async def _done(self, step: Step, person: Staff, request: PrivacyRequest) -> Answer:
        if not await _requests(step).close(request.id, "done", person.staff_id, "", step.now):
            return await self._already(step, request), []
        await self._audit(step, person, request, "done")
        await self._tell_person(
            step,
            request,
            lambda t: t._(
                "Your request #{id} ({kind}) is done.",
                id=request.id,
                kind=kind_name(t, request.kind),
            ),
        )
        return step.t._("Closed: the person has been told."), []

    async def _extend(self, step: Step, person: Staff, request: PrivacyRequest) -> Answer:
        days = self._deadlines().days_for(RequestKind(request.kind))
        due = extended_due(request.due_at, days, await self._calendar(step, request.due_at))
        repo = _requests(step)
        if not await repo.extend(
            request.id, due, self.deps.settings.privacy_remind_before, step.now
        ):
            return step.t._("This request was already extended once."), []
        fresh = await repo.get(request.id)
        assert fresh is not None
        await self._audit(step, person, request, "extended")
        await self._tell_person(
            step,
            request,
            lambda t: t._(
                "Your request #{id} needs more time: the answer now comes by {due}.",
                id=request.id,
                due=t.date(fresh.due_at.date()),
            ),
        )
        return step.t._("Extended; the person has been told."), []

    async def _ask_reason(self, step: Step, person: Staff, request: PrivacyRequest) -> Answer:
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(FLOW, "refuse", {"id": request.id}),
            step.now,
        )
        return None, [
            OutMessage(
                step.t._(
                    "Type the legal reason for refusing request #{id}; it is sent to the person.",
                    id=request.id,
                )
            )
        ]

    async def refusal_reason(
        self, step: Step, person: Staff, conversation: Conversation, text: str
    ) -> list[OutMessage]:
        reason = text.strip()
        if not reason or len(reason) > MAX_DETAILS:
            return [
                OutMessage(step.t._("Please write it in at most {n} characters.", n=MAX_DETAILS))
            ]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        request = await _requests(step).get(int(conversation.draft["id"]))
        if request is None or not await _requests(step).close(
            request.id, "refused", person.staff_id, reason, step.now
        ):
            return [OutMessage(step.t._("This request is already closed."))]
        await self._audit(step, person, request, "refused")
        await self._tell_person(
            step,
            request,
            lambda t: t._(
                "Your request #{id} ({kind}) is refused. Reason: {reason}",
                id=request.id,
                kind=kind_name(t, request.kind),
                reason=reason,
            ),
        )
        return [OutMessage(step.t._("Refused; the person has been told the reason."))]

    async def _audit(self, step: Step, person: Staff, request: PrivacyRequest, what: str) -> None:
        await step.audit.append(
            step.now, person.staff_id, f"privacy.request.{what}", f"privacy:{request.id}", {}
        )

    async def _tell_person(
        self, step: Step, request: PrivacyRequest, text: Callable[[Translator], str]
    ) -> None:
        await step.tell_staff([request.staff_id], lambda t: OutMessage(text(t)), priority=2)

    # --- the sweep -------------------------------------------------------------------------------

    async def sweep(self, now: datetime) -> int:
        return await sweep_due(self.deps, now, lambda step: _requests(step).due(now), self._due)

    async def _due(self, step: Step, request: PrivacyRequest) -> None:
        repo = _requests(step)
        now = step.now
        if (
            request.acked_at is None
            and request.ack_escalated_at is None
            and request.ack_due_at <= now
        ):
            await repo.mark(request.id, "ack_escalated_at", now)
            await self._nudge(step, request, await self._escalation_targets(step), "ack")
        if request.escalated_at is None and request.due_at <= now:
            await repo.mark(request.id, "escalated_at", now)
            if request.reminded_at is None:
                await repo.mark(request.id, "reminded_at", now)
            await self._nudge(step, request, await self._escalation_targets(step), "late")
        elif request.reminded_at is None and request.remind_at <= now:
            await repo.mark(request.id, "reminded_at", now)
            responsible = [request.assignee] if request.assignee else await self.handlers(step)
            await self._nudge(step, request, responsible, "soon")

    async def _nudge(self, step: Step, request: PrivacyRequest, to: list[str], why: str) -> None:
        directory = await step.directory()
        subject = directory.person(request.staff_id)
        name = subject.full_name if subject else request.staff_id

        def text(t: Translator) -> OutMessage:
            head = {
                "ack": t._("⏫ Data request #{id} was not acknowledged in time.", id=request.id),
                "soon": t._(
                    "⏰ Data request #{id} must be answered by {due}.",
                    id=request.id,
                    due=t.short(request.due_at),
                ),
                "late": t._(
                    "⏫ Data request #{id} is past its deadline ({due}).",
                    id=request.id,
                    due=t.short(request.due_at),
                ),
            }[why]
            body = request_for_admins(t, request, name)
            return OutMessage(f"{head}\n\n{body.text}", buttons=request_buttons(t, request.id))

        await step.tell_staff(to, text, priority=2, purpose=f"privacy:{request.id}")
        await step.audit.append(
            step.now, "system", f"privacy.request.{why}", f"privacy:{request.id}", {"to": to}
        )
