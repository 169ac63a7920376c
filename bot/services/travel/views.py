"""How travel requests read in a chat, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.directory import Directory
from bot.domain.models import Route
from bot.domain.work_calendar import public_holidays_during
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health.alerts import Listing, isolation_line
from bot.services.kernel.people import names_of
from bot.services.travel.buttons import Decide, RequestAction
from bot.services.travel.flow import case_area_text
from storage.travel_repo import (
    APPROVED,
    CANCELLED,
    DENIED,
    PENDING,
    RECORDED,
    WITHDRAWN,
    TravelRequest,
)


def status_text(t: Translator, status: str) -> str:
    return {
        PENDING: t._("waiting for approval"),
        APPROVED: t._("approved"),
        DENIED: t._("denied"),
        CANCELLED: t._("cancelled"),
        RECORDED: t._("recorded (no approval needed)"),
        WITHDRAWN: t._("closed: the requester withdrew consent"),
    }.get(status, status)


def reason_text(t: Translator, reasons: tuple[str, ...]) -> str:
    names = {
        "weekend": t._("weekend"),
        "holiday": t._("public holiday or day off"),
        "outside_hours": t._("outside working hours"),
        "ban": t._("travel ban: special case"),
    }
    return ", ".join(names.get(r, r) for r in reasons)


def holidays_text(t: Translator, request: TravelRequest) -> str:
    """Which public holidays the trip falls on: « (Quốc khánh 02/09/2021, 03/09/2021)»; empty
    when the day off is one the district declared (it has no name)."""
    found = public_holidays_during(request.departure_at, request.return_at, t.language)
    if not found:
        return ""
    by_name: dict[str, list[str]] = {}
    for day, name in found:
        by_name.setdefault(name, []).append(f"{day:%d/%m/%Y}")
    return " (" + "; ".join(f"{name} {', '.join(days)}" for name, days in by_name.items()) + ")"


def requester_line(t: Translator, directory: Directory, staff_id: str) -> str:
    person = directory.person(staff_id)
    if person is None:
        return staff_id
    unit = directory.unit(person.unit_id)
    parts = [person.full_name, person.position or "", unit.name if unit else person.unit_id]
    return " — ".join(p for p in parts if p)


def request_lines(t: Translator, directory: Directory, request: TravelRequest) -> list[str]:
    lines = [
        t._("🧳 Request #{id} to leave {area}", id=request.id, area=t.home_area()),
        *replaces_lines(t, request),
        t._("From: {who}", who=requester_line(t, directory, request.staff_id)),
        t._("Destination: {place}", place=f"{request.address}, {request.destination}"),
        t._("Leaving: {when}", when=t.when(request.departure_at)),
        t._("Back: {when}", when=t.when(request.return_at)),
        t._("Purpose: {purpose}", purpose=request.purpose),
        t._(
            "Visits a place with published cases: {answer}",
            answer=case_area_text(t, request.case_area),
        ),
    ]
    if request.reasons:
        reasons = reason_text(t, request.reasons)
        if "holiday" in request.reasons:
            reasons += holidays_text(t, request)
        lines.append(t._("Needs approval because: {reasons}", reasons=reasons))
    lines.append(t._("Routing rule: {rule}", rule=request.rule_name))
    return lines


def replaces_lines(t: Translator, request: TravelRequest) -> list[str]:
    """A change of an approved trip says so to whoever decides it."""
    if not request.replaces_id:
        return []
    return [
        t._(
            "🔁 This request replaces request #{old}, already approved: approving it cancels #{old}; denying it keeps #{old} as approved.",
            old=request.replaces_id,
        )
    ]


def approval_buttons(t: Translator, request_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(t._("✅ Approve"), Decide(request_id, True).encode()),
            Button(t._("❌ Deny"), Decide(request_id, False).encode()),
        ),
    )


@dataclass(frozen=True, slots=True)
class Escalation:
    """Why a request reaches a leader up: who did not answer it, waiting since when."""

    unanswered: tuple[str, ...]
    since: datetime


def escalation_line(t: Translator, directory: Directory, escalation: Escalation) -> str:
    names = [directory.person(s) for s in escalation.unanswered]
    return t._(
        "⏫ Escalated to you: {names} did not answer since {when}.",
        names=", ".join(p.full_name for p in names if p is not None) or "—",
        when=t.short(escalation.since),
    )


def approval_message(
    t: Translator,
    directory: Directory,
    request: TravelRequest,
    acting_for: str | None = None,
    escalation: Escalation | None = None,
    isolation: Listing | None = None,
) -> OutMessage:
    lines = request_lines(t, directory, request)
    if isolation is not None:
        lines.append(isolation_line(t, isolation))
    if escalation is not None:
        lines = [escalation_line(t, directory, escalation), "", *lines]
    if acting_for:
        absent = directory.person(acting_for)
        lines.append(
            t._(
                "You decide in place of {name}, who is away.",
                name=absent.full_name if absent else acting_for,
            )
        )
    return OutMessage("\n".join(lines), buttons=approval_buttons(t, request.id))


def outcome_line(t: Translator, directory: Directory, request: TravelRequest) -> str:
    who = directory.person(request.decided_by or "")
    name = who.full_name if who else (request.decided_by or "")
    when = t.short(request.decided_at) if request.decided_at else ""
    if request.status == APPROVED:
        return t._("✅ Approved by {name} at {when}.", name=name, when=when)
    if request.status == DENIED:
        return t._(
            "❌ Denied by {name} at {when}. Reason: {reason}",
            name=name,
            when=when,
            reason=request.decision_note or "—",
        )
    if request.status == CANCELLED:
        return t._("🚫 Cancelled by the requester.")
    if request.status == WITHDRAWN:
        return t._(
            "⛔ Closed without a decision: the requester withdrew their consent, so khaibao "
            "no longer processes their travel requests."
        )
    return status_text(t, request.status)


def decided_message(
    t: Translator, directory: Directory, request: TravelRequest, edit_ref: str
) -> OutMessage:
    lines = request_lines(t, directory, request) + ["", outcome_line(t, directory, request)]
    return OutMessage("\n".join(lines), edit_ref=edit_ref, send_if_edit_fails=True)


def list_changed_message(t: Translator, text: str) -> OutMessage:
    """An approve-all list or confirmation after one of its requests was decided."""
    return OutMessage(
        text
        + "\n\n"
        + t._("Some of these requests have been decided since; /pending shows what still waits.")
    )


def status_line(t: Translator, request: TravelRequest) -> str:
    return t._(
        "#{id} {place}: {start} → {end} — {status}",
        id=request.id,
        place=request.destination,
        start=t.short(request.departure_at),
        end=t.short(request.return_at),
        status=t._("waiting for your special reason (travel ban)")
        if request.status == PENDING and request.ban_check == "reason"
        else status_text(t, request.status),
    )


def sent_text(
    t: Translator, directory: Directory, request_id: int, route: Route, reached: list[str]
) -> str:
    """What the requester is told: who will really decide, and who could not be told."""
    lines: list[str] = []
    if route.to_admins:
        lines.append(
            t._(
                "Nobody who decides your requests is present now, so the district admins decide this one."
            )
        )
    unreached = [d for d in route.deciders if d not in reached]
    if not reached:
        lines.append(
            t._(
                "Request #{id} is saved, but nobody who may decide it has opened the bot yet ({names}). Please ask them to register: they will find it under /pending.",
                id=request_id,
                names=names_of(directory, route.deciders),
            )
        )
        return "\n".join(lines)
    lines.append(
        t._(
            "Request #{id} sent to {names} for approval. You will be told the decision here.",
            id=request_id,
            names=names_of(directory, reached),
        )
    )
    for deputy, head in route.acting_for.items():
        if deputy in reached:
            lines.append(
                t._(
                    "{deputy} decides in place of {head}, who is away.",
                    deputy=names_of(directory, [deputy]),
                    head=names_of(directory, [head]),
                )
            )
    if unreached:
        lines.append(
            t._(
                "{names} has not opened the bot yet and could not be told; {others} may decide instead.",
                names=names_of(directory, unreached),
                others=names_of(directory, reached),
            )
            if not set(reached) & set(route.deciders)
            else t._(
                "{names} has not opened the bot yet and could not be told.",
                names=names_of(directory, unreached),
            )
        )
    return "\n".join(lines)


def unanswered_for_requester(t: Translator, request: TravelRequest) -> OutMessage:
    return OutMessage(
        t._(
            "⚠️ Request #{id} ({place}, {start}) got no decision before departure: it is still not approved. If you go anyway, declare your return when you are back (/return).",
            id=request.id,
            place=request.destination,
            start=t.short(request.departure_at),
        )
    )


def unanswered_for_decider(
    t: Translator, directory: Directory, request: TravelRequest
) -> OutMessage:
    lines = [
        t._(
            "⚠️ The departure time has come and this request is still unanswered (you can still decide it under /pending); the return will be tracked:"
        ),
        *request_lines(t, directory, request),
    ]
    return OutMessage("\n".join(lines))


def special_reason_question(
    t: Translator, directory: Directory, request: TravelRequest
) -> OutMessage:
    lines = [
        t._(
            "⚠️ A travel ban now covers this trip. Only special cases may leave: give the special reason (it goes to your approver), or cancel the trip."
        ),
        *request_lines(t, directory, request),
    ]
    buttons = (
        (
            Button(t._("✍️ Give the special reason"), RequestAction("why", request.id).encode()),
            Button(t._("🚫 Cancel the trip"), RequestAction("x", request.id).encode()),
        ),
    )
    return OutMessage("\n".join(lines), buttons=buttons)
