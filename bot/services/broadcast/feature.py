"""Directives (rule 9): /broadcast for district admins, the "read" button, /directives, reminders,
unit heads' view of who has not read, the progress message and the .xlsx export.

Delivery is the outbox's (ARCHITECTURE.md property 3): every recipient's rows are written in the
transaction that confirms the broadcast (or, for a scheduled one, in the sweep at its time), at a
priority behind interactive messages, so a broadcast never holds up anyone's reply.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.directory import Directory, administered_units
from bot.domain.ids import looks_like_id, parse_id
from bot.domain.models import BuiltinRole, Staff
from bot.domain.reminders import REMIND_AGAIN_AFTER
from bot.domain.text import export_subfolder
from bot.domain.travel_policy import PolicyMode
from bot.i18n import Translator
from bot.outgoing import LocalFile, OutMessage
from bot.services.broadcast.audience import (
    directive_messages,
    directive_parts,
    members,
    outside_scope,
    read_at_button,
    read_button,
)
from bot.services.broadcast.buttons import (
    BROADCASTS,
    AudienceKind,
    BroadcastButton,
    DirectiveAction,
    DraftSignal,
    TravelPolicyChoice,
)
from bot.services.broadcast.corrections import FIX_FLOW, Corrections
from bot.services.broadcast.flow import FLOW, BroadcastFlow, send_at_of
from bot.services.broadcast.signoff import RETURN_FLOW, Signoffs, needs_signoff, signers_of
from bot.services.broadcast.views import (
    admin_buttons,
    directives_list,
    progress_text,
    read_list_name,
    reminder_text,
    unread_message,
    write_export,
)
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.step import Deps, Step, system_step
from bot.services.travel.policy_admin import PolicyAdmin
from storage.broadcast_repo import FINAL, PART, REMIND, Broadcast, BroadcastRepo, NewBroadcast
from storage.outbox_repo import OutboxRepo, Recipient

BROADCAST_PRIORITY = 8  # behind every interactive message (1-5): lower numbers go first
PROGRESS_PRIORITY = 1
PROGRESS_EVERY = timedelta(seconds=5)
HEAD_ROLES = {BuiltinRole.UNIT_HEAD.value, BuiltinRole.DEPUTY_HEAD.value}


class Broadcasts:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.flow = BroadcastFlow()
        self.policy = PolicyAdmin(deps)
        self.signoffs = Signoffs(self.policy, self.queue, self._repo)
        self.corrections = Corrections(self._repo, may_manage, deps.settings.ack_remind_after)

    def feature(self) -> Feature:
        return Feature(
            commands={"broadcast": self._broadcast, "directives": self._directives},
            flows={
                FLOW: self.flow.on_text,
                RETURN_FLOW: self.signoffs.return_reason,
                FIX_FLOW: self.corrections.on_text,
            },
            buttons=[ButtonRoute(BROADCASTS, self._button)],
            jobs=[self.sweep],
            wakes=[self.next_send_at],
        )

    def _repo(self, step: Step) -> BroadcastRepo:
        return BroadcastRepo(step.tx, self.deps.clock.tz)

    # --- commands -----------------------------------------------------------------------------

    async def _broadcast(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        directory = await step.directory()
        if not is_admin(directory, person):
            return [OutMessage(step.t._("Only district admins can send directives."))]
        if args and looks_like_id(args[0]):
            broadcast_id = parse_id(args[0])
            if broadcast_id is None:
                return [OutMessage(step.t._("No directive #{id}.", id=args[0].lstrip("#")[:20]))]
            return [await self._progress_view(step, person, broadcast_id)]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        return await self.flow.begin(step, scope_unit_of(directory, person))

    async def _directives(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        received = await self._repo(step).recent_for(person.staff_id)
        head = bool(person.roles & HEAD_ROLES) or person.has_role(BuiltinRole.ADMIN)
        return [directives_list(step.t, received, head)]

    async def _progress_view(self, step: Step, person: Staff, broadcast_id: int) -> OutMessage:
        repo = self._repo(step)
        b = await repo.get(broadcast_id)
        if b is None or not may_manage(await step.directory(), person, b):
            return OutMessage(step.t._("No directive #{id}.", id=broadcast_id))
        text = progress_text(
            step.t,
            await step.directory(),
            b,
            await repo.tallies(b.id),
            await repo.pending_rows(b.id),
        )
        return OutMessage(text, buttons=admin_buttons(step.t, b))

    # --- buttons ------------------------------------------------------------------------------

    async def _button(self, step: Step, button: BroadcastButton) -> Answer:
        match button:
            case DraftSignal("noop"):
                return None, []
            case DirectiveAction(action, broadcast_id):
                return await self._directive_handlers()[action](step, broadcast_id)
            case DraftSignal(word):
                return await self._flow_button(step, word, "")
            case AudienceKind(kind):
                return await self._flow_button(step, "aud", kind)
            case TravelPolicyChoice(policy):
                return await self._flow_button(step, "pol", policy)
        return step.t._("This button is no longer valid."), []

    def _directive_handlers(self) -> dict[str, Callable[[Step, int], Awaitable[Answer]]]:
        """What each `DirectiveAction` does with the directive it names."""
        return {
            "r": self._read,
            "s": self._show,
            "u": self._unread,
            "rm": self._remind_button,
            "xl": self._export,
            "cx": self._cancel_scheduled,
            "ok": self.signoffs.sign,
            "rt": self.signoffs.ask_reason,
            "re": self._resubmit,
            "fx": self.corrections.ask_text,
            "fxy": self.corrections.send,
            "fxn": self.corrections.stop,
            "rc": self.corrections.ask_recall,
            "rcy": self.corrections.recall,
        }

    async def _flow_button(self, step: Step, action: str, arg: str) -> Answer:
        t = step.t
        person = await step.me()
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if (
            person is None
            or not is_admin(await step.directory(), person)
            or conversation is None
            or conversation.flow != FLOW
        ):
            return t._("This button is no longer valid."), []
        draft = dict(conversation.draft)
        if action == "done" and conversation.step == "content":
            return None, await self.flow.content_done(step, draft)
        if action == "aud" and conversation.step == "audience_kind":
            return None, await self.flow.audience_kind(step, draft, arg)
        if conversation.step not in ("confirm", "when") or "audience" not in draft:
            return t._("This button is no longer valid."), []
        if action == "pol" and draft.get("scope_unit") is not None:
            return t._("Only district admins can change the travel policy."), []
        if action == "pol":
            draft["policy"] = None if draft.get("policy") == arg else arg
            return None, await self.flow.toggled(step, draft)
        if action == "later":
            return None, await self.flow.ask_when(step, draft)
        if action in ("go", "now"):
            if action == "now":
                draft.pop("send_at", None)
            return None, await self._confirm(step, person, draft)
        if action == "x":
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return None, [OutMessage(t._("Stopped. Nothing was sent."))]
        return t._("This button is no longer valid."), []

    async def _confirm(self, step: Step, person: Staff, draft: dict[str, Any]) -> list[OutMessage]:
        t = step.t
        directory = await step.directory()
        scope_unit = scope_unit_of(directory, person)
        refused = self._refusal(t, directory, draft, scope_unit)
        if refused is not None:
            await step.audit.append(
                step.now, person.staff_id, "broadcast.refused", "broadcast:draft",
                {"audience": draft.get("audience"), "scope": scope_unit},
            )  # fmt: skip
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return [OutMessage(refused)]
        send_at = send_at_of(draft) or step.now
        later = send_at > step.now
        new = NewBroadcast(
            draft["number"], datetime.fromisoformat(draft["issued_on"]).date(), draft["title"],
            draft.get("body", ""), draft.get("file_id"), draft.get("file_name"), draft["audience"],
            person.staff_id, step.who.channel, step.who.chat_ref, draft.get("policy"), scope_unit,
        )  # fmt: skip
        signoff = self._needs_signoff(directory, new)
        if signoff and not signers_of(directory, _as_directive(new)):
            return [
                OutMessage(
                    t._(
                        "Nobody can sign off directives of {unit}: the directory names no head or deputy there. Nothing was sent.",
                        unit=_scope_name(directory, scope_unit),
                    )
                )
            ]
        status = "signoff" if signoff else "scheduled"
        broadcast_id = await self._repo(step).create(new, status, send_at, step.now)
        await step.audit.append(
            step.now,
            person.staff_id,
            "broadcast.confirm",
            f"broadcast:{broadcast_id}",
            {"number": new.number, "audience": new.audience, "send_at": send_at.isoformat(),
             "scope": scope_unit, "signoff": signoff},
        )  # fmt: skip
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        if signoff:  # the travel policy switches when a leader signs
            b = await self._repo(step).get(broadcast_id)
            assert b is not None
            return await self.signoffs.submit(step, b)
        replies: list[OutMessage] = []
        if draft.get("policy"):
            mode = PolicyMode.BAN if draft["policy"] == "ban" else PolicyMode.APPROVAL_OUTSIDE_HOURS
            replies += await self.policy.set_mode(
                step, mode, send_at.strftime("%d/%m/%Y %H:%M") if later else ""
            )
        if later:
            replies.insert(
                0,
                OutMessage(
                    t._(
                        "Directive #{id} is scheduled for {when}. /broadcast {id} shows it.",
                        id=broadcast_id,
                        when=t.when(send_at),
                    )
                ),
            )
            return replies

        def on_its_way(count: int) -> list[OutMessage]:
            told = t._(
                "Directive #{id} is on its way to {n} people. The message below shows the progress.",
                id=broadcast_id,
                n=count,
            )
            return [OutMessage(told), *replies]

        await self.queue(step, broadcast_id, before_progress=on_its_way)
        return []

    def _refusal(
        self, t: Translator, directory: Directory, draft: dict[str, Any], scope_unit: str | None
    ) -> str | None:
        """Why the draft may not go out from this admin now (checked again at the confirm: the
        draft names units, and the admin's rights may have changed since it was started)."""
        outside = outside_scope(directory, draft["audience"], scope_unit)
        if draft.get("scope_unit", scope_unit) != scope_unit or outside:
            return t._(
                "Outside your units: {words}. You may address {scope} only. Nothing was sent.",
                words=", ".join(outside) or "-",
                scope=_scope_name(directory, scope_unit),
            )
        if scope_unit is not None and draft.get("policy"):
            return t._("Only district admins can change the travel policy.")
        return None

    def _needs_signoff(self, directory: Directory, new: NewBroadcast) -> bool:
        mode = self.deps.settings.broadcast_signoff
        return needs_signoff(mode, directory, new.scope_unit, new.created_by)

    async def _resubmit(self, step: Step, broadcast_id: int) -> Answer:
        person = await step.me()
        b = await self._repo(step).get(broadcast_id)
        allowed = (
            person is not None and b is not None and may_manage(await step.directory(), person, b)
        )
        return await self.signoffs.resubmit(step, broadcast_id, allowed)

    async def _read(self, step: Step, broadcast_id: int) -> Answer:
        t = step.t
        person = await step.me()
        repo = self._repo(step)
        if person is None or not await repo.is_recipient(broadcast_id, person.staff_id):
            return t._("This button is no longer valid."), []
        b = await repo.get(broadcast_id)
        if b is not None and b.status == "recalled":
            return t._("This directive was recalled."), []
        read_at = await repo.mark_read(broadcast_id, person.staff_id, step.now)
        assert read_at is not None
        first = read_at == step.now
        if first:
            await step.audit.append(
                step.now, person.staff_id, "broadcast.read", f"broadcast:{broadcast_id}", {}
            )
        toast = (
            t._("Thank you: read at {time}.", time=read_at.strftime("%H:%M"))
            if first
            else t._("Already recorded: read at {time}.", time=read_at.strftime("%H:%M"))
        )
        if first:  # the directive and its reminders elsewhere in the chat show it too
            await self._mark_read_copies(step, broadcast_id, person.staff_id, read_at)
        if step.who.message_ref is None:
            return toast, []
        return toast, [
            OutMessage(
                "",
                buttons=read_at_button(t, read_at),
                edit_ref=step.who.message_ref,
                markup_only=True,
            )
        ]

    async def _mark_read_copies(
        self, step: Step, broadcast_id: int, staff_id: str, read_at: datetime
    ) -> None:
        for channel, chat_ref, message_ref in await self._repo(step).read_button_copies(
            broadcast_id, staff_id
        ):
            if message_ref == step.who.message_ref:
                continue
            await step.send_to(
                Recipient(channel, chat_ref, staff_id),
                OutMessage(
                    "",
                    buttons=read_at_button(step.t, read_at),
                    edit_ref=message_ref,
                    markup_only=True,
                ),
                priority=3,
            )

    async def _show(self, step: Step, broadcast_id: int) -> Answer:
        person = await step.me()
        repo = self._repo(step)
        b = await repo.get(broadcast_id)
        if (
            person is None
            or b is None
            or not await repo.is_recipient(broadcast_id, person.staff_id)
        ):
            return step.t._("This button is no longer valid."), []
        if b.status == "recalled":
            return step.t._("This directive was recalled."), []
        read = next(
            (at for found, at in await repo.recent_for(person.staff_id, 1000) if found.id == b.id),
            None,
        )
        buttons = read_at_button(step.t, read) if read else None
        return None, directive_messages(step.t, b, buttons)

    async def _unread(self, step: Step, broadcast_id: int) -> Answer:
        person = await step.me()
        b = await self._repo(step).get(broadcast_id)
        if (
            person is None
            or b is None
            or not (person.roles & HEAD_ROLES or person.has_role(BuiltinRole.ADMIN))
        ):
            return step.t._("Only unit heads can see who has not read."), []
        directory = await step.directory()
        units = directory.subtree(person.unit_id)
        repo = self._repo(step)
        unread = await repo.unread(broadcast_id, sorted(units))
        apart = await repo.not_registered(broadcast_id, sorted(units))
        unit = directory.unit(person.unit_id)
        name = unit.name if unit else person.unit_id
        return None, [unread_message(step.t, directory, b, unread, name, apart)]

    async def _remind_button(self, step: Step, broadcast_id: int) -> Answer:
        t = step.t
        person = await step.me()
        repo = self._repo(step)
        b = await repo.get(broadcast_id)
        if person is None or b is None:
            return t._("This button is no longer valid."), []
        if may_manage(await step.directory(), person, b):
            unread = await repo.unread(broadcast_id, delivered_only=True)
        elif person.roles & HEAD_ROLES:
            units = sorted((await step.directory()).subtree(person.unit_id))
            unread = await repo.unread(broadcast_id, units, delivered_only=True)
        else:
            return t._("Only unit heads can see who has not read."), []
        recent = await repo.reminded_since(broadcast_id, step.now - REMIND_AGAIN_AFTER)
        chosen = [s for s in unread if s not in recent]
        if unread and not chosen:
            last = await repo.last_reminded(broadcast_id, unread) or step.now
            return t._(
                "Already reminded at {time}; you can remind them again from {again}.",
                time=f"{last:%H:%M}",
                again=f"{last + REMIND_AGAIN_AFTER:%H:%M}",
            ), []
        await self._remind(step, b, chosen)
        await step.audit.append(
            step.now,
            person.staff_id,
            "broadcast.remind",
            f"broadcast:{broadcast_id}",
            {"n": len(chosen)},
        )
        return t._(
            "Reminded {n} people (those reminded in the last hour are skipped).", n=len(chosen)
        ), []

    async def _export(self, step: Step, broadcast_id: int) -> Answer:
        person = await step.me()
        repo = self._repo(step)
        b = await repo.get(broadcast_id)
        if person is None or b is None or not may_manage(await step.directory(), person, b):
            return step.t._("Only district admins can send directives."), []
        folder = self.deps.settings.exports_folder / export_subfolder(person.staff_id, step.now)
        path = folder / read_list_name(step.t, b, step.now.date())
        states = await repo.states(broadcast_id)
        await write_export(step.t, await step.directory(), b, states, path)
        return None, [
            OutMessage(
                step.t._("Directive #{id}: who received and read it.", id=b.id),
                document=LocalFile(str(path)),
            )
        ]

    async def _cancel_scheduled(self, step: Step, broadcast_id: int) -> Answer:
        person = await step.me()
        b = await self._repo(step).get(broadcast_id)
        if person is None or b is None or not may_manage(await step.directory(), person, b):
            return step.t._("Only district admins can send directives."), []
        if not await self._repo(step).cancel_scheduled(broadcast_id):
            return step.t._("It is no longer scheduled."), []
        await step.audit.append(
            step.now, person.staff_id, "broadcast.cancel", f"broadcast:{broadcast_id}", {}
        )
        return None, [OutMessage(step.t._("Directive #{id} will not be sent.", id=broadcast_id))]

    # --- delivery -----------------------------------------------------------------------------

    async def queue(
        self,
        step: Step,
        broadcast_id: int,
        before_progress: Callable[[int], list[OutMessage]] | None = None,
    ) -> int:
        """Write every recipient's outbox rows (one executemany) and the admin's progress message.
        `before_progress(recipients)`: the step's own answer, queued just before that message, so
        that it reads above it (a direct reply could overtake the outbox, or be overtaken)."""
        repo = self._repo(step)
        if not await repo.start_sending(
            broadcast_id, step.now, step.now + self.deps.settings.ack_remind_after
        ):
            return 0
        b = await repo.get(broadcast_id)
        assert b is not None
        directory = await step.directory()
        people = members(directory, b.audience, b.scope_unit)
        accounts = {
            a.staff_id: a for a in await step.accounts.of_staff_many([p.staff_id for p in people])
        }
        # cut once per channel and language, not per person: each channel's own length
        rendered: dict[tuple[str, str | None], list[tuple[str, str]]] = {}
        rows: list[tuple[Recipient, str, str | None]] = []
        for person in people:
            account = accounts.get(person.staff_id)
            if account is None:
                continue
            language = directory.language_of(person.staff_id, account.language)
            key = (account.channel, language)
            if key not in rendered:
                rendered[key] = _payloads(self._parts(b, account.channel, language), b.id)
            recipient = Recipient(account.channel, account.chat_ref, person.staff_id)
            rows.extend((recipient, payload, purpose) for payload, purpose in rendered[key])
        await OutboxRepo(step.tx).enqueue_payloads(
            rows, step.now, priority=BROADCAST_PRIORITY, origin=b.created_by
        )
        step.enqueued += len(rows)
        await repo.add_recipients(
            b.id, ((p.staff_id, p.unit_id, p.staff_id in accounts) for p in people)
        )
        if before_progress is not None:
            own_chat = Recipient(step.who.channel, step.who.chat_ref, step.account.staff_id)
            for message in before_progress(len(accounts)):
                await step.send_to(own_chat, message, priority=PROGRESS_PRIORITY)
        await self._start_progress(step, b)
        return len(accounts)

    def _parts(self, b: Broadcast, channel: str, language: str | None) -> list[OutMessage]:
        t = self.deps.translations.for_language(language)
        return directive_parts(directive_messages(t, b), self.deps.capabilities_of(channel))

    async def _start_progress(self, step: Step, b: Broadcast) -> None:
        repo = self._repo(step)
        t = await self._admin_translator(step, b)
        text = progress_text(
            t, await step.directory(), b, await repo.tallies(b.id), await repo.pending_rows(b.id)
        )
        admin = Recipient(b.admin_channel, b.admin_chat, b.created_by)
        outbox_id = await step.send_to(
            admin,
            OutMessage(text, buttons=admin_buttons(t, b)),
            priority=PROGRESS_PRIORITY,
            purpose=f"broadcast:{b.id}:progress",
        )
        await repo.set_progress(b.id, outbox_id, text, step.now)

    async def _remind(self, step: Step, b: Broadcast, staff_ids: list[str]) -> None:
        accounts = await step.accounts.of_staff_many(staff_ids)
        directory = await step.directory()
        rendered: dict[str | None, str] = {}
        rows: list[tuple[Recipient, str, str | None]] = []
        for account in accounts:
            language = directory.language_of(account.staff_id, account.language)
            if language not in rendered:
                t = self.deps.translations.for_language(language)
                rendered[language] = _dumps(
                    OutMessage(reminder_text(t, b), buttons=read_button(t, b.id), bulk=True)
                )
            rows.append(
                (
                    Recipient(account.channel, account.chat_ref, account.staff_id),
                    rendered[language],
                    REMIND.format(id=b.id),
                )
            )
        await OutboxRepo(step.tx).enqueue_payloads(rows, step.now, priority=BROADCAST_PRIORITY)
        step.enqueued += len(rows)
        await self._repo(step).mark_reminded(
            b.id, [a.staff_id for a in accounts if a.staff_id], step.now
        )

    # --- the sweep ----------------------------------------------------------------------------

    async def next_send_at(self, now: datetime) -> datetime | None:
        """The sweep's wake-up: the minute the next scheduled directive goes out."""
        async with self.deps.db.reading() as tx:
            return await BroadcastRepo(tx, self.deps.clock.tz).next_send_at()

    async def sweep(self, now: datetime) -> int:
        """Scheduled directives due now, reminders due now, progress messages to edit."""
        done = 0
        async with self.deps.db.transaction() as tx:
            step = system_step(self.deps, tx, now)
            repo = self._repo(step)
            for b in await repo.due_scheduled(now):
                await self.queue(step, b.id)
                done += 1
            for b in await repo.due_reminders(now):
                await self._remind(step, b, await repo.unread(b.id, delivered_only=True))
                await repo.reminders_done(b.id)
                done += 1
            for b in await repo.watched(now, now - PROGRESS_EVERY):
                done += await self._edit_progress(step, b)
        if step.enqueued:
            self.deps.wake_outbox()
        return done

    async def _edit_progress(self, step: Step, b: Broadcast) -> int:
        repo = self._repo(step)
        pending = await repo.pending_rows(b.id)
        if b.status == "sending" and pending == 0:
            await repo.finish(b.id)
            b = replace(b, status="done")
        assert b.progress_outbox is not None
        message_ref = await repo.message_ref(b.progress_outbox)
        t = await self._admin_translator(step, b)
        text = progress_text(t, await step.directory(), b, await repo.tallies(b.id), pending)
        if message_ref is None or text == b.progress_text:
            await repo.set_progress(b.id, None, b.progress_text or "", step.now)
            return 0
        admin = Recipient(b.admin_channel, b.admin_chat, b.created_by)
        await step.send_to(
            admin,
            OutMessage(text, buttons=admin_buttons(t, b), edit_ref=message_ref),
            priority=PROGRESS_PRIORITY,
            purpose=f"broadcast:{b.id}:progress",
        )
        await repo.set_progress(b.id, None, text, step.now)
        return 1

    async def _admin_translator(self, step: Step, b: Broadcast) -> Translator:
        account = await step.accounts.of_staff(b.created_by)
        return await step.translator_of(b.created_by, account.language if account else None)


def _dumps(message: OutMessage) -> str:
    return json.dumps(message.to_json(), ensure_ascii=False, separators=(",", ":"))


def _payloads(messages: list[OutMessage], broadcast_id: int) -> list[tuple[str, str]]:
    last = len(messages) - 1
    return [
        (_dumps(replace(m, bulk=True)), (FINAL if i == last else PART).format(id=broadcast_id))
        for i, m in enumerate(messages)
    ]


def is_admin(directory: Directory, person: Staff) -> bool:
    """A district admin, or a unit admin (of some units)."""
    return administered_units(directory, person) != set()


def scope_unit_of(directory: Directory, person: Staff) -> str | None:
    """The unit whose units the admin's directives reach (None: the whole district)."""
    return None if administered_units(directory, person) is None else person.unit_id


def may_manage(directory: Directory, person: Staff, b: Broadcast) -> bool:
    """A district admin manages every directive; a unit admin those of their units."""
    units = administered_units(directory, person)
    return units is None or (b.scope_unit is not None and b.scope_unit in units)


def _scope_name(directory: Directory, scope_unit: str | None) -> str:
    unit = directory.unit(scope_unit or "")
    return unit.name if unit else (scope_unit or "")


def _as_directive(new: NewBroadcast) -> Broadcast:
    """What `signers_of` needs of a directive not yet stored: its unit and its author."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return Broadcast(0, new.number, new.issued_on, new.title, new.body, new.file_id, new.file_name,
                     new.audience, "draft", new.created_by, epoch, epoch, None, new.policy_mode,
                     new.admin_channel, new.admin_chat, None, None, None, None,
                     scope_unit=new.scope_unit)  # fmt: skip
