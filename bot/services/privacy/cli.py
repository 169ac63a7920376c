"""`python -m bot privacy …`: the personal-data commands for the office. A part adds its
subcommands' parsers in `add_parsers` and its coroutines in ACTIONS."""

from __future__ import annotations

import argparse

from bot.config import Settings
from bot.i18n import Translator
from bot.services.privacy import retention_cli
from bot.services.privacy.retention_cli import Action


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    privacy = commands.add_parser("privacy", help="personal data: retention, breaches, register")
    actions = privacy.add_subparsers(dest="privacy_action", required=True)
    retention_cli.add_parsers(actions)


ACTIONS: dict[str, Action] = {**retention_cli.ACTIONS}


async def run_privacy(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    return await ACTIONS[args.privacy_action](settings, t, args)
