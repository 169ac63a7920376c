"""The unit head sets the duty roster in the chat (issue 18 §1): `/duty` shows today's and
tomorrow's shifts of the unit with «➕ Add a shift» (a person of the unit, a day, from, to) and a
«🔁» per shift to hand it to another person (both are told). Only a head of the unit or of a unit
above, or an admin of the unit, changes it; each button is checked again here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain.directory import Directory, administered_units
from bot.domain.duty_roster import Shift, make_shift, parse_clock
from bot.domain.models import Staff
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.duty.buttons import (
    CALENDAR,
    PEOPLE,
    AddShift,
    DutyButton,
    DutyDay,
    DutyMonth,
    DutyPage,
    DutyPerson,
    DutySignal,
    DutyTime,
    ShiftAction,
)
from bot.services.kernel.feature import Answer
from bot.services.kernel.pickers import (
    PEOPLE_PER_PAGE,
    month_calendar,
    people_page,
    people_picker,
    time_picker,
)
from bot.services.kernel.step import Step
from storage.duty_repo import DutyRepo
from storage.repos import Conversation

FLOW = "duty.shift"
SHIFTS_SHOWN = 16  # «🔁» buttons in the /duty view; more are set from the roster file


def may_set_roster(directory: Directory, person: Staff, unit_id: str) -> bool:
    """A head of the unit or of a unit above, or an admin whose units include it."""
    if unit_id not in directory.units:
        return False
    scope = administered_units(directory, person)
    if scope is None or unit_id in scope:
        return True
    chain = [unit_id, *directory.ancestor_ids(unit_id)]
    return any(person.staff_id in directory.head_ids(unit) for unit in chain)


def may_take(directory: Directory, unit_id: str, staff_id: str) -> bool:
    """Who may be on a unit's roster (as in duty.csv): an active person of it or a unit above."""
    person = directory.person(staff_id)
    chain = {unit_id, *directory.ancestor_ids(unit_id)}
    return person is not None and person.active and person.unit_id in chain


def _not_allowed(t: Translator) -> str:
    return t._("Only a head of this unit or of a unit above, or its admin, sets its duty roster.")


def _expired(t: Translator) -> str:
    return t._("This button is no longer valid.")


def _name(directory: Directory, staff_id: str) -> str:
    person = directory.person(staff_id)
    return person.full_name if person else staff_id


def _unit_name(directory: Directory, unit_id: str) -> str:
    unit = directory.unit(unit_id)
    return unit.name if unit else unit_id


def span_text(t: Translator, shift: Shift) -> str:
    return f"{t.short(shift.starts_at)}–{shift.ends_at:%H:%M}"


class RosterDesk:
    # --- the /duty view ---------------------------------------------------------------------

    async def view(self, step: Step, directory: Directory, unit_id: str) -> OutMessage:
        t = step.t
        today = step.now.date()
        start = datetime.combine(today, time(0), step.now.tzinfo)
        repo = DutyRepo(step.tx, step.deps.clock.tz)
        lines = [t._("Duty roster of {unit}:", unit=_unit_name(directory, unit_id))]
        swappable: list[tuple[int, Shift]] = []
        for offset, title in ((0, t._("Today")), (1, t._("Tomorrow"))):
            day_start = start + timedelta(days=offset)
            entries = [
                (i, s)
                for i, s in await repo.entries_during(unit_id, day_start, day_start + timedelta(1))
                if s.starts_at >= day_start or offset == 0
            ]
            lines.append(f"{title}, {t.date(today + timedelta(days=offset))}:")
            lines += [f"• {span_text(t, s)} {_name(directory, s.staff_id)}" for _, s in entries]
            if not entries:
                lines.append(t._("• nobody on duty"))
            swappable += [(i, s) for i, s in entries if s.ends_at > step.now]
        rows: list[tuple[Button, ...]] = [
            (
                Button(
                    f"🔁 {t.short(s.starts_at)} {_name(directory, s.staff_id)}",
                    ShiftAction("sw", shift_id).encode(),
                ),
            )
            for shift_id, s in dict.fromkeys(swappable[:SHIFTS_SHOWN])
        ]
        rows.append((Button(t._("➕ Add a shift"), AddShift(unit_id).encode()),))
        return OutMessage("\n".join(lines), buttons=tuple(rows))

    # --- buttons ----------------------------------------------------------------------------

    async def button(self, step: Step, button: DutyButton) -> Answer:
        t = step.t
        person = await step.linked()
        if person is None:
            return _expired(t), []
        directory = await step.directory()
        if isinstance(button, AddShift):
            return await self._begin_add(step, directory, person, button.unit_id)
        if isinstance(button, ShiftAction):
            return await self._begin_swap(step, directory, person, button.ref)
        if isinstance(button, DutySignal):
            if button.word == "_":
                return None, []
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return None, [OutMessage(t._("Stopped: the duty roster was not changed."))]
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is None or conversation.flow != FLOW:
            return _expired(t), []
        draft = conversation.draft
        if not may_set_roster(directory, person, draft["unit"]):
            await self._refused(step, person, draft["unit"])
            return _not_allowed(t), []
        return await self._next(step, directory, person, conversation, button)

    async def _refused(self, step: Step, person: Staff, unit_id: str) -> None:
        await step.audit.append(step.now, person.staff_id, "duty.refused", f"unit:{unit_id}", {})

    async def _begin_add(
        self, step: Step, directory: Directory, person: Staff, unit_id: str
    ) -> Answer:
        if not may_set_roster(directory, person, unit_id):
            await self._refused(step, person, unit_id)
            return _not_allowed(step.t), []
        draft = {"mode": "add", "unit": unit_id}
        await self._save(step, "person", draft)
        return None, [self._people(step.t, directory, draft, 0)]

    async def _begin_swap(
        self, step: Step, directory: Directory, person: Staff, shift_id: int
    ) -> Answer:
        t = step.t
        shift = await DutyRepo(step.tx, step.deps.clock.tz).entry(shift_id)
        if shift is None:
            return _expired(t), []
        if not may_set_roster(directory, person, shift.unit_id):
            await self._refused(step, person, shift.unit_id)
            return _not_allowed(t), []
        if shift.ends_at <= step.now:
            return t._("This shift is over."), []
        draft = {"mode": "swap", "unit": shift.unit_id, "shift": shift_id, "staff": shift.staff_id}
        await self._save(step, "person", draft)
        return None, [self._people(t, directory, draft, 0)]

    async def _save(self, step: Step, at: str, draft: dict[str, Any]) -> None:
        conversation = Conversation(FLOW, at, draft)
        await step.conversations.set(step.who.channel, step.who.user_ref, conversation, step.now)

    async def _next(
        self,
        step: Step,
        directory: Directory,
        person: Staff,
        conversation: Conversation,
        button: DutyButton,
    ) -> Answer:
        t = step.t
        draft, at = dict(conversation.draft), conversation.step
        match button:
            case DutyPage(number) if at == "person":
                return None, [self._people(t, directory, draft, number)]
            case DutyPerson(staff_id) if at == "person":
                return await self._picked(step, directory, person, draft, staff_id)
            case DutyMonth(month) if at == "day":
                return None, [self._calendar(step, month)]
            case DutyDay(day) if at == "day":
                if day < step.now.date():
                    return t._("That day is over; pick today or a later day."), []
                draft["day"] = day.isoformat()
                await self._save(step, "from", draft)
                return None, [self._time_question(t, "f")]
            case DutyTime("f", at_time) if at == "from":
                return None, await self._from(step, draft, at_time)
            case DutyTime("t", at_time) if at == "to":
                return None, await self._add(step, directory, person, draft, at_time)
        return _expired(t), []

    async def _from(self, step: Step, draft: dict[str, Any], start: time) -> list[OutMessage]:
        draft["from"] = f"{start:%H:%M}"
        await self._save(step, "to", draft)
        return [self._time_question(step.t, "t")]

    # --- what is typed in the flow (a name to search, a time) --------------------------------

    async def typed(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        t = step.t
        person = await step.linked()
        directory = await step.directory()
        draft = dict(conversation.draft)
        if person is None or not may_set_roster(directory, person, draft.get("unit", "")):
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return [OutMessage(_not_allowed(t))]
        if conversation.step == "person":
            draft["q"] = text.strip()[:60]  # «More names» pages through these matches
            await self._save(step, "person", draft)
            return [self._people(t, directory, draft, 0)]
        if conversation.step in ("from", "to"):
            at = parse_clock(text)
            if at is None:
                field = "f" if conversation.step == "from" else "t"
                return [
                    OutMessage(t._("Please type a time as HH:MM, e.g. 22:00.")),
                    self._time_question(t, field),
                ]
            if conversation.step == "from":
                return await self._from(step, draft, at)
            return await self._add(step, directory, person, draft, at)
        return [OutMessage(t._("Please use the buttons above, or /cancel."))]

    # --- the questions ------------------------------------------------------------------------

    def _people(
        self, t: Translator, directory: Directory, draft: dict[str, Any], page: int
    ) -> OutMessage:
        unit_id, typed = draft["unit"], draft.get("q", "")
        if typed:
            shown, more = people_page(directory, typed, page, [unit_id])
        else:
            shown, more = _unit_people(directory, unit_id, page)
        if draft["mode"] == "swap":
            shown = [p for p in shown if p.staff_id != draft["staff"]]
            question = t._(
                "Who takes over this shift from {name}? Pick a person of {unit}, or type a name.",
                name=_name(directory, draft["staff"]),
                unit=_unit_name(directory, unit_id),
            )
        else:
            question = t._(
                "Who is on duty? Pick a person of {unit}, or type a name.",
                unit=_unit_name(directory, unit_id),
            )
        keyboard = people_picker(t, directory, shown, page, more, PEOPLE)
        return OutMessage(question, buttons=(*keyboard, _stop_row(t)))

    def _calendar(self, step: Step, month: date) -> OutMessage:
        t = step.t
        keyboard = month_calendar(t, "d", month, step.now.date(), CALENDAR)
        return OutMessage(t._("Which day does the shift start?"), buttons=(*keyboard, _stop_row(t)))

    def _time_question(self, t: Translator, field: str) -> OutMessage:
        question = (
            t._("From what time? Pick one or type HH:MM.")
            if field == "f"
            else t._("Until what time? Pick one or type HH:MM (not after the start: the next day).")
        )
        return OutMessage(question, buttons=(*time_picker(field, CALENDAR), _stop_row(t)))

    # --- the changes --------------------------------------------------------------------------

    async def _picked(
        self, step: Step, directory: Directory, person: Staff, draft: dict[str, Any], staff_id: str
    ) -> Answer:
        t = step.t
        if not may_take(directory, draft["unit"], staff_id):
            return t._("Pick a person of this unit."), []
        if draft["mode"] == "swap":
            return None, await self._swap(step, directory, person, draft, staff_id)
        draft["staff"] = staff_id
        await self._save(step, "day", draft)
        return None, [self._calendar(step, step.now.date().replace(day=1))]

    async def _add(
        self, step: Step, directory: Directory, person: Staff, draft: dict[str, Any], end: time
    ) -> list[OutMessage]:
        t = step.t
        start = parse_clock(draft["from"])
        assert start is not None  # written by _from
        day = date.fromisoformat(draft["day"])
        shift = make_shift(draft["unit"], day, start, end, draft["staff"], step.deps.clock.tz)
        if not may_take(directory, shift.unit_id, shift.staff_id):
            return [OutMessage(t._("Pick a person of this unit."))]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        shift_id = await DutyRepo(step.tx, step.deps.clock.tz).add(shift)
        await step.audit.append(
            step.now,
            person.staff_id,
            "duty.shift.add",
            f"shift:{shift_id}",
            {
                "unit": shift.unit_id,
                "staff_id": shift.staff_id,
                "from": shift.starts_at.isoformat(),
            },
        )
        unit = _unit_name(directory, shift.unit_id)
        await step.tell_staff(
            [shift.staff_id],
            lambda tt: OutMessage(
                tt._(
                    "🛡 You are on duty for {unit}: {span}. /duty shows the roster.",
                    unit=unit,
                    span=span_text(tt, shift),
                )
            ),
        )
        added = t._(
            "✅ Shift added: {unit}, {span}, {name}.",
            unit=unit,
            span=span_text(t, shift),
            name=_name(directory, shift.staff_id),
        )
        return [OutMessage(added), await self.view(step, directory, shift.unit_id)]

    async def _swap(
        self, step: Step, directory: Directory, person: Staff, draft: dict[str, Any], to: str
    ) -> list[OutMessage]:
        t = step.t
        repo = DutyRepo(step.tx, step.deps.clock.tz)
        shift = await repo.entry(int(draft["shift"]))
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        if shift is None or not await repo.hand_over(int(draft["shift"]), draft["staff"], to):
            return [OutMessage(t._("This shift changed meanwhile; see /duty."))]
        before = shift.staff_id
        await step.audit.append(
            step.now,
            person.staff_id,
            "duty.shift.swap",
            f"shift:{draft['shift']}",
            {"from_staff": before, "to_staff": to},
        )
        unit = _unit_name(directory, shift.unit_id)
        old_name, new_name = _name(directory, before), _name(directory, to)
        await step.tell_staff(
            [before],
            lambda tt: OutMessage(
                tt._(
                    "🔁 Your duty shift for {unit} ({span}) now goes to {name}.",
                    unit=unit,
                    span=span_text(tt, shift),
                    name=new_name,
                )
            ),
        )
        await step.tell_staff(
            [to],
            lambda tt: OutMessage(
                tt._(
                    "🛡 You are on duty for {unit}: {span}, taking over from {name}.",
                    unit=unit,
                    span=span_text(tt, shift),
                    name=old_name,
                )
            ),
        )
        done = t._(
            "✅ Shift swapped: {span} now {name} (was {before}).",
            span=span_text(t, shift),
            name=new_name,
            before=old_name,
        )
        return [OutMessage(done), await self.view(step, directory, shift.unit_id)]


def _unit_people(directory: Directory, unit_id: str, page: int) -> tuple[list[Staff], bool]:
    people = sorted(
        (p for p in directory.staff.values() if p.active and p.unit_id == unit_id),
        key=lambda p: p.full_name,
    )
    start = max(page, 0) * PEOPLE_PER_PAGE
    return people[start : start + PEOPLE_PER_PAGE], len(people) > start + PEOPLE_PER_PAGE


def _stop_row(t: Translator) -> tuple[Button, ...]:
    return (Button(t._("✖ Stop"), DutySignal("x").encode()),)
