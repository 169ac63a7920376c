"""Turning the rows of units.csv, staff.csv and routing.toml into a Directory, or problems."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.domain.directory import resolve_route
from bot.domain.directory_files import (
    DirectoryLoad,
    Table,
    load_directory,
    parse_routing,
    parse_target,
    split_roles,
)
from bot.domain.models import Target, TargetKind, UnitKind
from bot.services.registration.tabular import read_table

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

UNIT_HEADER = ["unit_id", "name", "kind", "parent_id", "health_contact"]
STAFF_HEADER = [
    "staff_id",
    "full_name",
    "phone",
    "unit_id",
    "position",
    "position_group",
    "roles",
    "language",
]

UNITS = [
    ["Q", "Quận Mẫu", "other", "", ""],
    ["VP", "Văn phòng Quận ủy", "party", "Q", ""],
    ["P1", "Phường Một", "ward", "Q", "Trạm Y tế phường Một, 024 3000 0001"],
]
STAFF = [
    [
        "bt",
        "Nguyễn Văn An",
        "0912 000 001",
        "Q",
        "Bí thư",
        "top_leader",
        "unit_head;party_secretary",
        "",
    ],
    [
        "vp_h",
        "Trần Thị Bình",
        "0912 000 002",
        "VP",
        "Chánh Văn phòng",
        "party_deputy",
        "unit_head",
        "",
    ],
    ["vp_s", "Lê Văn Cường", "0912 000 003", "VP", "Chuyên viên", "staff", "", "en"],
    ["p1_h", "Phạm Thị Dung", "0912 000 004", "P1", "Chủ tịch", "ward_head", "unit_head", ""],
    ["p1_s", "Đinh Thị Thu Hương", "0912 000 005", "P1", "Cán bộ", "staff", "", "vi"],
]
ROUTING = """
[[rule]]
name = "Bí thư"
position_groups = ["top_leader"]
approver = "none"

[[rule]]
name = "Văn phòng"
position_groups = ["party_deputy"]
approver = "role:party_secretary"

[[rule]]
name = "Còn lại"
approver = "unit_head"
notify = ["role:party_secretary"]
"""


def table(file: str, header: list[str], rows: list[list[str]]) -> Table:
    numbered = [
        (number, dict(zip(header, row, strict=False))) for number, row in enumerate(rows, 2)
    ]
    return Table(file=file, header=header, rows=numbered)


def load(
    units: list[list[str]] = UNITS,
    staff: list[list[str]] = STAFF,
    routing: str = ROUTING,
    unit_header: list[str] = UNIT_HEADER,
    staff_header: list[str] = STAFF_HEADER,
) -> DirectoryLoad:
    return load_directory(
        table("units.csv", unit_header, units),
        table("staff.csv", staff_header, staff),
        routing,
    )


def messages(result: DirectoryLoad) -> list[str]:
    return [str(problem) for problem in result.problems]


def with_row(rows: list[list[str]], index: int, column: int, value: str) -> list[list[str]]:
    changed = [list(row) for row in rows]
    changed[index][column] = value
    return changed


def test_the_examples_load_without_problems() -> None:
    result = load_directory(
        read_table(EXAMPLES / "units.csv"),
        read_table(EXAMPLES / "staff.csv"),
        (EXAMPLES / "routing.toml").read_text(encoding="utf-8"),
    )
    assert result.problems == []
    assert result.warnings == []
    directory = result.directory
    assert directory is not None
    assert len(directory.units) == 7
    assert len(directory.staff) == 40
    assert {unit.kind for unit in directory.units.values()} == set(UnitKind) - {UnitKind.OTHER}
    assert [unit.unit_id for unit in directory.ancestors("HB-TH")] == ["HB"]  # not the office
    assert sum(person.language == "en" for person in directory.staff.values()) == 2
    assert len({person.phone for person in directory.staff.values()}) == 40
    for role in ("admin", "health_officer", "duty_officer"):
        assert len(directory.with_role(role)) == 1
    assert all(resolve_route(directory, staff_id).has_decider for staff_id in directory.staff)
    assert directory.search("huong")[0].full_name == "Trần Thị Thu Hương"


def test_a_valid_directory_is_built_with_trimmed_composed_values() -> None:
    decomposed = unicodedata.normalize("NFD", "Đinh Thị Thu Hương")
    staff = with_row(STAFF, 4, 1, f"  {decomposed} ")
    staff = with_row(staff, 0, 6, " unit_head ; ;party_secretary; ")
    staff = with_row(staff, 1, 2, "(+84) 912.000.002")
    result = load(staff=staff)
    assert result.problems == []
    directory = result.directory
    assert directory is not None
    assert directory.staff["p1_s"].full_name == "Đinh Thị Thu Hương"
    assert directory.staff["bt"].roles == {"unit_head", "party_secretary"}
    assert directory.staff["vp_h"].phone == "+84912000002"
    assert directory.staff["vp_s"].language == "en"
    assert directory.staff["p1_h"].position == "Chủ tịch"
    assert directory.units["P1"].health_contact == "Trạm Y tế phường Một, 024 3000 0001"
    assert directory.units["Q"].parent_id is None
    assert resolve_route(directory, "p1_s").deciders == ("p1_h",)


def test_extra_columns_are_a_warning_not_a_problem() -> None:
    staff = [[*row, "ghi chú"] for row in STAFF]
    result = load(staff=staff, staff_header=[*STAFF_HEADER, "ghi_chu"])
    assert result.problems == []
    assert result.warnings == ["staff.csv: extra column 'ghi_chu' ignored"]


def test_optional_columns_may_be_left_out() -> None:
    header = ["staff_id", "full_name", "phone", "unit_id", "position_group", "roles"]
    staff = [row[:4] + row[5:7] for row in STAFF]
    result = load(staff=staff, staff_header=header)
    assert result.problems == []
    assert result.directory is not None
    assert result.directory.staff["vp_s"].language == "vi"


def test_missing_required_columns_are_reported_at_row_1() -> None:
    header = [column for column in STAFF_HEADER if column != "phone"]
    staff = [row[:2] + row[3:] for row in STAFF]
    unit_header = ["unit_id", "name", "parent_id"]
    units = [[row[0], row[1], row[3]] for row in UNITS]
    result = load(units=units, staff=staff, staff_header=header, unit_header=unit_header)
    assert result.directory is None
    assert messages(result) == [
        "staff.csv:1: phone: missing required column",
        "units.csv:1: kind: missing required column",
    ]


def test_a_column_given_twice_is_a_problem() -> None:
    result = load(staff_header=[*STAFF_HEADER[:-1], "phone"])
    assert "staff.csv:1: phone: column appears more than once" in messages(result)


def test_empty_required_values() -> None:
    staff = with_row(STAFF, 2, 1, "  ")
    units = with_row(UNITS, 1, 2, "")
    result = load(units=units, staff=staff)
    assert messages(result) == [
        "staff.csv:4: full_name: empty; a value is required",
        "units.csv:3: kind: empty; a value is required",
    ]


def test_duplicate_ids() -> None:
    units = [*UNITS, ["VP", "Văn phòng khác", "party", "Q", ""]]
    staff = [*STAFF, ["vp_s", "Người Khác", "0912 000 099", "VP", "", "staff", "", ""]]
    result = load(units=units, staff=staff)
    assert messages(result) == [
        "staff.csv:7: staff_id: duplicate staff_id 'vp_s' (first at row 4)",
        "units.csv:5: unit_id: duplicate unit_id 'VP' (first at row 3)",
    ]


def test_unknown_kind_lists_the_allowed_ones() -> None:
    result = load(units=with_row(UNITS, 2, 2, "phuong"))
    assert messages(result) == [
        "units.csv:4: kind: unknown kind 'phuong'; "
        "allowed: party, government, public_service, ward, school, other"
    ]


def test_parent_that_does_not_exist() -> None:
    result = load(units=with_row(UNITS, 2, 3, "QQ"))
    assert messages(result) == ["units.csv:4: parent_id: parent unit 'QQ' does not exist"]


def test_parent_cycles_are_reported_once_each() -> None:
    units = [
        *UNITS,
        ["A", "A", "other", "B", ""],
        ["B", "B", "other", "A", ""],
        ["C", "C", "other", "C", ""],
    ]
    result = load(units=units)
    assert messages(result) == [
        "units.csv:5: parent_id: parent cycle: A → B → A",
        "units.csv:7: parent_id: parent cycle: C → C",
    ]


def test_staff_in_an_unknown_unit() -> None:
    result = load(staff=with_row(STAFF, 2, 3, "VP2"))
    assert messages(result) == ["staff.csv:4: unit_id: unit 'VP2' is not in units.csv"]


def test_a_bad_phone_shows_the_value() -> None:
    result = load(staff=with_row(STAFF, 1, 2, "0912 ABC"))
    assert messages(result) == ["staff.csv:3: phone: not a Vietnamese phone number: '0912 ABC'"]


def test_the_same_phone_for_two_staff_in_different_forms() -> None:
    result = load(staff=with_row(STAFF, 3, 2, "+84 912 000 001"))
    assert messages(result) == [
        "staff.csv:5: phone: phone '+84 912 000 001' is also staff_id 'bt' (row 2)"
    ]


def test_language_must_be_vi_or_en() -> None:
    result = load(staff=with_row(STAFF, 0, 7, "fr"))
    assert messages(result) == ["staff.csv:2: language: language must be vi or en, not 'fr'"]


def test_a_role_nobody_holds_and_a_staff_id_that_does_not_exist() -> None:
    routing = ROUTING.replace(
        'notify = ["role:party_secretary"]', 'notify = ["role:ghost", "staff:nobody"]'
    )
    result = load(routing=routing)
    assert messages(result) == [
        "routing.toml:15: notify: no staff member holds role 'ghost'",
        "routing.toml:15: notify: staff_id 'nobody' is not in staff.csv",
    ]


def test_someone_without_an_approver_is_reported_at_their_row() -> None:
    staff = with_row(STAFF, 0, 6, "party_secretary")  # the district has no head any more
    staff = with_row(staff, 3, 5, "staff")
    staff = with_row(staff, 3, 6, "")  # the ward has no head either
    result = load(staff=staff)
    assert result.directory is None
    assert messages(result) == [
        "staff.csv:5: position_group: no approver: rule 'Còn lại' (unit_head) finds nobody "
        "but this person, and no unit above has a head",
        "staff.csv:6: position_group: no approver: rule 'Còn lại' (unit_head) finds nobody "
        "but this person, and no unit above has a head",
    ]


def test_every_problem_is_listed_sorted_by_file_then_row() -> None:
    units = with_row(UNITS, 2, 2, "phuong")
    staff = with_row(STAFF, 4, 2, "123")
    staff = with_row(staff, 1, 7, "de")
    routing = ROUTING.replace('approver = "unit_head"', 'approver = "boss"')
    result = load(units=units, staff=staff, routing=routing)
    assert [(p.file, p.row, p.column) for p in result.problems] == [
        ("routing.toml", 14, "approver"),
        ("staff.csv", 3, "language"),
        ("staff.csv", 6, "phone"),
        ("units.csv", 4, "kind"),
    ]
    assert result.directory is None


def test_unused_position_group_in_a_rule_is_a_warning() -> None:
    routing = ROUTING.replace('["party_deputy"]', '["party_deputy", "nobody_group"]')
    result = load(routing=routing)
    assert result.problems == []
    assert result.warnings == [
        "routing.toml: rule 'Văn phòng': nobody has position_group 'nobody_group'"
    ]


# -------------------------------------------------------------------------- parse_routing


def routing_problems(text: str) -> list[str]:
    return [str(problem) for problem in parse_routing(text, "routing.toml")[1]]


def test_parse_routing_reads_every_key() -> None:
    rules, problems = parse_routing(ROUTING, "routing.toml")
    assert problems == []
    assert [rule.name for rule in rules] == ["Bí thư", "Văn phòng", "Còn lại"]
    assert rules[0].approver == Target(TargetKind.NONE)
    assert rules[1].approver == Target(TargetKind.ROLE, "party_secretary")
    assert rules[1].position_groups == ("party_deputy",)
    assert rules[2].notify == (Target(TargetKind.ROLE, "party_secretary"),)
    assert rules[2].unconditional


def test_toml_syntax_error_at_its_line() -> None:
    problems = routing_problems('[[rule]]\nname = "a"\napprover = unit_head\n')
    assert problems == ["routing.toml:3: syntax: Invalid value"]


def test_unknown_rule_key() -> None:
    problems = routing_problems('[[rule]]\nname = "a"\naprover = "unit_head"\n')
    assert problems == [
        "routing.toml:3: aprover: unknown key; allowed: name, position_groups, unit_kinds, "
        "approver, notify",
        "routing.toml:1: approver: missing; use unit_head, role:<code>, staff:<staff_id> or none",
    ]


def test_malformed_targets() -> None:
    text = '[[rule]]\napprover = "role:"\nnotify = ["none", "boss", "staff:a b"]\n'
    problems = routing_problems(text)
    assert problems == [
        "routing.toml:2: approver: malformed target 'role:'; "
        "use unit_head, role:<code>, staff:<staff_id> or none",
        "routing.toml:3: notify: malformed target 'none'; use unit_head, role:<code> or staff:<staff_id>",
        "routing.toml:3: notify: malformed target 'boss'; use unit_head, role:<code> or staff:<staff_id>",
        "routing.toml:3: notify: malformed target 'staff:a b'; "
        "use unit_head, role:<code> or staff:<staff_id>",
    ]


def test_the_last_rule_must_catch_everyone() -> None:
    text = (
        '[[rule]]\napprover = "unit_head"\n\n[[rule]]\nunit_kinds = ["school"]\napprover = "none"\n'
    )
    assert routing_problems(text) == [
        "routing.toml:4: rule: the last rule must have no position_groups or unit_kinds "
        "(it catches everyone)"
    ]


def test_no_rules_and_unknown_top_level_keys() -> None:
    assert routing_problems("") == ["routing.toml:1: rule: no [[rule]] tables"]
    problems = routing_problems('[[rules]]\napprover = "unit_head"\n')
    assert problems == [
        "routing.toml:1: rules: unknown key; the file holds only [[rule]] tables",
        "routing.toml:1: rule: no [[rule]] tables",
    ]


def test_bad_condition_lists() -> None:
    text = (
        '[[rule]]\nunit_kinds = ["school", "phuong"]\napprover = "unit_head"\n'
        '[[rule]]\nposition_groups = []\napprover = "unit_head"\n'
        '[[rule]]\nposition_groups = [1]\napprover = "unit_head"\n'
        '[[rule]]\nname = 5\napprover = "unit_head"\n'
    )
    assert routing_problems(text) == [
        "routing.toml:2: unit_kinds: unknown kind 'phuong'; "
        "allowed: government, other, party, public_service, school, ward",
        "routing.toml:5: position_groups: empty list matches nobody; "
        "remove the key to match everyone",
        "routing.toml:8: position_groups: must be a list of non-empty texts",
        "routing.toml:11: name: must be a non-empty text",
    ]


def test_a_single_text_counts_as_a_list_and_a_missing_name_gets_a_number() -> None:
    rules, problems = parse_routing(
        '[[rule]]\nposition_groups = "top"\napprover = "staff:x"\nnotify = "unit_head"\n'
        '[[rule]]\napprover = "unit_head"\n',
        "routing.toml",
    )
    assert problems == []
    assert rules[0].position_groups == ("top",)
    assert rules[0].notify == (Target(TargetKind.UNIT_HEAD),)
    assert [rule.name for rule in rules] == ["rule 1", "rule 2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("unit_head", Target(TargetKind.UNIT_HEAD)),
        (" none ", Target(TargetKind.NONE)),
        ("role:party_secretary", Target(TargetKind.ROLE, "party_secretary")),
        ("staff: HB-001", Target(TargetKind.STAFF, "HB-001")),
        ("role", None),
        ("unit_head:x", None),
        ("boss:x", None),
        ("", None),
    ],
)
def test_parse_target(text: str, expected: Target | None) -> None:
    assert parse_target(text) == expected


def test_split_roles_ignores_empty_parts() -> None:
    assert split_roles(";a; b ;;") == frozenset({"a", "b"})
    assert split_roles("") == frozenset()
