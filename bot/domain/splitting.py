"""Cut a long directive into messages of at most 4,096 characters each (rule 9).

Lengths and entity offsets are counted in UTF-16 code units, as the Bot API counts them: the same
as characters for Vietnamese text (all in the Basic Multilingual Plane), two units for an emoji
outside it. Cuts fall, by preference, at a blank line, a line break, the end of a sentence, a
space, and only for a "word" longer than a whole message inside it (never between a letter and
its combining accent). The white space at a cut is dropped, so the parts joined back give the
text up to white space at the cuts; leading and trailing white space of the text is dropped too.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

MESSAGE_LIMIT = 4096  # the Bot API's longest text message, in UTF-16 units
_MIN_BUDGET = 2  # room for one character of any kind
_ZWJ = "\u200d"

# Break points, best first; group 1 is where the white space of the cut begins.
_BREAKS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(\n)[^\S\n]*\n"),  # a blank line: a paragraph ends
    re.compile(r"(\n)"),  # a line break
    re.compile(r"[.!?…][\"'”’»)\]]*(\s)"),  # the end of a sentence
    re.compile(r"(\s)"),  # any space
)

Entity = tuple[int, int, object]  # (offset, length) in UTF-16 units, payload passed through
EntityIn = tuple[int, int] | tuple[int, int, object]
Part = tuple[str, list[Entity]]


def utf16_len(text: str) -> int:
    """The length of `text` in UTF-16 code units (as the Bot API counts it)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def split_message(text: str, limit: int = MESSAGE_LIMIT, numbered: bool = True) -> list[str]:
    """`text` in parts of at most `limit` UTF-16 units each; [] for blank text.

    With `numbered` and more than one part, each part starts `(1/3) `, `(2/3) `, … and still
    fits in `limit` with that prefix. Raises ValueError if `limit` leaves no room for text.
    """
    return [part for part, _ in split_with_entities(text, (), limit, numbered)]


def split_with_entities(
    text: str,
    entities: Sequence[EntityIn],
    limit: int = MESSAGE_LIMIT,
    numbered: bool = True,
) -> list[Part]:
    """Like `split_message`, carrying formatting entities into the parts.

    `entities` are `(offset, length)` or `(offset, length, payload)` in UTF-16 units of `text`
    (empty ones are dropped; one that splits an emoji's surrogate pair is widened to all of it).
    No cut falls inside an entity unless a single entity is longer than a whole part; then it
    is cut like plain text and each part gets its piece with the same payload. Each part comes
    with its entities as `(offset, length, payload)`, offsets counted from the start of the
    part as sent (prefix included); payloads are passed through untouched (None if absent).
    """
    if limit < _MIN_BUDGET:
        raise ValueError(f"limit must be at least {_MIN_BUDGET}, got {limit}")
    layout = _layout(text, entities)
    spans = _spans(layout, limit)
    if not numbered or len(spans) < 2:
        return [_part(layout, span, "") for span in spans]
    spans = _numbered_spans(layout, limit)
    total = len(spans)
    return [_part(layout, span, f"({i}/{total}) ") for i, span in enumerate(spans, start=1)]


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class _Layout:
    text: str
    u16: list[int]  # u16[i]: UTF-16 offset of character i; u16[len(text)]: total length
    entities: list[tuple[int, int, object]]  # [start, end) in characters, payload
    reach: list[int] | None  # reach[i]: furthest end of an entity starting at or before i


def _layout(text: str, entities: Sequence[EntityIn]) -> _Layout:
    u16 = [0]
    for ch in text:
        u16.append(u16[-1] + (2 if ord(ch) > 0xFFFF else 1))
    spans = [_char_span(entity, u16) for entity in entities if entity[1] != 0]
    return _Layout(text, u16, spans, _reach(spans, len(text)) if spans else None)


def _char_span(entity: EntityIn, u16: list[int]) -> tuple[int, int, object]:
    offset, length = entity[0], entity[1]
    payload = entity[2] if len(entity) > 2 else None
    if offset < 0 or length <= 0 or offset + length > u16[-1]:
        raise ValueError(f"entity {entity!r} does not fit a text of {u16[-1]} UTF-16 units")
    return bisect_right(u16, offset) - 1, bisect_left(u16, offset + length), payload


def _reach(spans: list[tuple[int, int, object]], size: int) -> list[int]:
    reach = [0] * size
    for start, end, _ in spans:
        reach[start] = max(reach[start], end)
    for i in range(1, size):
        reach[i] = max(reach[i], reach[i - 1])
    return reach


# --------------------------------------------------------------------------- cutting


def _numbered_spans(layout: _Layout, limit: int) -> list[tuple[int, int]]:
    """Spans leaving room for the widest prefix `(n/n) `; widen it until the count fits."""
    digits = 1
    while True:
        budget = limit - (2 * digits + len("(/) "))
        if budget < _MIN_BUDGET:
            raise ValueError(f"limit {limit} is too small for numbered parts")
        spans = _spans(layout, budget)
        if len(str(len(spans))) <= digits:
            return spans
        digits = len(str(len(spans)))


def _spans(layout: _Layout, budget: int) -> list[tuple[int, int]]:
    """[start, stop) of each part in characters, white space at the cuts left out."""
    text, u16 = layout.text, layout.u16
    last = len(text.rstrip())
    pos = _skip_space(text, 0)
    spans: list[tuple[int, int]] = []
    while pos < last:
        end = bisect_right(u16, u16[pos] + budget) - 1
        cut = last if end >= last else _choose_cut(layout, pos, end)
        spans.append((pos, _trim_end(text, pos, cut)))
        pos = _skip_space(text, cut)
    return spans


def _choose_cut(layout: _Layout, pos: int, end: int) -> int:
    """The best cut in (pos, end]: a break outside entities, then any break, then a hard cut."""
    passes = (True, False) if layout.reach is not None else (False,)
    for respect_entities in passes:
        for pattern in _BREAKS:
            cut = _last_break(layout, pattern, pos, end, respect_entities)
            if cut is not None:
                return cut
    return _hard_cut(layout.text, pos, end)


def _last_break(
    layout: _Layout, pattern: re.Pattern[str], pos: int, end: int, respect_entities: bool
) -> int | None:
    best = None
    for match in pattern.finditer(layout.text, pos):
        cut = match.start(1)
        if cut > end:
            break
        if not respect_entities or _outside_entities(layout, pos, cut):
            best = cut
    return best


def _outside_entities(layout: _Layout, pos: int, cut: int) -> bool:
    """No entity has text on both sides of the white space that starts at `cut`."""
    assert layout.reach is not None
    stop = _trim_end(layout.text, pos, cut)
    return layout.reach[stop - 1] <= _skip_space(layout.text, cut)


def _hard_cut(text: str, pos: int, end: int) -> int:
    """Cut at `end`, moved back so no accent or joined emoji is torn from its base character."""
    cut = end
    while cut > pos + 1 and _clings(text, cut):
        cut -= 1
    return end if _clings(text, cut) else cut  # nothing but marks: cut at the limit


def _clings(text: str, i: int) -> bool:
    ch = text[i]
    return unicodedata.category(ch).startswith("M") or _ZWJ in (ch, text[i - 1])


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _trim_end(text: str, pos: int, cut: int) -> int:
    return pos + len(text[pos:cut].rstrip())


def _part(layout: _Layout, span: tuple[int, int], prefix: str) -> Part:
    start, stop = span
    u16, shift = layout.u16, utf16_len(prefix)
    entities: list[Entity] = []
    for first, end, payload in layout.entities:
        lo, hi = max(first, start), min(end, stop)
        if lo < hi:
            entities.append((u16[lo] - u16[start] + shift, u16[hi] - u16[lo], payload))
    return prefix + layout.text[start:stop], entities
