"""Symptom reports: temperature parsing, triage, the F0 → F1 → F2 contact tree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.health import (
    FEVER_THRESHOLD,
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    CaseLevel,
    CaseNode,
    Symptom,
    TemperatureError,
    TriageReason,
    Urgency,
    child_level,
    parse_temperature,
    render_tree,
    triage,
)

# --------------------------------------------------------------------------- temperature


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("37,8", 37.8),
        ("37.8", 37.8),
        (" 38 ", 38.0),
        ("37.8°C", 37.8),
        ("37,8 độ", 37.8),
        ("37.8 C", 37.8),
        ("37,8 độ C", 37.8),
        ("38oC", 38.0),
        ("39 ° c", 39.0),
        ("38℃", 38.0),
        ("\t36,5\n", 36.5),
        ("37.85", 37.9),  # half-up, not banker's rounding
        ("37.84", 37.8),
        ("37,", 37.0),
        ("34", 34.0),  # both ends of the range are accepted
        ("43.0", 43.0),
        ("37,8 ĐỘ", 37.8),
        ("37,8 \u0111o\u0323\u0302", 37.8),  # "độ" typed decomposed (NFD)
    ],
)
def test_parse_temperature_accepts_what_people_type(text: str, expected: float) -> None:
    assert parse_temperature(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", TemperatureError.EMPTY),
        ("   \n\t", TemperatureError.EMPTY),
        ("37,8 độ C nhưng hơi mệt", TemperatureError.TOO_LONG),
        ("3" * 21, TemperatureError.TOO_LONG),
        ("sốt", TemperatureError.NOT_A_NUMBER),
        ("37,8,1", TemperatureError.NOT_A_NUMBER),
        ("37.8 F", TemperatureError.NOT_A_NUMBER),
        ("٣٧", TemperatureError.NOT_A_NUMBER),  # Arabic-Indic digits are not read as 37
        ("nan", TemperatureError.NOT_A_NUMBER),
        ("1e2", TemperatureError.NOT_A_NUMBER),
        ("33.9", TemperatureError.OUT_OF_RANGE),
        ("43.1", TemperatureError.OUT_OF_RANGE),
        ("378", TemperatureError.OUT_OF_RANGE),  # the comma was forgotten
        ("-37", TemperatureError.OUT_OF_RANGE),
    ],
)
def test_parse_temperature_names_the_error(text: str, error: TemperatureError) -> None:
    assert parse_temperature(text) is error


def test_parse_temperature_checks_the_rounded_value_against_the_range() -> None:
    assert parse_temperature("43.04") == 43.0
    assert parse_temperature("43.05") is TemperatureError.OUT_OF_RANGE
    assert parse_temperature("33.95") == 34.0


def test_parse_temperature_of_a_huge_input_is_too_long() -> None:
    assert parse_temperature("37" * 5_000) is TemperatureError.TOO_LONG
    assert parse_temperature(" " * 10_000) is TemperatureError.EMPTY


@given(st.text(max_size=10_000))
def test_parse_temperature_never_raises(text: str) -> None:
    result = parse_temperature(text)
    if isinstance(result, float):
        assert MIN_TEMPERATURE <= result <= MAX_TEMPERATURE
        assert round(result, 1) == result
    else:
        assert isinstance(result, TemperatureError)


@given(st.integers(min_value=340, max_value=430), st.sampled_from([".", ","]))
def test_parse_temperature_round_trips_every_valid_tenth(tenths: int, mark: str) -> None:
    text = f"{tenths // 10}{mark}{tenths % 10}"
    assert parse_temperature(text) == tenths / 10


# --------------------------------------------------------------------------- triage


def test_triage_cough_fever_or_short_breath_is_urgent() -> None:
    for symptom in (Symptom.FEVER, Symptom.COUGH, Symptom.SHORTNESS_OF_BREATH):
        result = triage(frozenset({symptom}), None, contact_with_case=False)
        assert result.urgency is Urgency.URGENT
        assert result.reasons == (TriageReason(symptom.value),)


def test_triage_other_symptoms_alone_are_routine() -> None:
    others = frozenset(Symptom) - {Symptom.FEVER, Symptom.COUGH, Symptom.SHORTNESS_OF_BREATH}
    result = triage(others, 37.4, contact_with_case=False)
    assert result.urgency is Urgency.ROUTINE
    assert result.reasons == ()


def test_triage_temperature_threshold_is_inclusive() -> None:
    assert triage(frozenset(), 37.4, False).urgency is Urgency.ROUTINE
    at_threshold = triage(frozenset(), 37.5, False)
    assert at_threshold.urgency is Urgency.URGENT
    assert at_threshold.reasons == (TriageReason.HIGH_TEMPERATURE,)


def test_triage_contact_with_a_case_is_urgent_without_symptoms() -> None:
    result = triage(frozenset(), None, contact_with_case=True)
    assert result == triage(frozenset(), 36.5, contact_with_case=True)
    assert result.urgency is Urgency.URGENT
    assert result.reasons == (TriageReason.CONTACT_WITH_CASE,)


def test_triage_lists_every_reason_in_a_fixed_order() -> None:
    result = triage(frozenset({Symptom.SHORTNESS_OF_BREATH, Symptom.FEVER}), 38.2, True)
    assert result.reasons == (
        TriageReason.FEVER,
        TriageReason.SHORTNESS_OF_BREATH,
        TriageReason.HIGH_TEMPERATURE,
        TriageReason.CONTACT_WITH_CASE,
    )


_symptom_sets = st.frozensets(st.sampled_from(list(Symptom)))
_temperatures = st.none() | st.floats(min_value=MIN_TEMPERATURE, max_value=MAX_TEMPERATURE)
_RANK = {Urgency.ROUTINE: 0, Urgency.URGENT: 1}


@given(_symptom_sets, _symptom_sets, _temperatures, st.booleans())
def test_adding_symptoms_never_lowers_urgency(
    base: frozenset[Symptom], extra: frozenset[Symptom], temperature: float | None, contact: bool
) -> None:
    before = triage(base, temperature, contact)
    after = triage(base | extra, temperature, contact)
    assert _RANK[after.urgency] >= _RANK[before.urgency]
    assert set(before.reasons) <= set(after.reasons)


@given(
    _symptom_sets, st.floats(min_value=FEVER_THRESHOLD, max_value=MAX_TEMPERATURE), st.booleans()
)
def test_high_temperature_is_always_urgent(
    symptoms: frozenset[Symptom], temperature: float, contact: bool
) -> None:
    result = triage(symptoms, temperature, contact)
    assert result.urgency is Urgency.URGENT
    assert TriageReason.HIGH_TEMPERATURE in result.reasons


@given(_symptom_sets, _temperatures, st.booleans())
def test_urgent_exactly_when_there_is_a_reason(
    symptoms: frozenset[Symptom], temperature: float | None, contact: bool
) -> None:
    result = triage(symptoms, temperature, contact)
    assert (result.urgency is Urgency.URGENT) == bool(result.reasons)
    assert len(set(result.reasons)) == len(result.reasons)


# --------------------------------------------------------------------------- contact tree


def test_child_level_steps_down_the_chain_and_stops_at_f5() -> None:
    assert child_level(CaseLevel.F0) is CaseLevel.F1
    assert child_level(CaseLevel.F1) is CaseLevel.F2
    assert child_level(CaseLevel.F2) is CaseLevel.F3
    assert child_level(CaseLevel.F4) is CaseLevel.F5
    assert child_level(CaseLevel.F5) is CaseLevel.F5


def _node(node_id: int, parent_id: int | None, level: CaseLevel = CaseLevel.F1) -> CaseNode:
    return CaseNode(node_id, parent_id, f"Người {node_id}", level)


def _shape(rows: list[tuple[int, CaseNode]]) -> list[tuple[int, int]]:
    return [(depth, node.node_id) for depth, node in rows]


def test_render_tree_is_depth_first_with_depths() -> None:
    nodes = [
        CaseNode(1, None, "Nguyễn Văn An", CaseLevel.F0),
        CaseNode(2, 1, "Trần Thị Bình", CaseLevel.F1),
        CaseNode(3, 1, "Lê Văn Cường", CaseLevel.F1),
        CaseNode(4, 2, "Đinh Thị Thu Hương", CaseLevel.F2),
        CaseNode(5, None, "Phạm Văn Dũng", CaseLevel.F0),  # an F0 with no known source
        CaseNode(6, 5, "Hoàng Thị Em", CaseLevel.F1),
    ]
    assert _shape(render_tree(nodes)) == [(0, 1), (1, 2), (2, 4), (1, 3), (0, 5), (1, 6)]
    assert render_tree(nodes)[2][1].name == "Đinh Thị Thu Hương"


def test_render_tree_children_keep_input_order_whatever_order_parents_come() -> None:
    nodes = [_node(4, 2), _node(3, 1), _node(2, 1), _node(1, None, CaseLevel.F0)]
    assert _shape(render_tree(nodes)) == [(0, 1), (1, 3), (1, 2), (2, 4)]


def test_render_tree_treats_a_missing_parent_as_a_root() -> None:
    nodes = [_node(10, 99), _node(11, 10)]
    assert _shape(render_tree(nodes)) == [(0, 10), (1, 11)]


def test_render_tree_survives_cycles_and_lists_each_node_once() -> None:
    nodes = [_node(1, None), _node(2, 3), _node(3, 2), _node(4, 3), _node(5, 5)]
    assert _shape(render_tree(nodes)) == [(0, 1), (0, 2), (1, 3), (2, 4), (0, 5)]


def test_render_tree_lists_a_repeated_id_once_first_wins() -> None:
    nodes = [_node(1, None), CaseNode(1, None, "trùng", CaseLevel.F2), _node(2, 1)]
    rows = render_tree(nodes)
    assert _shape(rows) == [(0, 1), (1, 2)]
    assert rows[0][1].name == "Người 1"


def test_render_tree_handles_a_long_chain_without_recursion() -> None:
    chain = [_node(0, None)] + [_node(i, i - 1) for i in range(1, 5_000)]
    rows = render_tree(chain)
    assert [depth for depth, _ in rows] == list(range(5_000))


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.none() | st.integers(0, 30)),
        max_size=40,
    )
)
def test_render_tree_lists_every_id_once_and_children_below_parents(
    pairs: list[tuple[int, int | None]],
) -> None:
    nodes = [_node(node_id, parent) for node_id, parent in pairs]
    rows = render_tree(nodes)
    ids = [node.node_id for _, node in rows]
    assert sorted(ids) == sorted({node_id for node_id, _ in pairs})
    for index, (depth, _) in enumerate(rows):
        assert depth == 0 or (index > 0 and rows[index - 1][0] >= depth - 1)
        if depth > 0:
            parent = next(n for d, n in reversed(rows[:index]) if d == depth - 1)
            assert rows[index][1].parent_id == parent.node_id
