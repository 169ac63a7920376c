"""Violations of the epidemic rules a head records on a person (seeds/000 §5, 001 §5, 004):
the kinds and what a note may be."""

from __future__ import annotations

import unicodedata

KINDS = ("travel", "return", "declaration", "other")
"""travel without consent · return not reported · declaration overdue · other"""
MAX_NOTE = 500


def clean_note(text: str) -> str | None:
    """The note as kept: NFC, white space collapsed, control characters dropped; None when it
    is empty or longer than MAX_NOTE."""
    printable = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    note = " ".join(unicodedata.normalize("NFC", printable).split())
    return note if 0 < len(note) <= MAX_NOTE else None
