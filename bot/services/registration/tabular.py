"""Reading the directory files a district admin uploads (CSV or .xlsx) into `Table` rows.

Row numbers are those a person sees in Excel: the header is row 1 (the first row that is not
empty), the first data row is row 2; fully empty rows are skipped but still counted. Values are passed on as written (the domain trims).
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from xml.etree.ElementTree import ParseError

from bot.domain.directory_files import IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, Table
from bot.domain.directory_sheets import column_code

CSV_DELIMITERS = (",", ";", "\t")
_BROKEN_XLSX = (OSError, zipfile.BadZipFile, KeyError, ValueError, IndexError, ParseError)
PHONE_COLUMN = "phone"
_HEADER_SCAN_LIMIT = 65_536  # characters; a header line is never longer


XLSX_EXPANSION = 10  # an .xlsx may unpack to this many times the byte limit (it is a zip)


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """What a directory file may hold (IMPORT_MAX_BYTES, IMPORT_MAX_ROWS), checked before or
    while it is read, so a huge file is refused without filling the memory."""

    max_bytes: int = IMPORT_MAX_BYTES
    max_rows: int = IMPORT_MAX_ROWS


DEFAULT_LIMITS = ImportLimits()


class TableError(Exception):
    """A file that cannot be read as a table; the message is meant for the admin."""


class TooLarge(TableError):
    """A file over a limit: `measure` is "bytes" (`found`: the size) or "rows" (reading stopped
    at the first row over the limit, so `found` is None)."""

    def __init__(self, name: str, measure: str, found: int | None, limit: int) -> None:
        size = f" ({found})" if found is not None else ""
        super().__init__(f"{name}: more than {limit} {measure}{size}; split the file")
        self.name, self.measure, self.found, self.limit = name, measure, found, limit


def read_table(
    path: Path, display_name: str | None = None, limits: ImportLimits = DEFAULT_LIMITS
) -> Table:
    """Read a `.csv` or `.xlsx` file; raise TableError with a plain message if it cannot be."""
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix in (".csv", ".xlsx", ".xlsm"):
        _check_size(path, name, limits)
    if suffix == ".csv":
        return _table(name, _csv_records(path, name), limits)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, name, limits)
    if suffix == ".xls":
        raise TableError(
            f"{name}: old Excel .xls files are not read; save it as .xlsx or CSV UTF-8"
        )
    raise TableError(f"{name}: unknown file type '{path.suffix}'; use .csv or .xlsx")


def _check_size(path: Path, name: str, limits: ImportLimits) -> None:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise TableError(f"{name}: cannot be read ({error.strerror or error})") from error
    if size > limits.max_bytes:
        raise TooLarge(name, "bytes", size, limits.max_bytes)


def _table(name: str, records: Iterable[Sequence[str]], limits: ImportLimits) -> Table:
    """Records into a Table: the first non-empty record is the header; record i is row i.
    Reading stops at the first row over the limit."""
    numbered = enumerate(records, start=1)
    header = next((_header(record) for _, record in numbered if _has_text(record)), [])
    columns = [(index, column) for index, column in enumerate(header) if column]
    positions = {column: place for place, (_, column) in enumerate(columns)}
    pools: list[dict[str, str]] = [{} for _ in columns]
    rows: list[tuple[int, Mapping[str, str]]] = []
    for row_number, record in numbered:
        if _has_text(record):
            if len(rows) == limits.max_rows:
                raise TooLarge(name, "rows", None, limits.max_rows)
            rows.append((row_number, Cells(positions, _values(record, columns, pools))))
    return Table(file=name, header=header, rows=rows)


class Cells(Mapping[str, str]):
    """One row's cells by column name: a tuple and the table's shared column positions (a dict
    per row took three times the memory: 100,000 staff rows cost 140 MB)."""

    __slots__ = ("_positions", "_values")

    def __init__(self, positions: dict[str, int], values: tuple[str, ...]) -> None:
        self._positions = positions
        self._values = values

    def __getitem__(self, column: str) -> str:
        return self._values[self._positions[column]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def __repr__(self) -> str:
        return repr(dict(self))


POOL_LIMIT = 4096  # distinct values a column may share before it counts as unique (names, phones)


def _values(
    record: Sequence[str], columns: Sequence[tuple[int, str]], pools: list[dict[str, str]]
) -> tuple[str, ...]:
    """The cells of `columns`; a value repeated down a column (unit, position, roles) is kept
    once."""
    width = len(record)
    values = []
    for (index, _), pool in zip(columns, pools, strict=True):
        value = record[index] if index < width else ""
        if len(pool) < POOL_LIMIT:
            value = pool.setdefault(value, value)
        values.append(value)
    return tuple(values)


def _has_text(record: Sequence[str]) -> bool:
    return any(cell.strip() for cell in record)


def _header(record: Sequence[str]) -> list[str]:
    """Trimmed column names (a Vietnamese header read as its code), without the empty cells
    Excel leaves at the end of the row."""
    names = [column_code(cell.strip()) for cell in record]
    while names and not names[-1]:
        names.pop()
    return names


# -------------------------------------------------------------------------------------- CSV


def _csv_records(path: Path, name: str) -> Iterator[list[str]]:
    """The file's records, read as they are parsed (never the whole text in memory at once)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise TableError(f"{name}: cannot be read ({error.strerror or error})") from error
    with handle:
        try:
            delimiter = _delimiter(handle.read(_HEADER_SCAN_LIMIT))
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            yield from reader
        except UnicodeDecodeError as error:
            raise TableError(f"{name}: not UTF-8 text; save it as 'CSV UTF-8' in Excel") from error
        except csv.Error as error:
            raise TableError(f"{name}: broken CSV near line {reader.line_num}: {error}") from error
        except OSError as error:
            raise TableError(f"{name}: cannot be read ({error.strerror or error})") from error


def _delimiter(text: str) -> str:
    """The separator used most in the header line, outside quotes (comma when there is none)."""
    counts = dict.fromkeys(CSV_DELIMITERS, 0)
    quoted = False
    for char in text[:_HEADER_SCAN_LIMIT]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    return max(CSV_DELIMITERS, key=lambda delimiter: counts[delimiter])


# ------------------------------------------------------------------------------------- xlsx


def _read_xlsx(path: Path, name: str, limits: ImportLimits) -> Table:
    import openpyxl  # imported here: only .xlsx uploads need it

    _check_unpacked_size(path, name, limits)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _BROKEN_XLSX as error:
        raise TableError(f"{name}: cannot be read as an Excel .xlsx file ({error})") from error
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some programs write a wrong size; read every row there is
        return _table(name, _xlsx_records(sheet.iter_rows(values_only=True)), limits)
    except _BROKEN_XLSX as error:
        raise TableError(f"{name}: a damaged .xlsx file ({error})") from error
    finally:
        workbook.close()


def _check_unpacked_size(path: Path, name: str, limits: ImportLimits) -> None:
    """A small .xlsx may unpack to gigabytes (a zip bomb): refused by its members' sizes."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except _BROKEN_XLSX as error:
        raise TableError(f"{name}: cannot be read as an Excel .xlsx file ({error})") from error
    if unpacked > limits.max_bytes * XLSX_EXPANSION:
        raise TooLarge(name, "bytes", unpacked, limits.max_bytes * XLSX_EXPANSION)


def _xlsx_records(rows: Iterable[Sequence[object]]) -> Iterator[list[str]]:
    """Cell values as text, the phone column given back the leading 0 Excel drops."""
    header: list[str] | None = None
    phone_index: int | None = None
    for values in rows:
        record = [_cell_text(value) for value in values]
        if header is None:
            header = record if _has_text(record) else None
            phone_index = _column_index(record, PHONE_COLUMN)
        elif phone_index is not None and phone_index < len(values):
            record[phone_index] = _phone_text(values[phone_index], record[phone_index])
        yield record


def _column_index(header: Sequence[str], column: str) -> int | None:
    names = _header(header)
    return names.index(column) if column in names else None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def _datetime_text(value: datetime) -> str:
    if value.time() == time(0, 0):
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d/%m/%Y %H:%M")


def _phone_text(value: object, text: str) -> str:
    """A phone stored as a number lost its trunk 0: 912345678 → 0912345678.

    Mobiles have 9 significant digits; landlines 10, starting with 2 (2438721234 → 02438721234).
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not text.isdigit():
        return text
    if len(text) == 9 or (len(text) == 10 and text.startswith("2")):
        return "0" + text
    return text
