"""Reading CSV and .xlsx uploads into Tables."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.registration.tabular import TableError, read_table


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_comma_csv_with_quotes_and_row_numbers(tmp_path: Path) -> None:
    text = (
        "unit_id,name,kind\r\n"
        'Q,"Quận Long Biên, Hà Nội",other\r\n'
        "\r\n"
        'P1,"Phường ""Ngọc Thụy""\nmới",ward\r\n'
        ",,\r\n"
        "P2,Phường Hai\r\n"
    )
    result = read_table(write(tmp_path / "units.csv", text))
    assert result.file == "units.csv"
    assert result.header == ["unit_id", "name", "kind"]
    assert result.rows == [
        (2, {"unit_id": "Q", "name": "Quận Long Biên, Hà Nội", "kind": "other"}),
        (4, {"unit_id": "P1", "name": 'Phường "Ngọc Thụy"\nmới', "kind": "ward"}),
        (6, {"unit_id": "P2", "name": "Phường Hai", "kind": ""}),
    ]


def test_semicolon_csv_with_bom_and_trimmed_header(tmp_path: Path) -> None:
    text = ' staff_id ;full_name;roles\n1;Đỗ Văn Đức;"unit_head;admin"\n'
    result = read_table(write(tmp_path / "staff.csv", text, "utf-8-sig"), "Danh sách.csv")
    assert result.file == "Danh sách.csv"
    assert result.header == ["staff_id", "full_name", "roles"]
    assert result.rows == [
        (2, {"staff_id": "1", "full_name": "Đỗ Văn Đức", "roles": "unit_head;admin"})
    ]


def test_delimiter_inside_quoted_header_is_not_counted(tmp_path: Path) -> None:
    text = '"a;b;c",d\n1,2\n'
    result = read_table(write(tmp_path / "x.csv", text))
    assert result.header == ["a;b;c", "d"]
    assert result.rows == [(2, {"a;b;c": "1", "d": "2"})]


def test_cells_beyond_the_header_are_ignored_and_nameless_columns_dropped(tmp_path: Path) -> None:
    text = "a,,b,,\n1,x,2,3,4\n"
    result = read_table(write(tmp_path / "x.csv", text))
    assert result.header == ["a", "", "b"]
    assert result.rows == [(2, {"a": "1", "b": "2"})]


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("unit_id,name\nQ,Quận Long Biên\n", "utf-16"), ("a,b\nHà,Nam\n", "latin-1")],
)
def test_not_utf8_is_a_clear_error(tmp_path: Path, text: str, encoding: str) -> None:
    path = write(tmp_path / "units.csv", text, encoding)
    with pytest.raises(TableError) as error:
        read_table(path)
    assert str(error.value) == "units.csv: not UTF-8 text; save it as 'CSV UTF-8' in Excel"


def test_empty_file_gives_an_empty_table(tmp_path: Path) -> None:
    result = read_table(write(tmp_path / "units.csv", ""))
    assert (result.header, result.rows) == ([], [])


def test_missing_file_and_unknown_types_are_table_errors(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=re.escape("units.csv: cannot be read")):
        read_table(tmp_path / "units.csv")
    with pytest.raises(TableError, match=re.escape("save it as .xlsx or CSV UTF-8")):
        read_table(write(tmp_path / "units.xls", "x"))
    with pytest.raises(TableError, match=re.escape("unknown file type '.txt'")):
        read_table(write(tmp_path / "units.txt", "x"))
    with pytest.raises(TableError, match=re.escape("cannot be read as an Excel .xlsx file")):
        read_table(write(tmp_path / "units.xlsx", "not a zip"))


def test_many_rows_are_read(tmp_path: Path) -> None:
    lines = ["staff_id;full_name;phone"] + [
        f"S{i};Nguyễn Văn {i};0912{i:06d}" for i in range(20_000)
    ]
    result = read_table(write(tmp_path / "staff.csv", "\n".join(lines)))
    assert len(result.rows) == 20_000
    assert result.rows[-1] == (
        20_001,
        {"staff_id": "S19999", "full_name": "Nguyễn Văn 19999", "phone": "0912019999"},
    )


# ------------------------------------------------------------------------------------ xlsx


def make_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("second").append(["ignored"])
    workbook.save(path)
    return path


def test_xlsx_values_become_text_as_a_person_reads_them(tmp_path: Path) -> None:
    path = make_xlsx(
        tmp_path / "staff.xlsx",
        [
            [" staff_id", "full_name", "phone ", "count", "ratio", "since", "stamp", "ok"],
            [123.0, "Đinh Thị Thu Hương", 912000001, 7, 1.5, date(2021, 5, 26), None, True],
            [None, None, None, None, None, None, None, None],
            ["S2", "Đỗ Văn Đức", 2438721234, 8.0, 0.25, None, datetime(2021, 7, 1, 8, 30), False],
            ["S3", "Hoàng Minh", 84912000003, None, None, datetime(2021, 5, 9), None, None],
        ],
    )
    result = read_table(path)
    assert result.file == "staff.xlsx"
    assert result.header == [
        "staff_id",
        "full_name",
        "phone",
        "count",
        "ratio",
        "since",
        "stamp",
        "ok",
    ]
    assert result.rows == [
        (
            2,
            {
                "staff_id": "123",
                "full_name": "Đinh Thị Thu Hương",
                "phone": "0912000001",
                "count": "7",
                "ratio": "1.5",
                "since": "26/05/2021",
                "stamp": "",
                "ok": "TRUE",
            },
        ),
        (
            4,
            {
                "staff_id": "S2",
                "full_name": "Đỗ Văn Đức",
                "phone": "02438721234",
                "count": "8",
                "ratio": "0.25",
                "since": "",
                "stamp": "01/07/2021 08:30",
                "ok": "FALSE",
            },
        ),
        (
            5,
            {
                "staff_id": "S3",
                "full_name": "Hoàng Minh",
                "phone": "84912000003",
                "count": "",
                "ratio": "",
                "since": "09/05/2021",
                "stamp": "",
                "ok": "",
            },
        ),
    ]


def test_xlsx_leading_zero_is_restored_only_in_the_phone_column(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "s.xlsx", [["code", "phone"], [912000001, "0912 000 002"]])
    assert read_table(path).rows == [(2, {"code": "912000001", "phone": "0912 000 002"})]


def test_xlsx_header_may_start_below_empty_rows(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "units.xlsx", [[], [], ["unit_id", "name"], ["Q", "Quận"]])
    result = read_table(path, "Đơn vị.xlsx")
    assert result.file == "Đơn vị.xlsx"
    assert result.header == ["unit_id", "name"]
    assert result.rows == [(4, {"unit_id": "Q", "name": "Quận"})]


def test_empty_xlsx_gives_an_empty_table(tmp_path: Path) -> None:
    path = make_xlsx(tmp_path / "empty.xlsx", [])
    assert read_table(path).rows == []


# ------------------------------------------------------------------- CSV round trip property

CELL_TEXT = st.text(
    alphabet=st.sampled_from(list('ab ,;"\n\r\tĐđươăâêôƯàảãáạ ềệỡữ\u00a0x1')), max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    delimiter=st.sampled_from([",", ";"]),
    bom=st.booleans(),
    # At least two columns: the separator is detected from the header line.
    header=st.lists(
        st.text(alphabet="abcdefghij_", min_size=1, max_size=8), min_size=2, max_size=5, unique=True
    ),
    data=st.data(),
)
def test_written_csv_reads_back_the_same(
    delimiter: str, bom: bool, header: list[str], data: st.DataObject
) -> None:
    rows = data.draw(st.lists(st.lists(CELL_TEXT, min_size=len(header), max_size=len(header))))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "t.csv", buffer.getvalue(), "utf-8-sig" if bom else "utf-8")
        result = read_table(path)
    assert result.header == header
    expected = [
        (number, dict(zip(header, row, strict=True)))
        for number, row in enumerate(rows, start=2)
        if any(cell.strip() for cell in row)
    ]
    assert result.rows == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_give_a_table_or_a_table_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        path.write_bytes(content)
        try:
            result = read_table(path)
        except TableError as error:
            assert str(error).startswith("x.csv: ")
        else:
            assert all(number >= 2 for number, _ in result.rows)
