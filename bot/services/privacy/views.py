"""What the personal-data feature says: the notice, the consent questions, /privacy, the
requests' messages to the person and to the admins."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.privacy import Purpose, RequestKind
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.privacy.buttons import (
    ConsentAnswer,
    RequestAction,
    RightsMenu,
    WithdrawPurpose,
)
from storage.privacy_repo import ConsentEntry, PrivacyRequest


def notice(t: Translator, settings: Settings) -> str:
    """Who is responsible, for what, who sees what, how long, the rights, whom to ask."""
    controller = settings.privacy_controller or t._("the office that runs this bot")
    dpo = settings.privacy_dpo_contact or t._("the district office")
    retention = settings.privacy_retention_text or t._(
        "as long as the purpose needs it, then it is deleted"
    )
    return "\n".join(
        [
            t._("🔒 Personal data notice (version {v})", v=settings.privacy_notice_version),
            t._("Responsible for your data: {controller}.", controller=controller),
            t._(
                "Purposes: (a) the staff list and travel requests; (b) health data: return "
                "declarations, symptoms, cases and medical monitoring."
            ),
            t._(
                "Who sees what: your travel requests go to those who decide them; health data "
                "only to your unit's leaders, the health officers and the district admins."
            ),
            t._("How long it is kept: {retention}.", retention=retention),
            t._(
                "Your rights: see and get a copy of your data, ask to correct or delete it, "
                "withdraw your consent, object: /privacy."
            ),
            t._("Data protection officer: {contact}.", contact=dpo),
        ]
    )


def consent_question(t: Translator, purpose: Purpose, version: int) -> OutMessage:
    if purpose is Purpose.DIRECTORY:
        text = t._(
            "(a) Do you agree that khaibao keeps your details from the staff list and your "
            "travel requests, and shows them to those who decide your requests?"
        )
    else:
        text = t._(
            "(b) Do you agree that khaibao processes your HEALTH data (return declarations, "
            "symptoms, cases, medical monitoring)? Health data is sensitive personal data. If "
            "you do not agree, you declare your health to your unit's health contact instead."
        )
    return OutMessage(
        text,
        buttons=(
            (
                Button(t._("Agree"), ConsentAnswer(True, purpose, version).encode()),
                Button(t._("Do not agree"), ConsentAnswer(False, purpose, version).encode()),
            ),
        ),
    )


def purpose_name(t: Translator, purpose: str) -> str:
    return {
        Purpose.DIRECTORY.value: t._("staff list and travel requests"),
        Purpose.HEALTH.value: t._("health data"),
    }.get(purpose, purpose)


def decision_name(t: Translator, decision: str) -> str:
    return {
        "granted": t._("agreed"),
        "refused": t._("not agreed"),
        "withdrawn": t._("withdrawn"),
        "notified": t._("notice shown (state duty)"),
    }.get(decision, decision)


def kind_name(t: Translator, kind: str) -> str:
    return {
        RequestKind.CORRECT.value: t._("correction"),
        RequestKind.DELETE.value: t._("deletion"),
        RequestKind.WITHDRAW.value: t._("withdrawal of consent"),
        RequestKind.OBJECT.value: t._("objection or restriction"),
    }.get(kind, kind)


def health_elsewhere(t: Translator, contact: str) -> OutMessage:
    return OutMessage(
        t._(
            "You have not agreed that khaibao processes your health data, so it asks you "
            "nothing about your health. Declare it to your unit's health contact instead: "
            "{contact}. You can change your choice in /privacy.",
            contact=contact,
        )
    )


def followed_no_more(t: Translator, name: str, short: bool = False) -> str:
    """What a head learns, once, when someone withdraws (a); `short` answers a later «remind
    again» (a button's answer holds 200 characters)."""
    if short:
        return t._("{name} withdrew consent: khaibao no longer follows their trips.", name=name)
    return t._(
        "For your information: {name} withdrew consent to the staff list and travel requests. "
        "khaibao no longer follows their trips (no return question, no declaration reminder) "
        "and tells you nothing more about them; ask them directly.",
        name=name,
    )


def directory_refused(t: Translator) -> OutMessage:
    return OutMessage(
        t._(
            "You have not agreed that khaibao keeps your travel requests, so it cannot take "
            "them. Ask your unit head for the paper form, or change your choice in /privacy."
        )
    )


def overview(
    t: Translator,
    settings: Settings,
    decisions: dict[str, str],
    requests: list[PrivacyRequest],
    counts: dict[str, int],
) -> OutMessage:
    lines = [t._("🔒 My data"), ""]
    lines.append(t._("What khaibao keeps about you:"))
    lines += [f"• {_table_name(t, name)}: {n}" for name, n in counts.items() if n]
    lines.append(
        t._(
            "Who can see it: your travel requests, those who decide them; your health data, "
            "your unit's leaders, the health officers and the district admins. Every view of "
            "someone else's health record is recorded."
        )
    )
    lines += ["", t._("Your consents:")]
    for purpose in (Purpose.DIRECTORY, Purpose.HEALTH):
        decided = decisions.get(purpose.value)
        state = decision_name(t, decided) if decided else t._("not asked yet")
        lines.append(f"• {purpose_name(t, purpose.value)}: {state}")
    open_requests = [r for r in requests if r.status in ("open", "acknowledged")]
    if open_requests:
        lines += ["", t._("Your open requests:")]
        lines += [
            t._(
                "• #{id} {kind}, answer by {day}",
                id=r.id,
                kind=kind_name(t, r.kind),
                day=t.date(r.due_at.date()),
            )
            for r in open_requests
        ]
    lines += ["", t._("Data protection officer: {contact}.", contact=_dpo(t, settings))]
    buttons = [
        (Button(t._("📄 See / download my data"), RightsMenu("copy").encode()),),
        (
            Button(t._("✏️ Ask for a correction"), RightsMenu("fix").encode()),
            Button(t._("🗑 Ask for deletion"), RightsMenu("del").encode()),
        ),
    ]
    last = [Button(t._("🚫 Object / restrict"), RightsMenu("obj").encode())]
    if settings.privacy_basis == "consent":
        last.append(Button(t._("⛔ Withdraw consent"), RightsMenu("wd").encode()))
    buttons.append(tuple(last))
    return OutMessage("\n".join(lines), buttons=tuple(buttons))


def _dpo(t: Translator, settings: Settings) -> str:
    return settings.privacy_dpo_contact or t._("the district office")


def _table_name(t: Translator, name: str) -> str:
    return {
        "profile": t._("your entry in the staff list"),
        "roles": t._("roles"),
        "accounts": t._("messenger account"),
        "consents": t._("consent decisions"),
        "privacy_requests": t._("requests about your data"),
        "travel_requests": t._("travel requests"),
        "trip_returns": t._("returns from trips"),
        "symptom_reports": t._("symptom reports"),
        "monitorings": t._("medical monitorings"),
        "checkins": t._("monitoring check-ins"),
        "case_nodes": t._("entries in case reports"),
        "directive_reads": t._("directives received"),
        "audit": t._("audit entries about you: who saw or changed your records, when"),
    }.get(name, name)


def withdraw_picker(t: Translator, decisions: dict[str, str]) -> OutMessage:
    granted = [
        p for p in (Purpose.DIRECTORY, Purpose.HEALTH) if decisions.get(p.value) == "granted"
    ]
    if not granted:
        return OutMessage(t._("You have no consent to withdraw."))
    return OutMessage(
        t._(
            "Which consent do you withdraw? It stops from now on; what was done before stays "
            "lawful."
        ),
        buttons=tuple(
            (Button("⛔ " + purpose_name(t, p.value), WithdrawPurpose(p.value).encode()),)
            for p in granted
        ),
    )


def request_for_admins(t: Translator, request: PrivacyRequest, who: str) -> OutMessage:
    text = "\n".join(
        [
            t._(
                "🔒 Data request #{id} from {who}: {kind}.",
                id=request.id,
                who=who,
                kind=kind_name(t, request.kind),
            ),
            *([t._("Details: {text}", text=request.details)] if request.details else []),
            t._(
                "Acknowledge by {ack}; answer by {due}.",
                ack=t.short(request.ack_due_at),
                due=t.short(request.due_at),
            ),
        ]
    )
    return OutMessage(text, buttons=request_buttons(t, request.id))


def request_buttons(t: Translator, request_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(t._("📥 Acknowledge"), RequestAction("ack", request_id).encode()),
            Button(t._("✅ Handled"), RequestAction("done", request_id).encode()),
        ),
        (
            Button(t._("⏩ Extend once"), RequestAction("ext", request_id).encode()),
            Button(t._("✖️ Refuse"), RequestAction("no", request_id).encode()),
        ),
    )


def ledger_lines(t: Translator, entries: list[ConsentEntry]) -> list[str]:
    return [
        f"{e.at:%Y-%m-%d %H:%M:%S} v{e.notice_version} {e.purpose} {e.decision} "
        f"{e.channel} {e.message_ref or '-'}"
        for e in entries
    ]
