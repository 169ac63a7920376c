"""What admins and unit heads see of a directive: progress, who has not read it, the .xlsx export."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from pathlib import Path

from bot.domain.directory import Directory
from bot.domain.text import file_date, file_slug
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.broadcast.audience import describe_scope
from bot.services.broadcast.buttons import DirectiveAction
from bot.services.kernel.people import not_registered_line
from storage.broadcast_repo import Broadcast, RecipientState, UnitTally

MAX_UNIT_LINES = 25
MAX_NAMES = 60


def progress_text(
    t: Translator, directory: Directory, b: Broadcast, tallies: list[UnitTally], pending: int
) -> str:
    total = sum(u.total for u in tallies)
    sent = sum(u.sent for u in tallies)
    failed = sum(u.failed for u in tallies)
    read = sum(u.read for u in tallies)
    unregistered = sum(u.total - u.registered for u in tallies)
    lines = [
        t._("Directive #{id}: {number}, {title}", id=b.id, number=b.number, title=b.title),
        _state_line(t, b, pending),
        t._("Sent {sent}/{total} · failed {failed} · not registered {unregistered} · read {read}",
            sent=sent, total=total, failed=failed, unregistered=unregistered, read=read),
        "",
    ]  # fmt: skip
    for unit in sorted(tallies, key=lambda u: -u.total)[:MAX_UNIT_LINES]:
        name = (
            directory.units[unit.unit_id].name if unit.unit_id in directory.units else unit.unit_id
        )
        lines.append(t._("• {unit}: sent {sent}/{total}, failed {failed}, read {read}",
                         unit=name, sent=unit.sent, total=unit.total, failed=unit.failed, read=unit.read))  # fmt: skip
    if len(tallies) > MAX_UNIT_LINES:
        lines.append(t._("… and {n} more units (see the export)", n=len(tallies) - MAX_UNIT_LINES))
    return "\n".join(lines)


def _state_line(t: Translator, b: Broadcast, pending: int) -> str:
    if b.status == "scheduled":
        return t._("Scheduled for {when}.", when=t.when(b.send_at))
    if b.status == "cancelled":
        return t._("Cancelled.")
    if b.status == "signoff":
        return t._("Waiting for sign-off.")
    if b.status == "returned":
        return t._("Returned by the leader: {reason}", reason=b.returned_reason or "")
    if b.status == "recalled" and b.recalled_at:
        return t._("Recalled at {when}.", when=t.short(b.recalled_at))
    if pending:
        return t._("Sending: {n} messages still queued.", n=pending)
    return t._("Delivery finished.")


def admin_buttons(t: Translator, b: Broadcast) -> tuple[tuple[Button, ...], ...]:
    if b.status in ("scheduled", "signoff", "returned"):
        return ((Button(t._("🚫 Cancel it"), DirectiveAction("cx", b.id).encode()),),)
    export = Button(t._("📊 Export .xlsx"), DirectiveAction("xl", b.id).encode())
    if b.status not in ("sending", "done"):
        return ((export,),)
    return (
        (export, Button(t._("🔔 Remind who has not read"), DirectiveAction("rm", b.id).encode())),
        (
            Button(t._("✏️ Correct"), DirectiveAction("fx", b.id).encode()),
            Button(t._("🗑 Recall"), DirectiveAction("rc", b.id).encode()),
        ),
    )


def directives_list(
    t: Translator, received: list[tuple[Broadcast, datetime | None]], head: bool
) -> OutMessage:
    if not received:
        return OutMessage(t._("No directives yet."))
    lines = [t._("Recent directives:")]
    rows: list[tuple[Button, ...]] = []
    for b, read_at in received:
        state = t._("read at {time}", time=t.short(read_at)) if read_at else t._("not read yet")
        lines.append(f"• #{b.id} {b.number} ({b.issued_on:%d/%m/%Y}): {b.title}: {state}")
        row = [Button(t._("📄 Read #{id} again", id=b.id), DirectiveAction("s", b.id).encode())]
        if head:
            row.append(
                Button(
                    t._("👥 Who has not read #{id}", id=b.id), DirectiveAction("u", b.id).encode()
                )
            )
        rows.append(tuple(row))
    return OutMessage("\n".join(lines), buttons=tuple(rows))


def unread_message(
    t: Translator,
    directory: Directory,
    b: Broadcast,
    unread: list[str],
    unit_name: str,
    not_registered: Sequence[str] = (),
) -> OutMessage:
    """«Who has not read»: those who have not (storage's UNREAD), then, apart, those who could
    not get it (not registered in the bot), as /unit and /district count them."""
    apart = not_registered_line(t, [_name(directory, s) for s in not_registered], MAX_NAMES)
    if not unread:
        done = t._(
            "Everyone in {unit} who received directive #{id} has read it.",
            unit=unit_name,
            id=b.id,
        )
        return OutMessage("\n".join(line for line in (done, apart) if line))
    names = []
    for staff_id in unread[:MAX_NAMES]:
        person = directory.person(staff_id)
        names.append(
            f"• {person.full_name} ({person.position or person.position_group})"
            if person
            else f"• {staff_id}"
        )
    if len(unread) > MAX_NAMES:
        names.append(t._("… and {n} more", n=len(unread) - MAX_NAMES))
    head = t._(
        "Not read yet in {unit}, directive #{id} ({n}):", unit=unit_name, id=b.id, n=len(unread)
    )
    buttons = ((Button(t._("🔔 Remind them"), DirectiveAction("rm", b.id).encode()),),)
    lines = [head, *names, *([""] + [apart] if apart else [])]
    return OutMessage("\n".join(lines), buttons=buttons)


def _name(directory: Directory, staff_id: str) -> str:
    person = directory.person(staff_id)
    return person.full_name if person else staff_id


def reminder_text(t: Translator, b: Broadcast) -> str:
    return t._(
        "⏰ Reminder: please read directive {number} ({title}) and press the button below.",
        number=b.number,
        title=b.title,
    )


def why_not(t: Translator, state: RecipientState) -> str:
    if not state.registered:
        return t._("never registered")
    if state.status == "undeliverable":
        return (
            t._("blocked the bot")
            if "block" in (state.error or "").lower()
            else t._("chat not reachable")
        )
    if state.status == "failed":
        return t._("delivery failed")
    if state.status != "sent":
        return t._("not delivered yet")
    return ""


def read_list_name(t: Translator, b: Broadcast, day: date) -> str:
    """`tinh-hinh-doc-van-ban-1061-ubnd-vp_26-05-2021.xlsx`: the directive and the day of the
    export, in the reader's words, from safe parts only."""
    title = t._("Directive reads {number}", number=b.number)
    return f"{file_slug(title)}_{file_date(day)}.xlsx"


def read_list_columns(t: Translator) -> list[tuple[str, int]]:
    """The columns of a directive's read-list (titles, widths), as the other registers': the
    row number, the unit, the person, then what became of their copy."""
    return [(t._("No."), 6), (t._("Unit"), 30), (t._("Full name"), 26), (t._("Position"), 24),
            (t._("Delivered at"), 17), (t._("Read at"), 17), (t._("Not delivered because"), 24)]  # fmt: skip


async def write_export(
    t: Translator, directory: Directory, b: Broadcast, states: list[RecipientState], path: Path
) -> None:
    """One row per recipient, in the registers' style (a sheet named «#1»): unit, name,
    position, delivered at, read at, why not delivered."""
    from bot.services.kernel.xlsx import Register, write_register  # openpyxl costs 0.2 s

    async def rows() -> AsyncIterator[tuple[object, ...]]:
        for state in states:
            person = directory.person(state.staff_id)
            unit = directory.unit(state.unit_id)
            yield (
                state.unit_id,
                unit.name if unit else state.unit_id,
                person.full_name if person else state.staff_id,
                (person.position or person.position_group) if person else "",
                t.short(state.sent_at) if state.sent_at and state.status == "sent" else "",
                t.short(state.read_at) if state.read_at else "",
                why_not(t, state),
            )

    register = Register(
        read_list_columns(t),
        lambda row: list(row[1:]),
        f"#{b.id}",
        notes=export_notes(t, directory, b),
        notes_columns=((t._("About the directive"), 28), ("", 70)),
        notes_title=t._("Directive"),
    )
    await write_register(register, rows(), path)


def export_notes(t: Translator, directory: Directory, b: Broadcast) -> tuple[tuple[str, str], ...]:
    """The directive itself in its export: number, title, scope, the sign-off, corrections."""

    def name(staff_id: str | None) -> str:
        person = directory.person(staff_id or "")
        return person.full_name if person else staff_id or ""

    lines = [
        (t._("Number"), b.number),
        (t._("Title"), b.title),
        (t._("Drafted by"), name(b.created_by)),
        (t._("Scope"), describe_scope(t, directory, b.scope_unit)),
        (t._("Signed off by"), name(b.signed_by) if b.signed_by else t._("no sign-off")),
    ]
    if b.signed_at:
        lines.append((t._("Signed off at"), t.short(b.signed_at)))
    if b.corrected_at:
        lines.append((t._("Corrected at"), t.short(b.corrected_at)))
    if b.recalled_at:
        lines.append((t._("Recalled at"), t.short(b.recalled_at)))
    return tuple(lines)
