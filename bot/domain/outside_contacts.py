"""contacts.csv: bodies outside the bot (name, body, phone, e-mail) and whether a case report
goes to them (`on_case`). Pure, like the other directory files: every problem is collected."""

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

CONTACT_REQUIRED = ("contact_id", "name", "body")
CONTACT_OPTIONAL = ("phone", "email", "on_case")
YES = frozenset({"yes", "y", "x", "1", "có", "co"})
NO = frozenset({"", "no", "n", "0", "không", "khong"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
EMAIL_MAX = 254


@dataclass(frozen=True, slots=True)
class OutsideContact:
    contact_id: str
    name: str  # the person to address, e.g. "Phòng Nghiệp vụ Y"
    body: str  # the body, e.g. "Sở Y tế"
    phone: str | None
    email: str | None
    on_case: bool  # a case report is prepared for them


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
    if not values["phone"] and not email:
        report.problem(file, row, "phone", "empty; a phone or an e-mail is required")
        broken = True
    on_case = _yes_no(values["on_case"])
    if on_case is None:
        report.problem(file, row, "on_case", f"must be yes or no, not '{values['on_case'][:20]}'")
        broken = True
    if broken or on_case is None:
        return None
    return OutsideContact(contact_id, values["name"], values["body"], phone, email or None, on_case)


def _yes_no(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in YES:
        return True
    if lowered in NO:
        return False
    return None
