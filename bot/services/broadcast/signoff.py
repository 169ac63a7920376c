"""Sign-off (ký duyệt): a directive waits for one of the leaders who sign for its unit; it goes
out when one signs, or goes back to the admin with the leader's reason.

Each decision is a conditional update (`... WHERE status = 'signoff'`): two leaders pressing at
once yield one decision, the other is told who decided, and every leader's copy of the request
is edited to show the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.domain.directory import Directory, is_top_unit, signers_for
from bot.domain.models import Staff
from bot.domain.travel_policy import PolicyMode
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.broadcast.audience import (
    describe_audience,
    describe_scope,
    directive_messages,
    members,
)
from bot.services.broadcast.buttons import INERT, DirectiveAction
from bot.services.kernel.feature import Answer
from bot.services.kernel.reasons import refused_reason
from bot.services.kernel.step import Step
from bot.services.travel.policy_admin import PolicyAdmin
from storage.broadcast_repo import Broadcast, BroadcastRepo
from storage.outbox_repo import Recipient
from storage.repos import Conversation

RETURN_FLOW = "bcreturn"
SIGNOFF_PRIORITY = 2  # a leader's decision waits for it: among the interactive messages

Queue = Callable[[Step, int], Awaitable[int]]


def needs_signoff(mode: str, directory: Directory, scope_unit: str | None, author: str) -> bool:
    """BROADCAST_SIGNOFF: `district` (the default) for directives of the whole district, `all`
    for every unit's, `none`; never when the author is one of those who sign for the unit."""
    if mode == "none" or (mode == "district" and not is_top_unit(directory, scope_unit)):
        return False
    return author not in signers_for(directory, scope_unit)


def signers_of(directory: Directory, b: Broadcast) -> list[str]:
    """Who may sign this directive now (its author never signs their own)."""
    return [s for s in signers_for(directory, b.scope_unit) if s != b.created_by]


def _name(directory: Directory, staff_id: str | None) -> str:
    person = directory.person(staff_id or "")
    return person.full_name if person else staff_id or "?"


def outcome_line(t: Translator, directory: Directory, b: Broadcast) -> str:
    """Who decided the sign-off, and how (for the leaders' copies and the one who lost)."""
    if b.signed_by and b.signed_at:
        return t._(
            "Signed off by {name} at {time}.",
            name=_name(directory, b.signed_by),
            time=t.short(b.signed_at),
        )
    if b.status == "returned":
        return t._(
            "Returned by {name}: {reason}",
            name=_name(directory, b.returned_by),
            reason=b.returned_reason or "",
        )
    if b.status == "cancelled":
        return t._("Withdrawn by the admin.")
    return t._("Waiting for sign-off.")


def request_text(t: Translator, directory: Directory, b: Broadcast, now: datetime) -> str:
    people = members(directory, b.audience, b.scope_unit)
    lines = [
        t._("✍️ Directive #{id} waits for your sign-off (the text is above).", id=b.id),
        t._("{number}, {title}", number=b.number, title=b.title),
        t._("Drafted by: {name}", name=_name(directory, b.created_by)),
        t._("Scope: {scope}.", scope=describe_scope(t, directory, b.scope_unit)),
        t._("Audience: {audience}", audience=describe_audience(t, directory, b.audience)),
        t._("Recipients: {n}", n=len(people)),
    ]
    if b.send_at > now:
        lines.append(t._("It goes out at {when}.", when=t.when(b.send_at)))
    return "\n".join(lines)


def request_buttons(t: Translator, broadcast_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(t._("✅ Sign off and send"), DirectiveAction("ok", broadcast_id).encode()),
            Button(t._("↩️ Return (with a reason)"), DirectiveAction("rt", broadcast_id).encode()),
        ),
    )


class Signoffs:
    def __init__(self, policy: PolicyAdmin, queue: Queue, tz_repo: Callable[[Step], BroadcastRepo]):
        self.policy = policy
        self.queue = queue
        self._repo = tz_repo

    async def submit(self, step: Step, b: Broadcast) -> list[OutMessage]:
        """Send the draft to every leader who signs for its unit; what the admin is told."""
        directory = await step.directory()
        signers = signers_of(directory, b)
        repo = self._repo(step)
        reached: set[str] = set()
        for account in await step.accounts.of_staff_many(signers):
            staff_id = account.staff_id or ""
            t = await step.translator_of(staff_id, account.language)
            recipient = Recipient(account.channel, account.chat_ref, staff_id)
            for message in directive_messages(
                t, b, ((Button(t._("✅ I have read it"), INERT.encode()),),)
            ):
                await step.send_to(recipient, message, priority=SIGNOFF_PRIORITY)
            outbox_id = await step.send_to(
                recipient,
                OutMessage(
                    request_text(t, directory, b, step.now), buttons=request_buttons(t, b.id)
                ),
                priority=SIGNOFF_PRIORITY,
                purpose=f"broadcast:{b.id}:signoff",
            )
            await repo.remember_signoff_message(b.id, outbox_id)
            reached.add(staff_id)
        await step.audit.append(
            step.now, step.actor, "broadcast.submit", f"broadcast:{b.id}", {"signers": signers}
        )
        t = step.t
        lines = [
            t._(
                "Directive #{id} waits for sign-off by: {names}. You are told when one of them signs or returns it.",
                id=b.id,
                names=", ".join(_name(directory, s) for s in signers),
            )
        ]
        missing = [s for s in signers if s not in reached]
        if missing:
            lines.append(
                t._(
                    "Not registered in the bot yet (they cannot see it): {names}",
                    names=", ".join(_name(directory, s) for s in missing),
                )
            )
        cancel = ((Button(t._("🚫 Cancel it"), DirectiveAction("cx", b.id).encode()),),)
        return [OutMessage("\n".join(lines), buttons=cancel)]

    # --- the leader's decision ----------------------------------------------------------------

    async def _may_sign(self, step: Step, broadcast_id: int) -> str | tuple[Staff, Broadcast]:
        t = step.t
        person = await step.linked()
        b = await self._repo(step).get(broadcast_id)
        if person is None or b is None:
            return t._("This button is no longer valid.")
        directory = await step.directory()
        if person.staff_id not in signers_of(directory, b):
            await step.audit.append(
                step.now, person.staff_id, "broadcast.sign.refused", f"broadcast:{b.id}", {}
            )
            return t._("You may not sign off this directive.")
        if b.status != "signoff":
            return t._("Already decided.") + " " + outcome_line(t, directory, b)
        return person, b

    async def sign(self, step: Step, broadcast_id: int) -> Answer:
        checked = await self._may_sign(step, broadcast_id)
        if isinstance(checked, str):
            return checked, []
        person, b = checked
        repo = self._repo(step)
        if not await repo.sign(b.id, person.staff_id, step.now):
            return await self._lost(step, b.id), []
        await step.audit.append(
            step.now, person.staff_id, "broadcast.sign", f"broadcast:{b.id}", {}
        )
        signed = await repo.get(b.id)
        assert signed is not None
        await self._show_outcome(step, signed)
        replies: list[OutMessage] = []
        if signed.policy_mode:
            mode = (
                PolicyMode.BAN if signed.policy_mode == "ban" else PolicyMode.APPROVAL_OUTSIDE_HOURS
            )
            later = signed.send_at > step.now
            replies += await self.policy.set_mode(
                step, mode, signed.send_at.strftime("%d/%m/%Y %H:%M") if later else ""
            )
        count = await self.queue(step, b.id) if signed.send_at <= step.now else None
        await self._tell_admin(step, signed, count)
        return step.t._("Signed off: directive #{id} goes out.", id=b.id), replies

    async def _tell_admin(self, step: Step, b: Broadcast, count: int | None) -> None:
        directory = await step.directory()

        def told(t: Translator) -> OutMessage:
            signed = outcome_line(t, directory, b)
            if count is None:
                after = t._("It goes out at {when}.", when=t.when(b.send_at))
            else:
                after = t._("It is on its way to {n} people.", n=count)
            return OutMessage(t._("Directive #{id}:", id=b.id) + " " + signed + " " + after)

        await step.tell_staff([b.created_by], told, priority=SIGNOFF_PRIORITY)

    async def ask_reason(self, step: Step, broadcast_id: int) -> Answer:
        checked = await self._may_sign(step, broadcast_id)
        if isinstance(checked, str):
            return checked, []
        _, b = checked
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(RETURN_FLOW, "reason", {"broadcast_id": b.id}),
            step.now,
        )
        question = step.t._(
            "Why do you return directive #{id}? Type the reason; it is sent to {name}.",
            id=b.id,
            name=_name(await step.directory(), b.created_by),
        )
        return None, [OutMessage(question)]

    async def return_reason(
        self, step: Step, conversation: Conversation, text: str
    ) -> list[OutMessage]:
        reason = text.strip()
        if refused := refused_reason(step.t, reason):
            return refused
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        checked = await self._may_sign(step, int(conversation.draft["broadcast_id"]))
        if isinstance(checked, str):
            return [OutMessage(checked)]
        person, b = checked
        repo = self._repo(step)
        if not await repo.send_back(b.id, person.staff_id, reason):
            return [OutMessage(await self._lost(step, b.id))]
        await step.audit.append(
            step.now, person.staff_id, "broadcast.return", f"broadcast:{b.id}", {"reason": reason}
        )
        returned = await repo.get(b.id)
        assert returned is not None
        await self._show_outcome(step, returned)
        directory = await step.directory()
        await step.tell_staff(
            [b.created_by],
            lambda t: OutMessage(
                t._("Directive #{id} was not sent.", id=b.id)
                + " "
                + outcome_line(t, directory, returned),
                buttons=(
                    (
                        Button(t._("📤 Submit again"), DirectiveAction("re", b.id).encode()),
                        Button(t._("🚫 Cancel it"), DirectiveAction("cx", b.id).encode()),
                    ),
                ),
            ),
            priority=SIGNOFF_PRIORITY,
        )
        return [
            OutMessage(
                step.t._("Returned; {name} has been told.", name=_name(directory, b.created_by))
            )
        ]

    async def resubmit(self, step: Step, broadcast_id: int, may_manage: bool) -> Answer:
        repo = self._repo(step)
        b = await repo.get(broadcast_id)
        if b is None or not may_manage:
            return step.t._("This button is no longer valid."), []
        if not await repo.resubmit(broadcast_id):
            return step.t._("Already decided.") + " " + outcome_line(
                step.t, await step.directory(), b
            ), []
        again = await repo.get(broadcast_id)
        assert again is not None
        return None, await self.submit(step, again)

    async def _lost(self, step: Step, broadcast_id: int) -> str:
        fresh = await self._repo(step).get(broadcast_id)
        assert fresh is not None
        return (
            step.t._("Already decided.") + " " + outcome_line(step.t, await step.directory(), fresh)
        )

    async def _show_outcome(self, step: Step, b: Broadcast) -> None:
        """Every leader's copy of the request now says who decided (the buttons go)."""
        directory = await step.directory()
        for channel, chat_ref, message_ref, staff_id in await self._repo(step).signoff_messages(
            b.id
        ):
            account = await step.accounts.of_staff(staff_id) if staff_id else None
            t = await step.translator_of(staff_id, account.language if account else None)
            text = request_text(t, directory, b, step.now) + "\n\n" + outcome_line(t, directory, b)
            await step.send_to(
                Recipient(channel, chat_ref, staff_id),
                OutMessage(text, edit_ref=message_ref),
                priority=SIGNOFF_PRIORITY + 1,
            )
