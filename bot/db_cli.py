"""`python -m bot db migrate | copy`: the database of the settings brought up to date, and a
district's data copied into another database (SQLite into a city's PostgreSQL)."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from bot.config import Settings
from bot.i18n import Translator
from storage.copy import CopyRefused, TableCopy, copy_database
from storage.engine import is_postgres_url, open_database, sqlite_path


def add_parsers(
    t: Translator, commands: argparse._SubParsersAction[argparse.ArgumentParser]
) -> None:
    db = commands.add_parser("db", help=t._("the database: migrate it, copy it to another"))
    actions = db.add_subparsers(dest="db_action", required=True)
    actions.add_parser(
        "migrate",
        help=t._("apply the migrations not applied yet (DATABASE_URL, else DATABASE_PATH)"),
    )
    copy = actions.add_parser("copy", help=t._("copy every table into another database"))
    copy.add_argument("--from", dest="source", required=True, help="sqlite:///path, postgresql://…")
    copy.add_argument("--to", dest="target", required=True, help="postgresql://…, sqlite:///path")


def shown(target: str) -> str:
    """A database named without its password."""
    if not is_postgres_url(target):
        return target
    parts = urlsplit(target)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{parts.hostname or ''}{port}{parts.path}"


async def run_db(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    if args.db_action == "migrate":
        return await migrate(settings, t)
    return await copy(t, args.source, args.target)


async def migrate(settings: Settings, t: Translator) -> int:
    target = settings.database_target
    db = await open_database(target, migrate=False)
    try:
        applied = await db.migrate()
    finally:
        await db.close()
    where = shown(str(target))
    if applied:
        print(
            t._(
                "{where}: applied migrations {versions}.",
                where=where,
                versions=", ".join(f"{v:03d}" for v in applied),
            )
        )
    else:
        print(t._("{where}: up to date, no migration to apply.", where=where))
    return 0


async def copy(t: Translator, source_name: str, target_name: str) -> int:
    if source_name == target_name:
        print(t._("The source and the target are the same database: nothing copied."))
        return 2
    if not is_postgres_url(source_name) and not sqlite_path(source_name).is_file():
        print(t._("The source {source} does not exist: nothing copied.", source=source_name))
        return 2
    source = await open_database(source_name)
    try:
        target = await open_database(target_name)
        try:
            copies = await copy_database(source, target, lambda c: print(_line(t, c)))
        except CopyRefused:
            print(
                t._(
                    "Copy refused: the target already holds other data (another district's?); "
                    "nothing was written. Copy into an empty database."
                )
            )
            return 1
        finally:
            await target.close()
    finally:
        await source.close()
    wrong = [c for c in copies if not c.matches]
    if wrong:
        print(t._("Counts differ in {n} table(s): see above.", n=len(wrong)))
        return 1
    rows = sum(c.source for c in copies)
    print(
        t._(
            "Copied {tables} tables, {rows} rows, from {source} to {target}; every count checked.",
            tables=len(copies),
            rows=rows,
            source=shown(source_name),
            target=shown(target_name),
        )
    )
    return 0


def _line(t: Translator, copy: TableCopy) -> str:
    if copy.matches:
        return t._(
            "{table}: {source} rows (new in the target: {new})",
            table=copy.table,
            source=copy.source,
            new=copy.after - copy.before,
        )
    return t._(
        "{table}: {source} rows in the source, {after} in the target: counts differ",
        table=copy.table,
        source=copy.source,
        after=copy.after,
    )
