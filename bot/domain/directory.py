"""The staff directory (a tree of units, the staff in them) and who decides whose request.

Indexes are built once, so that a route is resolved in a handful of dictionary look-ups: the
import resolves the route of every staff member to make sure nobody is left without an approver.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TypeVar

from bot.domain.models import BuiltinRole, Route, RoutingRule, Staff, Target, TargetKind, Unit
from bot.domain.phones import normalize_phone
from bot.domain.text import fold, nfc


class Directory:
    """Units, staff and routing rules, with the look-ups the bot needs. Read-only once built."""

    def __init__(
        self, units: Iterable[Unit], staff: Iterable[Staff], rules: Sequence[RoutingRule]
    ) -> None:
        self.units: dict[str, Unit] = {unit.unit_id: unit for unit in units}
        self.staff: dict[str, Staff] = {person.staff_id: person for person in staff}
        self.rules: tuple[RoutingRule, ...] = tuple(rules)
        active = [person for person in self.staff.values() if person.active]
        self._ancestor_ids = {unit_id: self._walk_up(unit_id) for unit_id in self.units}
        self._children = _group(
            (unit.parent_id, unit.unit_id) for unit in self.units.values() if unit.parent_id
        )
        self._role_ids = _group((role, p.staff_id) for p in active for role in p.roles)
        self._head_ids = _ids_with_role(active, BuiltinRole.UNIT_HEAD)
        self._deputy_ids = _ids_with_role(active, BuiltinRole.DEPUTY_HEAD)
        self._head_ids_above = {
            unit_id: self._heads_of_units(up) for unit_id, up in self._ancestor_ids.items()
        }
        self._by_phone = {person.phone: person for person in reversed(active)}
        self._rule_cache: dict[tuple[str, str | None], RoutingRule | None] = {}
        self._route_cache: dict[tuple[str, str], Route] = {}
        self._routing_roles, self._routing_staff = _roles_and_staff_routing_names(self.rules)

    def unit(self, unit_id: str) -> Unit | None:
        return self.units.get(unit_id)

    def person(self, staff_id: str) -> Staff | None:
        return self.staff.get(staff_id)

    def language_of(self, staff_id: str | None, chosen: str | None) -> str | None:
        """The language a person reads: the one chosen in the bot, else the directory's."""
        if chosen:
            return chosen
        listed = self.staff.get(staff_id or "")
        return listed.language if listed else None

    def ancestors(self, unit_id: str) -> list[Unit]:
        """The units above `unit_id`, parent first, up to the root. Stops at a cycle."""
        return [self.units[ancestor] for ancestor in self.ancestor_ids(unit_id)]

    def ancestor_ids(self, unit_id: str) -> tuple[str, ...]:
        known = self._ancestor_ids.get(unit_id)
        return known if known is not None else self._walk_up(unit_id)

    def subtree(self, unit_id: str) -> set[str]:
        """`unit_id` and every unit below it (empty if the unit does not exist)."""
        if unit_id not in self.units:
            return set()
        found = {unit_id}
        pending = [unit_id]
        while pending:
            for child in self._children.get(pending.pop(), ()):
                if child not in found:
                    found.add(child)
                    pending.append(child)
        return found

    def heads_of(self, unit_id: str) -> list[Staff]:
        return self._people(self.head_ids(unit_id))

    def with_role(self, role: str) -> list[Staff]:
        return self._people(self.role_ids(role))

    def head_ids(self, unit_id: str) -> tuple[str, ...]:
        """Ids of the active heads of the unit (no copy: the fast path of route resolution)."""
        return self._head_ids.get(unit_id, ())

    def deputy_ids(self, unit_id: str) -> tuple[str, ...]:
        return self._deputy_ids.get(unit_id, ())

    def role_ids(self, role: str) -> tuple[str, ...]:
        return self._role_ids.get(role, ())

    def head_ids_above(self, unit_id: str) -> tuple[str, ...]:
        """Ids of the active heads of the units above `unit_id`, nearest first."""
        known = self._head_ids_above.get(unit_id)
        return known if known is not None else self._heads_of_units(self.ancestor_ids(unit_id))

    def top_unit_ids(self) -> list[str]:
        """The units with no unit above them (the district)."""
        return [u for u in self.units if not self.ancestor_ids(u)]

    def by_phone(self, phone: str) -> Staff | None:
        """The active staff member with this phone, written in any form `normalize_phone` reads."""
        return self._by_phone.get(normalize_phone(phone) or phone)

    def search(
        self, text: str, limit: int = 20, units: Collection[str] | None = None
    ) -> list[Staff]:
        """Active staff (of `units`, if given) whose name matches `text`, ignoring case and
        diacritics, best first: see `name_match_rank`; equal ranks in directory order."""
        typed = name_key(text)
        needle = fold(text)
        if not needle or limit <= 0:
            return []
        ranked = (
            (name_match_rank(needle, typed, folded, exact), index, person)
            for index, (folded, exact, person) in enumerate(self._folded_names)
            if needle in folded and (units is None or person.unit_id in units)
        )
        return [person for _, _, person in heapq.nsmallest(limit, ranked, key=_rank_key)]

    def rule_for(self, staff: Staff) -> RoutingRule | None:
        """The first rule whose conditions all hold for `staff`."""
        unit = self.units.get(staff.unit_id)
        key = (staff.position_group, str(unit.kind) if unit else None)
        if key not in self._rule_cache:
            self._rule_cache[key] = self._first_matching_rule(*key)
        return self._rule_cache[key]

    def _first_matching_rule(self, position_group: str, kind: str | None) -> RoutingRule | None:
        for rule in self.rules:
            if rule.position_groups and position_group not in rule.position_groups:
                continue
            if rule.unit_kinds and kind not in rule.unit_kinds:
                continue
            return rule
        return None

    def _routes_like_anyone(self, person: Staff) -> bool:
        """True if the person appears in none of the lists that routing looks at.

        Their route then depends only on their position group and unit, and is shared.
        """
        return person.staff_id not in self._routing_staff and self._routing_roles.isdisjoint(
            person.roles
        )

    @cached_property
    def _folded_names(self) -> list[tuple[str, str, Staff]]:
        """Built on the first search: folding 100,000 names is the slowest index to build.
        Each name folded (with a leading space, so that every word starts after a space) and
        as typed (lower case, composed), for `name_match_rank`."""
        return [
            (f" {fold(person.full_name)}", name_key(person.full_name), person)
            for person in self.staff.values()
            if person.active
        ]

    def _people(self, staff_ids: Iterable[str]) -> list[Staff]:
        return [self.staff[staff_id] for staff_id in staff_ids]

    def _heads_of_units(self, unit_ids: Iterable[str]) -> tuple[str, ...]:
        return _unique(head for unit_id in unit_ids for head in self.head_ids(unit_id))

    def _walk_up(self, unit_id: str) -> tuple[str, ...]:
        seen = {unit_id}
        chain: list[str] = []
        parent_id = self._parent_of(unit_id)
        while parent_id is not None and parent_id not in seen:
            seen.add(parent_id)
            chain.append(parent_id)
            parent_id = self._parent_of(parent_id)
        return tuple(chain)

    def _parent_of(self, unit_id: str) -> str | None:
        """The parent's id, if the unit and its parent both exist."""
        unit = self.units.get(unit_id)
        if unit is None or not unit.parent_id or unit.parent_id not in self.units:
            return None
        return unit.parent_id


def administered_units(directory: Directory, person: Staff) -> set[str] | None:
    """The units `person` administers: None for a district admin (role `admin`: every unit),
    their unit and the units below it for a unit admin (role `unit_admin`), none otherwise."""
    if person.has_role(BuiltinRole.ADMIN):
        return None
    if person.has_role(BuiltinRole.UNIT_ADMIN):
        return directory.subtree(person.unit_id)
    return set()


def is_top_unit(directory: Directory, unit_id: str | None) -> bool:
    """True for the district itself (None: the whole directory, or a unit without a parent)."""
    return unit_id is None or (unit_id in directory.units and not directory.ancestor_ids(unit_id))


def signers_for(directory: Directory, unit_id: str | None) -> list[str]:
    """Who signs off a directive of `unit_id` (None: the district): the unit's head and deputies,
    then the heads of the units above, nearest first."""
    units = [unit_id] if unit_id is not None else sorted(directory.top_unit_ids())
    found = [
        staff_id
        for unit in units
        for staff_id in (
            *directory.head_ids(unit),
            *directory.deputy_ids(unit),
            *directory.head_ids_above(unit),
        )
    ]
    return list(_unique(found))


K = TypeVar("K")
V = TypeVar("V")


def name_key(text: str) -> str:
    """A name as typed, diacritics kept: composed, lower case, single spaces."""
    return " ".join(nfc(text).casefold().split())


def name_match_rank(needle: str, typed: str, folded_name: str, exact_name: str) -> tuple[int, int]:
    """How well a name matches a search, lower is better: (how, diacritics).

    `how`: 0 the folded search is whole words of the name, 1 it starts a word, 2 it is inside
    one (callers skip names it is not in at all); `diacritics`: 0 when the search as typed,
    marks included, is in the name too (a search for «Hương» puts «Hương» before «Hưởng»).
    `folded_name` starts with a space (the index's form), `needle` is folded.
    """
    padded = f" {needle}"
    whole = f"{folded_name} ".find(f"{padded} ") >= 0
    how = 0 if whole else 1 if padded in folded_name else 2
    return how, 0 if typed in exact_name else 1


def _rank_key(item: tuple[tuple[int, int], int, Staff]) -> tuple[tuple[int, int], int]:
    return item[0], item[1]


def _group(pairs: Iterable[tuple[K, V]]) -> dict[K, tuple[V, ...]]:
    grouped: defaultdict[K, list[V]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return {key: tuple(values) for key, values in grouped.items()}


def _ids_with_role(people: Iterable[Staff], role: str) -> dict[str, tuple[str, ...]]:
    """unit_id -> ids of the people there holding `role`."""
    return _group((person.unit_id, person.staff_id) for person in people if role in person.roles)


def _unique(ids: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _roles_and_staff_routing_names(
    rules: Iterable[RoutingRule],
) -> tuple[frozenset[str], frozenset[str]]:
    """The roles (unit_head, deputy_head and every role:X) and staff ids routing looks up."""
    targets = [target for rule in rules for target in (rule.approver, *rule.notify)]
    roles = {t.value for t in targets if t.kind is TargetKind.ROLE and t.value}
    staff = {t.value for t in targets if t.kind is TargetKind.STAFF and t.value}
    return frozenset({BuiltinRole.UNIT_HEAD, BuiltinRole.DEPUTY_HEAD, *roles}), frozenset(staff)


# --------------------------------------------------------------------------- route resolution


def resolve_route(
    directory: Directory, staff_id: str, absent: frozenset[str] = frozenset()
) -> Route:
    """Who decides `staff_id`'s request, who may decide above them, who is told afterwards.

    `absent` holds the staff ids absent now: their deputies stand in for them, and an absent
    approver without a stand-in is replaced by the leaders above them. Raises KeyError for an
    unknown staff id. A Route with `needs_approval=True` and no deciders means nobody in the
    routing chain can decide (the import reports that as a problem; `route_now` then falls back
    to the district admins).
    """
    requester = directory.staff[staff_id]
    if absent or not directory._routes_like_anyone(requester):
        return _resolve(directory, requester, absent)
    key = (requester.position_group, requester.unit_id)
    shared = directory._route_cache.get(key)
    if shared is None:
        shared = directory._route_cache[key] = _resolve(directory, requester, absent)
    # A fresh Route each time: `acting_for` is a dict, which callers must not share.
    return replace(shared, acting_for=dict(shared.acting_for))


def route_now(directory: Directory, staff_id: str, absent: frozenset[str]) -> Route:
    """The route of a request made now: never without somebody who can decide it.

    The routing chain (stand-ins, else the leaders above) first; when nobody in it is present,
    the district admins decide (`to_admins`), present ones first, the requester never.
    """
    route = resolve_route(directory, staff_id, absent)
    if route.deciders or not route.needs_approval:
        return route
    admins = [a for a in directory.role_ids(BuiltinRole.ADMIN) if a != staff_id]
    present = [a for a in admins if a not in absent]
    return replace(route, deciders=tuple(present or admins), to_admins=True)


@dataclass(frozen=True, slots=True)
class AwayCover:
    """Who decides, while someone is away, the requests that would have gone to them."""

    deciders: tuple[str, ...]  # in place of the absent person, all requesters together
    admins: tuple[str, ...]  # for requesters nobody in the chain can decide for: the admins
    requesters: int  # how many people's requests this person decides (0: nothing changes)


def cover_while_away(directory: Directory, staff_id: str, absent: frozenset[str]) -> AwayCover:
    """What `route_now` gives, with `staff_id` absent, to everyone whose requests they decide."""
    others_absent = absent - {staff_id}
    while_away = others_absent | {staff_id}
    deciders: list[str] = []
    admins: list[str] = []
    requesters = 0
    for requester_id, weight in _route_representatives(directory):
        if requester_id == staff_id:
            continue
        if staff_id not in resolve_route(directory, requester_id, others_absent).deciders:
            continue
        requesters += weight
        route = route_now(directory, requester_id, while_away)
        (admins if route.to_admins else deciders).extend(route.deciders)
    return AwayCover(_unique(deciders), _unique(admins), requesters)


def _route_representatives(directory: Directory) -> list[tuple[str, int]]:
    """One active person per shared route (with how many share it), everyone else alone."""
    shared: dict[tuple[str, str], list[str]] = {}
    alone: list[tuple[str, int]] = []
    for person in directory.staff.values():
        if not person.active:
            continue
        if directory._routes_like_anyone(person):
            shared.setdefault((person.position_group, person.unit_id), []).append(person.staff_id)
        else:
            alone.append((person.staff_id, 1))
    return [(ids[0], len(ids)) for ids in shared.values()] + alone


def deciding_people(directory: Directory) -> list[str]:
    """Active staff whom some request is routed to for a decision: unit heads, their deputies,
    the holders of every role or staff id a rule's approver names, and the admins."""
    named: list[str] = []
    for rule in directory.rules:
        target = rule.approver
        if target.kind is TargetKind.ROLE and target.value:
            named.extend(directory.role_ids(target.value))
        elif target.kind is TargetKind.STAFF and target.value:
            person = directory.person(target.value)
            if person is not None and person.active:
                named.append(person.staff_id)
    heads = [h for unit_id in directory.units for h in directory.head_ids(unit_id)]
    deputies = [d for unit_id in directory.units for d in directory.deputy_ids(unit_id)]
    return list(_unique([*heads, *deputies, *named, *directory.role_ids(BuiltinRole.ADMIN)]))


def superiors_of(directory: Directory, staff_ids: list[str]) -> list[str]:
    """Who decides these people's own requests (where a stuck request or alert climbs next)."""
    return [
        d for s in staff_ids if s in directory.staff for d in resolve_route(directory, s).deciders
    ]


def answerable_heads(directory: Directory, staff_id: str) -> list[str]:
    """Who answers for a person: the heads of their unit; for a head, whoever decides their own
    requests (the routing rules), else the nearest heads above (at most three)."""
    person = directory.person(staff_id)
    if person is None:
        return []
    heads = [h for h in directory.head_ids(person.unit_id) if h != staff_id]
    if heads:
        return heads
    deciders = [d for d in resolve_route(directory, staff_id).deciders if d != staff_id]
    return deciders or [h for h in directory.head_ids_above(person.unit_id) if h != staff_id][:3]


def _resolve(directory: Directory, requester: Staff, absent: frozenset[str]) -> Route:
    rule = directory.rule_for(requester)
    if rule is None:
        return Route(rule_name="", needs_approval=True)
    if rule.approver.kind is TargetKind.NONE:
        notify = _notify_ids(directory, rule, requester, deciders=())
        return Route(rule_name=rule.name, needs_approval=False, notify=notify)
    decision = _decide(directory, rule.approver, requester, absent)
    return Route(
        rule_name=rule.name,
        needs_approval=True,
        deciders=decision.deciders,
        above=_above_ids(directory, decision, requester.staff_id, absent),
        notify=_notify_ids(directory, rule, requester, decision.deciders),
        acting_for=decision.acting_for,
        away=decision.away,
    )


@dataclass(frozen=True, slots=True)
class _Decision:
    deciders: tuple[str, ...] = ()
    acting_for: dict[str, str] = field(default_factory=dict)
    away: tuple[str, ...] = ()


def _decide(
    directory: Directory, approver: Target, requester: Staff, absent: frozenset[str]
) -> _Decision:
    """The approver's people (deputies standing in for absent heads); failing them, the leaders
    above the absent approvers; failing those, the heads of each unit above the requester's."""
    targets = _target_ids(directory, approver, requester)
    away = tuple(t for t in targets if t in absent and t != requester.staff_id)
    decision = _stand_in_for_absent(directory, targets, requester.staff_id, absent)
    if decision.deciders:
        return replace(decision, away=away)
    for unit_ids in (
        _units_above_people(directory, away),
        directory.ancestor_ids(requester.unit_id),
    ):
        for unit_id in unit_ids:
            heads = directory.head_ids(unit_id)
            decision = _stand_in_for_absent(directory, heads, requester.staff_id, absent)
            if decision.deciders:
                return replace(decision, away=_unique([*away, *decision.away]))
    return _Decision(away=away)


def _units_above_people(directory: Directory, staff_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Each person's own unit, then the units above it: where their leaders are."""
    units = (
        unit_id
        for staff_id in staff_ids
        for unit_id in (
            directory.staff[staff_id].unit_id,
            *directory.ancestor_ids(directory.staff[staff_id].unit_id),
        )
    )
    return _unique(units)


def _stand_in_for_absent(
    directory: Directory, candidates: tuple[str, ...], requester_id: str, absent: frozenset[str]
) -> _Decision:
    """Drop the requester; an absent head is replaced by the present deputies of their unit."""
    if absent.isdisjoint(candidates):
        return _Decision(tuple(c for c in candidates if c != requester_id))
    present = {c for c in candidates if c not in absent and c != requester_id}
    deciders: list[str] = []
    acting_for: dict[str, str] = {}
    for candidate in candidates:
        if candidate in present:
            deciders.append(candidate)
        elif candidate in absent:
            for deputy in _stand_ins(directory, candidate, requester_id, absent):
                deciders.append(deputy)
                if deputy not in present:
                    acting_for.setdefault(deputy, candidate)
    away = tuple(c for c in candidates if c in absent and c != requester_id)
    return _Decision(_unique(deciders), acting_for, away if deciders else ())


def _stand_ins(
    directory: Directory, absent_id: str, requester_id: str, absent: frozenset[str]
) -> list[str]:
    """The present deputies of the unit an absent person heads (none if they head nothing)."""
    person = directory.staff[absent_id]
    if not person.has_role(BuiltinRole.UNIT_HEAD):
        return []
    deputies = directory.deputy_ids(person.unit_id)
    return [deputy for deputy in deputies if deputy not in absent and deputy != requester_id]


def _target_ids(directory: Directory, target: Target, requester: Staff) -> tuple[str, ...]:
    """The active staff a target names, as seen from the requester."""
    if target.kind is TargetKind.UNIT_HEAD:
        return directory.head_ids(requester.unit_id)
    if target.kind is TargetKind.ROLE and target.value:
        return directory.role_ids(target.value)
    if target.kind is TargetKind.STAFF and target.value:
        person = directory.person(target.value)
        return (person.staff_id,) if person and person.active else ()
    return ()


def _above_ids(
    directory: Directory, decision: _Decision, requester_id: str, absent: frozenset[str]
) -> tuple[str, ...]:
    """The present heads of the first decider's own unit (a role approver such as a vice-chair
    has a head: the chair or the secretary), then of the units above it, nearest first."""
    if not decision.deciders:
        return ()
    decider_unit = directory.staff[decision.deciders[0]].unit_id
    heads = _unique((*directory.head_ids(decider_unit), *directory.head_ids_above(decider_unit)))
    return tuple(
        h for h in heads if h != requester_id and h not in decision.deciders and h not in absent
    )


def _notify_ids(
    directory: Directory, rule: RoutingRule, requester: Staff, deciders: tuple[str, ...]
) -> tuple[str, ...]:
    if not rule.notify:
        return ()
    told = (
        staff_id
        for target in rule.notify
        for staff_id in _target_ids(directory, target, requester)
        if staff_id != requester.staff_id and staff_id not in deciders
    )
    return _unique(told)
