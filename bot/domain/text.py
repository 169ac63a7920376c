"""Text helpers for Vietnamese: folding for search that ignores case and diacritics."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ → d) and collapse white space: `Đinh Thị  Hương` → `dinh thi huong`."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _SPACES.sub(" ", bare).strip().casefold()


def nfc(text: str) -> str:
    """Compose text to NFC so that names typed on different keyboards compare equal."""
    return unicodedata.normalize("NFC", text)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def spreadsheet_text(value: str) -> str:
    """A text cell that stays text in Excel and LibreOffice: a value they would read as a formula
    (starting with = + - @, a tab or a carriage return) gets a leading single quote, as OWASP
    recommends against formula injection. Used for every text cell of every export and CSV."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def spreadsheet_cell(value: object) -> object:
    """A cell's value for an export: text neutralised, numbers, dates and empties as they are."""
    return spreadsheet_text(value) if isinstance(value, str) else value


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def safe_file_part(text: str, limit: int = 32) -> str:
    """A piece of a file name made only of A-Z a-z 0-9 _ - (whatever an id holds: never a `/`,
    a `..` or a leading dot), at most `limit` characters; "-" when nothing is left."""
    return _UNSAFE_IN_NAME.sub("_", text)[:limit].strip("_") or "-"
