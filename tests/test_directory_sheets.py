"""The directory as sheets (bot/domain/directory_sheets.py): Vietnamese headers, the routing rules
written back as TOML, and what a unit admin may change."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.directory_files import parse_routing
from bot.domain.directory_sheets import (
    HEADERS_VI,
    column_code,
    local_phone,
    routing_text,
    staff_header,
)
from bot.domain.models import RoutingRule, Target, TargetKind
from bot.domain.text import nfc

CODES = st.text(
    st.characters(categories=("L", "N"), include_characters="_-."), min_size=1, max_size=12
)


def test_vietnamese_headers_read_as_codes_whatever_the_case_and_accents() -> None:
    assert column_code("Số điện thoại") == "phone"
    assert column_code("  SO DIEN THOAI ") == "phone"
    assert column_code("phone") == "phone" and column_code("ghi chú") == "ghi chú"
    assert [column_code(h) for h in staff_header()][:3] == ["staff_id", "full_name", "phone"]
    assert len(set(HEADERS_VI.values())) == len(HEADERS_VI)


def test_local_phone() -> None:
    assert local_phone("+84912345678") == "0912345678"
    assert local_phone("0912345678") == "0912345678"


@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=40), st.lists(CODES, max_size=3), CODES),
        min_size=1,
        max_size=4,
    )
)
def test_routing_rules_written_back_parse_to_the_same_rules(
    raw: list[tuple[str, list[str], str]],
) -> None:
    """The rules as stored (names trimmed and NFC, as the import keeps them)."""
    raw = [(nfc(name.strip()), groups, role) for name, groups, role in raw]
    if any(not name for name, _, _ in raw):
        return
    rules = [
        RoutingRule(name, Target(TargetKind.ROLE, role), tuple(groups))
        for name, groups, role in raw[:-1]
    ] + [
        RoutingRule(
            raw[-1][0], Target(TargetKind.UNIT_HEAD), notify=(Target(TargetKind.STAFF, raw[-1][2]),)
        )
    ]
    parsed, problems = parse_routing(routing_text(rules), "routing.toml")
    assert problems == []
    assert parsed == rules
