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
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.domain.directory import Directory
from bot.domain.health import Symptom
from bot.domain.health_rules import ALL_RECORDS_ROLES, HEAD_ROLES
from bot.domain.models import BuiltinRole, Staff
from bot.i18n import Translator
from bot.services.health_alerts import symptom_names
from bot.services.travel_views import status_text
from storage.oversight_repo import EXPORT_KINDS, OversightRepo

KINDS = EXPORT_KINDS  # travel, returns, acks, health


@dataclass(frozen=True, slots=True)
class ExportRequest:
    what: str
    start: date
    end: date  # inclusive
    unit_id: str | None = None
    per_unit_sheets: bool = False


def headers(t: Translator, what: str) -> list[tuple[str, int]]:
    """Column titles and widths (in characters)."""
    person = [(t._("No."), 6), (t._("Unit"), 30), (t._("Full name"), 26), (t._("Position"), 24)]
    specific = {
        "travel": [(t._("Request"), 9), (t._("Destination"), 16), (t._("Address there"), 26), (t._("Purpose"), 26),
                   (t._("Leaves"), 17), (t._("Planned return"), 17), (t._("Status"), 18), (t._("Decided by"), 24),
                   (t._("Decided at"), 17), (t._("Arrived back"), 17), (t._("Health declaration"), 17)],
        "returns": [(t._("Request"), 9), (t._("Destination"), 16), (t._("Planned return"), 17), (t._("Arrived back"), 17),
                    (t._("Declaration due by"), 17), (t._("Health declaration"), 17), (t._("State"), 18),
                    (t._("Within 24 hours"), 14), (t._("Head told (overdue)"), 17)],
        "acks": [(t._("Directive"), 16), (t._("Title"), 40), (t._("Sent at"), 17), (t._("Registered"), 11), (t._("Read at"), 17)],
        "health": [(t._("Report"), 9), (t._("Reported at"), 17), (t._("Source"), 14), (t._("Symptoms"), 34),
                   (t._("Temperature"), 12), (t._("Onset"), 12), (t._("Contact with a case"), 12), (t._("Urgency"), 12)],
    }[what]  # fmt: skip
    return person + specific


def sheet_title(t: Translator, what: str) -> str:
    return {
        "travel": t._("Travel register"),
        "returns": t._("Returns"),
        "acks": t._("Directive reads"),
        "health": t._("Health reports"),
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
            status = statuses.get(r[10]) or statuses.setdefault(r[10], status_text(t, r[10]))
            return [*r[1:10], status, *r[11:]]

        return travel
    if what == "returns":
        states = {"away": t._("not back yet"), "back": t._("back, declaration open"), "declared": t._("declared"), "cancelled": t._("cancelled")}
        return lambda r: [*r[1:10], states.get(r[10], r[10]), _yes_no(t, r[11]), r[12]]
    if what == "acks":
        unread = t._("not read")
        return lambda r: [*r[1:7], _yes_no(t, r[7]), r[8] or unread]
    names = symptom_names(t)
    sources = {"self": t._("self-report"), "return": t._("return declaration"), "checkin": t._("monitoring check-in")}
    urgency = {"urgent": t._("urgent"), "routine": t._("routine")}

    def health(r: tuple[Any, ...]) -> list[Any]:
        codes = json.loads(r[7] or "[]")
        listed = ", ".join(names.get(Symptom(c), c) if c in Symptom._value2member_map_ else c for c in codes)
        onset = f"{r[9][8:10]}/{r[9][5:7]}/{r[9][:4]}" if r[9] else ""
        return [*r[1:6], sources.get(r[6], r[6]), listed, r[8], onset, _yes_no(t, r[10]), urgency.get(r[11], r[11])]

    return health


class Refused(Exception):
    """The person may not export this; the message is for them."""


def export_scope(t: Translator, directory: Directory, person: Staff | None, what: str, unit_id: str | None) -> set[str] | None:
    """The units the export may cover (None: all), or Refused. `person` None: the operator's CLI."""
    if unit_id is not None and directory.unit(unit_id) is None:
        raise Refused(t._("No unit with id {unit}.", unit=unit_id))
    wanted = directory.subtree(unit_id) if unit_id else None
    if person is None:
        if what == "health":
            raise Refused(t._("Health data: say who exports it (--as STAFF_ID, a health officer, an admin or a unit head)."))
        return wanted
    everything = person.has_role(BuiltinRole.ADMIN) or (what == "health" and bool(person.roles & ALL_RECORDS_ROLES))
    if everything:
        return wanted
    if not person.roles & HEAD_ROLES:
        if what == "health":
            raise Refused(t._("You may not export health data: only health officers, district admins and unit heads (for their units) may."))
        raise Refused(t._("Only unit heads and district admins export registers."))
    allowed = directory.subtree(person.unit_id)
    if wanted is None:
        return allowed
    if not wanted <= allowed:
        raise Refused(t._("You may export only your unit and the units below it."))
    return wanted


def day_range(start: date, end: date, tz: tzinfo) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(0), tz), datetime.combine(end + timedelta(days=1), time(0), tz)


async def write_workbook(repo: OversightRepo, t: Translator, request: ExportRequest, units: set[str] | None, tz: tzinfo, path: Path) -> int:
    """Write the register to `path`; returns the number of data rows."""
    start, end = day_range(request.start, request.end, tz)
    offset = int((start.utcoffset() or timedelta()).total_seconds() // 60)
    columns = headers(t, request.what)
    to_cells = row_mapper(t, request.what)
    book = Workbook(write_only=True)
    sheet: Any = None
    current: str | None = None
    count = number = 0
    async for row in repo.export_rows(request.what, start, end, sorted(units) if units is not None else None, offset):
        if sheet is None or (request.per_unit_sheets and row[0] != current):
            sheet = _new_sheet(book, t, columns, row[1] if request.per_unit_sheets else sheet_title(t, request.what))
            current, number = row[0], 0
        number += 1
        count += 1
        sheet.append_data([number, *to_cells(row)])
    if sheet is None:
        _new_sheet(book, t, columns, sheet_title(t, request.what))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return count


class RegisterSheet(WriteOnlyWorksheet):  # type: ignore[misc]
    """openpyxl's write-only sheet, whose data rows are streamed as ready XML.

    openpyxl writes each cell through several Python calls and an XML serialiser (about 15 µs
    a cell on this machine: over 20 s for 100,000 rows of 15 columns). Here openpyxl writes the
    sheet as always (view with the frozen pane, column widths, the bold header row, the tail,
    the workbook, styles and zip), while the data rows go as plain XML text to a side file that
    is spliced in before `</sheetData>` when the sheet is closed: about 10 µs a row.
    """

    def __init__(self, parent: Workbook, title: str) -> None:
        super().__init__(parent, title)
        self._side = tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".xml", prefix="khaibao-rows-", delete=False)  # noqa: SIM115
        self._data_rows = 0

    def append_data(self, values: list[Any]) -> None:
        """A data row (after the header), written straight to the side file."""
        self._data_rows += 1
        self._side.write(row_xml(values, self._data_rows + 1))

    def close(self) -> None:
        super().close()
        self._side.close()
        out = Path(self._writer.out)
        sheet = out.read_text(encoding="utf-8")
        cut = sheet.index("</sheetData>")
        joined = out.with_suffix(".joined.xml")
        with joined.open("w", encoding="utf-8") as target, open(self._side.name, encoding="utf-8") as rows:
            target.write(sheet[:cut])
            shutil.copyfileobj(rows, target, 1 << 20)
            target.write(sheet[cut:])
        os.remove(self._side.name)
        os.replace(joined, out)


_SPECIAL = re.compile(r"[&<>\000-\010\013\014\016-\037]")


def _xml_text(value: object) -> str:
    text = str(value)
    if _SPECIAL.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def row_xml(values: list[Any], row_idx: int) -> str:
    """One row of inline strings (numbers as numbers). Cells carry no `r`: they are in column
    order, an empty value is an empty `<c/>` (both allowed by the format, read by Excel,
    LibreOffice and openpyxl)."""
    cells = []
    for value in values:
        if value is None or value == "":
            cells.append("<c/>")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            cells.append(f'<c t="n"><v>{value!r}</v></c>')
        else:
            text = _xml_text(value)
            space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
            cells.append(f'<c t="inlineStr"><is><t{space}>{text}</t></is></c>')
    return f'<row r="{row_idx}">{"".join(cells)}</row>'


def _new_sheet(book: Workbook, t: Translator, columns: list[tuple[str, int]], title: str) -> Any:
    for previous in book.worksheets:
        if not previous.closed:
            previous.close()  # one open temporary file at a time, even with 2,000 unit sheets
    sheet = RegisterSheet(parent=book, title=_unique_title(book, title))
    book._add_sheet(sheet)
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for name, _ in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    return sheet


def _unique_title(book: Workbook, title: str) -> str:
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in title).strip()[:31] or "-"
    taken = set(book.sheetnames)
    candidate, n = cleaned, 2
    while candidate in taken:
        suffix = f" ({n})"
        candidate, n = cleaned[: 31 - len(suffix)] + suffix, n + 1
    return candidate


def file_name(request: ExportRequest) -> str:
    unit = f"-{request.unit_id}" if request.unit_id else ""
    return f"{request.what}{unit}-{request.start:%Y%m%d}-{request.end:%Y%m%d}.xlsx"
