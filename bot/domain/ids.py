"""Reading a record's number from what a person sent: a command argument or a button's data.

One rule everywhere: ASCII digits only (Python's `str.isdigit` also accepts «²» and other Unicode
digits, which `int()` then refuses) and at most MAX_ID_DIGITS of them, so no number reaches the
database that it cannot hold. Anything else is simply no record.
"""

from __future__ import annotations

MAX_ID_DIGITS = 12


def parse_id(text: str) -> int | None:
    """The number written in `text` («12», «#12»), or None when it cannot name a record."""
    digits = text.removeprefix("#")
    if not 0 < len(digits) <= MAX_ID_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def looks_like_id(text: str) -> bool:
    """Whether the person meant a record's number («12», «#12», even «²» or a 30-digit number),
    so that a number naming no record is answered "not found" rather than read as other text."""
    digits = text.removeprefix("#")
    return digits.isdigit()
