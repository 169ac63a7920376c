"""What the admins are told about a channel itself: a person it cannot reach now (their window
closed, no other channel: the messages wait), or a channel that needs an admin (its token
refused, the account disabled). The channel is named by its name only, so this stays
messenger-neutral."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.domain.models import BuiltinRole
from bot.i18n import Translator
from bot.outgoing import OutMessage
from bot.services.kernel.people import messenger_name, person_label
from bot.services.kernel.step import Deps, Step, system_step
from storage.channel_usage_repo import ChannelUsageRepo
from storage.directory_repo import DirectoryRepo


async def tell_admins(deps: Deps, build: Callable[[Translator], OutMessage]) -> None:
    """Queue `build(t)` to every admin, each in their own language."""
    async with deps.db.transaction() as tx:
        step = system_step(deps, tx, deps.clock.now())
        admins = await DirectoryRepo(tx).staff_ids_with_role(BuiltinRole.ADMIN)
        await step.tell_staff(admins, build, priority=2, purpose="admin_alert")
    deps.wake_outbox()


async def tell_unreached(deps: Deps, channel: str, staff_id: str | None, user_ref: str) -> None:
    """A person the channel cannot reach now; what is sent to them waits until they write."""
    async with deps.db.reading() as tx:
        directory = await deps.directory.get(tx)
    who = person_label(directory, staff_id) if staff_id else f"{messenger_name(channel)} {user_ref}"

    def build(t: Translator) -> OutMessage:
        return OutMessage(
            t._(
                "⚠️ {person} cannot be reached on {messenger} now: they have not written to the "
                "bot for more than 7 days, or no longer follow it, and use no other messenger "
                "with it. Messages for them are kept and go out as soon as they write again; "
                "meanwhile please reach them another way.",
                person=who,
                messenger=messenger_name(channel),
            )
        )

    await tell_admins(deps, build)


async def tell_origin_unreached(
    deps: Deps, channel: str, staff_id: str | None, origin: str
) -> None:
    """The person who caused a message (a directive's sender, a decider) is told that it waits:
    its person cannot be reached on `channel` now."""
    async with deps.db.transaction() as tx:
        step = system_step(deps, tx, deps.clock.now())
        directory = await step.directory()
        who = person_label(directory, staff_id) if staff_id else "?"

        def build(t: Translator) -> OutMessage:
            return OutMessage(
                t._(
                    "⚠️ Your message to {person} could not be delivered on {messenger}: they have "
                    "not written to the bot for more than 7 days, or no longer follow it, and use "
                    "no other messenger with it. It is kept and goes out as soon as they write "
                    "again; meanwhile please reach them another way.",
                    person=who,
                    messenger=messenger_name(channel),
                )
            )

        await step.tell_staff([origin], build, priority=2, purpose="unreached")
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
