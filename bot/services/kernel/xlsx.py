"""Writing a register as .xlsx with openpyxl (imported only when someone exports).

It knows nothing of what a register holds (bot/services/oversight/exports.py says that for the
registers, bot/services/broadcast/views.py for a directive's read-list); every register it writes
looks the same: a row number, a bold frozen header row, column widths.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder

from bot.domain.text import spreadsheet_text

Row = tuple[Any, ...]
"""A register row as the repository yields it: the unit id, the unit's name, then the data."""


@dataclass(frozen=True, slots=True)
class Register:
    """What to write: the columns (title, width), how a row becomes its cells after the row
    number, the sheet's title, and whether each unit gets its own sheet (named after it)."""

    columns: list[tuple[str, int]]
    to_cells: Callable[[Row], list[Any]]
    title: str
    per_unit_sheets: bool = False
    footer: tuple[str, ...] = ()  # lines under the data of every sheet (who exported, why)
    # a last sheet of (what, value) lines about the whole register, e.g. who signed it off
    notes: tuple[tuple[str, str], ...] = ()
    notes_columns: tuple[tuple[str, int], ...] = ()
    notes_title: str = ""


async def write_register(register: Register, rows: AsyncIterator[Row], path: Path) -> int:
    """Write the register to `path`; returns the number of data rows."""
    book = Workbook(write_only=True)
    sheet: Any = None
    sheets: list[Any] = []
    current: str | None = None
    count = number = 0
    async for row in rows:
        if sheet is None or (register.per_unit_sheets and row[0] != current):
            title = row[1] if register.per_unit_sheets else register.title
            sheet = _new_sheet(book, register.columns, title)
            sheets.append(sheet)
            current, number = row[0], 0
        number += 1
        count += 1
        sheet.append_data([number, *register.to_cells(row)])
    if sheet is None:
        sheets.append(_new_sheet(book, register.columns, register.title))
    for written in sheets if register.footer else ():
        written.append_data([])
        for footer_line in register.footer:
            written.append_data([footer_line])
    if register.notes:
        notes = _new_sheet(book, list(register.notes_columns), register.notes_title)
        for line in register.notes:
            notes.append_data(list(line))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return count


class RegisterSheet(WriteOnlyWorksheet):
    """openpyxl's write-only sheet, whose data rows are streamed as ready XML.

    openpyxl writes each cell through several Python calls and an XML serialiser (about 15 µs
    a cell on this machine: over 20 s for 100,000 rows of 15 columns). Here openpyxl writes the
    sheet as always (view with the frozen pane, column widths, the bold header row, the tail,
    the workbook, styles and zip), while the data rows go as plain XML text to a side file that
    is spliced in before `</sheetData>` when the sheet is closed: about 10 µs a row.
    """

    # openpyxl internals this relies on (pinned in pyproject.toml, checked by
    # tests/test_openpyxl_internals.py); its stubs leave them out of the write-only sheet.
    column_dimensions: DimensionHolder[str, ColumnDimension]  # set up by Worksheet._setup
    _writer: WorksheetWriter  # `.out` is the sheet's XML file, zipped at book.save()

    def __init__(self, parent: Workbook, title: str) -> None:
        super().__init__(parent, title)
        self._side = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w", encoding="utf-8", suffix=".xml", prefix="khaibao-rows-", delete=False
        )
        self._data_rows = 0

    def append_data(self, values: list[Any]) -> None:
        """A data row (after the header), written straight to the side file."""
        self._data_rows += 1
        self._side.write(row_xml(values, self._data_rows + 1))

    def close(self) -> None:
        super().close()
        self._side.close()
        written = self._writer.out
        assert isinstance(written, str)  # write-only sheets go to a temporary file by name
        out = Path(written)
        sheet = out.read_text(encoding="utf-8")
        cut = sheet.index("</sheetData>")
        # openpyxl's name has no suffix ("openpyxl.k3j_x9"): its random part must stay in ours
        joined = out.with_name(out.name + ".joined.xml")
        with (
            joined.open("w", encoding="utf-8") as target,
            open(self._side.name, encoding="utf-8") as rows,
        ):
            target.write(sheet[:cut])
            shutil.copyfileobj(rows, target, 1 << 20)
            target.write(sheet[cut:])
        os.remove(self._side.name)
        os.replace(joined, out)


_SPECIAL = re.compile(r"[&<>\000-\010\013\014\016-\037]")


def _xml_text(value: object) -> str:
    text = spreadsheet_text(str(value))
    if _SPECIAL.search(text):
        text = (
            ILLEGAL_CHARACTERS_RE.sub("", text)
            .replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
        )
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


def _new_sheet(book: Workbook, columns: list[tuple[str, int]], title: str) -> Any:
    for previous in book.worksheets:
        if not previous.closed:
            previous.close()  # one open temporary file at a time, even with 2,000 unit sheets
    sheet = RegisterSheet(parent=book, title=_unique_title(book, title))
    book._add_sheet(sheet)  # type: ignore[attr-defined]  # private: create_sheet() makes no RegisterSheet
    for index, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for name, _ in columns:
        cell = WriteOnlyCell(sheet, value=spreadsheet_text(name))
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
