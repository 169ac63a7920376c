"""The fast export path (bot/services/kernel/xlsx.py) leans on openpyxl internals.

openpyxl is pinned to the versions where they hold (pyproject.toml); when an upgrade moves
them, these tests say which one, before a register comes out broken.
"""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell import cell as openpyxl_cell
from openpyxl.writer.excel import ExcelWriter

from bot.services.kernel.xlsx import Register, RegisterSheet, Row, write_register


def test_the_internals_the_fast_path_uses_are_there() -> None:
    from openpyxl.worksheet import _write_only

    assert openpyxl.__version__.startswith("3.1."), openpyxl.__version__
    sheet_class = _write_only.WriteOnlyWorksheet
    assert issubclass(RegisterSheet, sheet_class)
    assert "_writer" in vars(sheet_class), "the write-only sheet keeps its writer in `_writer`"
    assert callable(getattr(Workbook, "_add_sheet", None)), "Workbook._add_sheet(sheet) is gone"
    assert openpyxl_cell.ILLEGAL_CHARACTERS_RE.search("a\x01b")
    # book.save() zips the file the write-only sheet's writer wrote (where rows are spliced in)
    assert "writer.out" in inspect.getsource(ExcelWriter.write_worksheet)


def test_a_closed_sheet_is_a_file_with_sheet_data_to_splice_into(tmp_path: Path) -> None:
    book = Workbook(write_only=True)
    sheet = RegisterSheet(book, "t")
    getattr(book, "_add_sheet")(sheet)  # noqa: B009 (not in the stubs)
    sheet.column_dimensions["A"].width = 12
    sheet.append(["HEADER-CELL"])
    sheet.append_data(["DATA-CELL"])
    sheet.close()
    assert sheet.closed
    written = sheet._writer.out
    assert isinstance(written, str), "the write-only sheet is no longer a temporary file by name"
    xml = Path(written).read_text(encoding="utf-8")
    assert xml.count("</sheetData>") == 1
    assert xml.index("HEADER-CELL") < xml.index("DATA-CELL") < xml.index("</sheetData>")


def test_a_sheet_splices_in_a_file_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The splice's file is named after the sheet's own temporary file (which openpyxl makes
    unique), not a fixed name that two exports at once (two processes) would share."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "openpyxl.joined.xml").mkdir()  # a shared name is taken by another export
    book = Workbook(write_only=True)
    sheet = RegisterSheet(book, "t")
    getattr(book, "_add_sheet")(sheet)  # noqa: B009 (not in the stubs)
    sheet.append(["HEADER-CELL"])
    sheet.append_data(["DATA-CELL"])
    sheet.close()
    written = sheet._writer.out
    assert isinstance(written, str)
    xml = Path(written).read_text(encoding="utf-8")
    assert xml.index("HEADER-CELL") < xml.index("DATA-CELL") < xml.index("</sheetData>")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {Path(written).name, "openpyxl.joined.xml"}  # the side file, splice gone


async def _rows(rows: list[Row]) -> AsyncIterator[Row]:
    for row in rows:
        yield row


async def test_a_tiny_register_round_trips_through_load_workbook(tmp_path: Path) -> None:
    columns = [("STT", 6), ("Họ và tên", 26), ("Số", 8), ("Ghi chú", 20)]

    def to_cells(row: Row) -> list[Any]:
        return list(row[2:])

    rows: list[Row] = [
        ("U1", "Phòng Y tế", "Nguyễn Văn An", 3, "A & B <c>"),
        ("U1", "Phòng Y tế", " Trần Thị Bình ", 2.5, None),
        ("U2", "Trường Tiểu học", "Lê\x01Văn Cường", 0, ""),
    ]
    path = tmp_path / "out" / "register.xlsx"
    register = Register(columns, to_cells, "Sổ theo dõi", per_unit_sheets=True)
    assert await write_register(register, _rows(rows), path) == 3

    book = load_workbook(path)
    assert book.sheetnames == ["Phòng Y tế", "Trường Tiểu học"]
    first, second = book.worksheets
    assert list(first.iter_rows(values_only=True)) == [
        ("STT", "Họ và tên", "Số", "Ghi chú"),
        (1, "Nguyễn Văn An", 3, "A & B <c>"),
        (2, " Trần Thị Bình ", 2.5, None),
    ]
    assert list(second.iter_rows(values_only=True))[1] == (1, "LêVăn Cường", 0, None)
    assert first.freeze_panes == "A2" and first["A1"].font.bold and not first["A2"].font.bold
    assert first.column_dimensions["B"].width == 26


async def test_an_empty_register_is_one_sheet_with_its_header(tmp_path: Path) -> None:
    register = Register([("STT", 6), ("Họ và tên", 26)], list, "Sổ theo dõi")
    path = tmp_path / "empty.xlsx"
    assert await write_register(register, _rows([]), path) == 0
    book = load_workbook(path)
    assert book.sheetnames == ["Sổ theo dõi"]
    assert list(book.worksheets[0].iter_rows(values_only=True)) == [("STT", "Họ và tên")]
