"""Describing people and their approval routes, for /me and `directory show`."""

from __future__ import annotations

from bot.domain.directory import Directory, resolve_route
from bot.domain.models import BuiltinRole, Staff
from bot.i18n import Translator


def person_label(directory: Directory, staff_id: str) -> str:
    person = directory.person(staff_id)
    if person is None:
        return staff_id
    return f"{person.full_name} ({person.position})" if person.position else person.full_name


def describe_person(t: Translator, directory: Directory, person: Staff) -> list[str]:
    unit = directory.unit(person.unit_id)
    lines = [
        f"👤 {person.full_name}",
        t._("Unit: {unit}", unit=unit.name if unit else person.unit_id),
        t._("Position: {position}", position=person.position or "—"),
    ]
    return lines


def describe_route(t: Translator, directory: Directory, person: Staff) -> list[str]:
    route = resolve_route(directory, person.staff_id)
    lines = [t._("Routing rule: {rule}", rule=route.rule_name)]
    if not route.needs_approval:
        lines.append(t._("Your trips are recorded without an approval step."))
    elif route.deciders:
        names = ", ".join(person_label(directory, s) for s in route.deciders)
        lines.append(t._("Approved by: {names}", names=names))
    else:
        lines.append(t._("Nobody can approve your requests yet: please tell the district office."))
    if route.above:
        names = ", ".join(person_label(directory, s) for s in route.above)
        lines.append(t._("Leaders above who may also decide: {names}", names=names))
    if route.notify:
        names = ", ".join(person_label(directory, s) for s in route.notify)
        lines.append(t._("Told after the decision: {names}", names=names))
    return lines


def names_of(directory: Directory, staff_ids: list[str] | tuple[str, ...]) -> str:
    return ", ".join(person.full_name if (person := directory.person(s)) else s for s in staff_ids)


def told_line(t: Translator, directory: Directory, told: list[str]) -> str:
    """Who was really told (only those who have opened the bot can be)."""
    if not told:
        return t._("Nobody could be told: none of those concerned has opened the bot yet.")
    return t._("Told: {names}.", names=names_of(directory, told))


def not_registered_line(t: Translator, names: list[str], limit: int = 40) -> str:
    """Those who could not get a directive (never opened the bot), apart from those who have
    not read it: the same words in /unit and in «who has not read»."""
    if not names:
        return ""
    shown = ", ".join(names[:limit])
    more = f" … +{len(names) - limit}" if len(names) > limit else ""
    return "• " + t._(
        "Not registered in the bot, so could not get it ({n}): {names}",
        n=len(names),
        names=shown + more,
    )


def messenger_name(channel: str) -> str:
    """A channel's name as people call the messenger: the name, capitalised."""
    return channel.capitalize()


def oversees(directory: Directory, me: Staff, staff_id: str) -> bool:
    """Heads and deputies of the person's unit or a unit above it, and district admins."""
    person = directory.person(staff_id)
    if person is None:
        return False
    if me.has_role(BuiltinRole.ADMIN):
        return True
    units = {person.unit_id, *(u.unit_id for u in directory.ancestors(person.unit_id))}
    leads = me.has_role(BuiltinRole.UNIT_HEAD) or me.has_role(BuiltinRole.DEPUTY_HEAD)
    return leads and me.unit_id in units
