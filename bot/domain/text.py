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
