"""The processing register (`python -m bot privacy report`): each kind of personal data the bot
keeps, why, on what legal basis, who can see it, where it is stored and how long it is kept.
It is the base of the impact-assessment dossier the office files; the bot cannot file it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Settings
from bot.domain.retention import Kept
from bot.i18n import Translator
from bot.services.kernel.people import messenger_name
from bot.services.privacy.retention import retention_days

Text = Callable[[Translator], str]


@dataclass(frozen=True)
class Processing:
    name: Text
    purpose: Text
    basis: str  # 'directory' | 'health' | 'law' | 'flow': which basis applies (see _basis)
    seen_by: Text
    abroad: bool  # copies travel through the messengers, whose servers are abroad
    kept: Text


def _days(kind: Kept, settings: Settings) -> Text:
    days = retention_days(settings).days(kind)
    return lambda t: t.n_("{n} day", "{n} days", days)


def processings(settings: Settings) -> list[Processing]:
    d = _days
    return [
        Processing(
            lambda t: t._("Staff directory: name, phone, unit, position, roles"),
            lambda t: t._("identify staff, route approvals and messages"),
            "directory",
            lambda t: t._("the person; their unit heads and approvers; district admins"),
            True,
            lambda t: t._("while on the staff list"),
        ),
        Processing(
            lambda t: t._("Messenger account: user and chat number, language"),
            lambda t: t._("reach the person"),
            "directory",
            lambda t: t._("nobody in the bot; the server's operators"),
            True,
            lambda t: t._("while registered"),
        ),
        Processing(
            lambda t: t._("Travel requests: destination, address, dates, purpose, decision"),
            lambda t: t._("approve leaving the province during an epidemic"),
            "directory",
            lambda t: t._("the person; the deciders and those told of the decision; admins"),
            True,
            lambda t: t._(
                "{days} after the return (a leaver's address: {leavers} after leaving)",
                days=d(Kept.TRAVEL, settings)(t),
                leavers=d(Kept.LEAVERS, settings)(t),
            ),
        ),
        Processing(
            lambda t: t._("Return declarations (sensitive): provinces, symptoms, contacts"),
            lambda t: t._("follow up returns from areas with cases"),
            "health",
            lambda t: t._("the person; the unit head; health officers"),
            True,
            _kept_health(Kept.RETURNS, settings),
        ),
        Processing(
            lambda t: t._("Symptom and case reports (sensitive): symptoms, temperature, contacts"),
            lambda t: t._("alert those responsible, trace contacts"),
            "health",
            lambda t: t._("the person; the unit's chain of heads; health officers"),
            True,
            _kept_health(Kept.HEALTH, settings),
        ),
        Processing(
            lambda t: t._("Medical monitoring and daily check-ins (sensitive)"),
            lambda t: t._("follow a person under monitoring"),
            "health",
            lambda t: t._("the person; the unit head; health officers"),
            True,
            _kept_health(Kept.MONITORING, settings),
        ),
        *_more_health(settings),
        Processing(
            lambda t: t._("Declared absences: first and last day"),
            lambda t: t._("send a request to the deputy while its decider is away"),
            "directory",
            lambda t: t._("those who route and decide requests; district admins"),
            False,
            lambda t: t._("{days} after the last day", days=d(Kept.ABSENCES, settings)(t)),
        ),
        Processing(
            lambda t: t._("Directive recipients: who received each directive, when they read it"),
            lambda t: t._("show who has read a directive; remind those who have not"),
            "directory",
            lambda t: t._("the directive's sender; the units' leaders; district admins"),
            True,
            lambda t: t._("{days} after it was sent", days=d(Kept.DIRECTIVE_READS, settings)(t)),
        ),
        Processing(
            lambda t: t._(
                "Unfinished conversations: the draft of a request, declaration or directive"
            ),
            lambda t: t._("go on where the person left off"),
            "flow",
            lambda t: t._("the person; the server's operators"),
            True,
            lambda t: t._("{days} after its last step", days=d(Kept.DRAFTS, settings)(t)),
        ),
        Processing(
            lambda t: t._(
                "Consent ledger: each decision, its notice version, time and the message answered"
            ),
            lambda t: t._("prove that consent was asked, given or withdrawn (Law Art 9, 11)"),
            "law",
            lambda t: t._("the person (/privacy); the data protection officer; district admins"),
            True,
            lambda t: t._(
                "the decision in force while the person is on the staff list; a replaced "
                "decision, and all of a leaver's, {days} after",
                days=d(Kept.CONSENTS, settings)(t),
            ),
        ),
        *_office_records(settings),
        *_messenger_records(settings),
        Processing(
            lambda t: t._("Messages sent (copies in the outbox)"),
            lambda t: t._("deliver, retry, show who was not reached"),
            "directory",
            lambda t: t._("the server's operators"),
            True,
            lambda t: t._(
                "{days}; a directive's copies {directive}",
                days=d(Kept.OUTBOX, settings)(t),
                directive=d(Kept.DIRECTIVE_COPIES, settings)(t),
            ),
        ),
        Processing(
            lambda t: t._("Exported registers and charts (files)"),
            lambda t: t._("reports asked for by heads and admins"),
            "directory",
            lambda t: t._("whoever asked for them; the server's operators"),
            True,
            d(Kept.EXPORTS, settings),
        ),
        Processing(
            lambda t: t._("Audit log: who viewed or changed what, when"),
            lambda t: t._("prove lawful access; investigate misuse"),
            "law",
            lambda t: t._("district admins; the server's operators"),
            False,
            d(Kept.AUDIT, settings),
        ),
        Processing(
            lambda t: t._("Breach register and the purge's records"),
            lambda t: t._("notify the authority and the people affected (Law Art 23)"),
            "law",
            lambda t: t._("the data protection officer; district admins"),
            False,
            d(Kept.RECORDS, settings),
        ),
    ]


def _more_health(settings: Settings) -> list[Processing]:
    return [
        Processing(
            lambda t: t._("Tests on return (sensitive): the result, its photo, isolation's end"),
            lambda t: t._("follow the testing and isolation an area's directive requires"),
            "health",
            lambda t: t._("the person; the unit head; health officers"),
            True,
            _kept_health(Kept.MEASURES, settings),
        ),
        Processing(
            lambda t: t._("Case reports for outside bodies (sensitive): the case, its contacts"),
            lambda t: t._("hand a case to the health department and the bodies it names"),
            "health",
            lambda t: t._("the duty officers it was handed to; health officers"),
            True,
            _kept_health(Kept.OUTSIDE_REPORTS, settings),
        ),
        Processing(
            lambda t: t._("Alerts passed up to the leaders (sensitive): the duty officer's note"),
            lambda t: t._("bring an alert beyond a duty officer's authority to the leaders"),
            "health",
            lambda t: t._("the leaders it was sent to; the duty officer"),
            True,
            _kept_health(Kept.REFERRALS, settings),
        ),
    ]


def _office_records(settings: Settings) -> list[Processing]:
    d = _days
    return [
        Processing(
            lambda t: t._("Duty roster: who is on duty for a unit, when, the duty phone"),
            lambda t: t._("send alerts to whoever is on duty"),
            "directory",
            lambda t: t._("the unit's heads; health and duty officers; district admins"),
            True,
            lambda t: t._("{days} after the shift ends", days=d(Kept.DUTY_SHIFTS, settings)(t)),
        ),
        Processing(
            lambda t: t._("Violations recorded on staff: the kind and the head's note"),
            lambda t: t._("the heads' record of breaches of the travel and declaration rules"),
            "directory",
            lambda t: t._("the person's heads; district admins"),
            True,
            lambda t: t._("{days} after it was recorded", days=d(Kept.VIOLATIONS, settings)(t)),
        ),
        Processing(
            lambda t: t._("Data requests (correct, delete, withdraw) and how they were answered"),
            lambda t: t._("answer people's rights within the deadlines, and prove it"),
            "law",
            lambda t: t._("the person; the data protection officer; district admins"),
            True,
            lambda t: t._(
                "while open; {days} after it was closed",
                days=d(Kept.PRIVACY_REQUESTS, settings)(t),
            ),
        ),
        Processing(
            lambda t: t._("Directory files sent in the chat: the file, who sent it, when"),
            lambda t: t._("apply or cancel a change to the directory"),
            "directory",
            lambda t: t._("the admin who sent it; the server's operators"),
            True,
            lambda t: t._(
                "the file until applied, cancelled or expired; its record {days} after",
                days=d(Kept.UPLOADS, settings)(t),
            ),
        ),
    ]


def _messenger_records(settings: Settings) -> list[Processing]:
    d = _days
    return [
        Processing(
            lambda t: t._("Incoming updates: their ids; one given up, with what was sent"),
            lambda t: t._("handle each message once; let an admin see what failed"),
            "flow",
            lambda t: t._("the server's operators"),
            True,
            lambda t: t._(
                "ids {days}; an update given up {failed}",
                days=d(Kept.UPDATES, settings)(t),
                failed=d(Kept.FAILED_UPDATES, settings)(t),
            ),
        ),
        Processing(
            lambda t: t._("Messenger choice, and the numbered choices last offered in a chat"),
            lambda t: t._("reach the person where they chose; read a typed number as a button"),
            "directory",
            lambda t: t._("the person; the server's operators"),
            True,
            lambda t: t._(
                "a leaver's choice {leavers} after leaving; numbered choices {drafts}",
                leavers=d(Kept.CHANNEL_CHOICES, settings)(t),
                drafts=d(Kept.PENDING_CHOICES, settings)(t),
            ),
        ),
        Processing(
            lambda t: t._("Links of messages to the buttons they carry"),
            lambda t: t._("edit every copy once a request or an alert is settled"),
            "flow",
            lambda t: t._("the server's operators"),
            True,
            lambda t: t._(
                "{days} after the message, once settled",
                days=d(Kept.BUTTON_LINKS, settings)(t),
            ),
        ),
    ]


def _kept_health(kind: Kept, settings: Settings) -> Text:
    return lambda t: t._(
        "{days} after its purpose ends (a leaver's: {leavers} after leaving)",
        days=_days(kind, settings)(t),
        leavers=_days(Kept.LEAVERS, settings)(t),
    )


def _basis(t: Translator, settings: Settings, which: str) -> str:
    if which == "law":
        return t._("a legal obligation of the office (Law 91/2025)")
    if which == "flow":
        return t._("that of the request or declaration it belongs to")
    if str(getattr(settings, "privacy_basis", "consent")) == "state_duty":
        return t._("the duties of a state agency under the law (Law 91/2025 Art 19.1.c)")
    if which == "health":
        return t._("the person's consent to health data (a separate, named consent)")
    return t._("the person's consent to the directory and travel requests")


def _where(t: Translator, settings: Settings, abroad: bool) -> str:
    server = (
        t._("the office's server, in Vietnam")
        if settings.data_stored_in_vietnam
        else t._("the office's server, outside Vietnam")
    )
    if not abroad:
        return server
    names = ", ".join(messenger_name(channel) for channel in settings.messengers)
    return t._(
        "{server}; copies in messages on {messengers} (outside Vietnam)",
        server=server,
        messengers=names,
    )


def register_lines(t: Translator, settings: Settings) -> list[str]:
    lines = [t._("Processing register of personal data"), ""]
    for number, entry in enumerate(processings(settings), start=1):
        lines += [
            f"{number}. {entry.name(t)}",
            "   " + t._("Purpose: {text}", text=entry.purpose(t)),
            "   " + t._("Legal basis: {text}", text=_basis(t, settings, entry.basis)),
            "   " + t._("Who can see it: {text}", text=entry.seen_by(t)),
            "   " + t._("Stored: {text}", text=_where(t, settings, entry.abroad)),
            "   " + t._("Kept: {text}", text=entry.kept(t)),
            "",
        ]
    return lines
