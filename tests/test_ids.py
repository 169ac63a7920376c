"""The one reader of record numbers (bot/domain/ids.py): ASCII digits, bounded, never raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ids import MAX_ID_DIGITS, looks_like_id, parse_id


def test_plain_and_hash_numbers_are_read() -> None:
    assert parse_id("12") == 12
    assert parse_id("#12") == 12
    assert parse_id("007") == 7
    assert parse_id("9" * MAX_ID_DIGITS) == int("9" * MAX_ID_DIGITS)


def test_unicode_digits_huge_numbers_and_words_name_no_record() -> None:
    for text in ("²", "١٢", "１２", "99999999999999999999", "9" * (MAX_ID_DIGITS + 1), "", "#",
                 "-1", "+1", " 1", "1 ", "1.0", "0x10", "1_000", "##1"):  # fmt: skip
        assert parse_id(text) is None, text


def test_what_looks_like_a_number_is_told_apart_from_other_text() -> None:
    assert looks_like_id("²") and looks_like_id("#99999999999999999999") and looks_like_id("12")
    assert not looks_like_id("add") and not looks_like_id("") and not looks_like_id("#")


@given(st.text())
def test_any_text_is_a_bounded_number_or_none(text: str) -> None:
    number = parse_id(text)
    if number is not None:
        assert 0 <= number < 10**MAX_ID_DIGITS
        assert text.removeprefix("#").isascii()


@given(st.integers(min_value=0, max_value=10**MAX_ID_DIGITS - 1))
def test_every_bounded_number_reads_back(number: int) -> None:
    assert parse_id(str(number)) == number
    assert parse_id(f"#{number}") == number
