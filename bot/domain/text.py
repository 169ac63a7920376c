"""Text helpers for Vietnamese: folding for search that ignores case and diacritics."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

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


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def safe_file_part(text: str, limit: int = 32) -> str:
    """A piece of a file name made only of A-Z a-z 0-9 _ - (whatever an id holds: never a `/`,
    a `..` or a leading dot), at most `limit` characters; "-" when nothing is left."""
    return _UNSAFE_IN_NAME.sub("_", text)[:limit].strip("_") or "-"


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def file_slug(text: str, limit: int = 60) -> str:
    """A file name's words from any text: `Sổ theo dõi đi lại` → `so-theo-doi-di-lai` (folded,
    only a-z 0-9 and single hyphens: never a `/`, a `..` or a leading dot), at most `limit`
    characters; "-" when nothing is left."""
    return _NOT_SLUG.sub("-", fold(text))[:limit].strip("-") or "-"


def file_date(day: date) -> str:
    """A day in a file name, as a clerk reads it: `01-05-2021`."""
    return f"{day:%d-%m-%Y}"


def export_subfolder(staff_id: str, now: datetime) -> str:
    """A folder of its own for each export (who, when), so that the file keeps the name a
    clerk reads and two exports never write the same file: `TH-001-20210526090000`."""
    return f"{safe_file_part(staff_id)}-{now:%Y%m%d%H%M%S}"
