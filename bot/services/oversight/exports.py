"""Excel registers: travel (sổ theo dõi cán bộ đi ra khỏi địa bàn), returns, directive reads, health.

One writer serves `/export` in the chat and `python -m bot export`. openpyxl's write-only mode
streams rows to disk, so 100,000 rows stay far below 300 MB; headers are in the reader's language
(Vietnamese by default), bold and frozen; dates read `dd/mm/yyyy HH:MM` (SQLite formats them).
Who may export what: admins everything; unit heads and deputies their unit and the units below;
health data only for those `may_view_health` allows (health officers and admins: everyone), and
every health export is written to the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bot.domain.directory import Directory
from bot.domain.health import Symptom
from bot.domain.health_rules import ALL_RECORDS_ROLES, HEAD_ROLES
from bot.domain.models import BuiltinRole, Staff
from bot.domain.text import file_date, file_slug
from bot.i18n import Translator
from bot.services.health.alerts import case_contact_names, symptom_names
from bot.services.travel.views import status_text
from bot.services.violations.feature import kind_name
from storage.oversight_repo import EXPORT_KINDS, OversightRepo

KINDS = EXPORT_KINDS  # travel, returns, acks, health, violations


@dataclass(frozen=True, slots=True)
class ExportRequest:
    what: str
    start: date
    end: date  # inclusive
    unit_id: str | None = None
    per_unit_sheets: bool = False
    purpose: str | None = None  # why health data is exported (asked, written in the file)


def headers(t: Translator, what: str) -> list[tuple[str, int]]:
    """Column titles and widths (in characters)."""
    person = [(t._("No."), 6), (t._("Unit"), 30), (t._("Full name"), 26), (t._("Position"), 24)]
    specific = {
        "travel": [(t._("Request"), 9), (t._("Requested at"), 17), (t._("Destination"), 16), (t._("Address there"), 26), (t._("Purpose"), 26),
                   (t._("Leaves"), 17), (t._("Planned return"), 17), (t._("Status"), 18), (t._("Decided by"), 24),
                   (t._("Decided at"), 17), (t._("Arrived back"), 17), (t._("Health declaration"), 17)],
        "returns": [(t._("Request"), 9), (t._("Destination"), 16), (t._("Planned return"), 17), (t._("Arrived back"), 17),
                    (t._("Declaration due by"), 17), (t._("Health declaration"), 17), (t._("State"), 18),
                    (t._("Within 24 hours"), 14), (t._("Head told (overdue)"), 17),
                    (t._("Test due by"), 17), (t._("Test result"), 12), (t._("Isolation until"), 17)],
        "acks": [(t._("Directive"), 16), (t._("Title"), 40), (t._("Sent at"), 17), (t._("Registered"), 11), (t._("Read at"), 17)],
        "health": [(t._("Report"), 9), (t._("Reported at"), 17), (t._("Source"), 14), (t._("Symptoms"), 34),
                   (t._("Temperature"), 12), (t._("Onset"), 12), (t._("Contact with a case"), 12), (t._("Urgency"), 12)],
        "violations": [(t._("Violation"), 9), (t._("Recorded at"), 17), (t._("Kind"), 24), (t._("Note"), 50),
                       (t._("Recorded by"), 24), (t._("About"), 12)],
    }[what]  # fmt: skip
    return person + specific


def sheet_title(t: Translator, what: str) -> str:
    return {
        "travel": t._("Travel register"),
        "returns": t._("Returns register"),
        "acks": t._("Directive reads"),
        "health": t._("Health reports"),
        "violations": t._("Violations"),
    }[what][:31]


def _yes_no(t: Translator, value: object) -> str:
    if value is None:
        return ""
    return t._("yes") if value else t._("no")


def row_mapper(t: Translator, what: str) -> Callable[[tuple[Any, ...]], list[Any]]:
    """Turns a repo row (unit id first) into the cells after the row number."""
    if what == "travel":
        statuses: dict[str, str] = {}

        def travel(r: tuple[Any, ...]) -> list[Any]:
            status = statuses.get(r[11]) or statuses.setdefault(r[11], status_text(t, r[11]))
            return [*r[1:11], status, *r[12:]]

        return travel
    if what == "returns":
        states = {
            "away": t._("not back yet"),
            "back": t._("back, declaration open"),
            "declared": t._("declared"),
            "cancelled": t._("cancelled"),
            "stopped": t._("followed no more (consent withdrawn)"),
        }
        results = {
            "pending": t._("pending"),
            "negative": t._("negative"),
            "positive": t._("positive"),
        }
        return lambda r: [
            *r[1:10],
            states.get(r[10], r[10]),
            _yes_no(t, r[11]),
            r[12],
            r[13],
            results.get(r[14], r[14]) if r[14] else None,
            r[15],
        ]
    if what == "acks":
        # The meaning of unread everywhere (storage's UNREAD): the unregistered are apart.
        unread, absent = t._("not read"), t._("never registered")
        return lambda r: [*r[1:7], _yes_no(t, r[7]), r[8] or (unread if r[7] else absent)]
    if what == "violations":
        return lambda r: [*r[1:6], kind_name(t, r[6]), *r[7:]]
    names = symptom_names(t)
    sources = {
        "self": t._("self-report"),
        "return": t._("return declaration"),
        "checkin": t._("monitoring check-in"),
    }
    urgency = {"urgent": t._("urgent"), "routine": t._("routine")}
    contact = case_contact_names(t)

    def health(r: tuple[Any, ...]) -> list[Any]:
        codes = json.loads(r[7] or "[]")
        listed = ", ".join(
            names.get(Symptom(c), c) if c in Symptom._value2member_map_ else c for c in codes
        )
        onset = f"{r[9][8:10]}/{r[9][5:7]}/{r[9][:4]}" if r[9] else ""
        return [
            *r[1:6],
            sources.get(r[6], r[6]),
            listed,
            r[8],
            onset,
            contact.get(r[10], r[10]),
            urgency.get(r[11], r[11]),
        ]

    return health


class Refused(Exception):
    """The person may not export this; the message is for them."""


def export_scope(
    t: Translator, directory: Directory, person: Staff | None, what: str, unit_id: str | None
) -> set[str] | None:
    """The units the export may cover (None: all), or Refused. `person` None: the operator's CLI."""
    if unit_id is not None and directory.unit(unit_id) is None:
        raise Refused(t._("No unit with id {unit}.", unit=unit_id))
    wanted = directory.subtree(unit_id) if unit_id else None
    if person is None:
        if what == "health":
            raise Refused(
                t._(
                    "Health data: say who exports it (--as STAFF_ID, a health officer, an admin or a unit head)."
                )
            )
        return wanted
    everything = person.has_role(BuiltinRole.ADMIN) or (
        what == "health" and bool(person.roles & ALL_RECORDS_ROLES)
    )
    if everything:
        return wanted
    if not person.roles & HEAD_ROLES:
        if what == "health":
            raise Refused(
                t._(
                    "You may not export health data: only health officers, district admins and unit heads (for their units) may."
                )
            )
        raise Refused(t._("Only unit heads and district admins export registers."))
    allowed = directory.subtree(person.unit_id)
    if wanted is None:
        return allowed
    if not wanted <= allowed:
        raise Refused(t._("You may export only your unit and the units below it."))
    return wanted


def day_range(start: date, end: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(0), tz), datetime.combine(
        end + timedelta(days=1), time(0), tz
    )


async def write_workbook(
    repo: OversightRepo,
    t: Translator,
    request: ExportRequest,
    units: set[str] | None,
    tz: tzinfo,
    path: Path,
    footer: tuple[str, ...] = (),
) -> int:
    """The register as .xlsx at `path`, `footer` under the data; the number of data rows."""
    from bot.services.kernel.xlsx import (  # openpyxl (and numpy) cost 0.2 s of start-up
        Register,
        write_register,
    )

    start, end = day_range(request.start, request.end, tz)
    offset = int((start.utcoffset() or timedelta()).total_seconds() // 60)
    chosen = sorted(units) if units is not None else None
    rows = repo.export_rows(request.what, start, end, chosen, offset)
    register = Register(
        headers(t, request.what),
        row_mapper(t, request.what),
        sheet_title(t, request.what),
        request.per_unit_sheets,
        footer,
    )
    return await write_register(register, rows, path)


def health_footer(t: Translator, who: str, when: datetime, purpose: str) -> tuple[str, ...]:
    """Under every sheet of a health export: who exported it, when and why."""
    return (
        t._(
            "Exported by {who} on {when}. Purpose: {purpose}",
            who=who,
            when=t.when(when),
            purpose=purpose,
        ),
        t._("Sensitive personal data (health): use it only for this purpose; do not pass it on."),
    )


def file_name(t: Translator, request: ExportRequest, unit_name: str | None = None) -> str:
    """What a clerk sees: the register's title, the unit's name, the period, in the reader's
    words (`so-theo-doi-di-lai_01-05-2021_31-05-2021.xlsx`), from safe parts only."""
    unit = f"_{file_slug(unit_name, 40)}" if unit_name else ""
    period = f"{file_date(request.start)}_{file_date(request.end)}"
    return f"{file_slug(sheet_title(t, request.what))}{unit}_{period}.xlsx"
