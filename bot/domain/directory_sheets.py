"""The directory as the sheets an office edits: Vietnamese column headers, the current directory
written back as rows, and the part of it one admin may change.

A sheet's header may name a column by its code (`staff_id`, FORMATS.md) or by the Vietnamese
header of the template and the export («Mã cán bộ»); both read the same. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bot.domain.directory import Directory, administered_units
from bot.domain.directory_files import (
    ROLE_SEPARATOR,
    STAFF_OPTIONAL,
    STAFF_REQUIRED,
    UNIT_OPTIONAL,
    UNIT_REQUIRED,
    Table,
)
from bot.domain.models import Problem, RoutingRule, Staff, Unit
from bot.domain.text import fold

STAFF_COLUMNS = (
    "staff_id",
    "full_name",
    "phone",
    "unit_id",
    "position",
    "position_group",
    "roles",
    "language",
)
assert set(STAFF_COLUMNS) == {*STAFF_REQUIRED, *STAFF_OPTIONAL}
UNIT_COLUMNS = (*UNIT_REQUIRED, *UNIT_OPTIONAL)
HEADERS_VI: Mapping[str, str] = {
    "staff_id": "Mã cán bộ",
    "full_name": "Họ và tên",
    "phone": "Số điện thoại",
    "unit_id": "Mã đơn vị",
    "position": "Chức vụ",
    "position_group": "Nhóm chức vụ",
    "roles": "Vai trò",
    "language": "Ngôn ngữ",
    "name": "Tên đơn vị",
    "kind": "Loại đơn vị",
    "parent_id": "Đơn vị cấp trên",
    "health_contact": "Cơ sở y tế",
    "date": "Ngày",  # the duty roster (duty.csv)
    "from": "Từ giờ",
    "to": "Đến giờ",
}
_CODE_OF_HEADER = {fold(label): code for code, label in HEADERS_VI.items()}
UNIT_ADMIN = "unit_admin"  # a role: admin of one's own unit and the units below it
EXAMPLE_STAFF = (
    "VD-001", "Nguyễn Văn Mẫu", "0912 000 999", "VD", "Chuyên viên", "staff", "", "vi",
)  # fmt: skip


def column_code(header: str) -> str:
    """The column a header names: its code, or the code of its Vietnamese header."""
    return _CODE_OF_HEADER.get(fold(header), header)


def staff_header() -> list[str]:
    return [HEADERS_VI[column] for column in STAFF_COLUMNS]


def local_phone(phone: str) -> str:
    """+84912345678 → 0912345678: how offices write it (and a cell Excel keeps as text)."""
    return "0" + phone.removeprefix("+84") if phone.startswith("+84") else phone


def staff_row(person: Staff) -> list[str]:
    roles = ROLE_SEPARATOR.join(sorted(person.roles))
    return [
        person.staff_id, person.full_name, local_phone(person.phone), person.unit_id, person.position or "",
        person.position_group, roles, person.language,
    ]  # fmt: skip


def staff_rows(people: Iterable[Staff]) -> list[list[str]]:
    """Active people sorted by unit then id, as the export writes them."""
    ordered = sorted((p for p in people if p.active), key=lambda p: (p.unit_id, p.staff_id))
    return [staff_row(person) for person in ordered]


def units_table(units: Iterable[Unit], file: str) -> Table:
    """The current units as the units file would hold them (when only staff is sent)."""
    rows: list[tuple[int, Mapping[str, str]]] = []
    for number, unit in enumerate(sorted(units, key=lambda u: u.unit_id), start=2):
        values = (unit.unit_id, unit.name, unit.kind.value, unit.parent_id or "",
                  unit.health_contact or "")  # fmt: skip
        rows.append((number, dict(zip(UNIT_COLUMNS, values, strict=True))))
    return Table(file=file, header=list(UNIT_COLUMNS), rows=rows)


def routing_text(rules: Sequence[RoutingRule]) -> str:
    """The current routing rules as routing.toml (when the file is not sent)."""
    parts = []
    for rule in rules:
        lines = ["[[rule]]", f"name = {_toml(rule.name)}"]
        if rule.position_groups:
            lines.append(f"position_groups = {_toml_list(rule.position_groups)}")
        if rule.unit_kinds:
            lines.append(f"unit_kinds = {_toml_list(rule.unit_kinds)}")
        lines.append(f"approver = {_toml(str(rule.approver))}")
        if rule.notify:
            lines.append(f"notify = {_toml_list([str(t) for t in rule.notify])}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _toml(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    return '"' + "".join(_toml_char(char) for char in text) + '"'


def _toml_char(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char


def _toml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(_toml(item) for item in items) + "]"


# --------------------------------------------------------------------------------- who may


def may_change(person: Staff, directory: Directory) -> bool:
    scope = administered_units(directory, person)
    return scope is None or bool(scope)


def outside_scope(table: Table, scope: set[str], current: Directory) -> list[Problem]:
    """Rows a unit admin may not write: a person of another unit, or one moved out of it."""
    problems = []
    for row, values in table.rows:
        unit_id = (values.get("unit_id") or "").strip()
        staff_id = (values.get("staff_id") or "").strip()
        listed = current.staff.get(staff_id)
        if unit_id and unit_id not in scope:
            problems.append(Problem(table.file, row, "unit_id", f"outside your units: '{unit_id}'"))
        elif listed is not None and listed.unit_id not in scope:
            reason = f"'{staff_id}' belongs to unit '{listed.unit_id}', outside your units"
            problems.append(Problem(table.file, row, "staff_id", reason))
    return problems


def with_the_others(table: Table, scope: set[str], current: Directory) -> Table:
    """A unit admin's staff file completed with everyone outside their units, unchanged: what
    they did not list of their own units is deactivated, nobody else."""
    taken = {(values.get("staff_id") or "").strip() for _, values in table.rows}
    last = max((row for row, _ in table.rows), default=1)
    others = [
        p
        for p in current.staff.values()
        if p.active and p.unit_id not in scope and p.staff_id not in taken
    ]
    rows = list(table.rows)
    for number, person in enumerate(sorted(others, key=lambda p: p.staff_id), start=last + 1):
        rows.append((number, dict(zip(STAFF_COLUMNS, staff_row(person), strict=True))))
    header = list(dict.fromkeys([*table.header, *STAFF_COLUMNS]))
    return Table(file=table.file, header=header, rows=rows)


def staff_table(people: Iterable[Staff], file: str) -> Table:
    """The people as a staff file (for a one-person change checked as a full import)."""
    rows: list[tuple[int, Mapping[str, str]]] = [
        (number, dict(zip(STAFF_COLUMNS, row, strict=True)))
        for number, row in enumerate(staff_rows(people), start=2)
    ]
    return Table(file=file, header=list(STAFF_COLUMNS), rows=rows)


def is_staff_header(header: Sequence[str]) -> bool:
    return "staff_id" in header and "full_name" in header


def is_units_header(header: Sequence[str]) -> bool:
    return "unit_id" in header and "kind" in header and "staff_id" not in header
