"""Vietnamese phone numbers: any common written form to one stored form, `+84912345678`."""

from __future__ import annotations

import re

COUNTRY_CODE = "84"
MOBILE_LEADING_DIGITS = frozenset("35789")
LANDLINE_LEADING_DIGIT = "2"
MOBILE_LENGTH = 9  # national significant number, without the trunk 0
LANDLINE_LENGTH = 10

# Digits with the separators people type: spaces (also the no-break space Excel writes), dots,
# dashes, slashes, brackets; a `+` only in front, possibly inside the bracket: `(+84) 912 345 678`.
_WRITTEN_FORM = re.compile(r"\(?\+?[0-9][0-9 .\-/()\u00a0]*")
_NOT_DIGITS = re.compile(r"[^0-9]")
_MAX_INPUT_LENGTH = 40
_INTERNATIONAL_LENGTHS = frozenset(
    {len(COUNTRY_CODE) + MOBILE_LENGTH, len(COUNTRY_CODE) + LANDLINE_LENGTH}
)


def normalize_phone(raw: str) -> str | None:
    """`0912 345 678`, `(+84) 912 345 678`, `0084912345678` … → `+84912345678`, else None.

    Accepts mobiles (9 significant digits starting with 3, 5, 7, 8 or 9) and landlines (10 starting
    with 2), written with the trunk 0, with `+84`, `84` or `0084`. Never raises.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if len(text) > _MAX_INPUT_LENGTH or not _WRITTEN_FORM.fullmatch(text):
        return None
    significant = _significant_number(_NOT_DIGITS.sub("", text), has_plus="+" in text)
    if significant is None or not _is_valid_significant(significant):
        return None
    return f"+{COUNTRY_CODE}{significant}"


def _significant_number(digits: str, has_plus: bool) -> str | None:
    """The national significant number: the digits without country code and trunk 0."""
    if has_plus:
        if not digits.startswith(COUNTRY_CODE):
            return None
        return _drop_trunk_zero(digits[len(COUNTRY_CODE) :])
    if digits.startswith("00" + COUNTRY_CODE):
        return _drop_trunk_zero(digits[2 + len(COUNTRY_CODE) :])
    if digits.startswith("0"):
        return digits[1:]
    if digits.startswith(COUNTRY_CODE) and len(digits) in _INTERNATIONAL_LENGTHS:
        return digits[len(COUNTRY_CODE) :]
    return None


def _drop_trunk_zero(significant: str) -> str:
    """`+84 0912 …` is a common slip: the trunk 0 kept after the country code."""
    return significant[1:] if significant.startswith("0") else significant


def _is_valid_significant(significant: str) -> bool:
    if len(significant) == MOBILE_LENGTH:
        return significant[0] in MOBILE_LEADING_DIGITS
    if len(significant) == LANDLINE_LENGTH:
        return significant[0] == LANDLINE_LEADING_DIGIT
    return False


def display_phone(stored: str | None) -> str:
    """`+84912000027` → `0912 000 027`, `+842438123456` → `024 3812 3456`: the stored form as
    people write it in Vietnam; any other text is returned as it is (never raises)."""
    if not stored:
        return ""
    prefix = f"+{COUNTRY_CODE}"
    significant = stored[len(prefix) :] if stored.startswith(prefix) else ""
    if not significant.isdigit() or not _is_valid_significant(significant):
        return stored
    national = "0" + significant
    if len(significant) == MOBILE_LENGTH:
        return f"{national[:4]} {national[4:7]} {national[7:]}"
    return f"{national[:3]} {national[3:7]} {national[7:]}"


def national_form(phone: str) -> str:
    """The stored `+84912345678` as people dial it, `0912345678` (also safe in a spreadsheet)."""
    prefix = f"+{COUNTRY_CODE}"
    return "0" + phone[len(prefix) :] if phone.startswith(prefix) else phone
