"""Symptom reports, triage and the contact tree of cases (DOMAIN.md rules 5 and 6).

Pure: no I/O and no clock. Every function returns data (enums, tuples); the caller turns it into
Vietnamese or English sentences.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Symptom(StrEnum):
    FEVER = "fever"
    COUGH = "cough"
    SHORTNESS_OF_BREATH = "shortness_of_breath"
    SORE_THROAT = "sore_throat"
    LOSS_OF_TASTE_OR_SMELL = "loss_of_taste_or_smell"
    TIREDNESS = "tiredness"
    DIARRHOEA = "diarrhoea"
    PNEUMONIA = "pneumonia"
    OTHER = "other"


# --------------------------------------------------------------------------- temperature

MIN_TEMPERATURE = 34.0
MAX_TEMPERATURE = 43.0
MAX_TEMPERATURE_TEXT = 20


class TemperatureError(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"


# A number (ASCII digits only, `.` or `,` as decimal mark) and an optional unit:
# `°C`, `° C`, `°`, `℃`, `oC`, `C`, `độ`, `độ C`.
_TEMPERATURE = re.compile(
    r"(?P<sign>[-+]?)(?P<whole>[0-9]{1,3})(?:[.,](?P<frac>[0-9]*))?"
    r"\s*(?:(?:°|º|˚)\s*c?|℃|o\s*c|c|độ(?:\s*c)?)?",
    re.IGNORECASE,
)


def parse_temperature(text: str) -> float | TemperatureError:
    """Read a body temperature in °C as people type it: `37,8`, ` 38 `, `37.8°C`, `37,8 độ`.

    Surrounding white space is ignored; the rest may be at most 20 characters. The value is
    rounded half-up to one decimal and must then lie in 34.0–43.0 (inclusive). Never raises.
    """
    trimmed = text.strip()
    if not trimmed:
        return TemperatureError.EMPTY
    if len(trimmed) > MAX_TEMPERATURE_TEXT:
        return TemperatureError.TOO_LONG
    match = _TEMPERATURE.fullmatch(unicodedata.normalize("NFC", trimmed))
    if match is None:
        return TemperatureError.NOT_A_NUMBER
    value = _one_decimal(match["sign"], match["whole"], match["frac"] or "")
    if not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:
        return TemperatureError.OUT_OF_RANGE
    return value


def _one_decimal(sign: str, whole: str, frac: str) -> float:
    exact = Decimal(f"{sign}{whole}.{frac or '0'}")
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- triage

FEVER_THRESHOLD = 37.5

# The signs the seeds name for self-isolation and telling the health facility at once
# (`seeds/000`, `seeds/003`: "ho, sốt, khó thở").
URGENT_SYMPTOMS: frozenset[Symptom] = frozenset(
    {Symptom.FEVER, Symptom.COUGH, Symptom.SHORTNESS_OF_BREATH}
)


class Urgency(StrEnum):
    URGENT = "urgent"
    ROUTINE = "routine"


class CaseContact(StrEnum):
    """The answer to "have you been in contact with a confirmed case (F0)?": kept as given,
    so "I don't know" is never read as "no"."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class TriageReason(StrEnum):
    FEVER = "fever"
    COUGH = "cough"
    SHORTNESS_OF_BREATH = "shortness_of_breath"
    HIGH_TEMPERATURE = "high_temperature"
    CONTACT_WITH_CASE = "contact_with_case"


@dataclass(frozen=True, slots=True)
class Triage:
    urgency: Urgency
    reasons: tuple[TriageReason, ...]


def triage(
    symptoms: frozenset[Symptom], temperature: float | None, contact_with_case: bool
) -> Triage:
    """URGENT (the health focal point is told at once) or ROUTINE (the unit head is told).

    URGENT when the report has fever, cough or shortness of breath, or a temperature of 37.5 °C
    or more. Also URGENT on contact with a case: the seeds order anyone who may have been exposed
    to be monitored and reported without delay (rule 5), and a contact of an F0 is an F1 whom
    the health authorities must hear of at once (rule 6), whatever symptoms they have yet.
    Other symptoms (sore throat, tiredness, pneumonia, …) alone are ROUTINE. The reasons come in
    the fixed order of `TriageReason`, so equal reports give equal results.
    """
    found = set(_reasons(symptoms, temperature, contact_with_case))
    reasons = tuple(reason for reason in TriageReason if reason in found)
    return Triage(Urgency.URGENT if reasons else Urgency.ROUTINE, reasons)


def _reasons(
    symptoms: frozenset[Symptom], temperature: float | None, contact_with_case: bool
) -> Iterator[TriageReason]:
    for symptom in symptoms & URGENT_SYMPTOMS:
        yield TriageReason(symptom.value)
    if temperature is not None and temperature >= FEVER_THRESHOLD:
        yield TriageReason.HIGH_TEMPERATURE
    if contact_with_case:
        yield TriageReason.CONTACT_WITH_CASE


# --------------------------------------------------------------------------- contact tree


class CaseLevel(StrEnum):
    """F0 is a confirmed case, F1 a close contact of an F0, F2 a contact of an F1, and so on.

    Vietnam traced contacts down to F5 in 2020–2021; deeper contacts are still recorded as F5.
    """

    F0 = "F0"
    F1 = "F1"
    F2 = "F2"
    F3 = "F3"
    F4 = "F4"
    F5 = "F5"


_LEVELS: tuple[CaseLevel, ...] = tuple(CaseLevel)


def child_level(level: CaseLevel) -> CaseLevel:
    """The level of a contact of someone at `level`: F0 → F1 → … → F5, and F5 stays F5."""
    index = _LEVELS.index(level)
    return _LEVELS[min(index + 1, len(_LEVELS) - 1)]


@dataclass(frozen=True, slots=True)
class CaseNode:
    node_id: int
    parent_id: int | None
    name: str
    level: CaseLevel


def render_tree(nodes: Sequence[CaseNode]) -> list[tuple[int, CaseNode]]:
    """The nodes in depth-first order with their depth (0 for a root), for an indented tree.

    Roots are nodes without a parent or whose parent is not in `nodes`; children keep the order
    of `nodes`. Every node is listed exactly once, even with bad data: a node whose id repeats
    is listed once (the first one wins), and nodes caught in a parent cycle (`A → B → A`, or a
    node that is its own parent) are listed too, starting from the first of them in `nodes`.
    """
    unique = _first_of_each_id(nodes)
    known = {node.node_id for node in unique}
    children = _children_by_parent(unique)
    roots = [node for node in unique if node.parent_id is None or node.parent_id not in known]
    seen: set[int] = set()
    result: list[tuple[int, CaseNode]] = []
    for start in [*roots, *unique]:
        if start.node_id not in seen:
            result.extend(_depth_first(start, children, seen))
    return result


def _first_of_each_id(nodes: Sequence[CaseNode]) -> list[CaseNode]:
    by_id: dict[int, CaseNode] = {}
    for node in nodes:
        by_id.setdefault(node.node_id, node)
    return list(by_id.values())


def _children_by_parent(nodes: list[CaseNode]) -> dict[int, list[CaseNode]]:
    children: dict[int, list[CaseNode]] = {}
    for node in nodes:
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node)
    return children


def _depth_first(
    start: CaseNode, children: dict[int, list[CaseNode]], seen: set[int]
) -> list[tuple[int, CaseNode]]:
    """Iterative (no recursion limit on long chains); `seen` stops at cycles."""
    out: list[tuple[int, CaseNode]] = []
    stack: list[tuple[int, CaseNode]] = [(0, start)]
    while stack:
        depth, node = stack.pop()
        if node.node_id in seen:
            continue
        seen.add(node.node_id)
        out.append((depth, node))
        kids = children.get(node.node_id, [])
        stack.extend((depth + 1, kid) for kid in reversed(kids))
    return out
