"""Who a directive may reach and who signs it off (pure): the admin's units, the district."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.directory import Directory, administered_units, is_top_unit, signers_for
from bot.domain.models import Staff, Unit, UnitKind
from bot.services.broadcast.audience import members, outside_scope
from bot.services.broadcast.signoff import needs_signoff

UNITS = [
    Unit("D", "Quận (mẫu)", UnitKind.OTHER),
    Unit("W1", "Phường 1", UnitKind.WARD, "D"),
    Unit("W2", "Phường 2", UnitKind.WARD, "D"),
    Unit("W1-S", "Trường Phường 1", UnitKind.SCHOOL, "W1"),
]
STAFF = [
    Staff("D-1", "Bí thư", "+84912000101", "D", "top_leader", roles=frozenset({"unit_head"})),
    Staff("D-2", "Phó Bí thư", "+84912000102", "D", "x", roles=frozenset({"deputy_head"})),
    Staff("D-9", "Quản trị quận", "+84912000109", "D", "staff", roles=frozenset({"admin"})),
    Staff("W1-1", "Chủ tịch P1", "+84912000111", "W1", "x", roles=frozenset({"unit_head"})),
    Staff("W1-9", "Quản trị P1", "+84912000119", "W1", "staff", roles=frozenset({"unit_admin"})),
    Staff("S-1", "Hiệu trưởng", "+84912000121", "W1-S", "x", roles=frozenset({"unit_head"})),
    Staff("W2-1", "Chủ tịch P2", "+84912000131", "W2", "x", roles=frozenset({"unit_head"})),
]
DIRECTORY = Directory(UNITS, STAFF, [])


def test_a_unit_admin_administers_their_unit_and_below_a_district_admin_all() -> None:
    assert administered_units(DIRECTORY, DIRECTORY.staff["D-9"]) is None
    assert administered_units(DIRECTORY, DIRECTORY.staff["W1-9"]) == {"W1", "W1-S"}
    assert administered_units(DIRECTORY, DIRECTORY.staff["W1-1"]) == set()  # a head, no admin


def test_the_signers_are_the_units_leaders_then_those_above() -> None:
    assert signers_for(DIRECTORY, None) == ["D-1", "D-2"]
    assert signers_for(DIRECTORY, "W1") == ["W1-1", "D-1"]
    assert is_top_unit(DIRECTORY, None) and is_top_unit(DIRECTORY, "D")
    assert not is_top_unit(DIRECTORY, "W1")


def test_the_setting_says_which_directives_need_a_signature() -> None:
    assert needs_signoff("district", DIRECTORY, None, "D-9")
    assert not needs_signoff("district", DIRECTORY, "W1", "W1-9")
    assert needs_signoff("all", DIRECTORY, "W1", "W1-9")
    assert not needs_signoff("all", DIRECTORY, "W1", "W1-1")  # the head drafted it: signed
    assert not needs_signoff("none", DIRECTORY, None, "D-9")


AUDIENCES = st.one_of(
    st.just({"kind": "all"}),
    st.builds(
        lambda values: {"kind": "units", "values": values},
        st.lists(st.sampled_from([u.unit_id for u in UNITS] + ["NOPE"]), max_size=4),
    ),
    st.builds(
        lambda values: {"kind": "roles", "values": values},
        st.lists(st.sampled_from(["unit_head", "admin", "unit_admin", "x"]), max_size=3),
    ),
)


@given(AUDIENCES)
def test_no_audience_reaches_outside_the_scope(audience: dict[str, Any]) -> None:
    reached = {p.unit_id for p in members(DIRECTORY, audience, "W1")}
    assert reached <= {"W1", "W1-S"}
    named = set(audience.get("values", ())) if audience["kind"] == "units" else set()
    assert set(outside_scope(DIRECTORY, audience, "W1")) == named - {"W1", "W1-S"}
    assert outside_scope(DIRECTORY, audience, None) == []


def test_district_wide_directives_need_a_signature_unless_the_office_says_otherwise() -> None:
    from bot.config import Settings

    assert Settings(_env_file=None).broadcast_signoff == "district"  # type: ignore[call-arg]
    assert Settings(_env_file=None, broadcast_signoff="none").broadcast_signoff == "none"  # type: ignore[call-arg]
