"""What the admins are told about a channel itself: a person it cannot reach now (their window
closed, no other channel: the messages wait), or a channel that needs an admin (its token
refused, the account disabled). The channel is named by its name only, so this stays
messenger-neutral."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from bot.domain.directory import Directory
from bot.domain.models import BuiltinRole
from bot.i18n import Translator
from bot.outgoing import OutMessage
from bot.services.kernel.people import messenger_name, person_label
from bot.services.kernel.step import Deps, Step, system_step
from storage.channel_usage_repo import ChannelUsageRepo
from storage.directory_repo import DirectoryRepo
from storage.unreached_repo import ADMINS, Unreached, UnreachedRepo


async def tell_admins(deps: Deps, build: Callable[[Translator], OutMessage]) -> None:
    """Queue `build(t)` to every admin, each in their own language."""
    async with deps.db.transaction() as tx:
        step = system_step(deps, tx, deps.clock.now())
        admins = await DirectoryRepo(tx).staff_ids_with_role(BuiltinRole.ADMIN)
        await step.tell_staff(admins, build, priority=2, purpose="admin_alert")
    deps.wake_outbox()


GATHER = timedelta(minutes=1)  # at most one notice a minute per recipient and channel
NAMED_AT_MOST = 10  # people named in one notice; the rest are counted


async def note_unreached(deps: Deps, channel: str, staff_id: str | None, user_ref: str) -> None:
    """A person the channel cannot reach now (what is sent to them waits until they write):
    the admins are told, gathered with the others of the minute (`tell_unreached`)."""
    async with deps.db.transaction() as tx:
        await UnreachedRepo(tx).note(channel, user_ref, staff_id, None, deps.clock.now())


async def note_origin_unreached(
    deps: Deps, channel: str, staff_id: str | None, user_ref: str, origin: str
) -> None:
    """The person who caused a held message (a directive's sender, a decider) is told that it
    waits: gathered too, so a directive to a thousand unreachable people is a few notices."""
    async with deps.db.transaction() as tx:
        await UnreachedRepo(tx).note(channel, user_ref, staff_id, origin, deps.clock.now())


async def tell_unreached(deps: Deps, now: datetime) -> int:
    """The sweep's job: each recipient told in one message of the people gathered for them,
    unless told less than GATHER ago (then on a later sweep). An admin who caused the messages
    is told as their origin only, not twice. How many people were told of."""
    async with deps.db.transaction() as tx:
        repo = UnreachedRepo(tx)
        waiting = await repo.waiting()
        if not waiting:
            return 0
        last = await repo.last_told(deps.clock.tz)
        step = system_step(deps, tx, now)
        directory = await step.directory()
        groups: dict[tuple[str, str], list[Unreached]] = {}
        for row in waiting:
            groups.setdefault((row.recipient, row.channel), []).append(row)
        told = 0
        for (recipient, channel), rows in groups.items():
            if now - last.get((recipient, channel), now - GATHER) < GATHER:
                continue
            if recipient == ADMINS:
                await _tell_admins_of(step, channel, rows, groups, directory)
            else:
                await step.tell_staff(
                    [recipient],
                    partial(_origin_notice, channel, _labels(directory, rows)),
                    priority=2,
                    purpose="unreached",
                )
            await repo.told(recipient, channel, [row.id for row in rows], now)
            told += len(rows)
        await repo.forget_told_before(now - timedelta(days=1))
    if told:
        deps.wake_outbox()
    return told


async def _tell_admins_of(
    step: Step,
    channel: str,
    rows: list[Unreached],
    groups: dict[tuple[str, str], list[Unreached]],
    directory: Directory,
) -> None:
    for admin in await DirectoryRepo(step.tx).staff_ids_with_role(BuiltinRole.ADMIN):
        theirs = {(row.staff_id, row.user_ref) for row in groups.get((admin, channel), [])}
        others = [row for row in rows if (row.staff_id, row.user_ref) not in theirs]
        if others:
            await step.tell_staff(
                [admin],
                partial(_admins_notice, channel, _labels(directory, others)),
                priority=2,
                purpose="admin_alert",
            )


def _labels(directory: Directory, rows: list[Unreached]) -> list[str]:
    """Each person once, in the order they were noted."""
    labels = (
        person_label(directory, row.staff_id)
        if row.staff_id
        else f"{messenger_name(row.channel)} {row.user_ref}"
        for row in rows
    )
    return list(dict.fromkeys(labels))


def people_named(t: Translator, labels: list[str]) -> str:
    """The first NAMED_AT_MOST people by name, the rest counted."""
    named = ", ".join(labels[:NAMED_AT_MOST])
    rest = len(labels) - NAMED_AT_MOST
    if rest <= 0:
        return named
    return named + t.n_(" and {count} other person", " and {count} other people", rest, count=rest)


def _admins_notice(channel: str, labels: list[str], t: Translator) -> OutMessage:
    return OutMessage(
        t._(
            "⚠️ {person} cannot be reached on {messenger} now: they have not written to the "
            "bot for more than 7 days, or no longer follow it, and use no other messenger "
            "with it. Messages for them are kept and go out as soon as they write again; "
            "meanwhile please reach them another way.",
            person=people_named(t, labels),
            messenger=messenger_name(channel),
        )
    )


def _origin_notice(channel: str, labels: list[str], t: Translator) -> OutMessage:
    return OutMessage(
        t._(
            "⚠️ Your message to {person} could not be delivered on {messenger}: they have "
            "not written to the bot for more than 7 days, or no longer follow it, and use "
            "no other messenger with it. It is kept and goes out as soon as they write "
            "again; meanwhile please reach them another way.",
            person=people_named(t, labels),
            messenger=messenger_name(channel),
        )
    )


def _file_refusal(t: Translator, why: str, messenger: str) -> str:
    if why == "too_big":
        return t._("it is larger than {messenger} accepts", messenger=messenger)
    if why == "kind":
        return t._("{messenger} does not accept files of this kind", messenger=messenger)
    return t._("it could not be fetched from the messenger it was sent on")


async def tell_file_undelivered(
    deps: Deps, channel: str, origin: str | None, file_name: str | None, why: str
) -> None:
    """A message's file could not go out on `channel` (`FileUnavailable.why`): its recipients
    there got the text with a note. Told once per file and channel: to who sent the message,
    else (the bot's own message) to the admins."""

    def build(t: Translator) -> OutMessage:
        messenger = messenger_name(channel)
        return OutMessage(
            t._(
                "⚠️ The file «{name}» could not be delivered on {messenger}: {reason}. The "
                "recipients there got the text with a note that the file is missing; please "
                "send it to them another way.",
                name=file_name or "?",
                messenger=messenger,
                reason=_file_refusal(t, why, messenger),
            )
        )

    if origin is None:
        await tell_admins(deps, build)
        return
    async with deps.db.transaction() as tx:
        step = system_step(deps, tx, deps.clock.now())
        await step.tell_staff([origin], build, priority=2, purpose="file_undelivered")
    deps.wake_outbox()


async def tell_channel_needs_admin(deps: Deps, channel: str, reason: str) -> None:
    """The channel refuses the bot (a refused token, an account disabled): messages wait."""

    def build(t: Translator) -> OutMessage:
        return OutMessage(
            t._(
                "⚠️ {messenger} needs an admin: {reason}. Messages on {messenger} wait until "
                "it is fixed.",
                messenger=messenger_name(channel),
                reason=reason[:300],
            )
        )

    await tell_admins(deps, build)


USAGE_DAYS = 30


async def channel_usage_text(step: Step, days: int = USAGE_DAYS) -> str:
    """What the channels with a paid window sent lately, for the admins (empty: none did)."""
    since = step.now.date() - timedelta(days=days - 1)
    found = await ChannelUsageRepo(step.tx).since(since)
    return "\n".join(
        "📨 "
        + step.t._(
            "{messenger}, last {days} days: {free} free, {billable} billable (sent 48 hours to 7 days "
            "after the person last wrote), {templates} by paid template, {held} held until "
            "the person writes again.",
            messenger=messenger_name(channel),
            days=days,
            free=counts.free,
            billable=counts.billable,
            templates=counts.templates,
            held=counts.held,
        )
        for channel, counts in found.items()
    )
