"""Messages that carry a subject's buttons, remembered so that all of them are edited when it is
settled (a request decided, an alert acknowledged, a declaration confirmed): the outcome shows
everywhere and no stale button is left (ARCHITECTURE.md §5).

Such messages go through the outbox, also when they answer the person's own command (/pending):
the outbox learns each message's reference, and an edit queued before that waits for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Unpack

from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.kernel.step import Step
from storage.buttons_repo import COPY, ButtonCopy, ButtonsRepo
from storage.outbox_repo import Recipient, SendOptions

OWN_REPLY_PRIORITY = 1
SETTLE_PRIORITY = 3

Keyboard = tuple[tuple[Button, ...], ...]
Settled = Callable[[Translator, ButtonCopy], OutMessage]
"""The text a settled copy shows instead (its buttons go): from the reader's translator and the copy."""


async def tell_tracked(
    step: Step,
    staff_ids: list[str],
    build: Callable[[Translator], OutMessage],
    subjects: Sequence[str],
    role: str = COPY,
    **options: Unpack[SendOptions],
) -> list[tuple[str, int]]:
    """`step.tell_staff`, remembering each message as carrying the buttons of `subjects`."""
    queued = await step.tell_staff(staff_ids, build, **options)
    repo = ButtonsRepo(step.tx)
    for _, outbox_id in queued:
        await repo.remember(subjects, outbox_id, role)
    return queued


async def reply_tracked(
    step: Step, messages: Iterable[OutMessage], subjects: Sequence[str], role: str = COPY
) -> None:
    """Answer the person in their own chat through the outbox, remembering each message."""
    recipient = Recipient(step.who.channel, step.who.chat_ref, step.account.staff_id)
    repo = ButtonsRepo(step.tx)
    for message in messages:
        outbox_id = await step.send_to(recipient, message, priority=OWN_REPLY_PRIORITY)
        await repo.remember(subjects, outbox_id, role)


async def settle(step: Step, subject: str, settled: Settled) -> int:
    """Edit every live copy of `subject` to what `settled(t, copy)` renders, without buttons.
    Returns how many edits were queued; each copy is edited once."""
    repo = ButtonsRepo(step.tx)
    copies = await repo.open_copies(subject)
    for copy in copies:
        edited = replace(
            settled(await _reader(step, copy), copy), buttons=(), edit_ref=copy.message_ref
        )
        await step.send_to(
            Recipient(copy.channel, copy.chat_ref, copy.staff_id), edited, priority=SETTLE_PRIORITY
        )
    await repo.close(c.outbox_id for c in copies)
    return len(copies)


async def relabel(step: Step, subject: str, keyboard: Callable[[Translator], Keyboard]) -> int:
    """Give every live copy of `subject` the buttons `keyboard(t)` renders, its text kept (a
    «Sent» button now saying when, on every recipient's copy). Each copy is edited once."""
    repo = ButtonsRepo(step.tx)
    copies = await repo.open_copies(subject)
    for copy in copies:
        buttons = keyboard(await _reader(step, copy))
        edited = OutMessage("", buttons=buttons, edit_ref=copy.message_ref, markup_only=True)
        await step.send_to(
            Recipient(copy.channel, copy.chat_ref, copy.staff_id), edited, priority=SETTLE_PRIORITY
        )
    await repo.close(c.outbox_id for c in copies)
    return len(copies)


async def _reader(step: Step, copy: ButtonCopy) -> Translator:
    """The translator of the copy's reader."""
    account = await step.accounts.of_staff(copy.staff_id) if copy.staff_id else None
    return await step.translator_of(copy.staff_id, account.language if account else None)
