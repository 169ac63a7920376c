"""Case reports for bodies outside the bot (seeds/002 §2: the city health department is told of
an F0 at once). For each outside contact told of the case's level (contacts.csv `notify_on`:
`case_f0`, `case_f1`), a case report prepares the text
and an .xlsx of the case and its contacts, hands both to whoever is on duty now (the duty
roster, else the duty officers of the case's unit and the units above), and «📤 Đã gửi …»
records who sent it and when (once; every copy then shows it, and a second press says when)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.domain.directory import Directory
from bot.domain.duty_roster import next_on_duty
from bot.domain.health_rules import duty_officers_for
from bot.domain.models import BuiltinRole, Staff
from bot.domain.outside_contacts import OutsideContact
from bot.domain.phones import national_form
from bot.i18n import Translator
from bot.outgoing import Button, LocalFile, OutMessage
from bot.services.duty.roster import on_duty_now
from bot.services.kernel.buttons import ActionOn, Codec
from bot.services.kernel.copies import Keyboard, relabel, tell_tracked
from bot.services.kernel.step import Step
from bot.services.kernel.xlsx import Register, Row, write_register
from storage.health_repo import CaseNodeRow, CaseReport, HealthRepo
from storage.outside_repo import OutsideRepo, OutsideReport

FOLDER = "outside"
Describe = Callable[[Translator, Directory, CaseReport, list[CaseNodeRow]], list[str]]
"""The case as lines of text (cases.tree_lines), passed in: cases.py calls this module."""


@dataclass(frozen=True)
class OutsideSent(ActionOn):
    """`os:sent:3`: outside report 3 has been sent (by phone, e-mail or on paper)."""

    PREFIX = "os"
    ACTIONS = ("sent",)


OUTSIDE = Codec("os", (OutsideSent,))


def _repo(step: Step) -> OutsideRepo:
    return OutsideRepo(step.tx, step.deps.clock.tz)


async def report_senders(step: Step, directory: Directory, case: CaseReport) -> list[str]:
    """Who sends outside reports: whoever is on duty now for the case's unit (or the nearest unit
    above), else the duty officers of that unit and the units above, else the reporter. A case
    of no known unit: any duty officer."""
    if case.unit_id is None:
        return list(directory.role_ids(BuiltinRole.DUTY_OFFICER.value)) or [case.reported_by]
    shifts = await on_duty_now(step, directory, case.unit_id)
    return next_on_duty(shifts) or duty_officers_for(directory, case.unit_id) or [case.reported_by]


async def prepare_outside_reports(step: Step, case_id: int, describe: Describe) -> None:
    """One report per outside contact told of this case's level (notify_on case_f0 / case_f1),
    handed to the duty officers."""
    health = HealthRepo(step.tx, step.deps.clock.tz)
    case = await health.case(case_id)
    assert case is not None
    nodes = await health.nodes(case_id)
    root = next(node for node in nodes if node.parent_id is None)
    contacts = await _repo(step).told_of(f"case_{root.level.lower()}")
    if not contacts:
        return
    directory = await step.directory()
    officers = await report_senders(step, directory, case)

    def lines(t: Translator) -> list[str]:
        return describe(t, directory, case, nodes)

    for contact in contacts:
        report_id = await _repo(step).add_report(case_id, contact, officers, step.now)
        if report_id is None:
            continue
        path = await _write_sheet(step, directory, case, nodes, contact)
        await _hand_over(step, officers, report_id, contact, case, lines, path)
        await step.audit.append(
            step.now,
            step.actor,
            "case.outside.prepared",
            f"case:{case_id}",
            {"report": report_id, "contact": contact.contact_id, "to": officers},
        )


async def _hand_over(
    step: Step,
    officers: list[str],
    report_id: int,
    contact: OutsideContact,
    case: CaseReport,
    lines_of: Callable[[Translator], list[str]],
    path: Path,
) -> None:
    def text(t: Translator) -> OutMessage:
        button = Button(
            t._("📤 Sent to {body}", body=contact.body), OutsideSent("sent", report_id).encode()
        )
        lines = [
            t._("📤 To send to {body}: {name}", body=contact.body, name=contact.name),
            contact_line(t, contact),
            "",
            t._("CASE REPORT"),
            *lines_of(t),
            "",
            t._("Send it by phone or e-mail with the file below, then press the button."),
        ]
        return OutMessage("\n".join(lines), buttons=((button,),))

    def document(t: Translator) -> OutMessage:
        caption = t._("Case #{id}: the file for {body}", id=case.id, body=contact.body)
        return OutMessage(caption, document=LocalFile(str(path)))

    await tell_tracked(step, officers, text, [outside_subject(report_id)], priority=1)
    await step.tell_staff(officers, document, priority=1)


def outside_subject(report_id: int) -> str:
    """The outside report as a subject of button messages: every handed copy is relabelled."""
    return f"outside:{report_id}"


def contact_line(t: Translator, contact: OutsideContact) -> str:
    phone = national_form(contact.phone) if contact.phone else None
    reach = [part for part in (phone, contact.email) if part]
    if not reach:
        return t._("No phone or e-mail for them in the directory.")
    return t._("Contact: {reach}", reach=", ".join(reach))


async def _write_sheet(
    step: Step,
    directory: Directory,
    case: CaseReport,
    nodes: list[CaseNodeRow],
    contact: OutsideContact,
) -> Path:
    t = step.t
    name = f"case-{case.id}-{contact.contact_id}-{step.now:%Y%m%d-%H%M%S}.xlsx"
    path = step.deps.settings.exports_folder / FOLDER / name
    register = Register(
        columns=[
            ("#", 5),
            (t._("Level"), 8),
            (t._("Full name"), 28),
            (t._("Contact of"), 28),
            (t._("Unit"), 32),
            (t._("Phone"), 16),
        ],
        to_cells=lambda row: list(row[2:]),
        title=t._("Case #{id}", id=case.id),
    )
    await write_register(register, _sheet_rows(directory, case, nodes), path)
    return path


async def _sheet_rows(
    directory: Directory, case: CaseReport, nodes: list[CaseNodeRow]
) -> AsyncIterator[Row]:
    names = {node.id: node.name for node in nodes}
    for node in nodes:
        person = directory.person(node.staff_id) if node.staff_id else None
        unit = directory.unit(person.unit_id if person else case.unit_id or "")
        unit_name = unit.name if unit else ""
        parent = names.get(node.parent_id, "") if node.parent_id else ""
        phone = national_form(person.phone) if person else ""
        yield (case.unit_id, unit_name, node.level, node.name, parent, unit_name, phone)


# --- «📤 Đã gửi» ----------------------------------------------------------------------------------


async def mark_sent(step: Step, button: OutsideSent) -> tuple[str | None, list[OutMessage]]:
    t = step.t
    person = await step.me()
    report = await _repo(step).report(button.ref)
    if person is None or report is None:
        return t._("This button is no longer valid."), []
    if not _may_send(person, report):
        await step.audit.append(
            step.now, person.staff_id, "case.outside.refused", f"outside:{report.id}", {}
        )
        return t._("Only the duty officers record what was sent outside."), []
    if not await _repo(step).mark_sent(report.id, person.staff_id, step.now):
        return await _already_recorded(step, report.id)
    await step.audit.append(
        step.now,
        person.staff_id,
        "case.outside.sent",
        f"outside:{report.id}",
        {"case": report.case_id, "contact": report.contact_id},
    )
    when = t.short(step.now)
    await relabel(
        step, outside_subject(report.id), lambda tt: _sent_keyboard(tt, report.body, step, button)
    )
    answer = t._("Recorded: sent to {body} at {when}.", body=report.body, when=when)
    return answer, []


async def _already_recorded(step: Step, report_id: int) -> tuple[str | None, list[OutMessage]]:
    t = step.t
    fresh = await _repo(step).report(report_id)
    assert fresh is not None and fresh.sent_at is not None
    sender = (await step.directory()).person(fresh.sent_by or "")
    return t._(
        "Already recorded: sent to {body} at {when} by {name}.",
        body=fresh.body,
        when=t.short(fresh.sent_at),
        name=sender.full_name if sender else fresh.sent_by or "?",
    ), []


def _sent_keyboard(t: Translator, body: str, step: Step, button: OutsideSent) -> Keyboard:
    """The button now says when it was sent, on every copy (pressing it again says so too)."""
    label = t._("✅ Sent to {body} at {when}", body=body, when=t.short(step.now))
    return ((Button(label, button.encode()),),)


def _may_send(person: Staff, report: OutsideReport) -> bool:
    """Those it was handed to (on duty when the case came in)."""
    return person.staff_id in report.handed_to
