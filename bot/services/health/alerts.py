"""Symptom reports and the alerts they raise: recorded, triaged, sent through the outbox with an
"Đã tiếp nhận" button, escalated by the sweep when nobody acknowledges them. Also the entry
points other features call: a return declaration's symptoms, monitoring, areas with cases.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.directory import Directory
from bot.domain.duty_roster import next_on_duty
from bot.domain.health import (
    FEVER_THRESHOLD,
    CaseContact,
    Symptom,
    Triage,
    TriageReason,
    Urgency,
    triage,
)
from bot.domain.health_rules import (
    area_matches,
    contact_with_case,
    duty_officers_for,
    first_checkin,
    heads_present,
    health_contact,
    health_officers_for,
    monitoring_last_day,
    symptoms_from_codes,
)
from bot.domain.models import Staff
from bot.domain.phones import display_phone
from bot.domain.provinces import province_label
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.duty.roster import district_leaders, in_a_gap, on_duty_now
from bot.services.health.buttons import Acknowledge, HealthDetail
from bot.services.kernel.copies import tell_tracked
from bot.services.kernel.step import Step
from storage.health_repo import Area, HealthRepo, Monitoring, NewReport, SymptomReport
from storage.travel_repo import TravelRepo

ALERT_PRIORITY = 1


def repo(step: Step) -> HealthRepo:
    return HealthRepo(step.tx, step.deps.clock.tz)


# --------------------------------------------------------------------------- texts


def symptom_names(t: Translator) -> dict[Symptom, str]:
    return {
        Symptom.FEVER: t._("fever"),
        Symptom.COUGH: t._("cough"),
        Symptom.SHORTNESS_OF_BREATH: t._("shortness of breath"),
        Symptom.SORE_THROAT: t._("sore throat"),
        Symptom.LOSS_OF_TASTE_OR_SMELL: t._("loss of taste or smell"),
        Symptom.TIREDNESS: t._("tiredness"),
        Symptom.DIARRHOEA: t._("diarrhoea"),
        Symptom.PNEUMONIA: t._("pneumonia"),
        Symptom.OTHER: t._("other"),
    }


def contact_names(t: Translator) -> dict[str, str]:
    return {
        "covid_patient": t._("contact with a confirmed case"),
        "case_area": t._("was in an area with published cases"),
        "symptomatic": t._("contact with someone with symptoms"),
    }


def case_contact_names(t: Translator) -> dict[str, str]:
    return {
        CaseContact.YES: t._("yes"),
        CaseContact.NO: t._("no"),
        CaseContact.UNKNOWN: t._("does not know"),
    }


def report_lines(t: Translator, directory: Directory, report: SymptomReport) -> list[str]:
    person = directory.person(report.staff_id)
    unit = directory.unit(person.unit_id) if person else None
    names = symptom_names(t)
    listed = [
        names.get(Symptom(s), s) if s in Symptom._value2member_map_ else s for s in report.symptoms
    ]
    if report.other_text:
        listed.append(report.other_text)
    contacts = contact_names(t)
    lines = [
        t._("Person: {name}", name=person.full_name if person else report.staff_id)
        + (f" ({unit.name})" if unit else ""),
        t._("Symptoms: {list}", list=", ".join(listed) if listed else t._("none")),
    ]
    if report.temperature is not None:
        lines.append(t._("Temperature: {value} °C", value=t.number(report.temperature, 1)))
    if report.onset_day is not None:
        lines.append(t._("Since: {day}", day=t.date(report.onset_day)))
    lines.append(
        t._(
            "Contact with a confirmed case (F0): {answer}",
            answer=case_contact_names(t).get(report.case_contact, report.case_contact),
        )
    )
    if report.contacts:
        lines.append(
            t._("Exposure: {list}", list=", ".join(contacts.get(c, c) for c in report.contacts))
        )
    lines.append(t._("Reported: {when}", when=t.when(report.created_at)))
    if person is not None:
        lines.append(t._("Phone: {phone}", phone=display_phone(person.phone)))
    return lines


def isolation_guidance(t: Translator, contact: str) -> str:
    return t._(
        "Please self-isolate now: stay at home or in your room, away from others, wear a mask, "
        "and call the health facility at once: {contact}. Your unit head and the health officers "
        "have been told.",
        contact=contact,
    )


def contact_default(t: Translator, step: Step) -> str:
    return step.deps.settings.health_contact_default or t._("your local health station")


# --------------------------------------------------------------------------- recording


@dataclass(frozen=True, slots=True)
class Recorded:
    report: SymptomReport
    triage: Triage
    alert_id: int | None


async def record_report(
    step: Step,
    person: Staff,
    *,
    source: str,
    symptoms: frozenset[Symptom],
    other_text: str | None = None,
    temperature: float | None = None,
    onset: date | None = None,
    case_contact: CaseContact = CaseContact.NO,
    contacts: tuple[str, ...] = (),
    force_urgent: bool = False,
) -> Recorded:
    """Record the report, triage it, alert (urgent) or inform the head (routine)."""
    result = triage(symptoms, temperature, case_contact is CaseContact.YES)
    if force_urgent and result.urgency is Urgency.ROUTINE:
        result = Triage(Urgency.URGENT, result.reasons)
    health = repo(step)
    new = NewReport(
        staff_id=person.staff_id,
        source=source,
        symptoms=tuple(sorted(s.value for s in symptoms)),
        other_text=other_text,
        temperature=temperature,
        onset_day=onset,
        contact_with_case=case_contact is CaseContact.YES,
        contacts=contacts,
        urgency=result.urgency.value,
        reasons=tuple(r.value for r in result.reasons),
        case_contact=case_contact.value,
    )
    report_id = await health.add_report(new, step.now)
    report = await health.report(report_id)
    assert report is not None
    await step.audit.append(
        step.now,
        step.actor,
        "health.report",
        f"symptoms:{report_id}",
        {"urgency": new.urgency, "source": source},
    )
    directory = await step.directory()
    if result.urgency is Urgency.URGENT:
        alert_id = await raise_alert(step, directory, person, report)
        return Recorded(report, result, alert_id)
    await step.tell_staff(
        await heads_now(step, person.staff_id),
        lambda t: _routine_note(t, step, directory, report),
    )
    return Recorded(report, result, None)


def minimal(step: Step) -> bool:
    """PRIVACY_MINIMAL_MESSAGES: health messages say who and what kind; details on a tap."""
    return step.deps.settings.privacy_minimal_messages


def who_text(directory: Directory, staff_id: str | None, unit_id: str | None = None) -> str:
    """«Nguyễn Văn A, Phòng Y tế»: the person and their unit, nothing about their health."""
    person = directory.person(staff_id or "")
    unit = directory.unit(person.unit_id if person else unit_id or "")
    name = person.full_name if person else staff_id or "?"
    return f"{name}, {unit.name}" if unit else name


def detail_button(t: Translator, kind: str, ref: int) -> Button:
    return Button(t._("🔎 See details"), HealthDetail(kind, ref).encode())


def _routine_note(
    t: Translator, step: Step, directory: Directory, report: SymptomReport
) -> OutMessage:
    if minimal(step):
        return OutMessage(
            t._(
                "For your information: {who} reported mild symptoms (no urgent signs).",
                who=who_text(directory, report.staff_id),
            ),
            buttons=((detail_button(t, "r", report.id),),),
        )
    return OutMessage(
        "\n".join(
            [
                t._(
                    "For your information: a staff member reported mild symptoms (no urgent signs)."
                ),
                *report_lines(t, directory, report),
            ]
        )
    )


def first_recipients(
    directory: Directory, person: Staff, absent: frozenset[str], on_duty: Sequence[str] = ()
) -> list[str]:
    """Unit head(s) present now (else who stands in), the health officers and whoever is on
    duty: `on_duty` from the roster when someone is on it now, else the duty officers of the
    person's unit and the units above it."""
    found = [
        *heads_present(directory, person.staff_id, absent),
        *health_officers_for(directory, person.unit_id),
        *(on_duty or duty_officers_for(directory, person.unit_id)),
    ]
    return [s for s in dict.fromkeys(found) if s != person.staff_id]


async def heads_now(step: Step, staff_id: str) -> list[str]:
    """Who answers for the person today: an absent head's stand-in instead of the head."""
    return heads_present(await step.directory(), staff_id, await absent_today(step))


async def absent_today(step: Step) -> frozenset[str]:
    return await TravelRepo(step.tx, step.deps.clock.tz).absent_on(step.now.date())


async def raise_alert(
    step: Step, directory: Directory, person: Staff, report: SymptomReport
) -> int:
    health = repo(step)
    alert_id = await health.add_alert(
        f"symptoms:{report.id}",
        person.staff_id,
        person.unit_id,
        step.now + step.deps.settings.alert_ack_minutes,
        step.now,
    )
    shifts = await on_duty_now(step, directory, person.unit_id)
    on_duty = next_on_duty(shifts, {person.staff_id})
    if not on_duty and await in_a_gap(step, directory, person.unit_id):
        on_duty = [
            *duty_officers_for(directory, person.unit_id),
            *district_leaders(directory, person.unit_id),
        ]
        await step.audit.append(
            step.now, "system", "duty.gap.alert", f"alert:{alert_id}", {"to": on_duty}
        )
    recipients = first_recipients(directory, person, await absent_today(step), on_duty)
    if minimal(step):
        await send_alert(
            step,
            alert_id,
            recipients,
            0,
            lambda t: symptom_alert_summary(t, directory, report),
            detail=True,
        )
    else:
        await send_alert(
            step, alert_id, recipients, 0, lambda t: symptom_alert_text(t, directory, report)
        )
    return alert_id


def symptom_alert_summary(t: Translator, directory: Directory, report: SymptomReport) -> str:
    return t._(
        "🚨 URGENT symptom report of {who}. Contact the person and guide them to self-isolate.",
        who=who_text(directory, report.staff_id),
    )


def symptom_alert_text(t: Translator, directory: Directory, report: SymptomReport) -> str:
    reasons = triage_reason_names(t)
    why = ", ".join(reasons.get(TriageReason(r), r) for r in report.reasons)
    head = t._(
        "🚨 URGENT symptom report ({why}). Contact the person and guide them to self-isolate.",
        why=why or t._("exposure"),
    )
    footer = t._("Details: /symptoms {id}", id=report.id)
    return "\n".join([head, *report_lines(t, directory, report), footer])


def triage_reason_names(t: Translator) -> dict[TriageReason, str]:
    return {
        TriageReason.FEVER: t._("fever"),
        TriageReason.COUGH: t._("cough"),
        TriageReason.SHORTNESS_OF_BREATH: t._("shortness of breath"),
        TriageReason.HIGH_TEMPERATURE: t._(
            "temperature of {value} °C or more", value=t.number(FEVER_THRESHOLD, 1)
        ),
        TriageReason.CONTACT_WITH_CASE: t._("contact with a confirmed case"),
    }


async def send_alert(
    step: Step,
    alert_id: int,
    staff_ids: list[str],
    level: int,
    text: Callable[[Translator], str],
    detail: bool = False,
) -> None:
    """Queue the alert with its ack button (and «See details» when `detail`) to each person,
    remembering the rows to edit later."""
    await repo(step).add_recipients(alert_id, staff_ids, level)

    def buttons(t: Translator) -> tuple[tuple[Button, ...], ...]:
        ack = (Button(t._("✅ Received"), Acknowledge(alert_id).encode()),)
        return ((detail_button(t, "a", alert_id),), ack) if detail else (ack,)

    await tell_tracked(
        step,
        staff_ids,
        lambda t: OutMessage(text(t), buttons=buttons(t)),
        [alert_subject(alert_id)],
        priority=ALERT_PRIORITY,
        purpose=f"health_alert:{alert_id}",
    )


def alert_subject(alert_id: int) -> str:
    """The alert as a subject of button messages."""
    return f"alert:{alert_id}"


# --------------------------------------------------------------------------- the return declaration


async def report_symptoms_from_return(
    step: Step, person: Staff, symptoms: list[str], contacts: list[str]
) -> list[OutMessage]:
    """A return declaration answered yes to symptoms or exposure: record it, alert (with the ack
    button, through the outbox), start monitoring, and return the guidance for the person."""
    found = symptoms_from_codes(symptoms)
    codes = tuple(dict.fromkeys(c for c in contacts if c))
    if not found and not codes:
        return []
    directory = await step.directory()
    await record_report(
        step,
        person,
        source="return",
        symptoms=found,
        case_contact=CaseContact.YES if contact_with_case(codes) else CaseContact.NO,
        contacts=codes,
        force_urgent=True,
    )
    monitoring, _ = await open_or_extend(step, person.staff_id, "return")
    contact = health_contact(directory, person.unit_id, contact_default(step.t, step))
    return [
        OutMessage(isolation_guidance(step.t, contact)),
        OutMessage(monitoring_notice(step.t, step, monitoring)),
    ]


# --------------------------------------------------------------------------- told to self-isolate


@dataclass(frozen=True, slots=True)
class Listing:
    """A person listed in a case (F0, F1, …) within the monitoring period: told to self-isolate."""

    level: str
    at: datetime


async def isolation_of(step: Step, staff_id: str) -> Listing | None:
    since = step.now - timedelta(days=step.deps.settings.monitor_days)
    found = await repo(step).latest_listing(staff_id, since)
    return None if found is None else Listing(*found)


def isolation_line(t: Translator, listing: Listing) -> str:
    return t._(
        "⚠️ Listed as {level} on {day} and told to self-isolate.",
        level=listing.level,
        day=t.short(listing.at),
    )


# --------------------------------------------------------------------------- monitoring


async def open_or_extend(step: Step, staff_id: str, reason: str) -> tuple[Monitoring, bool]:
    settings = step.deps.settings
    health = repo(step)
    today = step.now.date()
    last = monitoring_last_day(today, settings.monitor_days)
    current = await health.open_monitoring(staff_id)
    if current is not None:
        if last > current.end_day or reason not in current.reason.split("; "):
            await health.extend_monitoring(current.id, last, reason, step.now)
            await step.audit.append(
                step.now,
                step.actor,
                "monitoring.extend",
                f"monitoring:{current.id}",
                {"reason": reason, "until": max(last, current.end_day).isoformat()},
            )
        fresh = await health.monitoring(current.id)
        assert fresh is not None
        return fresh, False
    checkin = first_checkin(step.now, settings.checkin_hour)
    monitoring_id = await health.add_monitoring(staff_id, reason, today, last, checkin, step.now)
    await step.audit.append(
        step.now,
        step.actor,
        "monitoring.start",
        f"monitoring:{monitoring_id}",
        {"staff_id": staff_id, "reason": reason, "until": last.isoformat()},
    )
    created = await health.monitoring(monitoring_id)
    assert created is not None
    return created, True


def monitoring_notice(t: Translator, step: Step, monitoring: Monitoring) -> str:
    hour = step.deps.settings.checkin_hour
    return t._(
        "You are under medical monitoring until {day}. Every day at {hour} I will ask whether you "
        "have symptoms; please answer each time.",
        day=t.date(monitoring.end_day),
        hour=f"{hour:%H:%M}",
    )


# --------------------------------------------------------------------------- areas with cases


async def listed_area_for(step: Step, province: str, start: date, end: date) -> str | None:
    """The listed area with published cases that the trip touches, described, or None."""
    for area in await repo(step).areas():
        if area_matches(area.province, area.start_day, area.end_day, province, start, end):
            return area_description(step.t, area)
    return None


def area_description(t: Translator, area: Area) -> str:
    values = {
        "place": area.place,
        "province": province_label(area.province),
        "start": t.date(area.start_day),
        "source": area.source,
    }
    if area.end_day is None:
        return t._(
            "{place}, {province} (from {start}, until further notice; source: {source})", **values
        )
    return t._(
        "{place}, {province} (from {start} to {end}; source: {source})",
        end=t.date(area.end_day),
        **values,
    )


async def destination_warning(step: Step, province: str) -> list[OutMessage]:
    """The travel flow's warning when the destination has a listed area (any day of a trip of
    the longest allowed length from today)."""
    today = step.now.date()
    area = await listed_area_for(
        step, province, today, today + timedelta(days=step.deps.settings.max_trip_days)
    )
    if area is None:
        return []
    return [
        OutMessage(
            step.t._(
                "⚠️ The health authorities published cases in {area}. Avoid it if you can; anyone returning from there is medically monitored.",
                area=area,
            )
        )
    ]
