"""The directory files (units.csv, staff.csv, routing.toml; see FORMATS.md) into a Directory.

Every problem is collected, not just the first, as `file:row: column: reason`, so that a district
admin can fix a whole file in one go. Pure: the rows come in as a `Table` read by the services.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.domain.directory import Directory, resolve_route
from bot.domain.models import (
    LANGUAGES,
    Problem,
    Reason,
    RoutingRule,
    Staff,
    Target,
    TargetKind,
    Unit,
    UnitKind,
)
from bot.domain.phones import normalize_phone
from bot.domain.text import nfc

UNIT_REQUIRED = ("unit_id", "name", "kind")
UNIT_OPTIONAL = ("parent_id", "health_contact")
STAFF_REQUIRED = ("staff_id", "full_name", "phone", "unit_id", "position_group")
STAFF_OPTIONAL = ("position", "roles", "language")
RULE_KEYS = ("name", "position_groups", "unit_kinds", "approver", "notify")
ROLE_SEPARATOR = ";"
TARGET_FORMS = "unit_head, role:<code>, staff:<staff_id> or none"
NOTIFY_FORMS = "unit_head, role:<code> or staff:<staff_id>"
_CODE = re.compile(r"[^\s:]+")
STAFF_ID_MAX = 32
IMPORT_MAX_BYTES = 50 * 1024 * 1024  # a file's default limits (settings IMPORT_MAX_BYTES, _ROWS)
IMPORT_MAX_ROWS = 200_000
_STAFF_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Table:
    """Rows of a file as a person sees them in Excel: header = row 1, first data row = row 2."""

    file: str  # the file's name as given to the user (for messages)
    header: list[str]
    rows: list[tuple[int, Mapping[str, str]]]  # (row number, column -> raw value); missing ""


@dataclass(frozen=True)
class DirectoryLoad:
    directory: Directory | None  # None when there are problems
    problems: list[Problem]  # every problem, sorted by file then row
    warnings: list[str]  # e.g. "staff.csv: extra column 'ghi_chu' ignored"

    @property
    def ok(self) -> bool:
        return self.directory is not None


@dataclass
class _Report:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def problem(self, file: str, row: int, column: str, reason: str) -> None:
        self.problems.append(Problem(file, row, column, reason))


# ---------------------------------------------------------------------------- load_directory


def load_directory(
    units: Table, staff: Table, routing_text: str, routing_file: str = "routing.toml"
) -> DirectoryLoad:
    """Validate the three files together; a Directory only when nothing is wrong."""
    report = _Report()
    units_ok = _check_columns(units, UNIT_REQUIRED, UNIT_OPTIONAL, report)
    staff_ok = _check_columns(staff, STAFF_REQUIRED, STAFF_OPTIONAL, report)
    parsed_units = _read_units(units, report) if units_ok else None
    known_units = parsed_units.declared if parsed_units else None
    parsed_staff = _read_staff(staff, known_units, units.file, report) if staff_ok else None
    routing = _parse_routing(routing_text, routing_file)
    report.problems.extend(routing.problems)
    if parsed_staff is not None:
        _check_references(routing, parsed_staff, staff.file, routing_file, report)
    if report.problems or parsed_units is None or parsed_staff is None:
        return DirectoryLoad(None, _sorted(report.problems), report.warnings)
    directory = Directory(parsed_units.units, parsed_staff.staff, routing.rules)
    _check_everyone_has_an_approver(directory, parsed_staff, staff.file, report)
    if report.problems:
        return DirectoryLoad(None, _sorted(report.problems), report.warnings)
    return DirectoryLoad(directory, [], report.warnings)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: (problem.file, problem.row))


def _check_columns(
    table: Table, required: Sequence[str], optional: Sequence[str], report: _Report
) -> bool:
    """Report missing or repeated columns (row 1); warn about extra ones. True if usable."""
    seen: set[str] = set()
    usable = True
    for name in table.header:
        if name in seen and name:
            report.problem(table.file, 1, name, Reason("column appears more than once"))
            usable = False
        seen.add(name)
        if name and name not in required and name not in optional:
            report.warnings.append(f"{table.file}: extra column '{name}' ignored")
    if "" in seen:
        report.warnings.append(f"{table.file}: a column without a name is ignored")
    for name in required:
        if name not in seen:
            report.problem(table.file, 1, name, Reason("missing required column"))
            usable = False
    return usable


def _cleaned(raw: Mapping[str, str], columns: Iterable[str]) -> dict[str, str]:
    """Trimmed, NFC-composed values of the columns we read."""
    return {column: nfc((raw.get(column) or "").strip()) for column in columns}


def _missing_values(
    file: str, row: int, values: Mapping[str, str], required: Iterable[str], report: _Report
) -> bool:
    missing = [column for column in required if not values[column]]
    for column in missing:
        report.problem(file, row, column, Reason("empty; a value is required"))
    return bool(missing)


# ------------------------------------------------------------------------------------ units


@dataclass
class _Units:
    units: list[Unit] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # unit_id -> row, first occurrence
    declared: set[str] = field(default_factory=set)  # every unit_id written, even on a bad row


def _read_units(table: Table, report: _Report) -> _Units:
    parsed = _Units()
    for row, raw in table.rows:
        values = _cleaned(raw, (*UNIT_REQUIRED, *UNIT_OPTIONAL))
        unit = _unit_from_row(table.file, row, values, parsed, report)
        if unit is not None:
            parsed.units.append(unit)
    _check_parents(table.file, parsed, report)
    return parsed


def _unit_from_row(
    file: str, row: int, values: dict[str, str], parsed: _Units, report: _Report
) -> Unit | None:
    unit_id = values["unit_id"]
    broken = _missing_values(file, row, values, UNIT_REQUIRED, report)
    if unit_id in parsed.rows:
        first = parsed.rows[unit_id]
        report.problem(
            file,
            row,
            "unit_id",
            Reason(
                "duplicate unit_id '{unit_id}' (first at row {first})", unit_id=unit_id, first=first
            ),
        )
        broken = True
    elif unit_id:
        parsed.rows[unit_id] = row
        parsed.declared.add(unit_id)
    kind = _unit_kind(values["kind"])
    if values["kind"] and kind is None:
        allowed = ", ".join(kind.value for kind in UnitKind)
        reason = Reason(
            "unknown kind '{kind}'; allowed: {allowed}", kind=values["kind"], allowed=allowed
        )
        report.problem(file, row, "kind", reason)
        broken = True
    if broken or kind is None:
        return None
    return Unit(
        unit_id=unit_id,
        name=values["name"],
        kind=kind,
        parent_id=values["parent_id"] or None,
        health_contact=values["health_contact"] or None,
    )


def _unit_kind(text: str) -> UnitKind | None:
    try:
        return UnitKind(text.lower())
    except ValueError:
        return None


def _check_parents(file: str, parsed: _Units, report: _Report) -> None:
    parents: dict[str, str] = {}
    for unit in parsed.units:
        if unit.parent_id is None:
            continue
        if unit.parent_id not in parsed.declared:
            reason = Reason("parent unit '{parent}' does not exist", parent=unit.parent_id)
            report.problem(file, parsed.rows[unit.unit_id], "parent_id", reason)
        else:
            parents[unit.unit_id] = unit.parent_id
    for cycle in _cycles(parents):
        row = min(parsed.rows[unit_id] for unit_id in cycle)
        chain = " → ".join([*cycle, cycle[0]])
        report.problem(file, row, "parent_id", Reason("parent cycle: {chain}", chain=chain))


def _cycles(parents: Mapping[str, str]) -> list[list[str]]:
    """Each cycle of the parent relation once, starting at the unit first met."""
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    cycles: list[list[str]] = []
    for start in parents:
        walk: list[str] = []
        node: str | None = start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = parents.get(node)
        if node is not None and state[node] == 1:
            cycles.append(walk[walk.index(node) :])
        for visited in walk:
            state[visited] = 2
    return cycles


# ------------------------------------------------------------------------------------ staff


@dataclass
class _Staff:
    staff: list[Staff] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # staff_id -> row, first occurrence
    phones: dict[str, tuple[str, int]] = field(default_factory=dict)  # phone -> (staff_id, row)
    roles: set[str] = field(default_factory=set)  # every role written, even on a bad row
    position_groups: set[str] = field(default_factory=set)


def _read_staff(
    table: Table, known_units: set[str] | None, units_file: str, report: _Report
) -> _Staff:
    parsed = _Staff()
    for row, raw in table.rows:
        values = _cleaned(raw, (*STAFF_REQUIRED, *STAFF_OPTIONAL))
        person = _staff_from_row(table.file, row, values, parsed, report)
        if known_units is not None and values["unit_id"] and values["unit_id"] not in known_units:
            reason = Reason(
                "unit '{unit}' is not in {file}", unit=values["unit_id"], file=units_file
            )
            report.problem(table.file, row, "unit_id", reason)
            person = None
        if person is not None:
            parsed.staff.append(person)
    return parsed


def _staff_from_row(
    file: str, row: int, values: dict[str, str], parsed: _Staff, report: _Report
) -> Staff | None:
    broken = _missing_values(file, row, values, STAFF_REQUIRED, report)
    broken |= _bad_staff_id(file, row, values["staff_id"], report)
    broken |= _duplicate_staff_id(file, row, values["staff_id"], parsed, report)
    phone = _phone(file, row, values, parsed, report)
    language = values["language"].lower() or LANGUAGES[0]
    if language not in LANGUAGES:
        reason = Reason(
            "language must be {allowed}, not '{language}'",
            allowed=" or ".join(LANGUAGES),
            language=values["language"],
        )
        report.problem(file, row, "language", reason)
        broken = True
    roles = split_roles(values["roles"])
    parsed.roles.update(roles)
    parsed.position_groups.add(values["position_group"])
    if broken or phone is None:
        return None
    return Staff(
        staff_id=values["staff_id"],
        full_name=values["full_name"],
        phone=phone,
        unit_id=values["unit_id"],
        position_group=values["position_group"],
        position=values["position"] or None,
        roles=roles,
        language=language,
    )


def split_roles(text: str) -> frozenset[str]:
    """`unit_head; party_secretary;` → {unit_head, party_secretary}."""
    return frozenset(part.strip() for part in text.split(ROLE_SEPARATOR) if part.strip())


def staff_id_problem(staff_id: str) -> str | None:
    """Why `staff_id` may not be used (it goes into file names, button data and links)."""
    if len(staff_id) > STAFF_ID_MAX:
        return f"longer than {STAFF_ID_MAX} characters ({len(staff_id)})"
    if staff_id.startswith("."):
        return "must not start with '.'"
    if not _STAFF_ID.fullmatch(staff_id):
        bad = sorted({c for c in staff_id if not (c.isascii() and (c.isalnum() or c in "._-"))})
        shown = " ".join(repr(c) for c in bad[:5])
        return f"only letters A-Z a-z, digits 0-9 and . _ - are allowed, not {shown}"
    return None


def _bad_staff_id(file: str, row: int, staff_id: str, report: _Report) -> bool:
    problem = staff_id_problem(staff_id) if staff_id else None
    if problem:
        report.problem(file, row, "staff_id", f"'{staff_id[:40]}': {problem}")
    return problem is not None


def _duplicate_staff_id(
    file: str, row: int, staff_id: str, parsed: _Staff, report: _Report
) -> bool:
    if not staff_id:
        return False
    if staff_id in parsed.rows:
        first = parsed.rows[staff_id]
        report.problem(
            file,
            row,
            "staff_id",
            Reason(
                "duplicate staff_id '{staff_id}' (first at row {first})",
                staff_id=staff_id,
                first=first,
            ),
        )
        return True
    parsed.rows[staff_id] = row
    return False


def _phone(
    file: str, row: int, values: dict[str, str], parsed: _Staff, report: _Report
) -> str | None:
    """The normalised phone, or None after reporting why not (a bad or a shared number)."""
    written = values["phone"]
    if not written:
        return None
    phone = normalize_phone(written)
    if phone is None:
        reason = Reason("not a Vietnamese phone number: '{phone}'", phone=written)
        report.problem(file, row, "phone", reason)
        return None
    if phone in parsed.phones:
        owner, owner_row = parsed.phones[phone]
        reason = Reason(
            "phone '{phone}' is also staff_id '{owner}' (row {row})",
            phone=written,
            owner=owner,
            row=owner_row,
        )
        report.problem(file, row, "phone", reason)
        return None
    parsed.phones[phone] = (values["staff_id"], row)
    return phone


# ---------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class _RuleLines:
    """Where a rule (lines header..end of the file's `lines`) and its keys are written."""

    header: int
    end: int = 0
    lines: Sequence[str] = ()

    def of(self, key: str) -> int:
        return _line_of_key(self.lines, key, self.header, self.end) or self.header


@dataclass
class _Routing:
    rules: list[RoutingRule] = field(default_factory=list)
    lines: list[_RuleLines] = field(default_factory=list)  # parallel to rules
    problems: list[Problem] = field(default_factory=list)


def parse_routing(text: str, file: str) -> tuple[list[RoutingRule], list[Problem]]:
    """routing.toml → its rules, or the problems (TOML syntax errors at their line)."""
    routing = _parse_routing(text, file)
    return routing.rules, routing.problems


def parse_target(text: str, allow_none: bool = True) -> Target | None:
    """`unit_head`, `role:<code>`, `staff:<staff_id>`, `none` → a Target; None if malformed."""
    kind_text, colon, value = text.strip().partition(":")
    try:
        kind = TargetKind(kind_text.strip())
    except ValueError:
        return None
    value = value.strip()
    if kind in (TargetKind.ROLE, TargetKind.STAFF):
        return Target(kind, value) if colon and _CODE.fullmatch(value) else None
    if colon or (kind is TargetKind.NONE and not allow_none):
        return None
    return Target(kind)


def _parse_routing(text: str, file: str) -> _Routing:
    routing = _Routing()
    text = text.removeprefix("\ufeff")  # a BOM, as Windows editors write it
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, message = _toml_error_position(str(error), text)
        routing.problems.append(Problem(file, line, "syntax", message))
        return routing
    lines = text.splitlines()
    entries = _rule_entries(data, file, lines, routing)
    headers = _rule_header_lines(lines)
    for index, entry in enumerate(entries):
        where = _rule_lines(lines, headers, index)
        rule = _rule_from_entry(entry, index, where, file, routing.problems)
        if rule is not None:
            routing.rules.append(rule)
            routing.lines.append(where)
    if entries:
        last = len(entries) - 1
        _check_last_rule_catches_all(
            entries[last], _rule_lines(lines, headers, last), file, routing
        )
    return routing


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


def _toml_error_position(message: str, text: str) -> tuple[int, str]:
    match = _TOML_POSITION.search(message)
    if match is None:
        return 1, message
    line = int(match.group(1)) if match.group(1) else max(1, len(text.splitlines()))
    return line, message[: match.start()]


def _rule_entries(
    data: dict[str, Any], file: str, lines: list[str], routing: _Routing
) -> list[Any]:
    for key in data:
        if key != "rule":
            reason = "unknown key; the file holds only [[rule]] tables"
            line = _line_of_key(lines, key, 0, len(lines))
            routing.problems.append(Problem(file, line, key, reason))
    entries = data.get("rule")
    if entries is None:
        routing.problems.append(Problem(file, 1, "rule", "no [[rule]] tables"))
        return []
    if not isinstance(entries, list) or not entries:
        routing.problems.append(Problem(file, 1, "rule", "must be [[rule]] tables"))
        return []
    return entries


_RULE_HEADER = re.compile(r"^\s*\[\[\s*rule\s*\]\]")


def _rule_header_lines(lines: list[str]) -> list[int]:
    return [number for number, line in enumerate(lines, start=1) if _RULE_HEADER.match(line)]


def _rule_lines(lines: list[str], headers: list[int], index: int) -> _RuleLines:
    """Where rule `index` is written; line 1 when it is not a [[rule]] table."""
    if index >= len(headers):
        return _RuleLines(1)
    end = headers[index + 1] - 1 if index + 1 < len(headers) else len(lines)
    return _RuleLines(headers[index], end, lines)


def _line_of_key(lines: Sequence[str], key: str, start: int, end: int) -> int:
    """The first line in (start, end] that sets `key` or opens a table named `key`; else 0 / 1."""
    pattern = re.compile(rf"^\s*(\[+\s*)?\"?{re.escape(key)}\"?\s*(=|\])")
    for number in range(start + 1, end + 1):
        if pattern.match(lines[number - 1]):
            return number
    return 0 if start else 1


def _rule_from_entry(
    entry: Any, index: int, where: _RuleLines, file: str, problems: list[Problem]
) -> RoutingRule | None:
    if not isinstance(entry, dict):
        problems.append(Problem(file, where.header, "rule", "must be a [[rule]] table"))
        return None
    found: list[Problem] = []
    for key in entry:
        if key not in RULE_KEYS:
            reason = f"unknown key; allowed: {', '.join(RULE_KEYS)}"
            found.append(Problem(file, where.of(key), key, reason))
    name = _rule_name(entry.get("name"), index, where, file, found)
    approver = _approver(entry.get("approver"), where, file, found)
    position_groups = _codes(entry, "position_groups", where, file, found)
    unit_kinds = _unit_kinds(entry, where, file, found)
    notify = _notify(entry.get("notify"), where, file, found)
    problems.extend(found)
    if found or approver is None:
        return None
    return RoutingRule(name, approver, position_groups, unit_kinds, notify)


def _rule_name(value: Any, index: int, where: _RuleLines, file: str, found: list[Problem]) -> str:
    if value is None:
        return f"rule {index + 1}"
    if not isinstance(value, str) or not value.strip():
        found.append(Problem(file, where.of("name"), "name", "must be a non-empty text"))
        return ""
    return nfc(value.strip())


def _approver(value: Any, where: _RuleLines, file: str, found: list[Problem]) -> Target | None:
    if value is None:
        found.append(Problem(file, where.header, "approver", f"missing; use {TARGET_FORMS}"))
        return None
    target = parse_target(value) if isinstance(value, str) else None
    if target is None:
        reason = f"malformed target {_show(value)}; use {TARGET_FORMS}"
        found.append(Problem(file, where.of("approver"), "approver", reason))
    return target


def _notify(value: Any, where: _RuleLines, file: str, found: list[Problem]) -> tuple[Target, ...]:
    if value is None:
        return ()
    items = _string_list(value)
    if items is None:
        found.append(Problem(file, where.of("notify"), "notify", "must be a list of targets"))
        return ()
    targets: list[Target] = []
    for item in items:
        target = parse_target(item, allow_none=False)
        if target is None:
            reason = f"malformed target {_show(item)}; use {NOTIFY_FORMS}"
            found.append(Problem(file, where.of("notify"), "notify", reason))
        else:
            targets.append(target)
    return tuple(targets)


def _codes(
    entry: dict[str, Any], key: str, where: _RuleLines, file: str, found: list[Problem]
) -> tuple[str, ...]:
    if key not in entry:
        return ()
    items = _string_list(entry[key])
    codes = tuple(item.strip() for item in items or () if item.strip())
    if items is None or len(codes) != len(items):
        found.append(Problem(file, where.of(key), key, "must be a list of non-empty texts"))
    elif not codes:
        reason = "empty list matches nobody; remove the key to match everyone"
        found.append(Problem(file, where.of(key), key, reason))
    return codes


def _unit_kinds(
    entry: dict[str, Any], where: _RuleLines, file: str, found: list[Problem]
) -> tuple[str, ...]:
    kinds = _codes(entry, "unit_kinds", where, file, found)
    allowed = {kind.value for kind in UnitKind}
    for kind in kinds:
        if kind not in allowed:
            reason = f"unknown kind '{kind}'; allowed: {', '.join(sorted(allowed))}"
            found.append(Problem(file, where.of("unit_kinds"), "unit_kinds", reason))
    return kinds


def _string_list(value: Any) -> list[str] | None:
    """A list of texts (a single text counts as a list of one); None for anything else."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else f"{value!r}"


def _check_last_rule_catches_all(
    entry: Any, where: _RuleLines, file: str, routing: _Routing
) -> None:
    if isinstance(entry, dict) and ("position_groups" in entry or "unit_kinds" in entry):
        reason = "the last rule must have no position_groups or unit_kinds (it catches everyone)"
        routing.problems.append(Problem(file, where.header, "rule", reason))


# ------------------------------------------------------------------------- cross-file checks


def _check_references(
    routing: _Routing, staff: _Staff, staff_file: str, routing_file: str, report: _Report
) -> None:
    """Every role:X is held by someone, every staff:ID exists; warn about unused groups."""
    for rule, where in zip(routing.rules, routing.lines, strict=True):
        for key, target in _targets(rule):
            reason = _reference_problem(target, staff, staff_file)
            if reason:
                report.problem(routing_file, where.of(key), key, reason)
        for group in rule.position_groups:
            if group not in staff.position_groups:
                warning = f"{routing_file}: rule '{rule.name}': nobody has position_group '{group}'"
                report.warnings.append(warning)


def _targets(rule: RoutingRule) -> list[tuple[str, Target]]:
    return [("approver", rule.approver), *(("notify", target) for target in rule.notify)]


def _reference_problem(target: Target, staff: _Staff, staff_file: str) -> str | None:
    if target.kind is TargetKind.ROLE and target.value not in staff.roles:
        return Reason("no staff member holds role '{role}'", role=target.value)
    if target.kind is TargetKind.STAFF and target.value not in staff.rows:
        return Reason(
            "staff_id '{staff_id}' is not in {file}", staff_id=target.value, file=staff_file
        )
    return None


def _check_everyone_has_an_approver(
    directory: Directory, staff: _Staff, staff_file: str, report: _Report
) -> None:
    for person in staff.staff:
        route = resolve_route(directory, person.staff_id)
        if route.has_decider:
            continue
        rule = directory.rule_for(person)
        approver = str(rule.approver) if rule else "none"
        reason = Reason(
            "no approver: rule '{rule}' ({approver}) finds nobody but this person, and no unit above has a head",
            rule=route.rule_name,
            approver=approver,
        )
        report.problem(staff_file, staff.rows[person.staff_id], "position_group", reason)
