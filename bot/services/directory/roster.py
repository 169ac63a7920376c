"""A duty roster sent in the chat (issue 18 §1), told from a staff file by its headers: checked as
`python -m bot duty import` checks it, answered with the dry run and «✅ Áp dụng» / «❌ Hủy».
Applying replaces the shifts of the (unit, day) pairs the file covers, all or nothing, audited.
A unit admin's roster may name only the units they manage.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.domain.directory import Directory, administered_units
from bot.domain.directory_files import Table
from bot.domain.duty_roster import RosterLoad, Shift, load_roster, outside_units, roster_days
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.directory.views import refused_messages, without_buttons
from bot.services.kernel.buttons import ActionOn, Codec
from bot.services.kernel.feature import Answer
from bot.services.kernel.step import Deps, Step
from bot.services.registration.directory_import import too_large_text
from bot.services.registration.tabular import ImportLimits, TableError, TooLarge, read_table
from storage.directory_repo import DirectoryRepo
from storage.duty_repo import DutyRepo
from storage.uploads_repo import UPLOAD_ROSTER, UploadsRepo

ROSTER_PENDING = timedelta(minutes=30)  # as a directory batch: the dry run waits this long
CACHED_ROSTERS = 4


@dataclass(frozen=True)
class RosterAction(ActionOn):
    """On the admin's roster file N: `ok` apply it, `x` cancel it."""

    PREFIX = "du"
    ACTIONS = ("ok", "x")


ROSTER_BUTTONS = Codec[RosterAction]("du", (RosterAction,))


@dataclass(frozen=True)
class CheckedRoster:
    loaded: RosterLoad
    version: int  # the directory version it was checked against


def check_roster(
    table: Table, directory: Directory, scope: set[str] | None, deps: Deps
) -> RosterLoad:
    """The roster as the CLI loads it; a unit admin's rows for other units refused first."""
    problems = outside_units(table, scope) if scope is not None else []
    if problems:
        return RosterLoad([], problems, [])
    return load_roster(table, directory, deps.clock.tz)


class RosterUploads:
    def __init__(self, deps: Deps, limits: ImportLimits) -> None:
        self.deps = deps
        self.limits = limits
        self._checked: dict[int, CheckedRoster] = {}  # by upload id

    async def check(self, table: Table, scope: set[str] | None) -> CheckedRoster:
        """Checked before the step that records it (a month of a district's shifts takes a
        while; no lock is held meanwhile)."""
        async with self.deps.db.reading() as tx:
            version = await DirectoryRepo(tx).version()
            directory = await self.deps.directory.get(tx, version)
        loaded = await asyncio.to_thread(check_roster, table, directory, scope, self.deps)
        return CheckedRoster(loaded, version)

    async def record(
        self, step: Step, staff_id: str, path: Path, name: str, checked: CheckedRoster
    ) -> list[OutMessage]:
        t = step.t
        person = await step.linked()
        if person is None or person.staff_id != staff_id:
            return [OutMessage(t._("Only admins change the directory: ask your district admin."))]
        uploads = UploadsRepo(step.tx)
        upload_id = await uploads.add(
            staff_id, None, UPLOAD_ROSTER, str(path), name, step.now, step.now + ROSTER_PENDING
        )
        if checked.loaded.problems:  # closed at once: the sweep deletes the file (it has phones)
            await uploads.close_batch(staff_id, upload_id)
            return refused_messages(t, checked.loaded.problems)
        self._checked[upload_id] = checked
        while len(self._checked) > CACHED_ROSTERS:
            self._checked.pop(next(iter(self._checked)))
        shifts = checked.loaded.shifts
        replaced = await DutyRepo(step.tx, step.deps.clock.tz).count_days(roster_days(shifts))
        return [dry_run(t, name, shifts, replaced, upload_id, checked.loaded.warnings)]

    async def button(self, step: Step, button: RosterAction) -> Answer:
        t = step.t
        person = await step.linked()
        directory = await step.directory()
        if person is None or administered_units(directory, person) == set():
            return t._("Only admins change the directory."), []
        uploads = UploadsRepo(step.tx)
        upload = await uploads.open_upload(person.staff_id, button.ref, step.now)
        if (
            upload is None
            or upload.kind != UPLOAD_ROSTER
            or not await uploads.close_batch(person.staff_id, upload.batch)
        ):
            return t._(
                "This check is no longer open (applied, cancelled, replaced or expired)."
            ), []
        closed = without_buttons(step.who.message_ref)
        checked = self._checked.pop(button.ref, None)
        if button.action == "x":
            return None, [*closed, OutMessage(t._("Cancelled: the duty roster was not changed."))]
        version = await DirectoryRepo(step.tx).version()
        if checked is None or checked.version != version:  # restarted, or changed meanwhile
            scope = administered_units(directory, person)
            loaded = await self._reread(t, Path(upload.path), upload.name, directory, scope)
        else:
            loaded = checked.loaded
        if isinstance(loaded, str):
            return None, [*closed, *refused_messages(t, [loaded])]
        if loaded.problems:
            return None, [*closed, *refused_messages(t, loaded.problems)]
        return None, [*closed, await self._apply(step, person.staff_id, upload.name, loaded)]

    async def _reread(
        self, t: Translator, path: Path, name: str, directory: Directory, scope: set[str] | None
    ) -> RosterLoad | str:
        """The file read and checked again (the bot restarted, or the directory changed since
        the dry run); a text when it cannot be read."""
        try:
            table = await asyncio.to_thread(read_table, path, name, self.limits)
        except TooLarge as exc:
            return too_large_text(t, exc)
        except (TableError, OSError, UnicodeDecodeError) as exc:
            return str(exc)
        return await asyncio.to_thread(check_roster, table, directory, scope, self.deps)

    async def _apply(self, step: Step, staff_id: str, name: str, loaded: RosterLoad) -> OutMessage:
        repo = DutyRepo(step.tx, step.deps.clock.tz)
        replaced = await repo.replace_days(roster_days(loaded.shifts), loaded.shifts)
        details = {"file": name, "shifts": len(loaded.shifts), "replaced": replaced, "via": "chat"}
        await step.audit.append(step.now, staff_id, "duty.import", None, details)
        return OutMessage(
            step.t._(
                "Duty roster loaded: {n} shifts ({replaced} replaced on the days the file covers).",
                n=len(loaded.shifts),
                replaced=replaced,
            )
        )


def dry_run(
    t: Translator,
    name: str,
    shifts: list[Shift],
    replaced: int,
    upload_id: int,
    warnings: list[str],
) -> OutMessage:
    units = {s.unit_id for s in shifts}
    first = min((s.starts_at for s in shifts), default=None)
    last = max((s.starts_at for s in shifts), default=None)
    lines = [
        t._("📋 Checked: {files}. Dry run: nothing was changed.", files=name),
        t._(
            "Duty roster: {n} shifts for {units} units, from {first} to {last}.",
            n=len(shifts),
            units=len(units),
            first=t.date(first.date()) if first else "–",
            last=t.date(last.date()) if last else "–",
        ),
        t._("It replaces the {n} shifts already set on those days.", n=replaced),
    ]
    lines += [t._("warning: {text}", text=w) for w in warnings[:10]]
    buttons = (
        (
            Button(t._("✅ Apply"), RosterAction("ok", upload_id).encode()),
            Button(t._("❌ Cancel"), RosterAction("x", upload_id).encode()),
        ),
    )
    return OutMessage("\n".join(lines)[:4000], buttons=buttons)
