"""Command line: `python -m bot run | demo | directory import | directory show | invites | i18n |
export | privacy | db`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import redaction
from bot.clock import SystemClock
from bot.config import Settings, SettingsError, load_settings
from bot.i18n import LANGUAGES, Translations, Translator


def _parser(t: Translator) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="khaibao", description=t._("khaibao staff reporting bot"))
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help=t._("run the bot (long polling, or --webhook)"))
    run.add_argument(
        "--webhook",
        action="store_true",
        help=t._(
            "receive updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN, WEBHOOK_PORT) instead of long polling"
        ),
    )
    _add_demo_parser(t, commands)
    directory = commands.add_parser("directory", help=t._("the staff directory"))
    actions = directory.add_subparsers(dest="action", required=True)
    load = actions.add_parser("import", help=t._("load units, staff and routing files"))
    load.add_argument("--units", type=Path, required=True, help=t._("the units file (CSV or XLSX)"))
    load.add_argument("--staff", type=Path, required=True, help=t._("the staff file (CSV or XLSX)"))
    load.add_argument("--routing", type=Path, required=True, help=t._("the routing rules (TOML)"))
    load.add_argument(
        "--contacts",
        type=Path,
        default=None,
        help=t._("bodies outside the bot (contacts.csv/.xlsx)"),
    )
    load.add_argument(
        "--dry-run", action="store_true", help=t._("print what would change, change nothing")
    )
    show = actions.add_parser("show", help=t._("a person and their approval route"))
    show.add_argument("staff_id", help=t._("the staff id, e.g. TH-001 (any case)"))
    duty = commands.add_parser("duty", help=t._("the 24/7 duty roster"))
    duty_actions = duty.add_subparsers(dest="action", required=True)
    roster = duty_actions.add_parser("import", help=t._("load duty.csv (or .xlsx)"))
    roster.add_argument("file", type=Path)
    roster.add_argument(
        "--dry-run",
        action="store_true",
        help=t._("check the file and count its shifts, change nothing"),
    )
    invites = commands.add_parser("invites", help=t._("write one-time invite links"))
    invites.add_argument("--out", type=Path, required=True, help=t._("the CSV file to write"))
    commands.add_parser("i18n", help=t._("extract messages and update locales/ (developers)"))
    _add_export_parser(t, commands)
    from bot.services.privacy.cli import add_parsers as add_privacy_parsers

    add_privacy_parsers(commands)
    from bot.db_cli import add_parsers as add_db_parsers

    add_db_parsers(t, commands)
    return parser


def _add_export_parser(
    t: Translator, commands: argparse._SubParsersAction[argparse.ArgumentParser]
) -> None:
    export = commands.add_parser(
        "export", help=t._("an Excel register: travel, returns, acks, health")
    )
    export.add_argument(
        "--what", choices=("travel", "returns", "acks", "health", "violations"), required=True
    )
    export.add_argument("--from", dest="start", required=True, help=t._("first day, dd/mm/yyyy"))
    export.add_argument("--to", dest="end", required=True, help=t._("last day, dd/mm/yyyy"))
    export.add_argument("--unit", default=None, help=t._("this unit and the units below it"))
    export.add_argument("--per-unit-sheets", action="store_true", help=t._("one sheet per unit"))
    export.add_argument(
        "--as", dest="staff_id", default=None, help=t._("who exports (required for health)")
    )
    export.add_argument(
        "--purpose", default=None, help=t._("why the data is exported (required for health)")
    )
    export.add_argument("--out", type=Path, required=True, help=t._("the .xlsx file to write"))


def _add_demo_parser(
    t: Translator, commands: argparse._SubParsersAction[argparse.ArgumentParser]
) -> None:
    demo = commands.add_parser(
        "demo",
        help=t._("try the bot without Telegram: sandbox, sample district, web page, time dial"),
    )
    demo.add_argument(
        "--port", type=int, default=0, help=t._("port on 127.0.0.1 (default: a free one)")
    )
    demo.add_argument(
        "--start",
        default=None,
        help=t._("set the time dial to this moment first, e.g. '{example}'", example=_DEMO_START),
    )
    demo.add_argument(
        "--examples",
        type=Path,
        default=None,
        help=t._("folder with units.csv, staff.csv, routing.toml"),
    )


_DEMO_START = "2021-05-26 09:00"  # the sample district's own week (examples/ is dated then)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.demo import EXAMPLES, DemoOptions, parse_start, run

    try:
        start = parse_start(args.start) if args.start else None
    except ValueError:
        t = _translator(settings.default_language)
        print(
            "khaibao demo: "
            + t._(
                "--start {value}: expected e.g. {example}",
                value=repr(args.start),
                example=_DEMO_START,
            ),
            file=sys.stderr,
        )
        return 2
    options = DemoOptions(port=args.port, start=start, examples=args.examples or EXAMPLES)
    return run(settings, options)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings: Settings | None = load_settings()
        problem: SettingsError | None = None
    except SettingsError as exc:
        settings, problem = None, exc
    t = (
        _translator(settings.default_language, settings.home_is_province)
        if settings
        else _translator(_language_from_environment())
    )
    args = _parser(t).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it tells of every sweep at INFO
    try:
        if problem is not None:
            raise problem
        assert settings is not None
        redaction.install(settings.secret_values())
        logging.getLogger().setLevel(settings.log_level)
        return _dispatch(args, settings)
    except SettingsError as exc:
        print(f"khaibao: {settings_error_text(t, exc)}", file=sys.stderr)
        return 2


def _translator(language: str, home_is_province: bool = False) -> Translator:
    translations = Translations(default_language=language, home_is_province=home_is_province)
    return translations.for_language(language)


def _language_from_environment() -> str:
    """DEFAULT_LANGUAGE when the settings as a whole are refused (to say why in that language)."""
    wanted = os.environ.get("DEFAULT_LANGUAGE", "").strip().lower()
    return wanted if wanted in LANGUAGES else "vi"


def settings_error_text(t: Translator, error: SettingsError) -> str:
    """The refused setting in the office's language (pydantic's own reason stays as it says it)."""
    if error.kind == "missing":
        return t._(
            "{name} is not set: get a token from @BotFather and put {name}=... in .env (see .env.example)",
            name=error.setting,
        )
    if error.kind == "malformed":
        return t._(
            "{name} looks wrong (expected digits:letters from @BotFather); fix it in .env",
            name=error.setting,
        )
    if error.setting:
        return t._(
            "{name} is invalid: {reason}; fix it in .env", name=error.setting, reason=error.reason
        )
    return str(error)


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        from bot.app import run

        if args.webhook:
            settings.require_webhook()
        return run(settings, webhook=args.webhook)
    if args.command == "demo":
        return _demo(args, settings)
    if args.command == "i18n":
        from bot.i18n_tools import update_catalogs

        update_catalogs()
        return 0
    t = _translator(settings.default_language, settings.home_is_province)
    if args.command == "invites":
        return asyncio.run(_invites(settings, t, args.out))
    if args.command == "db":
        from bot.db_cli import run_db

        return asyncio.run(run_db(settings, t, args))
    if args.command == "privacy":
        from bot.services.privacy.cli import run_privacy

        return asyncio.run(run_privacy(settings, t, args))
    if args.command == "export":
        from bot.services.oversight.export_cli import run_export

        return asyncio.run(run_export(settings, t, args))
    if args.command == "duty":
        return asyncio.run(_duty_import(settings, t, args))
    if args.action == "import":
        return asyncio.run(_import(settings, t, args))
    return asyncio.run(_show(settings, t, args.staff_id))


async def _duty_import(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    from bot.services.duty.roster import import_roster
    from bot.services.registration.tabular import ImportLimits
    from storage.engine import open_database

    db = await open_database(settings.database_target)
    try:
        outcome = await import_roster(
            db,
            SystemClock(settings.tz),
            args.file,
            dry_run=args.dry_run,
            limits=ImportLimits(settings.import_max_bytes, settings.import_max_rows),
            t=t,
        )
    finally:
        await db.close()
    for warning in outcome.warnings:
        print(t._("warning: {text}", text=warning))
    if outcome.problems:
        print("\n".join(outcome.problems))
        print(t._("Import refused: {n} problem(s); nothing was changed.", n=len(outcome.problems)))
        return 1
    if not outcome.applied:
        print(t._("Dry run: nothing was changed."))
        print(t._("duty roster: {n} shifts", n=outcome.shifts))
        return 0
    print(
        t._(
            "Duty roster loaded: {n} shifts ({replaced} replaced on the days the file covers).",
            n=outcome.shifts,
            replaced=outcome.replaced,
        )
    )
    return 0


async def _import(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    from bot.services.registration.directory_import import import_directory, summary_text
    from bot.services.registration.tabular import ImportLimits
    from storage.engine import open_database

    # A dry run against a database that does not exist yet plans against an empty one in memory:
    # it leaves no file behind.
    target = settings.database_target
    fresh = args.dry_run and isinstance(target, Path) and not target.exists()
    db = await open_database(Path(":memory:") if fresh else target)
    try:
        outcome = await import_directory(
            db,
            SystemClock(settings.tz),
            args.units,
            args.staff,
            args.routing,
            dry_run=args.dry_run,
            limits=ImportLimits(settings.import_max_bytes, settings.import_max_rows),
            t=t,
            translations=Translations(
                default_language=settings.default_language,
                home_is_province=settings.home_is_province,
            ),
            contacts=args.contacts,
        )
    finally:
        await db.close()
    for warning in outcome.warnings:
        print(t._("warning: {text}", text=warning))
    if outcome.problems:
        for problem in outcome.problems:
            print(problem)
        print(t._("Import refused: {n} problem(s); nothing was changed.", n=len(outcome.problems)))
        return 1
    assert outcome.summary is not None
    summary = outcome.summary
    print(t._("Dry run: nothing was changed.") if args.dry_run else t._("Directory imported."))
    print(summary_text(t, summary))
    if outcome.contacts is not None:
        print(t._("outside contacts: {n}", n=outcome.contacts))
    for staff_id in summary.staff_deactivated[:50]:
        print(t._("deactivated: {staff_id}", staff_id=staff_id))
    return 0


async def _show(settings: Settings, t: Translator, staff_id: str) -> int:
    from bot.services.kernel.people import describe_person, describe_route, position_group_name
    from storage.directory_repo import DirectoryRepo
    from storage.engine import open_database

    db = await open_database(settings.database_target)
    try:
        async with db.reading() as tx:
            directory = await DirectoryRepo(tx).load()
            everyone = await DirectoryRepo(tx).load(include_inactive=True)
            wanted = staff_id.strip().casefold()
            found = next((s for s in everyone.staff if s.casefold() == wanted), staff_id)
            person = await DirectoryRepo(tx).person(found)
    finally:
        await db.close()
    if person is None:
        print(t._("No staff member with id {staff_id}.", staff_id=staff_id))
        return 1
    if not person.active:
        print(
            t._(
                "{name} ({staff_id}) is deactivated.",
                name=person.full_name,
                staff_id=person.staff_id,
            )
        )
        return 0
    print("\n".join(describe_person(t, directory, person)))
    print(t._("Position group: {group}", group=position_group_name(t, person.position_group)))
    print(t._("Roles: {roles}", roles=", ".join(sorted(person.roles)) or "—"))
    print("\n".join(describe_route(t, directory, person)))
    return 0


async def _invites(settings: Settings, t: Translator, out: Path) -> int:
    from bot.channels.telegram import fetch_bot_username
    from bot.services.registration.directory_import import write_invites
    from storage.engine import open_database

    username = settings.telegram_bot_username or await fetch_bot_username(settings)
    db = await open_database(settings.database_target)
    try:
        count = await write_invites(db, SystemClock(settings.tz), username, out)
    finally:
        await db.close()
    print(t._("Wrote {n} invite link(s) to {path}.", n=count, path=str(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
