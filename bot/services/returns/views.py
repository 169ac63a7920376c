"""How returns and the 24-hour declaration window read in a chat, in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.directory import Directory
from bot.i18n import Translator
from bot.outgoing import Button, LaterMessage, OutMessage
from bot.services.kernel.pickers import check_box
from bot.services.returns.buttons import (
    ContactToggle,
    DeclarationStep,
    SymptomToggle,
    TripAction,
)
from bot.services.travel.views import requester_line
from bot.services.violations.buttons import ViolationOn
from storage.returns_repo import TripReturn
from storage.travel_repo import TravelRequest

OFFICIAL_LINKS = (
    ("tokhaiyte.vn", "https://tokhaiyte.vn"),
    ("NCOVI", "https://ncovi.vnpt.vn"),
    ("Bluezone", "https://www.bluezone.gov.vn"),
)

Keyboard = tuple[tuple[Button, ...], ...]


def symptom_name(t: Translator, code: str) -> str:
    return {
        "fever": t._("fever"),
        "cough": t._("cough"),
        "breath": t._("shortness of breath"),
        "pneumonia": t._("pneumonia"),
        "sore_throat": t._("sore throat"),
        "tiredness": t._("tiredness"),
    }.get(code, code)


def contact_name(t: Translator, code: str) -> str:
    return {
        "covid_patient": t._("contact with a COVID-19 patient or suspected case"),
        "case_area": t._("contact with someone from an area with cases"),
        "symptomatic": t._("contact with someone with fever, cough or shortness of breath"),
    }.get(code, code)


def back_subject(request_id: int) -> str:
    """A trip's "are you back?" stage as a subject of button messages."""
    return f"back:{request_id}"


def declaration_stopped(t: Translator) -> str:
    """Appended to a declaration's question or «overdue» notice once health consent is gone."""
    return t._(
        "⛔ Health consent withdrawn: khaibao no longer reminds about this declaration; it is "
        "made with the unit's health contact."
    )


def declare_subject(request_id: int) -> str:
    """A return's official-declaration stage as a subject of button messages."""
    return f"declare:{request_id}"


def back_question(t: Translator, request: TravelRequest, again: bool = False) -> OutMessage:
    text = t._(
        "Are you back? Your trip #{id} to {place} was planned to end {when}.",
        id=request.id,
        place=request.destination,
        when=t.when(request.return_at),
    )
    if again:
        text = t._("⏰ Reminder: please report your return.") + "\n" + text
    rid = request.id
    return OutMessage(
        text,
        buttons=(
            (Button(t._("✅ I am back now"), TripAction("b", rid).encode()),),
            (Button(t._("🕘 I came back at another time"), TripAction("t", rid).encode()),),
            (Button(t._("📅 My return is delayed"), TripAction("d", rid).encode()),),
            (Button(t._("🚫 The trip did not happen"), TripAction("n", rid).encode()),),
        ),
    )


def toggles(
    t: Translator, toggle: type[SymptomToggle | ContactToggle], chosen: list[str]
) -> Keyboard:
    name = symptom_name if toggle is SymptomToggle else contact_name
    rows = [
        (Button(check_box(code in chosen) + name(t, code), toggle(code).encode()),)
        for code in toggle.VALUES
    ]
    done = t._("➡️ Continue") if chosen else t._("➡️ None of these")
    rows.append((Button(done, DeclarationStep(toggle.VERB + "d").encode()),))
    return tuple(rows)


def symptoms_question(t: Translator, chosen: list[str], edit_ref: str | None = None) -> OutMessage:
    return OutMessage(
        t._(
            "In the last 14 days, have you had any of these? Tap each that applies, then continue."
        ),
        buttons=toggles(t, SymptomToggle, chosen),
        edit_ref=edit_ref,
    )


def contacts_question(t: Translator, chosen: list[str], edit_ref: str | None = None) -> OutMessage:
    return OutMessage(
        t._(
            "In the last 14 days, have you had any of these contacts? Tap each that applies, then continue."
        ),
        buttons=toggles(t, ContactToggle, chosen),
        edit_ref=edit_ref,
    )


_LINK_BUTTONS = tuple(Button(name, url=url) for name, url in OFFICIAL_LINKS)


def official_buttons(t: Translator, request_id: int) -> Keyboard:
    return (
        _LINK_BUTTONS,
        (
            Button(
                t._("✅ I have made the official declaration"),
                TripAction("ok", request_id).encode(),
            ),
        ),
    )


def official_question(t: Translator, request_id: int, deadline: datetime) -> OutMessage:
    return OutMessage(
        t._(
            "Have you made the official online health declaration? Use tokhaiyte.vn or the NCOVI or "
            "Bluezone app, by {deadline}. Then tap the button below; you may also send a screenshot "
            "of it here as evidence.",
            deadline=t.when(deadline),
        ),
        buttons=official_buttons(t, request_id),
    )


def time_left(t: Translator, deadline: datetime, now: datetime) -> str:
    minutes = max(0, int((deadline - now).total_seconds() // 60))
    return t._("{h} h {m} min", h=minutes // 60, m=minutes % 60)


def declaration_reminder(
    t: Translator, request_id: int, place: str, deadline: datetime, now: datetime
) -> OutMessage:
    if now >= deadline:
        text = t._(
            "⚠️ Your health declaration after returning from {place} is overdue (it was due {deadline}). "
            "Please make it now and tap the button.",
            place=place,
            deadline=t.when(deadline),
        )
    else:
        text = t._(
            "⏰ Reminder: make your official health declaration after returning from {place} by "
            "{deadline} ({left} left).",
            place=place,
            deadline=t.when(deadline),
            left=time_left(t, deadline, now),
        )
    return OutMessage(text, buttons=official_buttons(t, request_id))


DECLARATION_REMINDER = "returns.declaration_reminder"


def later_declaration_reminder(
    request_id: int, place: str, deadline: datetime, language: str | None
) -> LaterMessage:
    """The reminder as the sweep enqueues it: rendered by the sender, with the time left then."""
    deadline_utc = deadline.astimezone(UTC).isoformat()
    return LaterMessage(
        DECLARATION_REMINDER,
        {"request_id": request_id, "place": place, "deadline": deadline_utc},
        language,
    )


def _render_declaration_reminder(t: Translator, args: dict[str, Any], now: datetime) -> OutMessage:
    deadline = datetime.fromisoformat(args["deadline"]).astimezone(now.tzinfo)
    return declaration_reminder(t, int(args["request_id"]), str(args["place"]), deadline, now)


LATER_VIEWS = {DECLARATION_REMINDER: _render_declaration_reminder}


def overdue_for_head(
    t: Translator,
    directory: Directory,
    staff_id: str,
    request_id: int,
    place: str,
    deadline: datetime,
) -> OutMessage:
    return OutMessage(
        t._(
            "⚠️ {who} has not confirmed the health declaration due {deadline}, after returning from {place}.",
            who=requester_line(t, directory, staff_id),
            deadline=t.when(deadline),
            place=place,
        ),
        buttons=(
            (
                Button(t._("🔔 Remind them"), TripAction("nag", request_id).encode()),
                Button(t._("⚠️ Record a violation"), ViolationOn("t", request_id).encode()),
            ),
        ),
    )


def not_back_for_head(t: Translator, directory: Directory, request: TravelRequest) -> OutMessage:
    return OutMessage(
        t._(
            "⚠️ {who} has not reported back from {place}; the planned return was {when}.",
            who=requester_line(t, directory, request.staff_id),
            place=request.destination,
            when=t.when(request.return_at),
        ),
        buttons=(
            (
                Button(t._("🔔 Ask them again"), TripAction("ask", request.id).encode()),
                Button(t._("⚠️ Record a violation"), ViolationOn("t", request.id).encode()),
            ),
        ),
    )


def return_report(
    t: Translator,
    directory: Directory,
    request: TravelRequest,
    arrived: datetime,
    answers: dict[str, list[str]],
    minimal: bool = False,
) -> OutMessage:
    """`minimal` (PRIVACY_MINIMAL_MESSAGES): the health answers only as what kind they are; the
    symptoms and contacts come with the alert they raise, on «See details»."""
    lines = [
        t._(
            "🏠 {who} is back from {place}.",
            who=requester_line(t, directory, request.staff_id),
            place=request.destination,
        ),
        t._("Arrived: {when}", when=t.when(arrived)),
    ]
    if answers.get("outside"):
        lines.append(t._("Health: declared outside the bot (to the unit's health contact)."))
        return OutMessage("\n".join(lines))
    lines += [
        t._(
            "Provinces visited in the last 14 days: {names}",
            names=", ".join(answers.get("provinces", [])) or "—",
        ),
    ]
    if minimal:
        declared = answers.get("symptoms") or answers.get("contacts")
        lines.append(
            t._("Health: symptoms or exposure declared; the alert has the details.")
            if declared
            else t._("Health: nothing to report.")
        )
        return OutMessage("\n".join(lines))
    symptoms = [symptom_name(t, c) for c in answers.get("symptoms", [])]
    contacts = [contact_name(t, c) for c in answers.get("contacts", [])]
    lines.append(t._("Symptoms: {list}", list=", ".join(symptoms) if symptoms else t._("none")))
    lines.append(t._("Contacts: {list}", list="; ".join(contacts) if contacts else t._("none")))
    return OutMessage("\n".join(lines))


def window_line(t: Translator, trip: TripReturn, request: TravelRequest, now: datetime) -> str:
    if trip.state == "away":
        return t._(
            "🧳 Trip #{id} to {place}: report your return with /return (planned {when}).",
            id=request.id,
            place=request.destination,
            when=t.short(trip.planned_return_at),
        )
    assert trip.deadline_at is not None
    if now >= trip.deadline_at:
        return t._(
            "⚠️ Health declaration for trip #{id} is overdue since {deadline}.",
            id=request.id,
            deadline=t.short(trip.deadline_at),
        )
    return t._(
        "🕒 Health declaration for trip #{id} due by {deadline}: {left} left.",
        id=request.id,
        deadline=t.short(trip.deadline_at),
        left=time_left(t, trip.deadline_at, now),
    )
