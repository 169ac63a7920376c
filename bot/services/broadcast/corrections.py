"""Correcting (đính chính) and recalling (thu hồi) a directive already sent.

A correction replaces the text for every recipient: a copy sent less than EDIT_IN_PLACE_WITHIN
ago is edited where it is and marked «corrected»; an older one (a person would not notice an
edit far up the chat) gets a new message that quotes the original. Reads are reset and counted
again. A recall deletes the copies where the messenger allows it (a bot's message within 48
hours) and sends a recall notice to the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.directory import Directory
from bot.domain.models import Staff
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.broadcast.audience import directive_messages, directive_parts
from bot.services.broadcast.buttons import DirectiveAction
from bot.services.kernel.feature import Answer
from bot.services.kernel.step import Step
from storage.broadcast_repo import Broadcast, BroadcastRepo
from storage.outbox_repo import Recipient
from storage.repos import Conversation

FIX_FLOW = "bcfix"
MAX_CORRECTION = 20_000
# under the messenger's 48 hours for deleting a bot's message, with time to leave the queue
EDIT_IN_PLACE_WITHIN = timedelta(hours=47)
CORRECTION_PRIORITY = 7  # behind interactive messages, ahead of new directives' copies

Manages = Callable[[Directory, Staff, Broadcast], bool]
Copy = tuple[str, str, str, str, datetime]


class Corrections:
    def __init__(
        self,
        repo: Callable[[Step], BroadcastRepo],
        may_manage: Manages,
        remind_after: timedelta,
    ) -> None:
        self._repo = repo
        self._may_manage = may_manage
        self._remind_after = remind_after

    async def _managed(self, step: Step, broadcast_id: int) -> str | tuple[Staff, Broadcast]:
        t = step.t
        person = await step.linked()
        b = await self._repo(step).get(broadcast_id)
        if person is None or b is None or not self._may_manage(await step.directory(), person, b):
            return t._("This button is no longer valid.")
        if b.status not in ("sending", "done"):
            return t._(
                "Directive #{id} was not sent: there is nothing to correct or recall.", id=b.id
            )
        if await self._repo(step).pending_rows(b.id):
            return t._(
                "Directive #{id} is still being delivered: try again when it is done.", id=b.id
            )
        return person, b

    # --- correction ---------------------------------------------------------------------------

    async def ask_text(self, step: Step, broadcast_id: int) -> Answer:
        checked = await self._managed(step, broadcast_id)
        if isinstance(checked, str):
            return checked, []
        _, b = checked
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(FIX_FLOW, "text", {"broadcast_id": b.id}),
            step.now,
        )
        question = step.t._(
            "Send the corrected text of directive #{id} ({number}) in one message: it replaces the text for every recipient. /cancel to stop.",
            id=b.id,
            number=b.number,
        )
        return None, [OutMessage(question)]

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        t = step.t
        body = text.strip()
        broadcast_id = int(conversation.draft["broadcast_id"])
        if not body or len(body) > MAX_CORRECTION:
            return [OutMessage(t._("The text must be 1 to {n} characters.", n=MAX_CORRECTION))]
        draft = {"broadcast_id": broadcast_id, "body": body}
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(FIX_FLOW, "confirm", draft),
            step.now,
        )
        count = len(_by_person(await self._repo(step).delivered_copies(broadcast_id)))
        buttons = (
            (
                Button(
                    t._("✅ Send the correction"), DirectiveAction("fxy", broadcast_id).encode()
                ),
                Button(t._("🚫 Cancel"), DirectiveAction("fxn", broadcast_id).encode()),
            ),
        )
        preview = t._(
            "This correction of directive #{id} goes to its {n} recipients; their reads are counted again:",
            id=broadcast_id,
            n=count,
        )
        return [OutMessage(preview + "\n\n" + body[:3000], buttons=buttons)]

    async def stop(self, step: Step, broadcast_id: int) -> Answer:
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        return None, [OutMessage(step.t._("Stopped. Nothing was sent."))]

    async def send(self, step: Step, broadcast_id: int) -> Answer:
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if (
            conversation is None
            or conversation.flow != FIX_FLOW
            or conversation.step != "confirm"
            or conversation.draft.get("broadcast_id") != broadcast_id
        ):
            return step.t._("This button is no longer valid."), []
        checked = await self._managed(step, broadcast_id)
        if isinstance(checked, str):
            return checked, []
        person, b = checked
        repo = self._repo(step)
        copies = await repo.delivered_copies(b.id)
        body = str(conversation.draft["body"])
        await repo.correct(b.id, body, person.staff_id, step.now, step.now + self._remind_after)
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        corrected = await repo.get(b.id)
        assert corrected is not None
        edited, quoted = await self._deliver(step, corrected, copies)
        await step.audit.append(
            step.now, person.staff_id, "broadcast.correct", f"broadcast:{b.id}",
            {"edited": edited, "new_messages": quoted},
        )  # fmt: skip
        done = step.t._(
            "Correction of directive #{id} sent: {edited} copies edited in place, {quoted} people got it as a new message. Reads are counted again.",
            id=b.id,
            edited=edited,
            quoted=quoted,
        )
        return None, [OutMessage(done)]

    async def _deliver(self, step: Step, b: Broadcast, copies: list[Copy]) -> tuple[int, int]:
        """Each recipient's copies edited in place when recent (and as many as the new text
        needs), else one new series quoting their copy; (copies edited, people sent anew)."""
        edited = quoted = 0
        for staff_id, theirs in _by_person(copies).items():
            account = await step.accounts.of_staff(staff_id)
            t = await step.translator_of(staff_id, account.language if account else None)
            channel, chat_ref = theirs[0][0], theirs[0][1]
            messages = directive_parts(directive_messages(t, b), step.deps.capabilities_of(channel))
            recipient = Recipient(channel, chat_ref, staff_id)
            recent = all(step.now - copy[4] < EDIT_IN_PLACE_WITHIN for copy in theirs)
            if recent and len(theirs) == len(messages) and not b.file_id:
                for copy, message in zip(theirs, messages, strict=True):
                    await self._queue(
                        step,
                        recipient,
                        replace(message, edit_ref=copy[2], send_if_edit_fails=True),
                        b,
                    )
                edited += len(theirs)
                continue
            first = replace(messages[0], reply_to=theirs[0][2])
            for message in [first, *messages[1:]]:
                await self._queue(step, recipient, message, b)
            quoted += 1
        return edited, quoted

    async def _queue(
        self, step: Step, recipient: Recipient, message: OutMessage, b: Broadcast
    ) -> None:
        await step.send_to(
            recipient,
            replace(message, bulk=True),
            priority=CORRECTION_PRIORITY,
            purpose=f"broadcast:{b.id}:fix",
        )

    # --- recall -------------------------------------------------------------------------------

    async def ask_recall(self, step: Step, broadcast_id: int) -> Answer:
        checked = await self._managed(step, broadcast_id)
        if isinstance(checked, str):
            return checked, []
        _, b = checked
        t = step.t
        buttons = (
            (
                Button(t._("🗑 Yes, recall it"), DirectiveAction("rcy", b.id).encode()),
                Button(t._("🚫 Cancel"), DirectiveAction("fxn", b.id).encode()),
            ),
        )
        question = t._(
            "Recall directive #{id} ({number})? Copies sent in the last 48 hours are deleted; the others get a recall notice.",
            id=b.id,
            number=b.number,
        )
        return None, [OutMessage(question, buttons=buttons)]

    async def recall(self, step: Step, broadcast_id: int) -> Answer:
        checked = await self._managed(step, broadcast_id)
        if isinstance(checked, str):
            return checked, []
        person, b = checked
        repo = self._repo(step)
        copies = await repo.delivered_copies(b.id)
        if not await repo.recall(b.id, step.now):
            return step.t._("This button is no longer valid."), []
        deleted = noticed = 0
        for staff_id, theirs in _by_person(copies).items():
            account = await step.accounts.of_staff(staff_id)
            t = await step.translator_of(staff_id, account.language if account else None)
            recipient = Recipient(theirs[0][0], theirs[0][1], staff_id)
            notice = recall_notice(t, b)
            if all(step.now - copy[4] < EDIT_IN_PLACE_WITHIN for copy in theirs):
                for index, copy in enumerate(theirs):
                    last = index == len(theirs) - 1  # if it cannot be deleted after all: the notice
                    message = OutMessage(notice, delete_ref=copy[2], send_if_edit_fails=last)
                    await self._queue(step, recipient, message, b)
                deleted += 1
            else:
                await self._queue(step, recipient, OutMessage(notice, reply_to=theirs[-1][2]), b)
                noticed += 1
        await step.audit.append(
            step.now, person.staff_id, "broadcast.recall", f"broadcast:{b.id}",
            {"deleted": deleted, "notices": noticed},
        )  # fmt: skip
        done = step.t._(
            "Directive #{id} recalled: deleted for {deleted} people, a recall notice to {noticed}.",
            id=b.id,
            deleted=deleted,
            noticed=noticed,
        )
        return None, [OutMessage(done)]


def recall_notice(t: Translator, b: Broadcast) -> str:
    return t._(
        "🗑 Directive {number} of {date} ({title}) is recalled: disregard it.",
        number=b.number,
        date=t.date(b.issued_on),
        title=b.title,
    )


def _by_person(copies: list[Copy]) -> dict[str, list[Copy]]:
    grouped: defaultdict[str, list[Copy]] = defaultdict(list)
    for copy in copies:
        grouped[copy[3]].append(copy)
    return dict(grouped)
