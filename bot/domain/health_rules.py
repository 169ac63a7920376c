"""Rules around symptom reports: onset dates, codes from other flows, who may see health records,
the monitoring schedule and areas with published cases (DOMAIN.md rules 5–7). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from bot.domain.datetime_parse import ParseFailure, parse_when
from bot.domain.directory import Directory, answerable_heads, resolve_route, route_now
from bot.domain.health import Symptom
from bot.domain.models import BuiltinRole, Staff
from bot.domain.provinces import same_province

MAX_ONSET_DAYS = 60
_DAY_MONTH = re.compile(r"\d{1,2}\s*[/.-]\s*\d{1,2}")

# Free contact codes of the return declaration that mean contact with a confirmed case.
CASE_CONTACT_CODES = frozenset({"covid_patient", "f0", "confirmed_case"})


class OnsetError(StrEnum):
    UNREADABLE = "unreadable"
    IN_FUTURE = "in_future"
    TOO_OLD = "too_old"


def parse_onset(text: str, now: datetime) -> date | OnsetError:
    """The day symptoms began: `26/05/2021`, `26/5`, `hôm nay`, `hôm qua`. Never in the future
    nor more than 60 days back. Never raises."""
    parsed = parse_when(text[:40] if isinstance(text, str) else "", now)
    if isinstance(parsed, ParseFailure):
        return OnsetError.UNREADABLE
    day = parsed.value.date()
    today = now.date()
    if day > today and _DAY_MONTH.fullmatch(text.strip()):
        # "24/5" without a year resolves forward to next year; people mean the past one.
        try:
            day = day.replace(year=day.year - 1)
        except ValueError:
            return OnsetError.IN_FUTURE
    if day > today:
        return OnsetError.IN_FUTURE
    if (today - day).days > MAX_ONSET_DAYS:
        return OnsetError.TOO_OLD
    return day


def symptoms_from_codes(codes: Iterable[str]) -> frozenset[Symptom]:
    """Symptom codes as other flows store them; unknown codes become OTHER."""
    known = {s.value for s in Symptom}
    return frozenset(Symptom(c) if c in known else Symptom.OTHER for c in codes if c)


def contact_with_case(contacts: Iterable[str]) -> bool:
    return any(code in CASE_CONTACT_CODES for code in contacts)


# --------------------------------------------------------------------------- who may see what

HEAD_ROLES = frozenset({BuiltinRole.UNIT_HEAD.value, BuiltinRole.DEPUTY_HEAD.value})
ALL_RECORDS_ROLES = frozenset({BuiltinRole.HEALTH_OFFICER.value, BuiltinRole.ADMIN.value})


def may_view_health(
    directory: Directory, viewer: Staff, subject_unit_id: str | None, subject_id: str | None
) -> bool:
    """The person themselves, heads (and deputies) of their unit or any unit above it, health
    officers and district admins. A record of someone outside the directory belongs to the unit
    it was reported in (`subject_unit_id`)."""
    if subject_id is not None and viewer.staff_id == subject_id:
        return True
    if not viewer.active:
        return False
    if viewer.roles & ALL_RECORDS_ROLES:
        return True
    if not viewer.roles & HEAD_ROLES or subject_unit_id is None:
        return False
    return viewer.unit_id == subject_unit_id or viewer.unit_id in directory.ancestor_ids(
        subject_unit_id
    )


def health_officers_for(directory: Directory, unit_id: str) -> list[str]:
    """Health officers of the unit, else of the nearest unit above whose subtree has some."""
    officers = directory.role_ids(BuiltinRole.HEALTH_OFFICER.value)
    for scope in (unit_id, *directory.ancestor_ids(unit_id)):
        subtree = directory.subtree(scope)
        found = [s for s in officers if directory.staff[s].unit_id in subtree]
        if found:
            return found
    return list(officers)


def duty_officers_for(directory: Directory, unit_id: str) -> list[str]:
    """The duty officers on the person's side of the tree: of their own unit and of the units
    above it (each level's 24/7 duty, rule 7), not those of unrelated units."""
    scope = {unit_id, *directory.ancestor_ids(unit_id)}
    return [
        s
        for s in directory.role_ids(BuiltinRole.DUTY_OFFICER.value)
        if directory.staff[s].unit_id in scope
    ]


def heads_present(directory: Directory, staff_id: str, absent: frozenset[str]) -> list[str]:
    """Who answers for a person now (`answerable_heads`), an absent one replaced by who decides
    for the person now (`route_now`: the stand-in, else the leaders above, else the admins),
    or, for a head who is not the person's approver, by the present deputies of their unit.
    Nobody present: the absent ones after all (an alert never reaches nobody)."""
    heads = answerable_heads(directory, staff_id)
    if absent.isdisjoint(heads):
        return heads
    usual = resolve_route(directory, staff_id).deciders
    now = route_now(directory, staff_id, absent).deciders
    found: list[str] = []
    for head in heads:
        if head not in absent:
            found.append(head)
        elif head in usual:
            found.extend(d for d in now if d not in absent)
        else:
            found.extend(_present_deputies(directory, head, absent))
    found = [s for s in dict.fromkeys(found) if s != staff_id]
    return found or heads


def _present_deputies(directory: Directory, head: str, absent: frozenset[str]) -> list[str]:
    person = directory.staff[head]
    if not person.has_role(BuiltinRole.UNIT_HEAD):
        return []
    return [d for d in directory.deputy_ids(person.unit_id) if d not in absent and d != head]


def health_contact(directory: Directory, unit_id: str, default: str) -> str:
    """The unit's health contact, else the nearest one above, else the district default."""
    for scope in (unit_id, *directory.ancestor_ids(unit_id)):
        unit = directory.unit(scope)
        if unit is not None and unit.health_contact:
            return unit.health_contact
    return default


# --------------------------------------------------------------------------- monitoring


def first_checkin(now: datetime, at: time) -> datetime:
    """The first daily check-in after monitoring starts: tomorrow at `at` (local time of `now`)."""
    return datetime.combine(now.date() + timedelta(days=1), at, tzinfo=now.tzinfo)


def next_checkin(previous: datetime, at: time) -> datetime:
    return datetime.combine(previous.date() + timedelta(days=1), at, tzinfo=previous.tzinfo)


def monitoring_last_day(start: date, days: int) -> date:
    """Monitoring for `days` days counting the start day: 26/05 for 14 days ends on 08/06."""
    return start + timedelta(days=max(days, 1) - 1)


# --------------------------------------------------------------------------- areas with cases


def area_matches(
    area_province: str,
    area_start: date,
    area_end: date | None,
    province: str,
    start: date,
    end: date,
) -> bool:
    """The trip (`province`, `start`–`end`) touches a listed area while it is listed."""
    if not same_province(area_province, province):
        return False
    return area_start <= end and (area_end is None or start <= area_end)
