"""/broadcast: the admin composes a directive step by step (number and date, title, content,
audience), sees a preview with the number of recipients, and confirms now or for later.

Every answer is committed with the conversation's draft, so a crash loses nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from bot.domain.datetime_parse import ParseFailure, parse_when
from bot.domain.directory import signers_for
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.broadcast.audience import (
    choices,
    describe_audience,
    describe_scope,
    directive_messages,
    directive_parts,
    members,
    pick_values,
)
from bot.services.broadcast.buttons import (
    INERT,
    AudienceKind,
    DraftSignal,
    TravelPolicyChoice,
)
from bot.services.broadcast.signoff import needs_signoff
from bot.services.kernel.pickers import check_box
from bot.services.kernel.step import Step
from storage.broadcast_repo import Broadcast
from storage.repos import Conversation

FLOW = "broadcast"
MAX_BODY = 200_000
MAX_TITLE = 500
FILE_SUFFIXES = (".pdf", ".docx")
FILE_TYPES = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
_DATE_AT_END = re.compile(
    r"^(?P<number>\S.*?)[\s,;]+(?:ngày\s+)?(?P<date>\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2} tháng \d{1,2} năm \d{4})$",
    re.IGNORECASE,
)

Draft = dict[str, Any]


def draft_broadcast(draft: Draft, broadcast_id: int = 0) -> Broadcast:
    """The draft as the directive it will become (for the preview)."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    return Broadcast(
        broadcast_id, draft["number"], date.fromisoformat(draft["issued_on"]), draft["title"],
        draft.get("body", ""), draft.get("file_id"), draft.get("file_name"), draft.get("audience", {}),
        "draft", "", epoch, epoch, None, draft.get("policy"), draft.get("file_channel", ""), "",
        None, None, None, None,
    )  # fmt: skip


class BroadcastFlow:
    async def begin(self, step: Step, scope_unit: str | None) -> list[OutMessage]:
        await self._save(step, "number", {"scope_unit": scope_unit})
        return [
            OutMessage(
                step.t._(
                    "New directive. Send its number and date, e.g. 1061/UBND-VP {day} (/cancel to stop).",
                    day=step.t.example(step.now.date(), 0),
                )
            )
        ]

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        draft = dict(conversation.draft)
        handlers = {"number": self._number, "title": self._title, "content": self._content,
                    "audience": self._audience_values, "when": self._when}  # fmt: skip
        handler = handlers.get(conversation.step)
        if handler is None:
            return [OutMessage(step.t._("Please use the buttons above, or /cancel."))]
        return await handler(step, draft, text)

    async def _number(self, step: Step, draft: Draft, text: str) -> list[OutMessage]:
        t = step.t
        match = _DATE_AT_END.match(text.strip())
        parsed = parse_when(match["date"], step.now) if match else None
        if match is None or parsed is None or isinstance(parsed, ParseFailure):
            return [
                OutMessage(
                    t._(
                        "I could not recognise the number and date. Example: 1061/UBND-VP {day}",
                        day=t.example(step.now.date(), 0),
                    )
                )
            ]
        draft |= {
            "number": match["number"].strip(" ,;")[:100],
            "issued_on": parsed.value.date().isoformat(),
        }
        await self._save(step, "title", draft)
        return [OutMessage(t._("The title of the directive?"))]

    async def _title(self, step: Step, draft: Draft, text: str) -> list[OutMessage]:
        title = text.strip()
        if not title or len(title) > MAX_TITLE:
            return [OutMessage(step.t._("The title must be 1 to {n} characters.", n=MAX_TITLE))]
        draft["title"] = title
        await self._save(step, "content", draft)
        return [
            OutMessage(
                step.t._(
                    "Now the content: paste the text (in several messages if it is long), forward the message, and/or send the PDF or DOCX file. Press Done when everything is in."
                ),
                buttons=_done(step.t),
            )
        ]

    async def _content(self, step: Step, draft: Draft, text: str) -> list[OutMessage]:
        t = step.t
        attachment = step.who.attachment
        if attachment is not None:
            name = (attachment.file_name or "").lower()
            if attachment.kind != "document" or not (
                name.endswith(FILE_SUFFIXES) or attachment.mime_type in FILE_TYPES
            ):
                return [
                    OutMessage(t._("Only PDF or DOCX files can be attached."), buttons=_done(t))
                ]
            draft |= {"file_id": attachment.file_id, "file_name": attachment.file_name,
                      "file_channel": step.who.channel}  # fmt: skip
        elif text.strip():
            body = draft.get("body", "")
            draft["body"] = (body + "\n\n" + text.strip()) if body else text.strip()
        if len(draft.get("body", "")) > MAX_BODY:
            return [OutMessage(t._("The text is too long (at most {n} characters).", n=MAX_BODY))]
        await self._save(step, "content", draft)
        got = t._("Received: {n} characters of text.", n=len(draft.get("body", "")))
        if draft.get("file_id"):
            got += " " + t._("File: {name}.", name=draft.get("file_name") or "?")
        return [OutMessage(got + " " + t._("Send more, or press Done."), buttons=_done(t))]

    async def content_done(self, step: Step, draft: Draft) -> list[OutMessage]:
        t = step.t
        if not draft.get("body", "").strip() and not draft.get("file_id"):
            return [
                OutMessage(
                    t._("Nothing to send yet: paste the text or send the file first."),
                    buttons=_done(t),
                )
            ]
        await self._save(step, "audience_kind", draft)
        rows = ((Button(t._("Everyone"), AudienceKind("all").encode()), Button(t._("Chosen units"), AudienceKind("units").encode())),
                (Button(t._("Unit kinds"), AudienceKind("kinds").encode()), Button(t._("Position groups"), AudienceKind("groups").encode()), Button(t._("Roles"), AudienceKind("roles").encode())))  # fmt: skip
        return [OutMessage(t._("Who receives it?"), buttons=rows)]

    async def audience_kind(self, step: Step, draft: Draft, kind: str) -> list[OutMessage]:
        if kind == "all":
            draft["audience"] = {"kind": "all"}
            return await self.preview(step, draft)
        known = choices(await step.directory(), kind, draft.get("scope_unit"))
        draft["audience_kind"] = kind
        await self._save(step, "audience", draft)
        listing = "\n".join(
            f"• {k}" + (f": {v}" if v != k else "") for k, v in list(known.items())[:80]
        )
        return [OutMessage(step.t._("Type one or more, separated by commas:") + "\n" + listing)]

    async def _audience_values(self, step: Step, draft: Draft, text: str) -> list[OutMessage]:
        kind = draft.get("audience_kind", "units")
        directory = await step.directory()
        allowed = choices(directory, kind, draft.get("scope_unit"))
        picked = pick_values(text, choices(directory, kind))
        if picked.ambiguous:
            return [
                OutMessage(
                    step.t._("«{word}» fits several: {names}. Type more of the name.", word=word, names="; ".join(names))
                )
                for word, names in picked.ambiguous.items()
            ]  # fmt: skip
        outside = [value for value in picked.chosen if value not in allowed]
        if outside:
            return [
                OutMessage(
                    step.t._(
                        "Outside your units: {words}. You may address {scope} only.",
                        words=", ".join(outside),
                        scope=describe_scope(step.t, directory, draft.get("scope_unit")),
                    )
                )
            ]
        if picked.unknown or not picked.chosen:
            return [
                OutMessage(
                    step.t._(
                        "Not found: {words}. Type values from the list, separated by commas.",
                        words=", ".join(picked.unknown) or "-",
                    )
                )
            ]
        draft["audience"] = {"kind": kind, "values": picked.chosen}
        return await self.preview(step, draft)

    async def preview(self, step: Step, draft: Draft) -> list[OutMessage]:
        t = step.t
        await self._save(step, "confirm", draft)
        shown = self._shown(step, draft)
        return [
            OutMessage(t._("— Preview —")),
            *shown,
            await self._summary(step, draft, len(shown)),
        ]

    async def toggled(self, step: Step, draft: Draft) -> list[OutMessage]:
        """A toggle on the summary (the travel policy): the summary is edited in place; the
        directive itself (often 5–12 KB) is not sent again."""
        if step.who.message_ref is None:
            return await self.preview(step, draft)
        await self._save(step, "confirm", draft)
        summary = await self._summary(step, draft, len(self._shown(step, draft)))
        return [replace(summary, edit_ref=step.who.message_ref)]

    def _shown(self, step: Step, draft: Draft) -> list[OutMessage]:
        """The directive as the admin's own channel shows it (its parts: counted in the summary)."""
        inert = ((Button(step.t._("✅ I have read it"), INERT.encode()),),)
        messages = directive_messages(step.t, draft_broadcast(draft), buttons=inert)
        return directive_parts(messages, step.deps.capabilities_of(step.who.channel))

    async def _summary(self, step: Step, draft: Draft, parts: int) -> OutMessage:
        t = step.t
        directory = await step.directory()
        scope_unit = draft.get("scope_unit")
        people = members(directory, draft["audience"], scope_unit)
        registered = len(await step.accounts.of_staff_many([p.staff_id for p in people]))
        lines = [
            t._("Preview above: this is exactly what each recipient gets ({n} messages).", n=parts),
            t._("Scope: {scope}.", scope=describe_scope(t, directory, scope_unit)),
            t._("Audience: {audience}", audience=describe_audience(t, directory, draft["audience"])),
            t._("Recipients: {n} ({registered} registered in the bot; the others cannot be reached yet).", n=len(people), registered=registered),
        ]  # fmt: skip
        if step.account.staff_id and needs_signoff(
            step.deps.settings.broadcast_signoff, directory, scope_unit, step.account.staff_id
        ):
            signers = [
                directory.staff[s].full_name
                for s in signers_for(directory, scope_unit)
                if s != step.account.staff_id
            ]
            lines.append(
                t._("A leader signs it off before it goes out: {names}.", names=", ".join(signers))
            )
        policy = draft.get("policy")
        if policy:
            lines.append(
                t._("With it, the travel policy switches to: {mode}.", mode=_policy_name(t, policy))
            )
        send_at = send_at_of(draft)
        if send_at is not None:
            lines.append(t._("It goes out at {when}.", when=t.when(send_at)))
        return OutMessage("\n".join(lines), buttons=_confirm_buttons(t, policy, send_at))

    async def ask_when(self, step: Step, draft: Draft) -> list[OutMessage]:
        await self._save(step, "when", draft)
        example = step.t.example(step.now.date(), 1, "07:30")
        return [
            OutMessage(step.t._("When should it go out? e.g. {example} or mai 7h", example=example))
        ]

    async def _when(self, step: Step, draft: Draft, text: str) -> list[OutMessage]:
        parsed = parse_when(text, step.now)
        if isinstance(parsed, ParseFailure) or parsed.value <= step.now:
            example = step.t.example(step.now.date(), 1, "07:30")
            return [
                OutMessage(
                    step.t._("I need a time in the future, e.g. {example}.", example=example)
                )
            ]
        draft["send_at"] = parsed.value.isoformat()
        return await self.preview(step, draft)

    async def _save(self, step: Step, state: str, draft: Draft) -> None:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, state, draft), step.now
        )


def _done(t: Translator) -> tuple[tuple[Button, ...], ...]:
    return ((Button(t._("✅ Done"), DraftSignal("done").encode()),),)


def _policy_name(t: Translator, policy: str) -> str:
    if policy == "ban":
        return t._("no travel out of {area} until further notice", area=t.home_area())
    return t._("approval needed for travel on weekends, holidays and outside working hours")


def send_at_of(draft: Draft) -> datetime | None:
    return datetime.fromisoformat(draft["send_at"]) if draft.get("send_at") else None


def _confirm_buttons(
    t: Translator, policy: str | None, send_at: datetime | None
) -> tuple[tuple[Button, ...], ...]:
    ban = check_box(policy == "ban") + t._("Also: ban travel")
    normal = check_box(policy == "normal") + t._("Also: travel back to normal")
    first = (
        Button(t._("📤 Send now"), DraftSignal("now").encode()),
        Button(t._("🕒 Send later"), DraftSignal("later").encode()),
    )
    if send_at is not None:
        first = (
            Button(t._("✅ Confirm for {time}", time=t.short(send_at)), DraftSignal("go").encode()),
            Button(t._("📤 Send now instead"), DraftSignal("now").encode()),
        )
    return (
        first,
        (
            Button(ban, TravelPolicyChoice("ban").encode()),
            Button(normal, TravelPolicyChoice("normal").encode()),
        ),
        (Button(t._("🚫 Cancel"), DraftSignal("x").encode()),),
    )
