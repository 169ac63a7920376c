"""Checking the directory files an admin sent: the batch (units, staff, routing) completed with
what the bot holds, limited to the admin's units, validated as a full import would be.

Runs in a worker thread (it reads files of up to IMPORT_MAX_BYTES): nothing here touches the
database; the feature plans and applies what this returns inside one step.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.domain.directory import Directory
from bot.domain.directory_files import Table, load_directory
from bot.domain.directory_sheets import (
    STAFF_COLUMNS,
    is_staff_header,
    is_units_header,
    outside_scope,
    routing_text,
    staff_rows,
    staff_table,
    units_table,
    with_the_others,
)
from bot.domain.duty_roster import is_roster_header
from bot.domain.models import Problem, Staff
from bot.services.registration.tabular import ImportLimits, TableError, TooLarge, read_table
from storage.uploads_repo import UPLOAD_ROSTER

TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv")
ROUTING_SUFFIX = ".toml"
FILE_SUFFIXES = (*TABLE_SUFFIXES, ROUTING_SUFFIX, ".xls")
KIND_ORDER = ("units", "staff", "routing")
ROSTER_KIND = UPLOAD_ROSTER
Trouble = Problem | TableError | UnicodeDecodeError | OSError


@dataclass(frozen=True, slots=True)
class BatchFile:
    kind: str  # "units", "staff", "routing"; "" while not yet read
    path: Path
    name: str


@dataclass
class Checked:
    """A batch read and validated: the directory it would make, or every problem."""

    version: int  # the directory version it was checked against
    files: list[BatchFile] = field(default_factory=list)  # with their kinds
    problems: list[Trouble] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    directory: Directory | None = None
    needs_staff: bool = False  # no staff file, and the directory given held no staff
    roster: Table | None = None  # the file sent is a duty roster: checked on its own


def kind_of(path: Path, name: str, limits: ImportLimits) -> tuple[str, Table | str]:
    """What a file is (by its extension and its header) and its content."""
    if path.suffix.lower() == ROUTING_SUFFIX:
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise TooLarge(name, "bytes", size, limits.max_bytes)
        return "routing", path.read_text(encoding="utf-8-sig")
    table = read_table(path, name, limits)
    if is_staff_header(table.header):
        return "staff", table
    if is_units_header(table.header):
        return "units", table
    if is_roster_header(table.header):
        return ROSTER_KIND, table
    raise TableError(f"{name}: neither a staff nor a units file (see the template's headers)")


def check_batch(
    files: Sequence[BatchFile],
    current: Directory,
    version: int,
    scope: set[str] | None,
    limits: ImportLimits,
) -> Checked:
    """`scope` None: a district admin's batch replaces the whole directory; otherwise only the
    people of those units are changed and units or routing files are refused."""
    checked = Checked(version)
    tables: dict[str, Table] = {}
    routing: tuple[str, str] | None = None
    seen: set[str] = set()
    for upload in reversed(files):  # the newest first: an older file of its kind is not read
        if upload.kind in seen:
            continue
        try:
            kind, content = kind_of(upload.path, upload.name, limits)
        except (TableError, UnicodeDecodeError, OSError) as trouble:
            checked.problems.append(trouble)
            continue
        if kind == ROSTER_KIND and isinstance(content, Table):
            if upload is files[-1]:  # the file just sent: a roster is not part of the batch
                return Checked(version, [BatchFile(kind, upload.path, upload.name)], roster=content)
            continue
        if kind in seen:
            continue
        seen.add(kind)
        checked.files.insert(0, BatchFile(kind, upload.path, upload.name))
        if scope is not None and kind != "staff":
            reason = "only district admins change the units and the routing rules"
            checked.problems.append(Problem(upload.name, 1, "file", reason))
        elif isinstance(content, str):
            routing = (upload.name, content)
        else:
            tables[kind] = content
    if checked.problems:
        return checked
    if "staff" not in tables and not current.staff:
        checked.needs_staff = True
        return checked
    units = tables.get("units") or units_table(current.units.values(), "units")
    staff = tables.get("staff") or _current_staff(current, scope)
    if scope is not None:
        checked.problems.extend(outside_scope(staff, scope, current))
        if checked.problems:
            return checked
        staff = with_the_others(staff, scope, current)
    rules_name, rules = routing or ("routing", routing_text(current.rules))
    loaded = load_directory(units, staff, rules, rules_name)
    checked.problems.extend(loaded.problems)
    checked.warnings.extend(loaded.warnings)
    checked.directory = loaded.directory
    return checked


def _current_staff(current: Directory, scope: set[str] | None) -> Table:
    people = [p for p in current.staff.values() if scope is None or p.unit_id in scope]
    return staff_table(people, "staff")


def write_staff_csv(path: Path, people: Sequence[Staff]) -> None:
    """A one-person change written as the staff file it amounts to, so it is checked and
    applied exactly as a file sent by the admin."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(STAFF_COLUMNS)
        writer.writerows(staff_rows(people))
