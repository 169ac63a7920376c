"""The /symptoms conversation (symptoms, temperature, onset, contact), viewing a report, and the
"Đã tiếp nhận" button on alerts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.domain.health import CaseContact, Symptom, TemperatureError, Urgency, parse_temperature
from bot.domain.health_rules import OnsetError, health_contact, may_view_health, parse_onset
from bot.domain.ids import parse_id
from bot.domain.models import Staff
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health.alerts import (
    alert_subject,
    contact_default,
    isolation_guidance,
    open_or_extend,
    record_report,
    repo,
    report_lines,
    symptom_names,
)
from bot.services.health.buttons import (
    Acknowledge,
    ContactAnswer,
    Onset,
    SymptomButton,
    SymptomSignal,
    SymptomToggle,
)
from bot.services.health.referral import pass_up_offer
from bot.services.kernel.copies import settle
from bot.services.kernel.pickers import check_box
from bot.services.kernel.step import Step
from storage.buttons_repo import ButtonCopy
from storage.repos import Conversation

FLOW = "symptoms"
MAX_OTHER = 300
CHOICES = (
    Symptom.FEVER,
    Symptom.COUGH,
    Symptom.SHORTNESS_OF_BREATH,
    Symptom.SORE_THROAT,
    Symptom.LOSS_OF_TASTE_OR_SMELL,
    Symptom.TIREDNESS,
    Symptom.DIARRHOEA,
    Symptom.OTHER,
)

Draft = dict[str, Any]


class SymptomFlow:
    async def begin(self, step: Step, source: str = "self") -> list[OutMessage]:
        draft: Draft = {"s": [], "src": source}
        await self._save(step, "pick", draft)
        return [self._picker(step.t, draft)]

    async def command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        if args:
            return await self.view(step, person, args[0].lstrip("#"))
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        return await self.begin(step)

    # --- buttons --------------------------------------------------------------------------------

    async def button(
        self, step: Step, button: SymptomButton
    ) -> tuple[str | None, list[OutMessage]]:
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is None or conversation.flow != FLOW:
            return step.t._("This button is no longer valid."), []
        draft = dict(conversation.draft)
        match button, conversation.step:
            case SymptomToggle(value), "pick":
                chosen = set(draft["s"]) ^ {value}
                draft["s"] = [s.value for s in CHOICES if s.value in chosen]
                await self._save(step, "pick", draft)
                picker = self._picker(step.t, draft)
                edit = OutMessage(
                    picker.text, buttons=picker.buttons, edit_ref=step.who.message_ref
                )
                return None, [edit]
            case SymptomSignal("next"), "pick":
                return None, await self._after_pick(step, draft)
            case SymptomSignal("notemp"), "temp":
                draft["temp"] = None
                return None, await self._after_temperature(step, draft)
            case Onset(days), "onset":
                draft["onset"] = (step.now.date() - timedelta(days=days)).isoformat()
                return None, await self._ask_contact(step, draft)
            case ContactAnswer(answer), "contact":
                draft["contact"] = answer
                await step.conversations.clear(step.who.channel, step.who.user_ref)
                return None, await self._submit(step, draft)
            case SymptomSignal("no"), _:
                await step.conversations.clear(step.who.channel, step.who.user_ref)
                return None, [OutMessage(step.t._("Cancelled. Nothing was sent."))]
        return step.t._("This button is no longer valid."), []

    # --- typed answers --------------------------------------------------------------------------

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        draft = dict(conversation.draft)
        t = step.t
        at = conversation.step
        if at == "other":
            other = text.strip()
            if not other or len(other) > MAX_OTHER:
                return [
                    OutMessage(
                        t._(
                            "Please describe the other symptom in at most {n} characters.",
                            n=MAX_OTHER,
                        )
                    )
                ]
            draft["other"] = other
            return await self._ask_temperature(step, draft)
        if at == "temp":
            return await self._typed_temperature(step, draft, text)
        if at == "onset":
            day = parse_onset(text, step.now)
            if isinstance(day, OnsetError):
                return [OutMessage(_onset_error(t, day, step.now.date()))] + await self._ask_onset(
                    step, draft
                )
            draft["onset"] = day.isoformat()
            return await self._ask_contact(step, draft)
        return [OutMessage(t._("Please use the buttons above."))]

    async def _typed_temperature(self, step: Step, draft: Draft, text: str) -> list[OutMessage]:
        t = step.t
        value = parse_temperature(text)
        if isinstance(value, TemperatureError):
            return [OutMessage(_temperature_error(t, value))] + await self._ask_temperature(
                step, draft
            )
        draft["temp"] = value
        return await self._after_temperature(step, draft)

    # --- questions ------------------------------------------------------------------------------

    def _picker(self, t: Translator, draft: Draft) -> OutMessage:
        names = symptom_names(t)
        chosen = set(draft["s"])
        toggles = [
            Button(
                check_box(s.value in chosen) + _capital(names[s]),
                SymptomToggle(s.value).encode(),
            )
            for s in CHOICES
        ]
        rows = [tuple(toggles[i : i + 2]) for i in range(0, len(toggles), 2)]
        rows.append(
            (
                Button(t._("➡️ Next"), SymptomSignal("next").encode()),
                Button(t._("❌ Cancel"), SymptomSignal("no").encode()),
            )
        )
        text = t._(
            "Which symptoms do you have? Tap each one that applies, then «Next». If none, just tap «Next»."
        )
        return OutMessage(text, buttons=tuple(rows))

    async def _after_pick(self, step: Step, draft: Draft) -> list[OutMessage]:
        if Symptom.OTHER.value in draft["s"] and not draft.get("other"):
            await self._save(step, "other", draft)
            return [OutMessage(step.t._("Describe the other symptom in a few words."))]
        return await self._ask_temperature(step, draft)

    async def _ask_temperature(self, step: Step, draft: Draft) -> list[OutMessage]:
        await self._save(step, "temp", draft)
        t = step.t
        return [
            OutMessage(
                t._("Your body temperature in °C? Type e.g. «37,8» or «37.8»."),
                buttons=((Button(t._("Not measured"), SymptomSignal("notemp").encode()),),),
            )
        ]

    async def _after_temperature(self, step: Step, draft: Draft) -> list[OutMessage]:
        if draft["s"]:
            return await self._ask_onset(step, draft)
        return await self._ask_contact(step, draft)

    async def _ask_onset(self, step: Step, draft: Draft) -> list[OutMessage]:
        await self._save(step, "onset", draft)
        t = step.t
        buttons = (
            (
                Button(t._("Today"), Onset(0).encode()),
                Button(t._("Yesterday"), Onset(1).encode()),
                Button(t._("2 days ago"), Onset(2).encode()),
            ),
        )
        return [
            OutMessage(
                t._(
                    "Since when? Type a date (e.g. «{day}», «hôm qua») or tap one.",
                    day=t.example(step.now.date(), -3),
                ),
                buttons=buttons,
            )
        ]

    async def _ask_contact(self, step: Step, draft: Draft) -> list[OutMessage]:
        await self._save(step, "contact", draft)
        t = step.t
        buttons = (
            (
                Button(t._("Yes"), ContactAnswer("yes").encode()),
                Button(t._("No"), ContactAnswer("no").encode()),
                Button(t._("I don't know"), ContactAnswer("unknown").encode()),
            ),
        )
        return [
            OutMessage(t._("Have you been in contact with a confirmed case (F0)?"), buttons=buttons)
        ]

    async def _save(self, step: Step, at: str, draft: Draft) -> None:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, at, draft), step.now
        )

    # --- submitting -----------------------------------------------------------------------------

    async def _submit(self, step: Step, draft: Draft) -> list[OutMessage]:
        from datetime import date

        t = step.t
        person = await step.me()
        if person is None:
            return [OutMessage(t._("Please register first: /start"))]
        symptoms = frozenset(Symptom(s) for s in draft["s"])
        temperature = draft.get("temp")
        onset = date.fromisoformat(draft["onset"]) if draft.get("onset") else None
        case_contact = CaseContact(draft.get("contact") or CaseContact.NO)
        recorded = await record_report(
            step,
            person,
            source=draft.get("src", "self"),
            symptoms=symptoms,
            other_text=draft.get("other"),
            temperature=temperature,
            onset=onset,
            case_contact=case_contact,
        )
        report = recorded.report
        if recorded.triage.urgency is Urgency.URGENT:
            directory = await step.directory()
            contact = health_contact(directory, person.unit_id, contact_default(t, step))
            monitoring, _ = await open_or_extend(step, person.staff_id, "symptoms")
            return [
                OutMessage(
                    t._("Report #{id} recorded.", id=report.id)
                    + "\n"
                    + isolation_guidance(t, contact)
                ),
                OutMessage(
                    t._(
                        "You are under medical monitoring until {day}.",
                        day=t.date(monitoring.end_day),
                    )
                ),
            ]
        if symptoms or (temperature is not None and draft.get("contact") != "no"):
            await open_or_extend(step, person.staff_id, "symptoms")
        if symptoms:
            return [
                OutMessage(
                    t._(
                        "Report #{id} recorded. No urgent signs: your unit head has been informed. If you get a fever, a cough or shortness of breath, report again at once with /symptoms.",
                        id=report.id,
                    )
                )
            ]
        return [OutMessage(t._("Report #{id} recorded: no symptoms. Thank you.", id=report.id))]

    # --- viewing --------------------------------------------------------------------------------

    async def view(self, step: Step, person: Staff, ref: str) -> list[OutMessage]:
        t = step.t
        report_id = parse_id(ref)
        report = None if report_id is None else await repo(step).report(report_id)
        directory = await step.directory()
        subject = directory.person(report.staff_id) if report else None
        if report is None:
            return [OutMessage(t._("No such report."))]
        unit_id = subject.unit_id if subject else None
        if not may_view_health(directory, person, unit_id, report.staff_id):
            await step.audit.append(
                step.now,
                person.staff_id,
                "health.view.refused",
                f"symptoms:{report.id}",
                {"subject": report.staff_id},
            )
            return [
                OutMessage(
                    t._(
                        "You may not see this health record: only the person, the leaders above them, the health officers and the district admins may."
                    )
                )
            ]
        if person.staff_id != report.staff_id:
            await step.audit.append(
                step.now,
                person.staff_id,
                "health.view",
                f"symptoms:{report.id}",
                {"subject": report.staff_id},
            )
        urgency = t._("urgent") if report.urgency == Urgency.URGENT.value else t._("not urgent")
        return [
            OutMessage(
                "\n".join(
                    [
                        t._("Symptom report #{id} ({urgency})", id=report.id, urgency=urgency),
                        *report_lines(t, directory, report),
                    ]
                )
            )
        ]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _temperature_error(t: Translator, error: TemperatureError) -> str:
    if error is TemperatureError.OUT_OF_RANGE:
        return t._(
            "A body temperature must be between 34 and 43 °C. Please check the thermometer and type it again (e.g. «37,8»)."
        )
    return t._("I could not read that temperature. Type a number in °C, e.g. «37,8» or «38.5».")


def _onset_error(t: Translator, error: OnsetError, today: date) -> str:
    if error is OnsetError.IN_FUTURE:
        return t._("That day is in the future.")
    if error is OnsetError.TOO_OLD:
        return t._("That is more than 60 days ago; please check the date.")
    return t._(
        "I could not recognise the date you typed. Type e.g. «{day}», «{short}» or «hôm qua».",
        day=t.example(today, -3),
        short=t.day_month(today - timedelta(days=3)).lstrip("0"),
    )


# --------------------------------------------------------------------------- acknowledging


async def acknowledge(step: Step, button: Acknowledge) -> tuple[str | None, list[OutMessage]]:
    t = step.t
    person = await step.me()
    health = repo(step)
    alert = await health.alert(button.alert_id)
    if person is None or alert is None:
        return t._("This button is no longer valid."), []
    directory = await step.directory()
    recipients = await health.recipients(alert.id)
    if person.staff_id not in recipients and not may_view_health(
        directory, person, alert.unit_id, None
    ):
        await step.audit.append(
            step.now, person.staff_id, "health.ack.refused", f"alert:{alert.id}", {}
        )
        return t._("You may not acknowledge this alert."), []
    if not await health.ack(alert.id, person.staff_id, step.now):
        fresh = await health.alert(alert.id)
        who = directory.person(fresh.acked_by or "") if fresh else None
        return t._("Already received by {name}.", name=who.full_name if who else "?"), []
    await step.audit.append(
        step.now,
        person.staff_id,
        "health.ack",
        f"alert:{alert.id}",
        {"object": alert.object, "level": alert.level},
    )
    await _mark_received(step, alert.id, person)
    if (
        alert.staff_id
        and alert.staff_id != person.staff_id
        and alert.object.startswith("symptoms:")
    ):
        await step.tell_staff(
            [alert.staff_id],
            lambda tt: OutMessage(
                tt._(
                    "Your health report was received by {name}. Please follow their guidance.",
                    name=person.full_name,
                )
            ),
            priority=2,
        )
    return t._("Recorded: you received this alert."), await pass_up_offer(
        step, directory, person, alert
    )


async def _mark_received(step: Step, alert_id: int, person: Staff) -> None:
    """Edit every alert message already sent: who received it, and no more button."""

    def received(tt: Translator, copy: ButtonCopy) -> OutMessage:
        line = tt._(
            "✅ Received by {name} at {when}.", name=person.full_name, when=tt.short(step.now)
        )
        return OutMessage(f"{copy.text}\n\n{line}", send_if_edit_fails=True)

    await settle(step, alert_subject(alert_id), received)
