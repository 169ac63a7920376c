"""contacts.csv (shared/FORMATS.md): bodies outside the bot (name, phone, e-mail) and the events
they are told of (`notify_on`). Pure, like the other directory files: every problem is
collected."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.directory_files import (
    Table,
    _check_columns,
    _cleaned,
    _missing_values,
    _Report,
    staff_id_problem,
)
from bot.domain.models import Problem
from bot.domain.phones import normalize_phone

CONTACT_REQUIRED = ("contact_id", "name", "notify_on")
CONTACT_OPTIONAL = ("phone", "email", "body")
EVENTS = ("case_f0", "case_f1", "symptom_urgent")
EVENT_SEPARATOR = ";"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX = 254


@dataclass(frozen=True, slots=True)
class OutsideContact:
    contact_id: str
    name: str  # e.g. "Sở Y tế Hà Nội"
    body: str  # how buttons name it ("Sở Y tế"); the name when the column is empty
    phone: str | None
    email: str | None
    notify_on: frozenset[str]  # of EVENTS


@dataclass(frozen=True, slots=True)
class ContactsLoad:
    contacts: list[OutsideContact]
    problems: list[Problem]
    warnings: list[str]


def load_contacts(table: Table) -> ContactsLoad:
    """The contacts, or every problem (then `contacts` is empty)."""
    report = _Report()
    if not _check_columns(table, CONTACT_REQUIRED, CONTACT_OPTIONAL, report):
        return ContactsLoad([], report.problems, report.warnings)
    contacts: list[OutsideContact] = []
    rows: dict[str, int] = {}
    for row, raw in table.rows:
        contact = _contact_from_row(
            table.file, row, _cleaned(raw, (*CONTACT_REQUIRED, *CONTACT_OPTIONAL)), rows, report
        )
        if contact is not None:
            contacts.append(contact)
    if report.problems:
        return ContactsLoad([], report.problems, report.warnings)
    return ContactsLoad(contacts, [], report.warnings)


def _contact_from_row(
    file: str, row: int, values: dict[str, str], rows: dict[str, int], report: _Report
) -> OutsideContact | None:
    broken = _missing_values(file, row, values, CONTACT_REQUIRED, report)
    contact_id = values["contact_id"]
    problem = staff_id_problem(contact_id) if contact_id else None
    if problem:
        report.problem(file, row, "contact_id", f"'{contact_id[:40]}': {problem}")
        broken = True
    elif contact_id in rows:
        reason = f"duplicate contact_id '{contact_id}' (first at row {rows[contact_id]})"
        report.problem(file, row, "contact_id", reason)
        broken = True
    elif contact_id:
        rows[contact_id] = row
    phone = normalize_phone(values["phone"]) if values["phone"] else None
    if values["phone"] and phone is None:
        report.problem(file, row, "phone", f"not a Vietnamese phone number: '{values['phone']}'")
        broken = True
    email = values["email"]
    if email and (len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email)):
        report.problem(file, row, "email", f"not an e-mail address: '{email[:60]}'")
        broken = True
    events = split_events(values["notify_on"])
    unknown = sorted(events - set(EVENTS))
    if unknown:
        reason = f"unknown event '{unknown[0][:30]}'; allowed: {', '.join(EVENTS)}"
        report.problem(file, row, "notify_on", reason)
        broken = True
    if broken:
        return None
    body = values["body"] or values["name"]
    return OutsideContact(contact_id, values["name"], body, phone, email or None, events)


def split_events(text: str) -> frozenset[str]:
    """`case_f0; case_f1` → {case_f0, case_f1}."""
    return frozenset(p.strip().lower() for p in text.split(EVENT_SEPARATOR) if p.strip())
