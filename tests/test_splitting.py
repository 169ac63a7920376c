"""Long directives cut into Telegram messages, with and without formatting entities."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.splitting import (
    MESSAGE_LIMIT,
    split_message,
    split_with_entities,
    utf16_len,
)

SHARED_SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
LOCAL_SEEDS = Path(__file__).parent / "data" / "seeds"
_PREFIX = re.compile(r"\((\d+)/(\d+)\) ")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)


def _seed_paths() -> list[Path]:
    """The copies in tests/data always; the shared originals when this checkout has them."""
    by_name = {path.name: path for path in sorted(LOCAL_SEEDS.glob("*.txt"))}
    if SHARED_SEEDS.is_dir():
        by_name.update({path.name: path for path in sorted(SHARED_SEEDS.glob("*.txt"))})
    return [by_name[name] for name in sorted(by_name)]


SEEDS = _seed_paths()


def _bodies(parts: list[str]) -> list[str]:
    """The parts without their `(i/n) ` prefixes, checking the numbering on the way."""
    if len(parts) == 1:
        assert not _PREFIX.match(parts[0])
        return parts
    bodies = []
    for index, part in enumerate(parts, start=1):
        match = _PREFIX.match(part)
        assert match is not None, part[:20]
        assert (int(match[1]), int(match[2])) == (index, len(parts))
        bodies.append(part[match.end() :])
    return bodies


def _assert_rejoins(text: str, bodies: list[str]) -> list[str]:
    """Each body is the next piece of `text`; only white space lies between them. Returns gaps."""
    gaps, index = [], 0
    for body in bodies:
        assert body and body == body.strip()
        found = text.find(body, index)
        assert found >= 0
        gaps.append(text[index:found])
        assert gaps[-1].strip() == ""
        index = found + len(body)
    assert text[index:].strip() == ""
    return gaps[1:]  # the white space at each cut (the first gap is the text's lead)


def _u16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le")


_MARKED = re.compile(r"covid-19|\d{1,2}/\d{1,2}/20\d\d", re.IGNORECASE)


def _seed_entities(source: str) -> tuple[str, list[tuple[int, int, object]]]:
    """The seed without its `**bold**` marks, with entities (UTF-16) for the bold runs and for
    every date and "Covid-19" (as a bot would link or highlight them)."""
    text, entities, last = "", [], 0
    for match in _BOLD.finditer(source):
        text += source[last : match.start()]
        entities.append((utf16_len(text), utf16_len(match[1]), "bold"))
        text += match[1]
        last = match.end()
    text += source[last:]
    for match in _MARKED.finditer(text):
        offset = utf16_len(text[: match.start()])
        entities.append((offset, utf16_len(match[0]), "marked"))
    return text, entities


# --------------------------------------------------------------------------- simple cases


def test_a_short_text_is_one_part_without_a_number() -> None:
    assert split_message("  Kính gửi các đồng chí.\n") == ["Kính gửi các đồng chí."]
    assert split_message("x" * MESSAGE_LIMIT) == ["x" * MESSAGE_LIMIT]


def test_blank_text_gives_no_parts() -> None:
    assert split_message("") == []
    assert split_message(" \n\n\t ") == []


def test_paragraphs_come_before_lines_sentences_and_spaces() -> None:
    text = "Một. Hai ba\nbốn năm.\n\nSáu bảy tám."
    assert split_message(text, limit=25, numbered=False) == [
        "Một. Hai ba\nbốn năm.",
        "Sáu bảy tám.",
    ]


def test_line_breaks_come_before_sentences() -> None:
    text = "Điều 1. Dừng lại\nĐiều 2. Tiếp tục"
    assert split_message(text, limit=24, numbered=False) == ["Điều 1. Dừng lại", "Điều 2. Tiếp tục"]


def test_sentences_come_before_spaces() -> None:
    text = "Tự cách ly ngay. Thông báo cho trạm y tế phường"
    assert split_message(text, limit=30, numbered=False) == [
        "Tự cách ly ngay.",
        "Thông báo cho trạm y tế phường",
    ]


def test_a_sentence_end_may_be_followed_by_a_closing_quote() -> None:
    text = "Thực hiện “5K.” Giữ khoảng cách an toàn"
    parts = split_message(text, limit=28, numbered=False)
    assert parts[0] == "Thực hiện “5K.”"


def test_spaces_when_nothing_better_is_there() -> None:
    assert split_message("ho sốt khó thở", limit=8, numbered=False) == ["ho sốt", "khó thở"]


def test_numbered_parts_fit_with_their_prefix() -> None:
    parts = split_message("một hai ba bốn năm sáu", limit=14)
    assert parts == ["(1/3) một hai", "(2/3) ba bốn", "(3/3) năm sáu"]
    assert all(len(part) <= 14 for part in parts)


def test_the_prefix_widens_when_there_are_ten_parts_or_more() -> None:
    text = " ".join(f"w{i:02d}" for i in range(30))
    parts = split_message(text, limit=12)
    assert len(parts) >= 10
    assert parts[0].startswith(f"(1/{len(parts)}) ")
    assert all(len(part) <= 12 for part in parts)
    assert " ".join(_bodies(parts)) == text


def test_a_word_longer_than_a_part_is_cut_hard_but_keeps_its_accents() -> None:
    word = "Nghie\u0302\u0323m" * 4  # "Nghiệm" decomposed: combining marks after the 'e'
    parts = split_message(word, limit=5, numbered=False)
    assert "".join(parts) == word
    assert all(len(part) <= 5 for part in parts)
    assert all(part[0] not in "\u0302\u0323" for part in parts)


def test_length_counts_utf16_units_for_emoji() -> None:
    text = "😷" * 5  # each is two UTF-16 units
    parts = split_message(text, limit=4, numbered=False)
    assert parts == ["😷😷", "😷😷", "😷"]
    assert all(utf16_len(part) <= 4 for part in parts)


def test_a_limit_with_no_room_for_text_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_message("a b", limit=1)
    with pytest.raises(ValueError, match="too small"):
        split_message("a " * 50, limit=7)


# --------------------------------------------------------------------------- entities


def test_cuts_avoid_entities_and_offsets_are_rebased() -> None:
    text = "Số: 1061/UBND-VP ngày 26/05/2021 của UBND quận"
    reference = "1061/UBND-VP ngày 26/05/2021"
    entities = [(text.index(reference), len(reference), "bold")]
    assert split_message(text, limit=30, numbered=False) == [
        "Số: 1061/UBND-VP ngày",  # plain text: the greedy cut would fall inside the reference
        "26/05/2021 của UBND quận",
    ]
    parts = split_with_entities(text, entities, limit=30, numbered=False)
    assert parts == [("Số:", []), (reference, [(0, len(reference), "bold")]), ("của UBND quận", [])]


def test_entity_offsets_include_the_number_prefix() -> None:
    text = "Kính gửi các đồng chí. Trưởng các Ban Đảng Quận ủy"
    start = text.index("Trưởng")
    parts = split_with_entities(text, [(start, 6, "italic")], limit=40)
    part, entities = parts[1]
    assert part.startswith("(2/2) ")
    assert [_u16_slice(part, off, length) for off, length, _ in entities] == ["Trưởng"]
    assert entities[0][0] == len("(2/2) ")


def test_entity_offsets_after_emoji_are_in_utf16_units() -> None:
    text = "🦠 Cảnh báo 🦠\n\n😷 Đeo khẩu trang nơi công cộng"
    start = utf16_len(text[: text.index("Đeo")])
    parts = split_with_entities(text, [(start, utf16_len("Đeo khẩu trang"), 1)], limit=40)
    assert len(parts) == 2
    part, entities = parts[1]
    assert [(_u16_slice(part, off, n), p) for off, n, p in entities] == [("Đeo khẩu trang", 1)]


def test_an_entity_longer_than_a_part_is_cut_and_each_piece_keeps_it() -> None:
    text = "Chú ý: " + "khẩn " * 20 + "hết."
    start = text.index("khẩn")
    parts = split_with_entities(text, [(start, len(text) - start, "bold")], limit=30)
    assert len(parts) > 2
    assert parts[0] == (f"(1/{len(parts)}) Chú ý:", [])  # a cut before the entity is preferred
    for part, entities in parts[1:]:
        assert entities == [(6, utf16_len(part) - 6, "bold")]  # all of it bold, past "(i/n) "
    assert "".join(p[6:].replace(" ", "") for p, _ in parts[1:]) == "khẩn" * 20 + "hết."


def test_two_tuple_entities_get_a_none_payload_and_nested_entities_stay_whole() -> None:
    text = "aaa bbb ccc ddd eee"
    parts = split_with_entities(text, [(4, 11), (8, 3, "inner")], limit=12, numbered=False)
    assert [part for part, _ in parts] == ["aaa", "bbb ccc ddd", "eee"]
    assert parts[1][1] == [(0, 11, None), (4, 3, "inner")]


def test_entities_outside_the_text_are_refused() -> None:
    with pytest.raises(ValueError, match="entity"):
        split_with_entities("abc", [(2, 5)], limit=10)
    with pytest.raises(ValueError, match="entity"):
        split_with_entities("abc", [(-1, 1)], limit=10)


# --------------------------------------------------------------------------- the seeds


def test_the_seed_copies_are_present() -> None:
    assert len(list(LOCAL_SEEDS.glob("*.txt"))) >= 2
    assert all(path.stat().st_size > 7_000 for path in LOCAL_SEEDS.glob("*.txt"))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_a_seed_splits_at_paragraphs_into_telegram_messages(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    parts = split_message(text)
    assert 2 <= len(parts) <= 5  # 7–15 KB of text
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in parts)
    gaps = _assert_rejoins(text, _bodies(parts))
    # Every paragraph of the seeds is far shorter than a message: cuts fall at blank lines.
    assert all(gap.count("\n") >= 2 for gap in gaps)
    # Greedy: each part but the last is well filled.
    assert all(utf16_len(part) > MESSAGE_LIMIT - 1_500 for part in parts[:-1])


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
@pytest.mark.parametrize("limit", [300, 1_000, MESSAGE_LIMIT])
def test_a_seed_with_entities_keeps_every_entity_whole(path: Path, limit: int) -> None:
    text, entities = _seed_entities(path.read_text(encoding="utf-8"))
    assert len(entities) >= 5
    wanted = [(_u16_slice(text, off, n).strip(), kind) for off, n, kind in entities]
    parts = split_with_entities(text, entities, limit)
    assert all(utf16_len(part) <= limit for part, _ in parts)
    _assert_rejoins(text, _bodies([part for part, _ in parts]))
    carried = [(_u16_slice(part, off, n), kind) for part, ents in parts for off, n, kind in ents]
    assert sorted(carried) == sorted((piece, kind) for piece, kind in wanted if piece)


# --------------------------------------------------------------------------- properties

_WORD_CHARS = "abcdeghiklmnoqrstuvxyđăâêôơưáàảãạếềểễệốồổỗộớờởỡợứừửữựĐÂ.,!?…”😷0123456789"
_words = st.text(alphabet=_WORD_CHARS, min_size=1, max_size=8)
_separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", " \n \n", "\t", "  "])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(_words, min_size=1, max_size=120))
    seps = draw(st.lists(_separators, min_size=len(words), max_size=len(words)))
    lead = draw(st.sampled_from(["", " ", "\n"]))
    return lead + "".join(w + s for w, s in zip(words, seps, strict=True))


@given(_texts(), st.integers(min_value=24, max_value=400), st.booleans())
def test_parts_fit_rejoin_and_never_cut_a_word(text: str, limit: int, numbered: bool) -> None:
    parts = split_message(text, limit, numbered)
    assert all(utf16_len(part) <= limit for part in parts)
    bodies = _bodies(parts) if numbered else parts
    gaps = _assert_rejoins(text, bodies)
    assert all(gap for gap in gaps)  # white space at every cut: no word was cut
    assert set(text.split()) >= {word for body in bodies for word in body.split()}


@given(st.text(max_size=600), st.integers(min_value=2, max_value=80))
def test_any_text_at_any_limit_fits_and_rejoins(text: str, limit: int) -> None:
    parts = split_message(text, limit, numbered=False)
    assert all(utf16_len(part) <= limit for part in parts)
    _assert_rejoins(text, parts)


@st.composite
def _texts_with_entities(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, object]]]:
    text = draw(_texts())
    entities = []
    for index in range(draw(st.integers(0, 8))):
        start = draw(st.integers(0, len(text)))
        stop = draw(st.integers(start, min(start + 20, len(text))))
        offset = utf16_len(text[:start])
        entities.append((offset, utf16_len(text[start:stop]), index))
    return text, entities


@given(_texts_with_entities(), st.integers(min_value=30, max_value=300))
def test_every_entity_is_carried_without_loss(
    case: tuple[str, list[tuple[int, int, object]]], limit: int
) -> None:
    text, entities = case
    parts = split_with_entities(text, entities, limit)
    _assert_rejoins(text, _bodies([part for part, _ in parts]))
    pieces: dict[object, list[str]] = {}
    for part, ents in parts:
        assert utf16_len(part) <= limit
        for offset, length, payload in ents:
            assert length > 0 and offset + length <= utf16_len(part)
            pieces.setdefault(payload, []).append(_u16_slice(part, offset, length))
    for offset, length, payload in entities:
        original = _u16_slice(text, offset, length)
        carried = "".join(pieces.get(payload, []))
        assert "".join(carried.split()) == "".join(original.split())


@st.composite
def _texts_with_word_entities(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, object]]]:
    """Text with disjoint entities of whole words, each at most 20 UTF-16 units long."""
    words = draw(st.lists(_words, min_size=1, max_size=120))
    seps = draw(st.lists(_separators, min_size=len(words), max_size=len(words)))
    text, starts = "", []
    for word, sep in zip(words, seps, strict=True):
        starts.append(utf16_len(text))
        text += word + sep
    entities: list[tuple[int, int, object]] = []
    index = 0
    while index < len(words):
        span = draw(st.integers(0, 3))
        ends = [
            starts[i] + utf16_len(words[i]) for i in range(index, min(index + span, len(words)))
        ]
        fitting = [end for end in ends if end - starts[index] <= 20]
        if fitting:
            entities.append((starts[index], fitting[-1] - starts[index], len(entities)))
        index += max(span, 1)
    return text, entities


@given(_texts_with_word_entities(), st.integers(min_value=40, max_value=300))
def test_short_entities_are_never_cut(
    case: tuple[str, list[tuple[int, int, object]]], limit: int
) -> None:
    text, entities = case
    parts = split_with_entities(text, entities, limit)
    carried = {
        payload: _u16_slice(part, offset, length)
        for part, ents in parts
        for offset, length, payload in ents
    }
    assert sum(len(ents) for _, ents in parts) == len(entities)  # one piece each: none was cut
    for offset, length, payload in entities:
        assert carried[payload] == _u16_slice(text, offset, length)
