"""The duty roster (issue 18 §1): `python -m bot duty import FILE`, `/duty` (who is on duty now
for one's unit and the units above, with the phone), and `on_duty_now` for urgent alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bot.domain.clock import Clock
from bot.domain.directory import Directory
from bot.domain.duty_roster import GAP_NOTICE_HOUR, Shift, load_roster, roster_days, uncovered
from bot.domain.health_rules import duty_officers_for
from bot.domain.models import BuiltinRole, Staff
from bot.domain.phones import national_form
from bot.i18n import Translator
from bot.outgoing import OutMessage
from bot.services.duty.buttons import DUTY_BUTTONS
from bot.services.duty.desk import FLOW as DESK_FLOW
from bot.services.duty.desk import RosterDesk, may_set_roster
from bot.services.kernel.feature import ButtonRoute, Feature
from bot.services.kernel.step import Deps, Step, sweep_due
from bot.services.registration.directory_import import too_large_text
from bot.services.registration.tabular import (
    DEFAULT_LIMITS,
    ImportLimits,
    TableError,
    TooLarge,
    read_table,
)
from storage.directory_repo import DirectoryRepo
from storage.duty_repo import DutyRepo
from storage.engine import Database
from storage.repos import AuditRepo


@dataclass
class RosterOutcome:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    shifts: int = 0
    replaced: int = 0  # shifts dropped from the days the file covers
    applied: bool = False


async def import_roster(
    db: Database,
    clock: Clock,
    path: Path,
    *,
    dry_run: bool,
    actor: str = "cli",
    limits: ImportLimits = DEFAULT_LIMITS,
    t: Translator | None = None,
) -> RosterOutcome:
    """All or nothing: every problem listed, or the shifts of the days covered replaced."""
    try:
        table = read_table(path, path.name, limits)
    except TooLarge as exc:
        return RosterOutcome(problems=[too_large_text(t, exc) if t else str(exc)])
    except (TableError, OSError, UnicodeDecodeError) as exc:
        return RosterOutcome(problems=[str(exc)])
    async with db.transaction() as tx:
        directory = await DirectoryRepo(tx).load()
        loaded = load_roster(table, directory, clock.tz)
        outcome = RosterOutcome([str(p) for p in loaded.problems], loaded.warnings)
        outcome.shifts = len(loaded.shifts)
        if outcome.problems or dry_run:
            return outcome
        days = roster_days(loaded.shifts)
        outcome.replaced = await DutyRepo(tx, clock.tz).replace_days(days, loaded.shifts)
        details = {"file": path.name, "shifts": outcome.shifts, "replaced": outcome.replaced}
        await AuditRepo(tx).append(clock.now(), actor, "duty.import", None, details)
    outcome.applied = True
    return outcome


def unit_chain(directory: Directory, unit_id: str) -> list[str]:
    """The unit, then the units above it, parent first."""
    return [unit_id, *directory.ancestor_ids(unit_id)]


async def on_duty_now(step: Step, directory: Directory, unit_id: str) -> list[Shift]:
    """The shifts under way now for the unit and the units above, the unit's own first."""
    repo = DutyRepo(step.tx, step.deps.clock.tz)
    return await repo.on_duty(unit_chain(directory, unit_id), step.now)


async def in_a_gap(step: Step, directory: Directory, unit_id: str) -> bool:
    """Nobody on duty now for the unit or any unit above, though the unit (or one above) keeps
    a roster (shifts within a day of now): an alert then goes up to the district leaders."""
    chain = unit_chain(directory, unit_id)
    repo = DutyRepo(step.tx, step.deps.clock.tz)
    if await repo.on_duty(chain, step.now):
        return False
    return await repo.keeps_roster(chain, step.now)


def district_leaders(directory: Directory, unit_id: str | None) -> list[str]:
    """The heads and deputies of the top unit above `unit_id` (the district, or the ward of a
    sample); of every top unit when the unit is not known."""
    tops = [unit_chain(directory, unit_id)[-1]] if unit_id else directory.top_unit_ids()
    found = [s for top in tops for s in (*directory.head_ids(top), *directory.deputy_ids(top))]
    return list(dict.fromkeys(found))


async def on_duty_for(step: Step, directory: Directory, person: Staff, unit_id: str | None) -> bool:
    """Whether `person` is a duty officer for the unit: on the roster now for it or a unit
    above, or holding the duty officer role there."""
    if unit_id is None:
        return person.has_role(BuiltinRole.DUTY_OFFICER.value)
    if person.staff_id in duty_officers_for(directory, unit_id):
        return True
    return any(s.staff_id == person.staff_id for s in await on_duty_now(step, directory, unit_id))


def duty_phone(directory: Directory, shift: Shift) -> str:
    person = directory.person(shift.staff_id)
    phone = shift.phone or (person.phone if person else None)
    return national_form(phone) if phone else ""


class GapSweep:
    """From GAP_NOTICE_HOUR, each unit keeping a roster (shifts today or tomorrow) has tomorrow
    checked once; the hours nobody is on duty are told to the unit's head(s)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, now: datetime) -> int:
        return await sweep_due(self.deps, now, self._due, self._check)

    async def _due(self, step: Step) -> list[str]:
        if step.now.hour < GAP_NOTICE_HOUR or step.deps.settings.quiet.contains(step.now):
            return []
        tomorrow = step.now.date() + timedelta(days=1)
        since = datetime.combine(step.now.date(), time(0), step.now.tzinfo)
        return await DutyRepo(step.tx, step.deps.clock.tz).unchecked_units(tomorrow, since)

    async def _check(self, step: Step, unit_id: str) -> None:
        repo = DutyRepo(step.tx, step.deps.clock.tz)
        tomorrow = step.now.date() + timedelta(days=1)
        start = datetime.combine(tomorrow, time(0), step.now.tzinfo)
        end = start + timedelta(days=1)
        await repo.mark_checked(unit_id, tomorrow)
        gaps = uncovered(await repo.shifts_during(unit_id, start, end), start, end)
        if not gaps:
            return
        directory = await step.directory()
        unit = directory.unit(unit_id)
        heads = list(directory.head_ids(unit_id))
        await step.tell_staff(
            heads, lambda t: OutMessage(gap_text(t, unit.name if unit else unit_id, tomorrow, gaps))
        )
        await step.audit.append(
            step.now,
            "system",
            "duty.gap",
            f"unit:{unit_id}",
            {"day": tomorrow.isoformat(), "gaps": len(gaps), "to": heads},
        )


def gap_text(t: Translator, unit: str, day: date, gaps: list[tuple[datetime, datetime]]) -> str:
    spans = ", ".join(f"{a:%H:%M}–{'24:00' if b.date() > day else f'{b:%H:%M}'}" for a, b in gaps)
    return t._(
        "Duty roster of {unit} for {day}: nobody is on duty {spans}. Please add a shift: /duty, «➕ Add a shift», or send the roster file.",
        unit=unit,
        day=t.date(day),
        spans=spans,
    )


class DutyDesk:
    """`/duty`: who is on duty now; for a unit head or admin also the unit's roster to change
    (`/duty UNIT` for a unit below)."""

    def __init__(self) -> None:
        self.roster = RosterDesk()

    async def command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        directory = await step.directory()
        unit_id = args[0] if args else person.unit_id
        if args and not may_set_roster(directory, person, unit_id):
            return [
                OutMessage(
                    t._(
                        "Only a head of this unit or of a unit above, or its admin, sets its duty roster."
                    )
                )
            ]
        answers = [await self._now(step, directory, person)]
        if may_set_roster(directory, person, unit_id):
            answers.append(await self.roster.view(step, directory, unit_id))
        return answers

    async def _now(self, step: Step, directory: Directory, person: Staff) -> OutMessage:
        t = step.t
        shifts = await on_duty_now(step, directory, person.unit_id)
        if not shifts:
            return OutMessage(
                t._("Nobody is on the duty roster now for your unit or the units above.")
            )
        lines = [t._("On duty now ({when}):", when=t.short(step.now))]
        for shift in shifts:
            lines.append(shift_line(t, directory, shift))
        return OutMessage("\n".join(lines))

    def feature(self, deps: Deps) -> Feature:
        return Feature(
            commands={"duty": self.command},
            flows={DESK_FLOW: self.roster.typed},
            buttons=[ButtonRoute(DUTY_BUTTONS, self.roster.button)],
            jobs=[GapSweep(deps)],
        )


def shift_line(t: Translator, directory: Directory, shift: Shift) -> str:
    unit = directory.unit(shift.unit_id)
    person = directory.person(shift.staff_id)
    return t._(
        "• {unit}: {name}, {phone} (until {until})",
        unit=unit.name if unit else shift.unit_id,
        name=person.full_name if person else shift.staff_id,
        phone=duty_phone(directory, shift),
        until=t.short(shift.ends_at),
    )
