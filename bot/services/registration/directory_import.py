"""Loading the staff directory from the office's files, showing a person, writing invites."""

from __future__ import annotations

import csv
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.domain.clock import Clock
from bot.domain.directory import Directory
from bot.domain.directory_files import load_directory
from bot.domain.models import Problem, Reason
from bot.domain.outside_contacts import OutsideContact, load_contacts
from bot.domain.text import spreadsheet_text
from bot.i18n import Translations, Translator
from bot.services.kernel.menu import menu_message
from bot.services.registration.tabular import (
    DEFAULT_LIMITS,
    ImportLimits,
    TableError,
    TooLarge,
    read_table,
)
from storage.directory_repo import DirectoryRepo, ImportSummary
from storage.engine import Database, Tx
from storage.outbox_repo import OutboxRepo, Recipient
from storage.outside_repo import OutsideRepo
from storage.repos import AccountsRepo, AuditRepo, InvitesRepo


@dataclass
class ImportOutcome:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: ImportSummary | None = None
    applied: bool = False
    contacts: int | None = None  # outside contacts loaded; None: no contacts file given


def read_directory_files(
    units: Path,
    staff: Path,
    routing: Path,
    limits: ImportLimits = DEFAULT_LIMITS,
    t: Translator | None = None,
) -> tuple[Directory | None, list[str], list[str]]:
    try:
        units_table = read_table(units, units.name, limits)
        staff_table = read_table(staff, staff.name, limits)
        if routing.stat().st_size > limits.max_bytes:
            raise TooLarge(routing.name, "bytes", routing.stat().st_size, limits.max_bytes)
        routing_text = routing.read_text(encoding="utf-8-sig")
    except TooLarge as exc:
        return None, [too_large_text(t, exc) if t else str(exc)], []
    except (TableError, OSError, UnicodeDecodeError) as exc:
        return None, [str(exc)], []
    loaded = load_directory(units_table, staff_table, routing_text, routing.name)
    problems = [problem_text(t, p) if t else str(p) for p in loaded.problems]
    return loaded.directory, problems, list(loaded.warnings)


def problem_text(t: Translator, problem: Problem) -> str:
    """`staff.csv:12: phone: …` with the reason in the reader's language (the file, row and
    column as the office's files spell them)."""
    reason = problem.reason
    if isinstance(reason, Reason):
        reason = t._(reason.template, **reason.values)
    return f"{problem.file}:{problem.row}: {problem.column}: {reason}"


def read_contacts_file(
    path: Path | None, limits: ImportLimits, t: Translator | None
) -> tuple[list[OutsideContact] | None, list[str], list[str]]:
    """The optional contacts file: (contacts or None when not given or wrong, problems, warnings)."""
    if path is None:
        return None, [], []
    try:
        table = read_table(path, path.name, limits)
    except TooLarge as exc:
        return None, [too_large_text(t, exc) if t else str(exc)], []
    except (TableError, OSError, UnicodeDecodeError) as exc:
        return None, [str(exc)], []
    loaded = load_contacts(table)
    if loaded.problems:
        return None, [str(p) for p in loaded.problems], loaded.warnings
    return loaded.contacts, [], loaded.warnings


def too_large_text(t: Translator, exc: TooLarge) -> str:
    if exc.measure == "rows":
        return t._(
            "{file}: more than {limit} rows (IMPORT_MAX_ROWS); split it into smaller files or raise the limit. Nothing was changed.",
            file=exc.name,
            limit=t.number(exc.limit),
        )
    return t._(
        "{file}: {size} MB, more than the {limit} MB allowed (IMPORT_MAX_BYTES); split it into smaller files or raise the limit. Nothing was changed.",
        file=exc.name,
        size=t.number((exc.found or 0) / 1024 / 1024, 1),
        limit=t.number(exc.limit / 1024 / 1024, 1),
    )


async def import_directory(
    db: Database,
    clock: Clock,
    units: Path,
    staff: Path,
    routing: Path,
    *,
    dry_run: bool,
    actor: str = "cli",
    limits: ImportLimits = DEFAULT_LIMITS,
    t: Translator | None = None,
    translations: Translations | None = None,
    contacts: Path | None = None,
) -> ImportOutcome:
    directory, problems, warnings = read_directory_files(units, staff, routing, limits, t)
    outside, contact_problems, contact_warnings = read_contacts_file(contacts, limits, t)
    outcome = ImportOutcome(
        problems=problems + contact_problems,
        warnings=warnings + contact_warnings,
        contacts=None if outside is None else len(outside),
    )
    if directory is None or outcome.problems:
        return outcome
    now = clock.now()
    async with db.transaction() as tx:
        repo = DirectoryRepo(tx)
        if dry_run:
            outcome.summary = await repo.plan(directory)
            return outcome
        before = await repo.load()
        outcome.summary = await repo.apply(directory, now)
        await _send_new_menus(tx, before, directory, translations or Translations(), now)
        if outside is not None:
            await OutsideRepo(tx, clock.tz).replace_contacts(outside)
        files = [units, staff, routing, *([contacts] if contacts else [])]
        await AuditRepo(tx).append(
            now, actor, "directory.import", None, audit_details(outcome.summary, *files)
        )
    outcome.applied = True
    return outcome


async def _send_new_menus(
    tx: Tx, before: Directory, after: Directory, translations: Translations, now: datetime
) -> None:
    """Whoever is registered and whose roles changed gets their menu again (reply keyboard and
    command menu), so it shows what they may do now."""
    changed = [
        person
        for staff_id, person in after.staff.items()
        if person.active
        and staff_id in before.staff
        and before.staff[staff_id].roles != person.roles
    ]
    if not changed:
        return
    accounts = await AccountsRepo(tx).of_staff_many([p.staff_id for p in changed])
    for account in accounts:
        person = after.staff[account.staff_id or ""]
        t = translations.for_language(after.language_of(person.staff_id, account.language))
        message = menu_message(
            t, t._("Your roles have changed. The menu below shows what you may do now."), person
        )
        recipient = Recipient(account.channel, account.chat_ref, account.staff_id)
        await OutboxRepo(tx).enqueue(recipient, message, now)


def summary_text(t: Translator, summary: ImportSummary) -> str:
    """The counts of an import (or of its dry run), as the CLI prints them and the chat shows."""
    return t._(
        "units: {added} new, {changed} changed; staff: {s_added} new, {s_changed} changed, "
        "{deactivated} deactivated, {reactivated} reactivated, {unchanged} unchanged; "
        "routing rules: {rules}",
        added=len(summary.units_added),
        changed=len(summary.units_changed),
        s_added=len(summary.staff_added),
        s_changed=len(summary.staff_changed),
        deactivated=len(summary.staff_deactivated),
        reactivated=len(summary.staff_reactivated),
        unchanged=summary.staff_unchanged,
        rules=summary.rules,
    )


def audit_details(summary: ImportSummary, *files: Path | str) -> dict[str, object]:
    return {
        "files": [f.name if isinstance(f, Path) else f for f in files],
        "units_added": len(summary.units_added),
        "units_changed": len(summary.units_changed),
        "staff_added": len(summary.staff_added),
        "staff_changed": len(summary.staff_changed),
        "staff_deactivated": summary.staff_deactivated[:1000],
        "staff_reactivated": len(summary.staff_reactivated),
    }


async def write_invites(db: Database, clock: Clock, bot_username: str, out: Path) -> int:
    """One one-time link per active staff member not yet registered; re-runs reuse open codes."""
    now = clock.now()
    async with db.transaction() as tx:
        people = await DirectoryRepo(tx).unregistered_active()
        invites = InvitesRepo(tx)
        codes = await invites.open_codes()
        fresh = [(secrets.token_urlsafe(12), p.staff_id) for p in people if p.staff_id not in codes]
        await invites.create_many(fresh, now)
        codes.update({staff_id: code for code, staff_id in fresh})
        await AuditRepo(tx).append(now, "cli", "invites.write", str(out), {"count": len(people)})
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["staff_id", "full_name", "unit_id", "phone", "invite_link"])
        for person in people:
            link = f"https://t.me/{bot_username}?start={codes[person.staff_id]}"
            row = [person.staff_id, person.full_name, person.unit_id, person.phone, link]
            writer.writerow([spreadsheet_text(value or "") for value in row])
    return len(people)
