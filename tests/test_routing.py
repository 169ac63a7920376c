"""Route resolution on a small district shaped like the Long Biên table (FORMATS.md)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.directory import Directory, resolve_route
from bot.domain.directory_files import parse_routing
from bot.domain.models import RoutingRule, Staff, Target, TargetKind, Unit, UnitKind

LONG_BIEN_ROUTING = """
[[rule]]
name = "Bí thư Quận ủy (báo cáo Thành ủy)"
position_groups = ["top_leader"]
approver = "none"
notify = ["role:standing_deputy_secretary"]

[[rule]]
name = "Thường trực, lãnh đạo quận"
position_groups = ["district_standing"]
approver = "role:party_secretary"

[[rule]]
name = "Cấp phó ban Đảng, MTTQ; trưởng/phó đoàn thể; bí thư phường"
position_groups = ["party_deputy"]
approver = "role:standing_deputy_secretary"

[[rule]]
name = "Trưởng/phó phòng UBND, chủ tịch/phó chủ tịch phường"
position_groups = ["dept_head"]
approver = "role:ubnd_chair"

[[rule]]
name = "Hiệu trưởng, hiệu phó"
position_groups = ["school_head"]
approver = "role:vice_chair_education"

[[rule]]
name = "Công chức cơ quan Dân, Đảng"
unit_kinds = ["party"]
approver = "unit_head"
notify = ["role:standing_deputy_secretary"]

[[rule]]
name = "Công chức cơ quan UBND"
unit_kinds = ["government"]
approver = "unit_head"
notify = ["role:ubnd_vice_chair_office"]

[[rule]]
name = "Đơn vị sự nghiệp, phường, trường học"
approver = "unit_head"
notify = ["role:district_office"]
"""

UNITS = [
    Unit("Q", "Quận Long Biên", UnitKind.OTHER),
    Unit("VP", "Văn phòng Quận ủy", UnitKind.PARTY, "Q"),
    Unit("PNV", "Phòng Nội vụ", UnitKind.GOVERNMENT, "Q"),
    Unit("PW", "Phường Ngọc Thụy", UnitKind.WARD, "Q"),
    Unit("TYT", "Trạm Y tế phường Ngọc Thụy", UnitKind.PUBLIC_SERVICE, "PW"),
    Unit("TH", "Trường THCS Ngọc Thụy", UnitKind.SCHOOL, "Q"),
]


def person(staff_id: str, unit_id: str, group: str, *roles: str, active: bool = True) -> Staff:
    number = sum(ord(char) * 31**i for i, char in enumerate(staff_id)) % 10**8
    return Staff(
        staff_id=staff_id,
        full_name=f"Người {staff_id}",
        phone=f"+849{number:08d}",
        unit_id=unit_id,
        position_group=group,
        roles=frozenset(roles),
        active=active,
    )


STAFF = [
    person("bt", "Q", "top_leader", "unit_head", "party_secretary"),
    person("ptt", "Q", "district_standing", "deputy_head", "standing_deputy_secretary"),
    person("ct", "Q", "district_standing", "ubnd_chair"),
    person("pct_gd", "Q", "district_standing", "vice_chair_education"),
    person("pct_vp", "Q", "district_standing", "ubnd_vice_chair_office"),
    person("vp_h", "VP", "party_deputy", "unit_head", "district_office"),
    person("vp_d", "VP", "party_deputy", "deputy_head"),
    person("vp_s", "VP", "staff"),
    person("pnv_h", "PNV", "dept_head", "unit_head"),
    person("pnv_d", "PNV", "dept_head", "deputy_head"),
    person("pnv_s", "PNV", "staff"),
    person("pw_h", "PW", "dept_head", "unit_head"),
    person("pw_d", "PW", "dept_head", "deputy_head"),
    person("pw_s", "PW", "staff"),
    person("tyt_h", "TYT", "staff", "unit_head"),
    person("tyt_d", "TYT", "staff", "deputy_head"),
    person("tyt_s", "TYT", "staff", "health_officer"),
    person("th_h", "TH", "school_head", "unit_head"),
    person("th_d", "TH", "school_head", "deputy_head"),
    person("th_s", "TH", "staff"),
    person("old_h", "TH", "staff", "unit_head", active=False),
]


def rules() -> list[RoutingRule]:
    parsed, problems = parse_routing(LONG_BIEN_ROUTING, "routing.toml")
    assert problems == []
    return parsed


def long_bien() -> Directory:
    return Directory(UNITS, STAFF, rules())


def test_top_leader_needs_no_approval_and_tells_the_standing_deputy() -> None:
    route = resolve_route(long_bien(), "bt")
    assert route.rule_name == "Bí thư Quận ủy (báo cáo Thành ủy)"
    assert not route.needs_approval
    assert route.deciders == ()
    assert route.notify == ("ptt",)
    assert route.has_decider


def test_district_standing_goes_to_the_party_secretary() -> None:
    for staff_id in ("ptt", "ct", "pct_gd", "pct_vp"):
        route = resolve_route(long_bien(), staff_id)
        assert route.rule_name == "Thường trực, lãnh đạo quận"
        assert route.needs_approval
        assert route.deciders == ("bt",)
        assert route.above == ()  # the secretary's unit is the root: nobody above


def test_party_deputy_goes_to_the_standing_deputy_secretary() -> None:
    for staff_id in ("vp_h", "vp_d"):
        route = resolve_route(long_bien(), staff_id)
        assert route.rule_name.startswith("Cấp phó ban Đảng")
        assert route.deciders == ("ptt",)


def test_department_and_ward_heads_go_to_the_ubnd_chair() -> None:
    for staff_id in ("pnv_h", "pnv_d", "pw_h", "pw_d"):
        route = resolve_route(long_bien(), staff_id)
        assert route.rule_name.startswith("Trưởng/phó phòng UBND")
        assert route.deciders == ("ct",)


def test_school_heads_go_to_the_vice_chair_for_education() -> None:
    for staff_id in ("th_h", "th_d"):
        assert resolve_route(long_bien(), staff_id).deciders == ("pct_gd",)


def test_party_office_staff_go_to_their_head_who_reports_on() -> None:
    route = resolve_route(long_bien(), "vp_s")
    assert route.rule_name == "Công chức cơ quan Dân, Đảng"
    assert route.deciders == ("vp_h",)
    assert route.above == ("bt",)
    assert route.notify == ("ptt",)


def test_ubnd_staff_go_to_their_head_and_the_vice_chair_is_told() -> None:
    route = resolve_route(long_bien(), "pnv_s")
    assert route.rule_name == "Công chức cơ quan UBND"
    assert route.deciders == ("pnv_h",)
    assert route.notify == ("pct_vp",)


def test_ward_school_and_public_service_staff_fall_to_the_last_rule() -> None:
    directory = long_bien()
    for staff_id, head in (("pw_s", "pw_h"), ("th_s", "th_h"), ("tyt_s", "tyt_h")):
        route = resolve_route(directory, staff_id)
        assert route.rule_name == "Đơn vị sự nghiệp, phường, trường học"
        assert route.deciders == (head,)
        assert route.notify == ("vp_h",)


def test_above_lists_the_heads_up_the_chain_nearest_first() -> None:
    route = resolve_route(long_bien(), "tyt_s")
    assert route.above == ("pw_h", "bt")
    assert route.may_decide("bt")
    assert route.may_decide("tyt_h")
    assert not route.may_decide("pw_d")


def test_a_head_asking_goes_to_the_head_of_the_parent_unit() -> None:
    route = resolve_route(long_bien(), "tyt_h")
    assert route.deciders == ("pw_h",)
    assert route.above == ("bt",)
    assert "tyt_h" not in route.notify


def test_a_deputy_decides_for_an_absent_head() -> None:
    route = resolve_route(long_bien(), "tyt_s", absent=frozenset({"tyt_h"}))
    assert route.deciders == ("tyt_d",)
    assert route.acting_for == {"tyt_d": "tyt_h"}
    assert route.above == ("pw_h", "bt")


def test_head_and_deputy_both_absent_goes_up() -> None:
    route = resolve_route(long_bien(), "tyt_s", absent=frozenset({"tyt_h", "tyt_d"}))
    assert route.deciders == ("pw_h",)
    assert route.acting_for == {}
    assert route.above == ("bt",)


def test_absent_parent_head_on_the_way_up_is_replaced_by_its_deputy() -> None:
    route = resolve_route(long_bien(), "tyt_h", absent=frozenset({"pw_h"}))
    assert route.deciders == ("pw_d",)
    assert route.acting_for == {"pw_d": "pw_h"}


def test_a_deputy_never_stands_in_for_their_own_request() -> None:
    route = resolve_route(long_bien(), "tyt_d", absent=frozenset({"tyt_h"}))
    assert route.deciders == ("pw_h",)
    assert route.acting_for == {}


def test_an_absent_role_holder_who_heads_a_unit_is_replaced_by_its_deputy() -> None:
    route = resolve_route(long_bien(), "ct", absent=frozenset({"bt"}))
    assert route.deciders == ("ptt",)
    assert route.acting_for == {"ptt": "bt"}


def test_nobody_at_all_gives_a_route_without_deciders() -> None:
    route = resolve_route(long_bien(), "ptt", absent=frozenset({"bt"}))
    assert route.needs_approval
    assert route.deciders == ()
    assert not route.has_decider


def test_an_absent_role_holder_without_a_unit_to_head_is_just_skipped() -> None:
    route = resolve_route(long_bien(), "th_h", absent=frozenset({"pct_gd"}))
    assert route.deciders == ("bt",)  # the heads of the school's parent, the district
    assert route.acting_for == {}


def test_inactive_staff_neither_decide_nor_are_found() -> None:
    directory = long_bien()
    assert [head.staff_id for head in directory.heads_of("TH")] == ["th_h"]
    assert directory.by_phone(directory.staff["old_h"].phone) is None


def custom(rule: RoutingRule, *extra: Staff) -> Directory:
    return Directory(UNITS, [*STAFF, *extra], [rule])


def test_a_role_nobody_holds_goes_to_the_head_of_the_parent_unit() -> None:
    rule = RoutingRule("ghost", Target(TargetKind.ROLE, "ghost_role"))
    assert resolve_route(custom(rule), "tyt_s").deciders == ("pw_h",)


def test_staff_target_names_one_person_and_skips_the_inactive() -> None:
    directory = custom(RoutingRule("named", Target(TargetKind.STAFF, "pw_d")))
    assert resolve_route(directory, "th_s").deciders == ("pw_d",)
    # Not their own request: the heads of the requester's unit's parent (the district) decide.
    assert resolve_route(directory, "pw_d").deciders == ("bt",)
    inactive = custom(RoutingRule("gone", Target(TargetKind.STAFF, "old_h")))
    assert resolve_route(inactive, "th_s").deciders == ("bt",)


def test_notify_resolves_every_form_without_duplicates_requester_or_deciders() -> None:
    rule = RoutingRule(
        "all forms",
        Target(TargetKind.UNIT_HEAD),
        notify=(
            Target(TargetKind.UNIT_HEAD),
            Target(TargetKind.ROLE, "district_office"),
            Target(TargetKind.STAFF, "ct"),
            Target(TargetKind.ROLE, "district_office"),
            Target(TargetKind.ROLE, "health_officer"),
        ),
    )
    directory = custom(rule)
    assert resolve_route(directory, "pw_s").notify == ("vp_h", "ct", "tyt_s")
    assert resolve_route(directory, "tyt_s").notify == ("vp_h", "ct")


def test_approver_none_resolves_notify_only() -> None:
    rule = RoutingRule("top", Target(TargetKind.NONE), notify=(Target(TargetKind.UNIT_HEAD),))
    route = resolve_route(custom(rule), "pw_s")
    assert (route.needs_approval, route.deciders, route.notify) == (False, (), ("pw_h",))


def test_no_matching_rule_gives_no_decider() -> None:
    rule = RoutingRule("only schools", Target(TargetKind.UNIT_HEAD), unit_kinds=("school",))
    assert not resolve_route(custom(rule), "pw_s").has_decider


def test_rule_for_matches_both_conditions() -> None:
    directory = Directory(
        UNITS,
        STAFF,
        [
            RoutingRule("a", Target(TargetKind.NONE), ("staff",), ("ward",)),
            RoutingRule("b", Target(TargetKind.NONE), ("staff",)),
            RoutingRule("c", Target(TargetKind.NONE)),
        ],
    )
    names = {sid: directory.rule_for(directory.staff[sid]).name for sid in ("pw_s", "th_s", "bt")}
    assert names == {"pw_s": "a", "th_s": "b", "bt": "c"}


def test_ancestors_and_subtree() -> None:
    directory = long_bien()
    assert [unit.unit_id for unit in directory.ancestors("TYT")] == ["PW", "Q"]
    assert directory.ancestors("Q") == []
    assert directory.ancestors("missing") == []
    assert directory.subtree("PW") == {"PW", "TYT"}
    assert directory.subtree("Q") == {unit.unit_id for unit in UNITS}
    assert directory.subtree("missing") == set()


def test_ancestors_and_subtree_survive_a_cycle() -> None:
    units = [
        Unit("A", "A", UnitKind.OTHER, "B"),
        Unit("B", "B", UnitKind.OTHER, "C"),
        Unit("C", "C", UnitKind.OTHER, "A"),
    ]
    directory = Directory(units, [], [])
    assert [unit.unit_id for unit in directory.ancestors("A")] == ["B", "C"]
    assert directory.subtree("A") == {"A", "B", "C"}


def test_a_head_in_a_cycle_of_units_still_gets_a_finite_route() -> None:
    units = [Unit("A", "A", UnitKind.OTHER, "B"), Unit("B", "B", UnitKind.OTHER, "A")]
    staff = [person("a", "A", "staff", "unit_head"), person("b", "B", "staff", "unit_head")]
    directory = Directory(units, staff, [RoutingRule("all", Target(TargetKind.UNIT_HEAD))])
    assert resolve_route(directory, "a").deciders == ("b",)
    assert resolve_route(directory, "a").above == ()


def test_lookups_by_role_phone_and_name() -> None:
    directory = Directory(
        UNITS,
        [*STAFF, Staff("h", "Đinh Thị Thu Hương", "+84912345678", "PW", "staff")],
        rules(),
    )
    assert [s.staff_id for s in directory.with_role("health_officer")] == ["tyt_s"]
    assert directory.deputy_ids("PW") == ("pw_d",)
    assert directory.by_phone("0912 345 678").staff_id == "h"
    assert directory.by_phone("+84912345678").staff_id == "h"
    assert directory.by_phone("0999 999 999") is None
    assert [s.staff_id for s in directory.search("huong")] == ["h"]
    assert [s.staff_id for s in directory.search("THU HƯƠNG")] == ["h"]
    assert len(directory.search("người", limit=3)) == 3
    assert directory.search("   ") == []
    assert directory.unit("PW").name == "Phường Ngọc Thụy"
    assert directory.person("nobody") is None


def test_shared_routes_equal_routes_resolved_one_by_one() -> None:
    shared = long_bien()
    for person_ in STAFF:
        alone = long_bien()
        assert resolve_route(shared, person_.staff_id) == resolve_route(alone, person_.staff_id)
    first, second = resolve_route(shared, "pw_s"), resolve_route(shared, "pw_s")
    first.acting_for["x"] = "y"
    assert second.acting_for == {}


@st.composite
def random_directories(draw: st.DrawFn) -> tuple[Directory, frozenset[str]]:
    unit_count = draw(st.integers(1, 6))
    units = [
        Unit(f"U{i}", f"U{i}", draw(st.sampled_from(list(UnitKind))), _parent(draw, i))
        for i in range(unit_count)
    ]
    roles = st.sets(st.sampled_from(["unit_head", "deputy_head", "chair", "clerk"]), max_size=3)
    staff = [
        Staff(
            f"S{i}",
            f"Người {i}",
            f"+8491{i:07d}",
            f"U{draw(st.integers(0, unit_count - 1))}",
            draw(st.sampled_from(["lead", "staff"])),
            roles=frozenset(draw(roles)),
            active=draw(st.booleans()) or i == 0,
        )
        for i in range(draw(st.integers(1, 12)))
    ]
    targets = st.sampled_from(
        [
            Target(TargetKind.UNIT_HEAD),
            Target(TargetKind.ROLE, "chair"),
            Target(TargetKind.STAFF, "S0"),
        ]
    )
    rules = [
        RoutingRule("lead", draw(targets), position_groups=("lead",), notify=(draw(targets),)),
        RoutingRule("rest", draw(targets), notify=(Target(TargetKind.ROLE, "clerk"),)),
    ]
    absent = frozenset(draw(st.sets(st.sampled_from([s.staff_id for s in staff]))))
    return Directory(units, staff, rules), absent


def _parent(draw: st.DrawFn, index: int) -> str | None:
    return None if index == 0 else f"U{draw(st.integers(0, index - 1))}"


@settings(max_examples=200, deadline=None)
@given(random_directories())
def test_route_invariants_on_random_directories(sample: tuple[Directory, frozenset[str]]) -> None:
    directory, absent = sample
    for staff_id in directory.staff:
        route = resolve_route(directory, staff_id, absent)
        assert staff_id not in route.deciders + route.above + route.notify
        assert set(route.deciders).isdisjoint(route.above + route.notify)
        assert len(set(route.deciders)) == len(route.deciders)
        assert all(directory.staff[d].active and d not in absent for d in route.deciders)
        assert set(route.acting_for) <= set(route.deciders)
        assert set(route.acting_for.values()) <= absent
        assert route == resolve_route(
            Directory(directory.units.values(), directory.staff.values(), directory.rules),
            staff_id,
            absent,
        )


# --------------------------------------------------------------------------- issue 14 (A)


def with_admin(*extra: Staff) -> Directory:
    return Directory(UNITS, [*STAFF, person("adm", "VP", "staff", "admin"), *extra], rules())


def test_item1_nobody_in_the_chain_goes_to_the_admins() -> None:
    from bot.domain.directory import route_now

    # The standing deputy asks while the secretary is away: she is the only stand-in.
    route = route_now(with_admin(), "ptt", absent=frozenset({"bt"}))
    assert route.deciders == ("adm",) and route.to_admins
    assert route.away == ("bt",)
    # An absent admin still decides when nobody else can (the request must reach someone).
    assert route_now(with_admin(), "ptt", frozenset({"bt", "adm"})).deciders == ("adm",)


def test_item1_absent_approver_who_heads_nothing_goes_to_the_leaders_above_them() -> None:
    from bot.domain.directory import route_now

    rule = RoutingRule("named", Target(TargetKind.ROLE, "chair2"))
    directory = custom(rule, person("ch2", "VP", "staff", "chair2"))
    assert resolve_route(directory, "pw_s").deciders == ("ch2",)
    # Away, with no unit to stand in for: the head of the approver's own unit decides, not
    # the head of the requester's parent unit.
    route = route_now(directory, "pw_s", frozenset({"ch2"}))
    assert route.deciders == ("vp_h",) and not route.to_admins
    assert route.away == ("ch2",)


def test_item2_cover_while_away_says_who_really_decides() -> None:
    from bot.domain.directory import cover_while_away

    directory = with_admin()
    # pct_gd decides the school heads; away, the head of the district decides for them.
    cover = cover_while_away(directory, "pct_gd", frozenset({"pct_gd"}))
    assert cover.deciders == ("bt",) and not cover.admins and cover.requesters == 2
    # bt's deputy stands in for everyone but herself, whose requests go to the admins.
    cover = cover_while_away(directory, "bt", frozenset({"bt"}))
    assert cover.deciders == ("ptt",) and cover.admins == ("adm",)
    # Someone nobody's request goes to: nothing changes.
    assert cover_while_away(directory, "pw_s", frozenset({"pw_s"})).requesters == 0


def test_item3_the_deputy_stands_in_only_while_the_head_is_absent() -> None:
    from bot.domain.directory import route_now

    directory = with_admin()
    assert route_now(directory, "tyt_s", frozenset()).deciders == ("tyt_h",)
    away = route_now(directory, "tyt_s", frozenset({"tyt_h"}))
    assert away.deciders == ("tyt_d",) and away.away == ("tyt_h",)
    assert away.acting_for == {"tyt_d": "tyt_h"}


def test_item4_deciding_people_are_heads_deputies_named_approvers_and_admins() -> None:
    from bot.domain.directory import deciding_people

    found = set(deciding_people(with_admin()))
    assert {"bt", "ptt", "ct", "pct_gd", "pw_h", "pw_d", "tyt_h", "adm"} <= found
    assert not {"pw_s", "tyt_s", "th_s", "old_h"} & found


@settings(max_examples=200, deadline=None)
@given(random_directories())
def test_item1_route_now_always_has_a_decider_when_an_admin_exists(
    sample: tuple[Directory, frozenset[str]],
) -> None:
    from bot.domain.directory import route_now

    directory, absent = sample
    admin = person("ADM", next(iter(directory.units)), "staff", "admin")
    directory = Directory(
        directory.units.values(), [*directory.staff.values(), admin], directory.rules
    )
    for staff_id in directory.staff:
        if staff_id == "ADM":
            continue
        route = route_now(directory, staff_id, absent)
        assert route.deciders or not route.needs_approval
        assert staff_id not in route.deciders
        chain = resolve_route(directory, staff_id, absent)
        assert route.to_admins == (chain.needs_approval and not chain.deciders)
        assert route.deciders == (("ADM",) if route.to_admins else chain.deciders)
