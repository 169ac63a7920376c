"""Command line: `python -m bot run | demo | directory import | directory show | invites | i18n |
export | privacy`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import redaction
from bot.clock import SystemClock
from bot.config import Settings, SettingsError, load_settings
from bot.i18n import Translations, Translator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="khaibao", description="khaibao staff reporting bot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (long polling, or --webhook)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates on a webhook (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_LISTEN, "
        "WEBHOOK_PORT) instead of long polling",
    )
    _add_demo_parser(commands)
    directory = commands.add_parser("directory", help="the staff directory")
    actions = directory.add_subparsers(dest="action", required=True)
    load = actions.add_parser("import", help="load units, staff and routing files")
    load.add_argument("--units", type=Path, required=True)
    load.add_argument("--staff", type=Path, required=True)
    load.add_argument("--routing", type=Path, required=True)
    load.add_argument(
        "--dry-run", action="store_true", help="print what would change, change nothing"
    )
    show = actions.add_parser("show", help="a person and their approval route")
    show.add_argument("staff_id")
    invites = commands.add_parser("invites", help="write one-time invite links")
    invites.add_argument("--out", type=Path, required=True)
    commands.add_parser("i18n", help="extract messages and update locales/ (developers)")
    _add_export_parser(commands)
    from bot.services.privacy.cli import add_parsers as add_privacy_parsers

    add_privacy_parsers(commands)
    return parser


def _add_export_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser("export", help="an Excel register: travel, returns, acks, health")
    export.add_argument(
        "--what", choices=("travel", "returns", "acks", "health", "violations"), required=True
    )
    export.add_argument("--from", dest="start", required=True, help="first day, dd/mm/yyyy")
    export.add_argument("--to", dest="end", required=True, help="last day, dd/mm/yyyy")
    export.add_argument("--unit", default=None, help="this unit and the units below it")
    export.add_argument("--per-unit-sheets", action="store_true", help="one sheet per unit")
    export.add_argument(
        "--as", dest="staff_id", default=None, help="who exports (required for health)"
    )
    export.add_argument(
        "--purpose", default=None, help="why the data is exported (required for health)"
    )
    export.add_argument("--out", type=Path, required=True)


def _add_demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="try the bot without Telegram: sandbox, sample district, web page, time dial"
    )
    demo.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    demo.add_argument(
        "--start",
        default=None,
        help="set the time dial to this moment first, e.g. '2021-05-26 09:00'",
    )
    demo.add_argument(
        "--examples", type=Path, default=None, help="folder with units.csv, staff.csv, routing.toml"
    )


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.demo import EXAMPLES, DemoOptions, parse_start, run

    try:
        start = parse_start(args.start) if args.start else None
    except ValueError:
        print(
            f"khaibao demo: --start {args.start!r}: expected e.g. 2021-05-26 09:00", file=sys.stderr
        )
        return 2
    options = DemoOptions(port=args.port, start=start, examples=args.examples or EXAMPLES)
    return run(settings, options)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it tells of every sweep at INFO
    try:
        settings = load_settings()
        redaction.install(settings.secret_values())
        logging.getLogger().setLevel(settings.log_level)
        return _dispatch(args, settings)
    except SettingsError as exc:
        print(f"khaibao: {exc}", file=sys.stderr)
        return 2


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
    t = Translations(
        default_language=settings.default_language, home_is_province=settings.home_is_province
    ).for_language(settings.default_language)
    if args.command == "invites":
        return asyncio.run(_invites(settings, t, args.out))
    if args.command == "privacy":
        from bot.services.privacy.cli import run_privacy

        return asyncio.run(run_privacy(settings, t, args))
    if args.command == "export":
        from bot.services.oversight.export_cli import run_export

        return asyncio.run(run_export(settings, t, args))
    if args.action == "import":
        return asyncio.run(_import(settings, t, args))
    return asyncio.run(_show(settings, t, args.staff_id))


async def _import(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    from bot.services.registration.directory_import import import_directory, summary_text
    from bot.services.registration.tabular import ImportLimits
    from storage.db import Database

    db = await Database.open(settings.database_path)
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
    for staff_id in summary.staff_deactivated[:50]:
        print(t._("deactivated: {staff_id}", staff_id=staff_id))
    return 0


async def _show(settings: Settings, t: Translator, staff_id: str) -> int:
    from bot.services.kernel.people import describe_person, describe_route
    from storage.db import Database
    from storage.directory_repo import DirectoryRepo

    db = await Database.open(settings.database_path)
    try:
        async with db.reading() as tx:
            directory = await DirectoryRepo(tx).load()
            person = await DirectoryRepo(tx).person(staff_id)
    finally:
        await db.close()
    if person is None:
        print(t._("No staff member with id {staff_id}.", staff_id=staff_id))
        return 1
    if not person.active:
        print(t._("{name} ({staff_id}) is deactivated.", name=person.full_name, staff_id=staff_id))
        return 0
    print("\n".join(describe_person(t, directory, person)))
    print(t._("Position group: {group}", group=person.position_group))
    print(t._("Roles: {roles}", roles=", ".join(sorted(person.roles)) or "—"))
    print("\n".join(describe_route(t, directory, person)))
    return 0


async def _invites(settings: Settings, t: Translator, out: Path) -> int:
    from bot.channels.telegram import fetch_bot_username
    from bot.services.registration.directory_import import write_invites
    from storage.db import Database

    username = settings.telegram_bot_username or await fetch_bot_username(settings)
    db = await Database.open(settings.database_path)
    try:
        count = await write_invites(db, SystemClock(settings.tz), username, out)
    finally:
        await db.close()
    print(t._("Wrote {n} invite link(s) to {path}.", n=count, path=str(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
