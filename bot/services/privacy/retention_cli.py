"""`python -m bot privacy purge | breach … | report`: retention, the breach register and the
processing register, for the office. Every line goes through the translator."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.clock import SystemClock
from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.datetime_parse import ParseFailure, parse_when
from bot.i18n import Translations, Translator
from bot.services.kernel.step import Deps, DirectoryCache
from bot.services.privacy.breaches import Breaches
from bot.services.privacy.register import register_lines
from bot.services.privacy.retention import Retention, counts_lines
from storage.breaches_repo import Breach
from storage.engine import Database, open_database

Action = Callable[[Settings, Translator, argparse.Namespace], Awaitable[int]]
CLI_ACTOR = "cli"


def add_parsers(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The subcommands under `privacy`."""
    purge = actions.add_parser("purge", help="delete what is past its retention time now")
    purge.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    breach = actions.add_parser("breach", help="the personal data breach register")
    steps = breach.add_subparsers(dest="breach_action", required=True)
    opened = steps.add_parser("open", help="record an incident")
    opened.add_argument("summary")
    opened.add_argument("--detected", default=None, help="when it was detected (default: now)")
    for name, what in (("notified-authority", "the authority"), ("notified-people", "the people")):
        step = steps.add_parser(name, help=f"record when {what} affected were notified")
        step.add_argument("number", type=int)
        step.add_argument("--at", default=None, help="when (default: now)")
    steps.add_parser("list", help="every incident with its deadline and notifications")
    actions.add_parser("report", help="the processing register")


async def _opened(settings: Settings, clock: Clock) -> tuple[Database, Deps]:
    db = await open_database(settings.database_target)
    translations = Translations(default_language=settings.default_language)
    return db, Deps(db, clock, translations, DirectoryCache(), lambda: None, settings)


async def purge(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    clock = SystemClock(settings.tz)
    db, _ = await _opened(settings, clock)
    retention = Retention(db, clock, settings)
    try:
        if args.dry_run:
            counts = await retention.preview(clock.now())
        else:
            counts = (await retention.purge(clock.now(), CLI_ACTOR)).counts
    finally:
        await db.close()
    print(
        t._("Dry run: nothing was changed. It would delete:") if args.dry_run else t._("Deleted:")
    )
    for line in counts_lines(t, counts, retention.days):
        print("  " + line)
    return 0


def _moment(t: Translator, text: str | None, now: datetime) -> datetime | None:
    if text is None:
        return now
    parsed = parse_when(text, now)
    if isinstance(parsed, ParseFailure) or not parsed.has_time or parsed.value > now:
        print(
            t._("I could not read «{text}» as a past moment, e.g. «26/05/2021 17:30».", text=text)
        )
        return None
    return parsed.value


def breach_lines(t: Translator, breach: Breach) -> list[str]:
    never = t._("not recorded")
    return [
        t._("no. {n}: {summary}", n=breach.id, summary=breach.summary),
        "   "
        + t._(
            "detected {detected}; notify the authority by {deadline}",
            detected=t.short(breach.detected_at),
            deadline=t.short(breach.deadline_at),
        ),
        "   "
        + t._(
            "authority notified: {authority}; people notified: {people}",
            authority=t.short(breach.authority_at) if breach.authority_at else never,
            people=t.short(breach.people_at) if breach.people_at else never,
        ),
    ]


async def breach(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    clock = SystemClock(settings.tz)
    db, deps = await _opened(settings, clock)
    try:
        return await BREACH_ACTIONS[args.breach_action](Breaches(deps), t, args, clock.now())
    finally:
        await db.close()


async def _open(breaches: Breaches, t: Translator, args: argparse.Namespace, now: datetime) -> int:
    summary = " ".join(args.summary.split())
    if not summary:
        print(t._('Describe the incident, e.g. privacy breach open "laptop with an export lost".'))
        return 2
    detected = _moment(t, args.detected, now)
    if detected is None:
        return 2
    found = await breaches.open(summary, detected, CLI_ACTOR)
    print(t._("Breach no. {n} recorded.", n=found.id))
    print("\n".join(breach_lines(t, found)))
    return 0


async def _notified(
    breaches: Breaches, t: Translator, args: argparse.Namespace, now: datetime
) -> int:
    at = _moment(t, args.at, now)
    if at is None:
        return 2
    record = (
        breaches.notified_authority
        if args.breach_action == "notified-authority"
        else breaches.notified_people
    )
    outcome = await record(args.number, at, CLI_ACTOR)
    if outcome.breach is None:
        print(t._("No breach with number {n}.", n=args.number))
        return 1
    if not outcome.changed:
        print(t._("That was recorded before; the first time stands."))
    print("\n".join(breach_lines(t, outcome.breach)))
    return 0


async def _list(breaches: Breaches, t: Translator, args: argparse.Namespace, now: datetime) -> int:
    found = await breaches.all()
    if not found:
        print(t._("No breach recorded."))
    for entry in found:
        print("\n".join(breach_lines(t, entry)))
    return 0


BREACH_ACTIONS: dict[
    str, Callable[[Breaches, Translator, argparse.Namespace, datetime], Awaitable[int]]
] = {
    "open": _open,
    "notified-authority": _notified,
    "notified-people": _notified,
    "list": _list,
}


async def report(settings: Settings, t: Translator, args: argparse.Namespace) -> int:
    print("\n".join(register_lines(t, settings)).rstrip())
    return 0


ACTIONS: dict[str, Action] = {"purge": purge, "breach": breach, "report": report}
