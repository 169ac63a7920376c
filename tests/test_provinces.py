from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.provinces import (
    Province,
    all_provinces,
    normalize_place,
    province_by_name,
    same_province,
    search_provinces,
)
from bot.domain.text import fold


def _entries() -> list[tuple[str, str, str]]:
    """(text, via, official name) for every name, alias and former province in the data."""
    rows: list[tuple[str, str, str]] = []
    for p in all_provinces():
        rows.append((p.name, "name", p.name))
        rows += [(alias, "alias", p.name) for alias in p.aliases]
        rows += [(former, "absorbed", p.name) for former in p.absorbed]
    return rows


def test_the_34_units_in_file_order() -> None:
    provinces = all_provinces()
    assert len(provinces) == 34
    assert len({p.name for p in provinces}) == 34
    assert provinces[0] == Province("Hà Nội", "city", (), ("HN", "Ha Noi", "Thủ đô"))
    assert provinces[-1].name == "An Giang"
    assert [p.name for p in provinces if p.kind == "city"] == [
        "Hà Nội", "Huế", "Hải Phòng", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ",
    ]  # fmt: skip
    assert province_by_name("Hồ Chí Minh").absorbed == ("Bình Dương", "Bà Rịa - Vũng Tàu")  # type: ignore[union-attr]


def test_all_provinces_is_read_once() -> None:
    assert all_provinces() is all_provinces()


@pytest.mark.parametrize(
    ("typed", "expected", "via"),
    [
        ("ha noi", "Hà Nội", "name"),
        ("Hà Nội", "Hà Nội", "name"),
        ("HÀ   NỘI ", "Hà Nội", "name"),
        ("hanoi", "Hà Nội", "name"),
        ("HN", "Hà Nội", "alias"),
        ("hn", "Hà Nội", "alias"),
        ("Thủ đô", "Hà Nội", "alias"),
        ("HCM", "Hồ Chí Minh", "alias"),
        ("tp ho chi minh", "Hồ Chí Minh", "name"),
        ("TP. Hồ Chí Minh", "Hồ Chí Minh", "name"),
        ("thành phố Hồ Chí Minh", "Hồ Chí Minh", "name"),
        ("Sài Gòn", "Hồ Chí Minh", "alias"),
        ("saigon", "Hồ Chí Minh", "alias"),
        ("Đà Nẵng", "Đà Nẵng", "name"),
        ("da nang", "Đà Nẵng", "name"),
        ("tp Đà Nẵng", "Đà Nẵng", "name"),
        ("tỉnh Bắc Ninh", "Bắc Ninh", "name"),
        ("tinh bac ninh", "Bắc Ninh", "name"),
        ("Thừa Thiên Huế", "Huế", "alias"),
        ("Bắc Giang", "Bắc Ninh", "absorbed"),
        ("bac giang", "Bắc Ninh", "absorbed"),
        ("Quảng Nam", "Đà Nẵng", "absorbed"),
        ("ba ria vung tau", "Hồ Chí Minh", "absorbed"),
        ("Bà Rịa-Vũng Tàu", "Hồ Chí Minh", "absorbed"),
        ("Nam Định", "Ninh Bình", "absorbed"),
    ],
)
def test_typed_forms_find_the_unit_first(typed: str, expected: str, via: str) -> None:
    first = search_provinces(typed)[0]
    assert (first.province.name, first.via, first.exact) == (expected, via, True)


def test_the_match_reports_what_was_typed() -> None:
    assert search_provinces("HCM")[0].matched == "HCM"
    assert search_provinces("tp hcm")[0].matched == "TP HCM"
    assert search_provinces("bac giang")[0].matched == "Bắc Giang"


def test_exact_then_prefix_then_substring() -> None:
    found = search_provinces("Vinh")
    assert (found[0].province.name, found[0].matched, found[0].exact) == ("Nghệ An", "Vinh", True)
    assert {m.province.name for m in found[1:]} == {"Vĩnh Long", "Phú Thọ"}  # Vĩnh Long, Vĩnh Phúc
    assert not any(m.exact for m in found[1:])

    found = search_provinces("quang")
    names = [m.province.name for m in found]
    prefix = ["Quảng Ninh", "Quảng Trị", "Quảng Ngãi"]  # names, file order
    assert names[:3] == prefix
    assert names.index("Đà Nẵng") > 2  # the former Quảng Nam: a prefix via an absorbed name
    assert names[-1] == "Tuyên Quang"  # a substring comes last


def test_one_match_per_province_and_the_limit() -> None:
    found = search_provinces("h")
    assert len(found) == 8
    assert len({m.province.name for m in found}) == 8
    assert len(search_provinces("h", limit=3)) == 3
    assert search_provinces("ha noi", limit=0) == []


@pytest.mark.parametrize("typed", ["", "   ", "tp", "thành phố", "...", "xyz", "Paris", "北京"])
def test_nothing_found(typed: str) -> None:
    assert search_provinces(typed) == []


def test_province_by_name_is_exact() -> None:
    assert province_by_name("Hà Nội") == all_provinces()[0]
    assert province_by_name(unicodedata.normalize("NFD", " Hà Nội ")) == all_provinces()[0]
    assert province_by_name("ha noi") is None
    assert province_by_name("Bắc Giang") is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Hà Nội", "Thủ đô", True),
        ("Hà Nội", "ha noi", True),
        ("Hồ Chí Minh", "Sài Gòn", True),
        ("Bắc Ninh", "Bắc Giang", True),
        ("Hà Nội", "Hồ Chí Minh", False),
        ("Hà Nội", "Hà Nam", False),
        ("Hà Nội", "xyz", False),
        ("Hà", "Hà Nội", False),  # a prefix is not the same place
        ("Sông Công", "song cong", True),  # no unit: compared as text
        ("", "", False),
    ],
)
def test_same_province(a: str, b: str, same: bool) -> None:
    assert same_province(a, b) is same
    assert same_province(b, a) is same


def test_normalize_place() -> None:
    assert normalize_place("  TP.  Hồ  Chí-Minh ") == "ho chi minh"
    assert normalize_place("tỉnh") == "tinh"  # a bare prefix is kept


_FORMS = [
    lambda s: s,
    fold,
    str.upper,
    lambda s: f"  {s}  ",
    lambda s: unicodedata.normalize("NFD", s),
]


@given(st.sampled_from(_entries()), st.sampled_from(_FORMS))
def test_every_name_alias_and_former_province_finds_its_unit_first(
    entry: tuple[str, str, str], form: object
) -> None:
    text, _, official = entry
    found = search_provinces(form(text))  # type: ignore[operator]
    assert found[0].province.name == official
    assert found[0].exact


@given(st.text(max_size=300), st.integers(min_value=-2, max_value=40))
def test_search_never_raises(query: str, limit: int) -> None:
    found = search_provinces(query, limit=limit)
    assert len(found) <= max(limit, 0)
    assert len({m.province.name for m in found}) == len(found)
    exact_flags = [m.exact for m in found]
    assert exact_flags == sorted(exact_flags, reverse=True)  # exact matches come first


@given(st.text(max_size=50), st.text(max_size=50))
def test_same_province_never_raises_and_is_symmetric(a: str, b: str) -> None:
    assert same_province(a, b) == same_province(b, a)
