"""`python -m bot export`: an Excel register from the command line (the operator's side of /export).

Registers other than health need no name; health data needs `--as STAFF_ID` of someone allowed
to see it, and the export is written to the audit log before the file is (so none goes unaudited).
"""

from __future__ import annotations

import argparse
from datetime import datetime

from bot.clock import SystemClock
from bot.config import Settings
from bot.domain.directory import Directory
from bot.i18n import Translator
from bot.services.oversight.exports import (
    ExportRequest,
    Refused,
    export_scope,
    health_footer,
    write_workbook,
)
from storage.directory_repo import DirectoryRepo
from storage.engine import Database, open_database
from storage.oversight_repo import OversightRepo
from storage.repos import AuditRepo

EMPTY = Directory((), (), ())


def parse_request(args: argparse.Namespace) -> ExportRequest:
    start = datetime.strptime(args.start, "%d/%m/%Y").date()
    end = datetime.strptime(args.end, "%d/%m/%Y").date()
    if end < start:
        raise ValueError("--to is before --from")
    purpose = " ".join((args.purpose or "").split()) or None
    return ExportRequest(args.what, start, end, args.unit, args.per_unit_sheets, purpose)


async def _scope(
    db: Database, t: Translator, staff_id: str | None, request: ExportRequest
) -> set[str] | None:
    """The units to export (None: all); the directory is loaded only when a unit or a person is named."""
    if staff_id is None and request.unit_id is None:
        return export_scope(t, EMPTY, None, request.what, None)
    async with db.reading() as tx:
        directory = await DirectoryRepo(tx).load()
    person = directory.person(staff_id) if staff_id else None
    if staff_id and (person is None or not person.active):
        raise Refused(t._("No staff member with id {staff_id}.", staff_id=staff_id))
    return export_scope(t, directory, person, request.what, request.unit_id)


async def _footer(
    db: Database, t: Translator, staff_id: str | None, request: ExportRequest, now: datetime
) -> tuple[str, ...]:
    """A health export names who made it, when and why (--purpose is required for health)."""
    if request.what != "health":
        return ()
    if not request.purpose:
        raise Refused(t._('Health data: say why it is exported (--purpose "…").'))
    async with db.reading() as tx:
        person = await DirectoryRepo(tx).person(staff_id or "")
    who = f"{person.full_name} ({staff_id})" if person else str(staff_id)
    return health_footer(t, who, now, request.purpose)


async def run_export(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    try:
        request = parse_request(args)
    except ValueError:
        today = SystemClock(settings.tz).now().date()
        print(
            t._(
                "Dates as dd/mm/yyyy, e.g. --from {start} --to {end}",
                start=t.numeric_date(today.replace(day=1)),
                end=t.numeric_date(today),
            )
        )
        return 2
    clock = SystemClock(settings.tz)
    db = await open_database(settings.database_target)
    try:
        try:
            units = await _scope(db, t, args.staff_id, request)
            footer = await _footer(db, t, args.staff_id, request, clock.now())
        except Refused as refusal:
            print(refusal)
            return 1
        details = {
            "what": request.what,
            "from": request.start.isoformat(),
            "to": request.end.isoformat(),
            "unit": request.unit_id,
            "via": "cli",
            "out": str(args.out),
            "purpose": request.purpose,
        }
        async with db.transaction() as tx:
            action = "health.export" if request.what == "health" else "export"
            await AuditRepo(tx).append(
                clock.now(), args.staff_id or "cli", action, f"export:{request.what}", details
            )
        async with db.reading() as tx:
            rows = await write_workbook(
                OversightRepo(tx, settings.tz), t, request, units, settings.tz, args.out, footer
            )
    finally:
        await db.close()
    print(t._("Wrote {n} row(s) to {path}.", n=rows, path=str(args.out)))
    return 0
