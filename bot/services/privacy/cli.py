"""`python -m bot privacy …`: the personal-data commands for the office (`consents STAFF_ID`
prints the consent ledger, the burden-of-proof file; retention, breaches and the register in
retention_cli). A part adds its subcommands' parsers in `add_parsers` and its coroutines in
ACTIONS."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.i18n import Translator
from bot.services.privacy import retention_cli
from bot.services.privacy.retention_cli import Action
from bot.services.privacy.views import ledger_lines
from storage.directory_repo import DirectoryRepo
from storage.engine import open_database
from storage.privacy_repo import ConsentsRepo


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    privacy = commands.add_parser(
        "privacy", help="personal data: consents, retention, breaches, register"
    )
    actions = privacy.add_subparsers(dest="privacy_action", required=True)
    consents_parser = actions.add_parser("consents", help="a person's consent ledger, oldest first")
    consents_parser.add_argument("staff_id")
    retention_cli.add_parsers(actions)


async def consents(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    db = await open_database(settings.database_target)
    try:
        async with db.reading() as tx:
            person = await DirectoryRepo(tx).person(args.staff_id)
            entries = await ConsentsRepo(tx, settings.tz).ledger(args.staff_id)
    finally:
        await db.close()
    if person is None and not entries:
        print(t._("No staff member with id {staff_id}.", staff_id=args.staff_id))
        return 1
    name = person.full_name if person else args.staff_id
    print(t._("Consent ledger of {name} ({staff_id}):", name=name, staff_id=args.staff_id))
    print(t._("time, notice version, purpose, decision, channel, message answered"))
    for line in ledger_lines(t, entries) or [t._("(no entry)")]:
        print(line)
    return 0


ACTIONS: dict[str, Action] = {"consents": consents, **retention_cli.ACTIONS}


async def run_privacy(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    return await ACTIONS[args.privacy_action](settings, t, args)
