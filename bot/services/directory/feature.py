"""The directory kept from the chat: an admin sends the staff file (and the units and routing
files), gets the dry run and «Apply»; the template, the export; one person at a time.

A district admin (role `admin`) changes everything; a unit admin (role `unit_admin`) the people
of their unit and the units below it. A file is fetched and checked before the step that
records it (the check of 100,000 rows takes seconds, and no lock is held meanwhile); the step
plans it against the database. «Apply» writes it all in one transaction, audited; nobody is
told: deactivated people just lose access, new people hear from the bot when they register.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from bot.domain.directory import Directory, administered_units
from bot.domain.directory_files import ROLE_SEPARATOR
from bot.domain.directory_sheets import UNIT_ADMIN, staff_rows
from bot.domain.models import BuiltinRole, Problem, Staff
from bot.domain.text import safe_file_part
from bot.i18n import Translator
from bot.outgoing import LocalFile, OutMessage
from bot.services.directory.buttons import DIRECTORY_BUTTONS, BatchAction, DirectoryButton
from bot.services.directory.fetch import FetchRefused, FileFetcher
from bot.services.directory.flow import (
    FILE_SUFFIXES,
    BatchFile,
    Checked,
    Trouble,
    check_batch,
    write_staff_csv,
)
from bot.services.directory.roster import ROSTER_BUTTONS, RosterUploads
from bot.services.directory.views import (
    applied_message,
    directory_menu,
    dry_run_message,
    refused_messages,
    without_buttons,
    write_roster_template,
    write_staff_workbook,
    write_template,
)
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.step import Deps, Incoming, Step, StepRunner, sweep_due
from bot.services.registration.directory_import import audit_details, too_large_text
from bot.services.registration.tabular import ImportLimits, TooLarge
from storage.directory_repo import DirectoryRepo
from storage.repos import AccountsRepo, Conversation, ConversationsRepo
from storage.uploads_repo import Upload, UploadsRepo

log = logging.getLogger(__name__)
PENDING_FOR = timedelta(minutes=30)  # a batch waits this long for more files and «Apply»
CACHED_BATCHES = 4  # checked batches kept in memory, so «Apply» does not read them again
ADD_FLOW = "directory.add"
_Say = Callable[[Translator], str]


def _manages(directory: Directory, person: Staff, *unit_ids: str) -> bool:
    scope = administered_units(directory, person)
    return scope is None or all(unit_id in scope for unit_id in unit_ids)


def _not_yours(t: Translator) -> str:
    return t._("You may change only the people of your unit and the units below it.")


class DirectoryChat:
    def __init__(self, deps: Deps, fetch: FileFetcher | None) -> None:
        self.deps = deps
        self.fetch = fetch
        self.steps = StepRunner(deps)
        self._checked: dict[int, Checked] = {}  # by the batch's latest upload id
        self.rosters = RosterUploads(deps, self.limits)

    def feature(self) -> Feature:
        return Feature(
            commands={"directory": self.directory_command, "staff": self.staff_command},
            flows={ADD_FLOW: self._add_line},
            buttons=[
                ButtonRoute(DIRECTORY_BUTTONS, self._button),
                ButtonRoute(ROSTER_BUTTONS, self.rosters.button),
            ],
            documents=[self.document],
            early_commands={"staff": self.staff_early},
            jobs=[self.remove_spent_files],
        )

    @property
    def limits(self) -> ImportLimits:
        settings = self.deps.settings
        return ImportLimits(settings.import_max_bytes, settings.import_max_rows)

    def _folder(self, staff_id: str) -> Path:
        return self.deps.settings.files_folder / "uploads" / safe_file_part(staff_id)

    # --- a file sent ------------------------------------------------------------------------

    async def document(self, who: Incoming) -> list[OutMessage] | None:
        """A directory file from an admin: fetched, checked, then recorded in one step. None
        when it is not for this feature (not a table, or a conversation is waiting for it)."""
        attachment = who.attachment
        name = (attachment.file_name if attachment else None) or ""
        suffix = Path(name).suffix.lower()
        if attachment is None or attachment.kind != "document" or suffix not in FILE_SUFFIXES:
            return None
        async with self.deps.db.reading() as tx:
            if await ConversationsRepo(tx).get(who.channel, who.user_ref) is not None:
                return None
            account = await AccountsRepo(tx).get(who.channel, who.user_ref)
            repo = DirectoryRepo(tx)
            person = await repo.person(account.staff_id) if account and account.staff_id else None
            if person is None or not person.active:
                return None
            version = await repo.version()
            # A district admin's check needs only the units and rules; a unit admin's, everyone.
            unit_admin = person.has_role(UNIT_ADMIN) and not person.has_role(BuiltinRole.ADMIN)
            directory = await self.deps.directory.get(tx) if unit_admin else await repo.frame()
            batch = await UploadsRepo(tx).open_batch(person.staff_id, self.deps.clock.now())
        scope = administered_units(directory, person)
        if scope is not None and not scope:
            return await self.steps.run(who, self._say, _not_admin, default=[])
        if suffix == ".xls":
            return await self.steps.run(who, self._say, _old_excel, default=[])
        dest = (
            self._folder(person.staff_id)
            / f"{who.update_id or 0}-{safe_file_part(Path(name).stem)}{suffix}"
        )
        try:
            await self._fetch(who, attachment.file_id, dest)
        except FetchRefused as refused:
            return await self.steps.run(
                who, self._say, _fetch_refused(refused, name, self.limits), default=[]
            )
        files = [BatchFile(u.kind, Path(u.path), u.name) for u in batch]
        files.append(BatchFile("", dest, name))
        begin = time.perf_counter()
        checked = await asyncio.to_thread(
            check_batch, files, directory, version, scope, self.limits
        )
        if checked.needs_staff:  # no staff file: the people the bot holds are kept
            async with self.deps.db.reading() as tx:
                directory = await self.deps.directory.get(tx, version)
            checked = await asyncio.to_thread(
                check_batch, files, directory, version, scope, self.limits
            )
        log.info("directory files %s checked in %.1f s", [f.name for f in checked.files],
                 time.perf_counter() - begin)  # fmt: skip
        if checked.roster is not None:
            roster = await self.rosters.check(checked.roster, scope)
            return await self.steps.run(
                who, self.rosters.record, person.staff_id, dest, name, roster, default=[]
            )
        first = batch[0].batch if batch else None
        return await self.steps.run(who, self._record, person.staff_id, checked, first, default=[])

    async def _fetch(self, who: Incoming, file_id: str, dest: Path) -> None:
        if self.fetch is None:
            raise FetchRefused("no channel to fetch files from")
        await self.fetch(who.channel, file_id, dest, self.limits.max_bytes)

    async def _say(self, step: Step, say: _Say) -> list[OutMessage]:
        return [OutMessage(say(step.t))]

    async def _record(
        self, step: Step, staff_id: str, checked: Checked, batch: int | None
    ) -> list[OutMessage]:
        person = await step.linked()
        if person is None or person.staff_id != staff_id:
            return [OutMessage(_not_admin(step.t))]
        uploads = UploadsRepo(step.tx)
        latest = batch or 0
        expires = step.now + PENDING_FOR
        for upload in checked.files:
            batch = await uploads.add(
                staff_id, batch, upload.kind, str(upload.path), upload.name, step.now, expires
            )
        latest = max([latest, *[u.id for u in await uploads.open_batch(staff_id, step.now)]])
        return await self._answer(step, checked, latest)

    async def _answer(self, step: Step, checked: Checked, latest: int) -> list[OutMessage]:
        t = step.t
        if checked.problems or checked.directory is None:
            return refused_messages(t, [self._trouble_text(t, p) for p in checked.problems])
        self._remember(latest, checked)
        summary = await DirectoryRepo(step.tx).plan(checked.directory)
        names = [f.name for f in checked.files]
        return [dry_run_message(t, summary, names, latest, checked.warnings)]

    def _trouble_text(self, t: Translator, trouble: Trouble) -> Problem | str:
        if isinstance(trouble, TooLarge):
            return too_large_text(t, trouble)
        if isinstance(trouble, Problem):
            return trouble
        return str(trouble)

    def _remember(self, latest: int, checked: Checked) -> None:
        self._checked[latest] = checked
        while len(self._checked) > CACHED_BATCHES:
            self._checked.pop(next(iter(self._checked)))

    async def remove_spent_files(self, now: datetime) -> int:
        """Sent files hold people's phones: deleted once applied, cancelled or expired."""
        return await sweep_due(self.deps, now, self._spent, self._remove)

    async def _spent(self, step: Step) -> list[tuple[int, str]]:
        return await UploadsRepo(step.tx).spent(step.now)

    async def _remove(self, step: Step, spent: tuple[int, str]) -> None:
        upload_id, path = spent
        uploads = (self.deps.settings.files_folder / "uploads").resolve()
        file = Path(path).resolve()
        if file.is_relative_to(uploads):
            file.unlink(missing_ok=True)
        await UploadsRepo(step.tx).mark_removed(upload_id)

    # --- «Apply», «Cancel», the template, the export ----------------------------------------

    async def _button(self, step: Step, button: DirectoryButton) -> Answer:
        t = step.t
        person = await step.linked()
        directory = await step.directory()
        if person is None or administered_units(directory, person) == set():
            return t._("Only admins change the directory."), []
        if not isinstance(button, BatchAction):
            if button.word == "tpl":
                return None, [await self._template(step)]
            if button.word == "dtpl":
                return None, [await self._roster_template(step)]
            return None, [await self._export(step, person, directory)]
        uploads = UploadsRepo(step.tx)
        batch = await uploads.open_batch(person.staff_id, step.now)
        stale = max((u.id for u in batch), default=None) != button.ref
        if stale or not await uploads.close_batch(person.staff_id, batch[0].batch):
            return t._(
                "This check is no longer open (applied, cancelled, replaced or expired)."
            ), []
        closed = without_buttons(step.who.message_ref)
        if button.action == "x":
            self._checked.pop(button.ref, None)
            return None, [*closed, OutMessage(t._("Cancelled: the directory was not changed."))]
        return None, [*closed, *await self._apply(step, person, directory, batch, button.ref)]

    async def _apply(
        self, step: Step, person: Staff, directory: Directory, batch: list[Upload], latest: int
    ) -> list[OutMessage]:
        version = await DirectoryRepo(step.tx).version()
        checked = self._checked.pop(latest, None)
        if checked is None or checked.version != version:  # restarted, or changed meanwhile
            files = [BatchFile(u.kind, Path(u.path), u.name) for u in batch]
            scope = administered_units(directory, person)
            checked = await asyncio.to_thread(
                check_batch, files, directory, version, scope, self.limits
            )
        if checked.problems or checked.directory is None:
            return refused_messages(
                step.t, [self._trouble_text(step.t, p) for p in checked.problems]
            )
        summary = await DirectoryRepo(step.tx).apply(checked.directory, step.now)
        details = audit_details(summary, *[f.name for f in checked.files]) | {"via": "chat"}
        await step.audit.append(step.now, person.staff_id, "directory.import", None, details)
        return [applied_message(step.t, summary)]

    async def _template(self, step: Step) -> OutMessage:
        t = step.t
        stamp = f"{step.now:%Y%m%d-%H%M%S}-{step.who.update_id or 0}"  # one file per request
        path = (
            self.deps.settings.exports_folder / "directory" / f"mau-danh-sach-can-bo-{stamp}.xlsx"
        )
        await asyncio.to_thread(write_template, path, t._("Staff"))
        return OutMessage(
            t._("📥 The staff template: one example row (invented); fill it in and send it back."),
            document=LocalFile(str(path)),
        )

    async def _roster_template(self, step: Step) -> OutMessage:
        t = step.t
        stamp = f"{step.now:%Y%m%d-%H%M%S}-{step.who.update_id or 0}"
        path = self.deps.settings.exports_folder / "directory" / f"mau-lich-truc-{stamp}.xlsx"
        await asyncio.to_thread(write_roster_template, path, t._("Duty roster"))
        return OutMessage(
            t._(
                "📥 The duty roster template: one example shift (invented; a `to` not after "
                "`from` ends the next day); fill it in and send it back."
            ),
            document=LocalFile(str(path)),
        )

    async def _export(self, step: Step, person: Staff, directory: Directory) -> OutMessage:
        t = step.t
        scope = administered_units(directory, person)
        people = [p for p in directory.staff.values() if scope is None or p.unit_id in scope]
        stamp = f"{step.now:%Y%m%d-%H%M%S}-{step.who.update_id or 0}"
        path = self.deps.settings.exports_folder / "directory" / f"danh-sach-can-bo-{stamp}.xlsx"
        rows = staff_rows(people)
        await asyncio.to_thread(write_staff_workbook, path, rows, t._("Staff"))
        await step.audit.append(
            step.now, person.staff_id, "directory.export", None, {"rows": len(rows)}
        )
        return OutMessage(
            t._(
                "📤 The directory: {n} people. Edit it and send it back to change it.", n=len(rows)
            ),
            document=LocalFile(str(path)),
        )

    # --- commands ---------------------------------------------------------------------------

    async def directory_command(
        self, step: Step, person: Staff, args: list[str]
    ) -> list[OutMessage]:
        directory = await step.directory()
        if administered_units(directory, person) == set():
            return [OutMessage(_not_admin(step.t))]
        if args and args[0].lower() == "export":
            return [await self._export(step, person, directory)]
        if args and args[0].lower() in ("template", "mau", "mẫu"):
            return [await self._template(step)]
        return [directory_menu(step.t)]

    async def staff_command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        directory = await step.directory()
        scope = administered_units(directory, person)
        if scope == set():
            return [OutMessage(_not_admin(t))]
        action = args[0].lower() if args else ""
        if action == "add":
            await step.conversations.set(
                step.who.channel, step.who.user_ref, Conversation(ADD_FLOW, "line", {}), step.now
            )
            return [OutMessage(_add_question(t))]
        if action == "move" and len(args) == 3:
            return await self._move(step, person, directory, args[1], args[2])
        if action == "off" and len(args) == 2:
            return await self._off(step, person, directory, args[1])
        return [OutMessage(t._("Use /staff add, /staff move HB-004 UNIT or /staff off HB-004."))]

    async def _move(
        self, step: Step, person: Staff, directory: Directory, staff_id: str, unit_id: str
    ) -> list[OutMessage]:
        t = step.t
        moved = directory.staff.get(staff_id)
        if moved is None:
            return [OutMessage(t._("No staff member with id {staff_id}.", staff_id=staff_id))]
        if unit_id not in directory.units:
            return [OutMessage(t._("No unit with id {unit_id}.", unit_id=unit_id))]
        if not _manages(directory, person, moved.unit_id, unit_id):
            return [OutMessage(_not_yours(t))]
        people = [
            replace(moved, unit_id=unit_id) if p.staff_id == staff_id else p
            for p in directory.staff.values()
        ]
        return await self._change(step, person, directory, people, staff_id, "move")

    async def _off(
        self, step: Step, person: Staff, directory: Directory, staff_id: str
    ) -> list[OutMessage]:
        if staff_id not in directory.staff:
            return [OutMessage(step.t._("No staff member with id {staff_id}.", staff_id=staff_id))]
        if not _manages(directory, person, directory.staff[staff_id].unit_id):
            return [OutMessage(_not_yours(step.t))]
        people = [p for p in directory.staff.values() if p.staff_id != staff_id]
        return await self._change(step, person, directory, people, staff_id, "off")

    async def _add_line(
        self, step: Step, conversation: Conversation, text: str
    ) -> list[OutMessage]:
        t = step.t
        person = await step.linked()
        parts = [part.strip() for part in text.split(ROLE_SEPARATOR)]
        if person is None or not 5 <= len(parts) <= 7:
            return [
                OutMessage(t._("I need 5 to 7 parts separated by «;».") + "\n\n" + _add_question(t))
            ]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        staff_id, name, phone, unit_id, group, position, roles = (parts + ["", ""])[:7]
        directory = await step.directory()
        if unit_id in directory.units and not _manages(directory, person, unit_id):
            return [OutMessage(_not_yours(t))]
        listed = frozenset(role.strip() for role in roles.split(",") if role.strip())
        new = Staff(staff_id, name, phone, unit_id, group, position or None, listed)
        people = [*directory.staff.values(), new]
        return await self._change(step, person, directory, people, staff_id, "add")

    async def _change(
        self,
        step: Step,
        person: Staff,
        directory: Directory,
        people: list[Staff],
        target: str,
        verb: str,
    ) -> list[OutMessage]:
        version = await DirectoryRepo(step.tx).version()
        change = await self._check_change(
            step.who, person, directory, version, people, target, verb
        )
        return await self._record_change(step, person.staff_id, *change)

    async def _check_change(
        self,
        who: Incoming,
        person: Staff,
        directory: Directory,
        version: int,
        people: list[Staff],
        target: str,
        verb: str,
    ) -> tuple[Checked, Path, str]:
        """A one-person change: the staff file it amounts to, checked as one sent (a unit
        admin's file holds their units' people; the check adds the others)."""
        scope = administered_units(directory, person)
        mine = [p for p in people if scope is None or p.unit_id in scope or p.staff_id == target]
        name = f"staff-{verb}-{safe_file_part(target)}.csv"
        path = self._folder(person.staff_id) / f"{who.update_id or 0}-{name}"
        await asyncio.to_thread(write_staff_csv, path, mine)
        files = [BatchFile("", path, name)]
        checked = await asyncio.to_thread(
            check_batch, files, directory, version, scope, self.limits
        )
        return checked, path, name

    async def _record_change(
        self, step: Step, staff_id: str, checked: Checked, path: Path, name: str
    ) -> list[OutMessage]:
        person = await step.linked()
        if person is None or person.staff_id != staff_id:
            return [OutMessage(_not_admin(step.t))]
        uploads = UploadsRepo(step.tx)
        await uploads.close_all(staff_id)
        await uploads.add(
            staff_id, None, "staff", str(path), name, step.now, step.now + PENDING_FOR
        )
        latest = max(u.id for u in await uploads.open_batch(staff_id, step.now))
        return await self._answer(step, checked, latest)

    async def staff_early(self, who: Incoming, args: list[str]) -> list[OutMessage] | None:
        """/staff move and /staff off checked before their step (at 100,000 people the check
        takes seconds, and no lock is held meanwhile). None: the step answers (a refusal, a
        typo, /staff add)."""
        action = args[0].lower() if args else ""
        if (action, len(args)) not in (("move", 3), ("off", 2)):
            return None
        async with self.deps.db.reading() as tx:
            account = await AccountsRepo(tx).get(who.channel, who.user_ref)
            repo = DirectoryRepo(tx)
            person = await repo.person(account.staff_id) if account and account.staff_id else None
            version = await repo.version()
            directory = await self.deps.directory.get(tx, version)
        if person is None or not person.active:
            return None
        people = _changed_people(directory, person, args)
        if people is None:
            return None
        change = await self._check_change(who, person, directory, version, people, args[1], action)
        return await self.steps.run(who, self._record_change, person.staff_id, *change, default=[])


def _changed_people(directory: Directory, person: Staff, args: list[str]) -> list[Staff] | None:
    """Everyone after `/staff move ID UNIT` or `/staff off ID`; None when it may not be done."""
    target = directory.staff.get(args[1])
    if target is None or administered_units(directory, person) == set():
        return None
    if args[0].lower() == "off":
        if not _manages(directory, person, target.unit_id):
            return None
        return [p for p in directory.staff.values() if p.staff_id != target.staff_id]
    unit_id = args[2]
    if unit_id not in directory.units or not _manages(directory, person, target.unit_id, unit_id):
        return None
    moved = replace(target, unit_id=unit_id)
    return [moved if p.staff_id == target.staff_id else p for p in directory.staff.values()]


def _not_admin(t: Translator) -> str:
    return t._("Only admins change the directory: ask your district admin.")


def _old_excel(t: Translator) -> str:
    return t._(
        "Old Excel .xls files are not read: save it as .xlsx (or CSV UTF-8) and send it again."
    )


def _add_question(t: Translator) -> str:
    return t._(
        "The new person on one line, parts separated by «;»: staff id; full name; phone; unit id; "
        "position group; position (optional); roles, separated by commas (optional). E.g.\n"
        "{example}\n/cancel to stop.",
        example="HB-050; Nguyễn Văn An; 0912 000 050; HB-UBND; staff; Chuyên viên",
    )


def _fetch_refused(refused: FetchRefused, name: str, limits: ImportLimits) -> _Say:
    if refused.too_big and refused.size is not None:
        too_large = TooLarge(name, "bytes", refused.size, limits.max_bytes)
        return lambda t: too_large_text(t, too_large)
    if refused.too_big:
        return lambda t: t._(
            "{file}: too big to be fetched from the messenger (20 MB at most); split it.", file=name
        )
    return lambda t: t._("{file}: the file could not be fetched; please send it again.", file=name)
