"""What the directory feature says: the dry run, every problem in the admin's language, the
template and the export workbooks."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.domain.directory_sheets import EXAMPLE_STAFF, HEADERS_VI, staff_header
from bot.domain.duty_roster import EXAMPLE_SHIFT, ROSTER_COLUMNS
from bot.domain.models import Problem
from bot.domain.text import spreadsheet_text
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.directory.buttons import BatchAction, DirectorySignal
from bot.services.registration.directory_import import summary_text
from storage.directory_repo import ImportSummary

PROBLEMS_SHOWN = 200  # a message per ~40 problems; past this the admin fixes and sends again


def column_name(t: Translator, column: str) -> str:
    names: dict[str, Callable[[], str]] = {
        "staff_id": lambda: t._("staff id"),
        "full_name": lambda: t._("full name"),
        "phone": lambda: t._("phone number"),
        "unit_id": lambda: t._("unit"),
        "position": lambda: t._("position"),
        "position_group": lambda: t._("position group"),
        "roles": lambda: t._("roles"),
        "language": lambda: t._("language"),
        "kind": lambda: t._("unit kind"),
        "parent_id": lambda: t._("unit above"),
        "file": lambda: t._("file"),
        "date": lambda: t._("date"),
        "from": lambda: t._("from"),
        "to": lambda: t._("to"),
    }
    found = names.get(column)
    return found() if found else column


def _reasons(t: Translator) -> list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]:
    """The domain's reasons (English, FORMATS.md) in the admin's language."""
    return [
        (re.compile(r"empty; a value is required"), lambda m: t._("empty; a value is required")),
        (re.compile(r"missing required column"), lambda m: t._("the column is missing")),
        (re.compile(r"column appears more than once"), lambda m: t._("the column appears twice")),
        (
            re.compile(r"not a Vietnamese phone number: '(.*)'"),
            lambda m: t._("'{value}' is not a Vietnamese phone number", value=m[1]),
        ),
        (
            re.compile(r"phone '(.*)' is also staff_id '(.*)' \(row (\d+)\)"),
            lambda m: t._(
                "'{value}' is also the number of {staff_id} (row {row})",
                value=m[1],
                staff_id=m[2],
                row=m[3],
            ),
        ),
        (
            re.compile(r"duplicate staff_id '(.*)' \(first at row (\d+)\)"),
            lambda m: t._(
                "{staff_id} is listed twice (first at row {row})", staff_id=m[1], row=m[2]
            ),
        ),
        (
            re.compile(r"unit '(.*)' is not in (.*)"),
            lambda m: t._("unit '{unit}' does not exist", unit=m[1]),
        ),
        (
            re.compile(r"no staff member holds role '(.*)'"),
            lambda m: t._("nobody would hold the role '{role}' the routing rules name", role=m[1]),
        ),
        (
            re.compile(r"no approver: .*"),
            lambda m: t._(
                "nobody could approve this person's requests (no head in any unit above)"
            ),
        ),
        (
            re.compile(r"only district admins change the units and the routing rules"),
            lambda m: t._("only district admins change the units and the routing rules"),
        ),
        (
            re.compile(r"not a date dd/mm/yyyy: '(.*)'"),
            lambda m: t._("'{value}' is not a date dd/mm/yyyy", value=m[1]),
        ),
        (
            re.compile(r"not a time HH:MM: '(.*)'"),
            lambda m: t._("'{value}' is not a time HH:MM", value=m[1]),
        ),
        (
            re.compile(r"'(.*)' is not an active staff member"),
            lambda m: t._("{staff_id} is not an active staff member", staff_id=m[1]),
        ),
        (
            re.compile(r"'(.*)' is in unit '(.*)', not '(.*)' or a unit above"),
            lambda m: t._(
                "{staff_id} is in unit '{unit}', not in '{shift_unit}' or a unit above it",
                staff_id=m[1],
                unit=m[2],
                shift_unit=m[3],
            ),
        ),
        (
            re.compile(r"outside your units: '(.*)'"),
            lambda m: t._("unit '{unit}' is not one of the units you manage", unit=m[1]),
        ),
        (
            re.compile(r"'(.*)' belongs to unit '(.*)', outside your units"),
            lambda m: t._(
                "{staff_id} belongs to unit '{unit}', which you do not manage",
                staff_id=m[1],
                unit=m[2],
            ),
        ),
    ]


def problem_text(t: Translator, problem: Problem) -> str:
    reason = problem.reason
    for pattern, say in _reasons(t):
        match = pattern.fullmatch(reason)
        if match:
            reason = say(match)
            break
    return t._(
        "{file}, row {row}: {column}: {reason}",
        file=problem.file,
        row=problem.row,
        column=column_name(t, problem.column),
        reason=reason,
    )


def refused_messages(t: Translator, problems: Sequence[Problem | str]) -> list[OutMessage]:
    lines = [problem_text(t, p) if isinstance(p, Problem) else p for p in problems]
    shown = lines[:PROBLEMS_SHOWN]
    if len(lines) > len(shown):
        shown.append(t._("… and {n} more.", n=len(lines) - len(shown)))
    head = t._(
        "❌ Import refused: {n} problem(s); nothing was changed. Fix the file and send it again.",
        n=len(lines),
    )
    text = head + "\n\n" + "\n".join(f"• {line}" for line in shown)
    return [OutMessage(text)]  # split to its channel's length as it leaves


def dry_run_message(
    t: Translator, summary: ImportSummary, files: Sequence[str], batch: int, warnings: Sequence[str]
) -> OutMessage:
    lines = [
        t._("📋 Checked: {files}. Dry run: nothing was changed.", files=", ".join(files)),
        summary_text(t, summary),
    ]
    lines += [t._("deactivated: {staff_id}", staff_id=s) for s in summary.staff_deactivated[:30]]
    lines += [t._("warning: {text}", text=w) for w in warnings[:10]]
    lines.append(
        t._(
            "Deactivated people are told nothing: their access just ends. New people are told "
            "nothing until they register."
        )
    )
    buttons = (
        (
            Button(t._("✅ Apply"), BatchAction("ok", batch).encode()),
            Button(t._("❌ Cancel"), BatchAction("x", batch).encode()),
        ),
    )
    return OutMessage("\n".join(lines)[:4000], buttons=buttons)


def applied_message(t: Translator, summary: ImportSummary) -> OutMessage:
    return OutMessage(t._("✅ Directory updated.") + "\n" + summary_text(t, summary))


def directory_menu(t: Translator) -> OutMessage:
    text = t._(
        "The directory: send the staff file (.xlsx or .csv) here, alone or with the units and "
        "routing files; you get a dry run and «Apply». /directory export: the current list, "
        "ready to edit and send back. /staff add, /staff move ID UNIT, /staff off ID: one person."
    )
    text += "\n" + t._(
        "A duty roster (unit, date, from, to, staff id, phone) sent here the same way replaces "
        "the shifts of the days it covers."
    )
    buttons = (
        (Button(t._("📥 Download the template"), DirectorySignal("tpl").encode()),),
        (Button(t._("📥 Duty roster template"), DirectorySignal("dtpl").encode()),),
        (Button(t._("📤 Export the directory"), DirectorySignal("exp").encode()),),
    )
    return OutMessage(text, buttons=buttons)


def without_buttons(step_ref: str | None) -> list[OutMessage]:
    """A dry run's «Apply» and «Cancel» taken off once one was tapped (`step_ref`: the pressed
    message)."""
    if step_ref is None:
        return []
    return [OutMessage("", edit_ref=step_ref, markup_only=True)]


def write_staff_workbook(path: Path, rows: Sequence[Sequence[str]], title: str) -> None:
    """An .xlsx with the Vietnamese headers that the import reads back (one sheet, text cells)."""
    write_workbook(path, staff_header(), rows, title)


def write_roster_template(path: Path, title: str) -> None:
    """The duty roster template: the Vietnamese headers and one invented shift."""
    header = [HEADERS_VI.get(column, column) for column in ROSTER_COLUMNS]
    write_workbook(path, header, [list(EXAMPLE_SHIFT)], title)


def write_workbook(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[str]], title: str
) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([spreadsheet_text(value) for value in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)


def write_template(path: Path, title: str) -> None:
    write_staff_workbook(path, [list(EXAMPLE_STAFF)], title)
