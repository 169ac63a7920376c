"""Onset dates, codes from the return declaration, who may see health records, monitoring days,
areas with cases and alert escalation targets (bot/domain/health_rules.py, health_sweep)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.clock import VIETNAM
from bot.domain.directory import Directory, answerable_heads
from bot.domain.health import Symptom, Urgency, triage
from bot.domain.health_rules import (
    MAX_ONSET_DAYS,
    OnsetError,
    area_matches,
    contact_with_case,
    first_checkin,
    health_contact,
    health_officers_for,
    may_view_health,
    monitoring_last_day,
    next_checkin,
    parse_onset,
    symptoms_from_codes,
)
from bot.domain.models import RoutingRule, Staff, Target, TargetKind, Unit, UnitKind
from bot.services.health.sweep import escalation_targets
from storage.health_repo import Alert

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)

# --------------------------------------------------------------------------- onset


def test_parse_onset_reads_what_people_type() -> None:
    assert parse_onset("24/05/2021", NOW) == date(2021, 5, 24)
    assert parse_onset("24/5", NOW) == date(2021, 5, 24)
    assert parse_onset("hôm qua", NOW) == date(2021, 5, 25)
    assert parse_onset("hôm nay", NOW) == date(2021, 5, 26)
    assert parse_onset("ngày 20 tháng 5 năm 2021", NOW) == date(2021, 5, 20)


def test_parse_onset_refuses_future_old_and_garbage() -> None:
    assert parse_onset("30/05/2021", NOW) is OnsetError.IN_FUTURE
    assert parse_onset("01/01/2021", NOW) is OnsetError.TOO_OLD
    assert parse_onset("không nhớ", NOW) is OnsetError.UNREADABLE
    assert parse_onset("", NOW) is OnsetError.UNREADABLE


@given(st.integers(min_value=0, max_value=MAX_ONSET_DAYS))
def test_parse_onset_round_trips_every_allowed_day(days_back: int) -> None:
    day = NOW.date() - timedelta(days=days_back)
    assert parse_onset(f"{day:%d/%m/%Y}", NOW) == day


@given(st.integers(min_value=1, max_value=3000))
def test_parse_onset_never_accepts_a_future_day(days_ahead: int) -> None:
    day = NOW.date() + timedelta(days=days_ahead)
    assert parse_onset(f"{day:%d/%m/%Y}", NOW) is OnsetError.IN_FUTURE


@given(
    st.text(max_size=300),
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
)
def test_parse_onset_never_raises_and_stays_in_the_window(text: str, now: datetime) -> None:
    result = parse_onset(text, now)
    if isinstance(result, date):
        assert now.date() - timedelta(days=MAX_ONSET_DAYS) <= result <= now.date()


# --------------------------------------------------------------------------- codes and triage


def test_symptom_codes_from_the_return_declaration() -> None:
    assert symptoms_from_codes(["fever", "cough", "", "hiccups"]) == {
        Symptom.FEVER,
        Symptom.COUGH,
        Symptom.OTHER,
    }
    assert contact_with_case(["case_area", "covid_patient"])
    assert not contact_with_case(["case_area", "symptomatic"])


@given(st.lists(st.sampled_from([s.value for s in Symptom]) | st.text(max_size=10), max_size=8))
def test_codes_with_fever_cough_or_breath_always_triage_urgent(codes: list[str]) -> None:
    symptoms = symptoms_from_codes(codes)
    urgent = bool({"fever", "cough", "shortness_of_breath"} & set(codes))
    assert (triage(symptoms, None, False).urgency is Urgency.URGENT) == urgent


# --------------------------------------------------------------------------- the sample ward

UNITS = [
    Unit("W", "Phường", UnitKind.WARD, health_contact="Trạm Y tế, 024 1"),
    Unit("GOV", "UBND", UnitKind.GOVERNMENT, "W"),
    Unit("TYT", "Trạm Y tế", UnitKind.PUBLIC_SERVICE, "GOV"),
    Unit("SCH", "Trường", UnitKind.SCHOOL, "GOV"),
    Unit("PTY", "Đảng ủy", UnitKind.PARTY, "W"),
]
STAFF = [
    Staff(
        "SEC",
        "Bí thư",
        "+84900000001",
        "W",
        "top",
        roles=frozenset({"unit_head", "party_secretary"}),
    ),
    Staff(
        "VC", "Phó Chủ tịch", "+84900000002", "W", "vice", roles=frozenset({"vice_chair_education"})
    ),
    Staff("GH", "Chánh VP", "+84900000003", "GOV", "dept", roles=frozenset({"unit_head"})),
    Staff("NURSE", "Y sĩ", "+84900000004", "TYT", "staff", roles=frozenset({"health_officer"})),
    Staff(
        "PRIN", "Hiệu trưởng", "+84900000005", "SCH", "school_head", roles=frozenset({"unit_head"})
    ),
    Staff(
        "DEP", "Hiệu phó", "+84900000006", "SCH", "school_head", roles=frozenset({"deputy_head"})
    ),
    Staff("T", "Giáo viên", "+84900000007", "SCH", "staff"),
    Staff("T2", "Giáo viên 2", "+84900000008", "SCH", "staff"),
    Staff("P", "Chuyên viên Đảng", "+84900000009", "PTY", "staff"),
    Staff("PH", "Chánh VP Đảng", "+84900000010", "PTY", "dept", roles=frozenset({"unit_head"})),
    Staff("ADM", "Quản trị", "+84900000011", "PTY", "staff", roles=frozenset({"admin"})),
]
RULES = [
    RoutingRule("top", Target(TargetKind.NONE), position_groups=("top",)),
    RoutingRule(
        "school heads",
        Target(TargetKind.ROLE, "vice_chair_education"),
        position_groups=("school_head",),
    ),
    RoutingRule(
        "leaders", Target(TargetKind.ROLE, "party_secretary"), position_groups=("vice", "dept")
    ),
    RoutingRule("others", Target(TargetKind.UNIT_HEAD)),
]
DIRECTORY = Directory(UNITS, STAFF, RULES)


def test_who_may_see_a_teachers_health_record() -> None:
    allowed = {s.staff_id for s in STAFF if may_view_health(DIRECTORY, s, "SCH", "T")}
    assert allowed == {"T", "PRIN", "DEP", "GH", "SEC", "NURSE", "ADM"}


def test_heads_of_another_branch_and_colleagues_may_not() -> None:
    assert not may_view_health(DIRECTORY, DIRECTORY.staff["PH"], "SCH", "T")
    assert not may_view_health(DIRECTORY, DIRECTORY.staff["T2"], "SCH", "T")
    assert not may_view_health(DIRECTORY, DIRECTORY.staff["P"], "SCH", None)


def test_health_officers_and_contact_come_from_the_nearest_unit_that_has_them() -> None:
    assert health_officers_for(DIRECTORY, "SCH") == ["NURSE"]
    assert health_officers_for(DIRECTORY, "PTY") == ["NURSE"]
    assert health_contact(DIRECTORY, "SCH", "115") == "Trạm Y tế, 024 1"
    assert health_contact(Directory(UNITS[1:], [], []), "SCH", "115") == "115"


def alert_about(staff_id: str, unit_id: str) -> Alert:
    return Alert(1, "symptoms:1", staff_id, unit_id, 0, NOW, None, None, NOW)


def test_escalation_climbs_to_whoever_decides_for_the_head_then_higher() -> None:
    first = escalation_targets(DIRECTORY, alert_about("T", "SCH"), ["PRIN", "NURSE"], ["PRIN"])
    assert first == ["VC"]
    second = escalation_targets(DIRECTORY, alert_about("T", "SCH"), ["PRIN", "NURSE", "VC"], ["VC"])
    assert second == ["SEC"]
    last = escalation_targets(
        DIRECTORY, alert_about("T", "SCH"), ["PRIN", "NURSE", "VC", "SEC"], ["SEC"]
    )
    assert last == []


def test_escalation_without_a_head_goes_to_the_heads_above_and_health_officers() -> None:
    assert escalation_targets(DIRECTORY, alert_about("X", "TYT"), [], []) == ["GH", "NURSE"]


# --------------------------------------------------------------------------- monitoring and areas


def test_monitoring_days_count_the_start_day() -> None:
    assert monitoring_last_day(date(2021, 5, 26), 14) == date(2021, 6, 8)
    assert first_checkin(NOW, time(8, 0)) == datetime(2021, 5, 27, 8, 0, tzinfo=VIETNAM)
    assert next_checkin(datetime(2021, 5, 31, 8, 0, tzinfo=VIETNAM), time(8, 0)) == datetime(
        2021, 6, 1, 8, 0, tzinfo=VIETNAM
    )


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
    st.integers(min_value=1, max_value=60),
)
def test_monitoring_lasts_exactly_the_days_asked(start: date, days: int) -> None:
    assert (monitoring_last_day(start, days) - start).days + 1 == days


def test_area_matching_uses_province_aliases_and_date_overlap() -> None:
    may = (date(2021, 5, 25), date(2021, 6, 8))
    assert area_matches("Đà Nẵng", *may, "da nang", date(2021, 6, 1), date(2021, 6, 3))
    assert area_matches("Bắc Ninh", *may, "Bắc Giang", date(2021, 5, 20), date(2021, 5, 25))
    assert not area_matches("Đà Nẵng", *may, "Huế", date(2021, 6, 1), date(2021, 6, 3))
    assert not area_matches("Đà Nẵng", *may, "Đà Nẵng", date(2021, 6, 9), date(2021, 6, 10))
    assert area_matches(
        "Đà Nẵng", date(2021, 5, 25), None, "Đà Nẵng", date(2022, 1, 1), date(2022, 1, 2)
    )


@given(
    st.dates(min_value=date(2021, 1, 1), max_value=date(2021, 12, 31)),
    st.integers(min_value=0, max_value=30),
    st.dates(min_value=date(2021, 1, 1), max_value=date(2021, 12, 31)),
    st.integers(min_value=0, max_value=30),
)
def test_area_matches_exactly_when_the_ranges_overlap(
    a: date, a_len: int, b: date, b_len: int
) -> None:
    a_end, b_end = a + timedelta(days=a_len), b + timedelta(days=b_len)
    overlap = max(a, b) <= min(a_end, b_end)
    assert area_matches("Hà Nội", a, a_end, "Thủ đô", b, b_end) == overlap


def test_who_answers_for_a_person_staff_heads_and_units_without_a_head() -> None:
    assert answerable_heads(DIRECTORY, "T") == ["PRIN"]  # their unit's head
    assert answerable_heads(DIRECTORY, "PRIN") == ["VC"]  # a head: whoever decides their requests
    assert answerable_heads(DIRECTORY, "NURSE") == ["GH"]  # no head in the clinic: the head above
    assert answerable_heads(DIRECTORY, "SEC") == []  # the top leader answers to nobody here
    assert answerable_heads(DIRECTORY, "NOBODY") == []
