"""Domain models shared by every part of khaibao. Pure data: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class UnitKind(StrEnum):
    PARTY = "party"
    GOVERNMENT = "government"
    PUBLIC_SERVICE = "public_service"
    WARD = "ward"
    SCHOOL = "school"
    OTHER = "other"


class BuiltinRole(StrEnum):
    UNIT_HEAD = "unit_head"
    DEPUTY_HEAD = "deputy_head"
    ADMIN = "admin"
    UNIT_ADMIN = "unit_admin"  # admin of their own unit and the units below it
    HEALTH_OFFICER = "health_officer"
    DUTY_OFFICER = "duty_officer"


LANGUAGES = ("vi", "en")


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    name: str
    kind: UnitKind
    parent_id: str | None = None
    health_contact: str | None = None


@dataclass(frozen=True, slots=True)
class Staff:
    staff_id: str
    full_name: str
    phone: str  # normalised, e.g. +84912345678
    unit_id: str
    position_group: str
    position: str | None = None
    roles: frozenset[str] = frozenset()
    language: str = "vi"
    active: bool = True

    def has_role(self, role: str) -> bool:
        return role in self.roles


class TargetKind(StrEnum):
    UNIT_HEAD = "unit_head"
    ROLE = "role"
    STAFF = "staff"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Target:
    """An approver or notify entry of a routing rule: `unit_head`, `role:X`, `staff:ID`, `none`."""

    kind: TargetKind
    value: str | None = None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}" if self.value else self.kind.value


@dataclass(frozen=True, slots=True)
class RoutingRule:
    name: str
    approver: Target
    position_groups: tuple[str, ...] = ()
    unit_kinds: tuple[str, ...] = ()
    notify: tuple[Target, ...] = ()

    @property
    def unconditional(self) -> bool:
        return not self.position_groups and not self.unit_kinds


@dataclass(frozen=True, slots=True)
class Route:
    """Who decides a person's request, who may decide above them, and who is told afterwards.

    `deciders` are the staff ids who decide in the first place (already with deputies standing in
    for absent heads); `above` are leaders higher in the chain who may also decide; `notify` are
    told after the decision. `needs_approval` is False for `approver = "none"` (top of the
    directory). `acting_for` maps a deputy who decides to the absent head they stand in for.
    `away` are the absent people who would have decided (theirs again once back);
    `to_admins` is True when nobody in the chain is present and the district admins decide.
    """

    rule_name: str
    needs_approval: bool
    deciders: tuple[str, ...] = ()
    above: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    acting_for: dict[str, str] = field(default_factory=dict)
    away: tuple[str, ...] = ()
    to_admins: bool = False

    @property
    def has_decider(self) -> bool:
        return bool(self.deciders) or not self.needs_approval

    def may_decide(self, staff_id: str) -> bool:
        return staff_id in self.deciders or staff_id in self.above


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an imported file, printed as `file:row: column: reason`."""

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}: {self.reason}"
