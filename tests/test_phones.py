from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.phones import normalize_phone


@pytest.mark.parametrize(
    "written",
    [
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "(+84) 912 345 678",
        "+84912345678",
        "+84 912 345 678",
        "84912345678",
        "0084912345678",
        "  0912345678  ",
        "0912\u00a0345\u00a0678",  # the no-break space Excel writes
        "+84 0912 345 678",  # trunk 0 kept after the country code
    ],
)
def test_mobile_in_common_forms(written: str) -> None:
    assert normalize_phone(written) == "+84912345678"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("024 3872 1234", "+842438721234"),
        ("(024) 3872-1234", "+842438721234"),
        ("+84 24 3872 1234", "+842438721234"),
        ("842438721234", "+842438721234"),
        ("0388 123 456", "+84388123456"),
        ("0555 123 456", "+84555123456"),
        ("0777 123 456", "+84777123456"),
        ("0888 123 456", "+84888123456"),
    ],
)
def test_landlines_and_every_mobile_prefix(written: str, expected: str) -> None:
    assert normalize_phone(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "",
        "   ",
        "abc",
        "0912 345 67a",
        "0912 345 67",  # too short
        "0912 345 6789",  # too long
        "912345678",  # no trunk 0 nor country code: ambiguous
        "0112 345 678",  # no mobile starts with 1
        "0212 345 678",  # a landline needs 10 digits
        "+1 212 555 0100",  # not Vietnam
        "++84912345678",
        "0912+345678",
        "8491234567",
        "0٩12345678",  # a non-ASCII digit
        "tel: 0912345678",
    ],
)
def test_rejects_what_is_not_a_vietnamese_number(written: str) -> None:
    assert normalize_phone(written) is None


def test_non_text_is_rejected_not_raised() -> None:
    assert normalize_phone(912345678) is None  # type: ignore[arg-type]
    assert normalize_phone(None) is None  # type: ignore[arg-type]


@given(st.text())
def test_never_raises_and_is_idempotent(text: str) -> None:
    normalized = normalize_phone(text)
    assert normalized is None or normalize_phone(normalized) == normalized


@given(st.text(alphabet="0123456789 +().-", max_size=20))
def test_output_is_always_the_stored_form(text: str) -> None:
    normalized = normalize_phone(text)
    if normalized is not None:
        assert normalized.startswith("+84")
        assert normalized[1:].isdigit()
        assert len(normalized) in (12, 13)


MOBILE_FORMS = (
    "0{p}{a} {b} {c}",
    "0{p}{a}.{b}.{c}",
    "0{p}{a}-{b}-{c}",
    "(+84) {p}{a} {b} {c}",
    "+84{p}{a}{b}{c}",
    "84{p}{a}{b}{c}",
    "0084{p}{a}{b}{c}",
    "0{p}{a}{b}{c}",
)


@given(
    prefix=st.sampled_from("35789"),
    digits=st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_every_form_of_a_mobile_gives_the_same_number(prefix: str, digits: str) -> None:
    parts = {"p": prefix, "a": digits[:2], "b": digits[2:5], "c": digits[5:]}
    normalized = {normalize_phone(form.format(**parts)) for form in MOBILE_FORMS}
    assert normalized == {f"+84{prefix}{digits}"}
