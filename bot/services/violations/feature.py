"""Violations and accountability (rule 8 of DOMAIN.md): a unit head, a deputy or a district admin
records a violation on a person under them — travel without consent, return not reported,
declaration overdue, other — with a note; the person is told; /district counts them per unit
and the `violations` register exports them (bot/services/oversight).

The buttons (`vl:t:12` on a head's reminder, `vl:p:HB-004` under /unit) only name the person;
the rights are checked again when the note is typed, against the directory of that moment.
"""

from __future__ import annotations

from typing import Any

from bot.domain.directory import Directory
from bot.domain.violations import KINDS, clean_note
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.people import oversees, told_line
from bot.services.kernel.step import Deps, Step
from bot.services.violations.buttons import (
    VIOLATIONS,
    ViolationButton,
    ViolationCancel,
    ViolationKind,
    ViolationOn,
    ViolationPerson,
)
from storage.measures_repo import MeasuresRepo
from storage.repos import Conversation
from storage.travel_repo import TravelRepo

FLOW = "violation"


def kind_name(t: Translator, kind: str) -> str:
    return {
        "travel": t._("travel without consent"),
        "return": t._("return not reported"),
        "declaration": t._("health declaration overdue"),
        "other": t._("other"),
    }.get(kind, kind)


def kind_buttons(t: Translator) -> tuple[tuple[Button, ...], ...]:
    rows = tuple((Button(kind_name(t, k), ViolationKind(k).encode()),) for k in KINDS)
    return rows + ((Button(t._("❌ Cancel"), ViolationCancel("x").encode()),),)


def person_told(t: Translator, recorder: str, kind: str, note: str) -> OutMessage:
    return OutMessage(
        t._(
            "⚠️ {who} recorded a violation of the epidemic rules by you: {kind}.\nNote: {note}\nIf you think this is a mistake, speak to your unit head.",
            who=recorder,
            kind=kind_name(t, kind),
            note=note,
        )
    )


def _name(directory: Directory, staff_id: str) -> str:
    person = directory.person(staff_id)
    return person.full_name if person else staff_id


class Violations:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def feature(self) -> Feature:
        return Feature(flows={FLOW: self.on_text}, buttons=[ButtonRoute(VIOLATIONS, self.button)])

    async def button(self, step: Step, button: ViolationButton) -> Answer:
        t = step.t
        if isinstance(button, ViolationCancel):
            await self._end_if_ours(step)
            return t._("Cancelled."), []
        if isinstance(button, ViolationKind):
            return await self._kind(step, button.value)
        staff_id, object_ = await self._target(step, button)
        if staff_id is None or not await self._may_record(step, staff_id):
            return t._("You may not do this."), []
        await self._save(step, "kind", {"staff_id": staff_id, "object": object_})
        directory = await step.directory()
        return None, [
            OutMessage(
                t._("Record a violation by {name}: which rule?", name=_name(directory, staff_id)),
                buttons=kind_buttons(t),
            )
        ]

    async def _target(
        self, step: Step, button: ViolationOn | ViolationPerson
    ) -> tuple[str | None, str | None]:
        if isinstance(button, ViolationPerson):
            return button.staff_id, None
        request = await TravelRepo(step.tx, self.deps.clock.tz).get(button.ref)
        return (request.staff_id, f"travel:{request.id}") if request else (None, None)

    async def _kind(self, step: Step, kind: str) -> Answer:
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is None or conversation.flow != FLOW or conversation.step != "kind":
            return step.t._("This button is no longer valid."), []
        await self._save(step, "note", dict(conversation.draft) | {"kind": kind})
        return None, [
            OutMessage(
                step.t._(
                    "{kind}. Type a short note: what happened and when (at most 500 characters). /cancel to stop.",
                    kind=kind_name(step.t, kind),
                )
            )
        ]

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        t = step.t
        if conversation.step != "note":
            return [OutMessage(t._("Please use the buttons above, or /cancel."))]
        note = clean_note(text)
        if note is None:
            return [OutMessage(t._("Please type a note of 1 to 500 characters."))]
        draft: dict[str, Any] = conversation.draft
        staff_id, kind = str(draft["staff_id"]), str(draft["kind"])
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        if not await self._may_record(step, staff_id):
            return [OutMessage(t._("You may not do this."))]
        return await self._record(step, staff_id, kind, note, draft.get("object"))

    async def _record(
        self, step: Step, staff_id: str, kind: str, note: str, object_: str | None
    ) -> list[OutMessage]:
        directory = await step.directory()
        person = directory.person(staff_id)
        me = await step.me()
        assert person is not None and me is not None
        violation_id = await MeasuresRepo(step.tx, self.deps.clock.tz).add_violation(
            staff_id, person.unit_id, kind, note, object_, me.staff_id, step.now
        )
        await step.audit.append(
            step.now,
            me.staff_id,
            "violation.record",
            f"violation:{violation_id}",
            {"staff_id": staff_id, "kind": kind, "object": object_},
        )
        queued = await step.tell_staff(
            [staff_id], lambda t: person_told(t, me.full_name, kind, note), priority=3
        )
        told = [s for s, _ in queued]
        return [
            OutMessage(
                step.t._(
                    "Violation #{id} recorded: {name}, {kind}.",
                    id=violation_id,
                    name=person.full_name,
                    kind=kind_name(step.t, kind),
                )
                + "\n"
                + told_line(step.t, directory, told)
            )
        ]

    async def _may_record(self, step: Step, staff_id: str) -> bool:
        me = await step.linked()
        directory = await step.directory()
        return me is not None and me.staff_id != staff_id and oversees(directory, me, staff_id)

    async def _save(self, step: Step, at: str, draft: dict[str, Any]) -> None:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, at, draft), step.now
        )

    async def _end_if_ours(self, step: Step) -> None:
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is not None and conversation.flow == FLOW:
            await step.conversations.clear(step.who.channel, step.who.user_ref)
