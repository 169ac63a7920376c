"""Testing and isolation on return from an area whose directive requires them (seeds/004 §3).

On a return declaration that lists a province with such an area (during the trip), the person
is told exactly what to do and by when; a test deadline lives in return_measures like the
24-hour declaration: a reminder before it, then the unit head is told. The result is given with
a button («negative» / «positive») and a photo kept as evidence; a positive result opens an F0
case (bot/services/health/cases.py), which alerts the case chain at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.domain.directory import Directory, answerable_heads
from bot.domain.health_rules import area_matches
from bot.domain.privacy import Purpose
from bot.domain.return_measures import (
    Measures,
    measures_for,
    result_step_due,
    result_steps,
    strictest,
)
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health import cases
from bot.services.health.alerts import area_description
from bot.services.health.alerts import repo as health_repo
from bot.services.health.areas import area_requirement
from bot.services.kernel.feature import Answer
from bot.services.kernel.people import oversees
from bot.services.kernel.step import Deps, Step
from bot.services.privacy.basis import STOPPED_ACTION, withdrawn, withdrawn_among
from bot.services.privacy.views import followed_no_more
from bot.services.returns.buttons import MeasureAction
from bot.services.returns.sweep import Outbound
from bot.services.travel.views import requester_line
from bot.services.violations.buttons import ViolationOn
from storage.measures_repo import MeasuresRepo, ReturnMeasure
from storage.repos import AuditRepo, Conversation
from storage.travel_repo import TravelRequest

RESULT_SHOWN_DAYS = 3  # a test result stays in /status and /unit that long
FLOW = "return"  # the returns conversation: its `test` step waits for the photo
BATCH = 2000  # rows a transaction: about 0.4 s of write lock at most (bench/measures.py)

Keyboard = tuple[tuple[Button, ...], ...]


def repo(step: Step) -> MeasuresRepo:
    return MeasuresRepo(step.tx, step.deps.clock.tz)


# --------------------------------------------------------------------------- texts


def result_buttons(t: Translator, request_id: int) -> Keyboard:
    return (
        (
            Button(t._("✅ Test negative"), MeasureAction("neg", request_id).encode()),
            Button(t._("🔴 Test positive"), MeasureAction("pos", request_id).encode()),
        ),
    )


def instructions(t: Translator, request_id: int, area: str, measures: Measures) -> OutMessage:
    lines = [t._("🧪 You are back from {area}. Its directive requires of you:", area=area)]
    if measures.test_due_at is not None:
        lines.append(
            "• "
            + t._(
                "a test (at the health station or a testing point) by {deadline}; when you have the result, tap it below and send a photo of the result paper here",
                deadline=t.when(measures.test_due_at),
            )
        )
    if measures.isolation_until is not None:
        lines.append(
            "• "
            + t._(
                "isolation at home until {until}: do not come to the office or to gatherings, and report any fever, cough or shortness of breath with /symptoms",
                until=t.when(measures.isolation_until),
            )
        )
    buttons = result_buttons(t, request_id) if measures.test_due_at is not None else ()
    return OutMessage("\n".join(lines), buttons=buttons)


def test_reminder(t: Translator, measure: ReturnMeasure, now: datetime) -> OutMessage:
    due = measure.test_due_at
    assert due is not None
    if now >= due:
        text = t._(
            "⚠️ Your test result after returning from {area} is overdue (it was due {deadline}). Tap the result below and send a photo of it.",
            area=measure.area,
            deadline=t.when(due),
        )
    else:
        text = t._(
            "⏰ Reminder: send your test result after returning from {area} by {deadline}. Tap the result below and send a photo of it.",
            area=measure.area,
            deadline=t.when(due),
        )
    return OutMessage(text, buttons=result_buttons(t, measure.request_id))


def overdue_for_head(t: Translator, staff_line: str, measure: ReturnMeasure) -> OutMessage:
    assert measure.test_due_at is not None
    return OutMessage(
        t._(
            "⚠️ {who} has not sent the test result due {deadline}, after returning from {area}.",
            who=staff_line,
            deadline=t.when(measure.test_due_at),
            area=measure.area,
        ),
        buttons=(
            (
                Button(t._("🔔 Remind them"), MeasureAction("tnag", measure.request_id).encode()),
                Button(t._("⚠️ Record a violation"), ViolationOn("t", measure.request_id).encode()),
            ),
        ),
    )


def result_name(t: Translator, result: str | None) -> str:
    return {
        None: t._("test pending"),
        "negative": t._("test negative"),
        "positive": t._("test positive"),
    }.get(result, result or "")


def measure_parts(t: Translator, measure: ReturnMeasure, now: datetime) -> list[str]:
    """«isolating until …», «test pending, due …» / «test overdue since …» / the result."""
    parts = []
    if measure.isolation_until is not None and measure.isolation_until > now:
        parts.append(t._("isolating until {when}", when=t.short(measure.isolation_until)))
    if measure.test_due_at is not None:
        if measure.test_result is None and measure.test_due_at <= now:
            parts.append(t._("test overdue since {when}", when=t.short(measure.test_due_at)))
        elif measure.test_result is None:
            parts.append(t._("test pending, due {when}", when=t.short(measure.test_due_at)))
        else:
            parts.append(result_name(t, measure.test_result))
    return parts


def measure_line(t: Translator, name: str, measure: ReturnMeasure, now: datetime) -> str:
    """/unit: «Name — isolating until …; test pending, due …»."""
    return t._("{name} — {what}", name=name, what="; ".join(measure_parts(t, measure, now)))


def own_lines(t: Translator, measures: list[ReturnMeasure], now: datetime) -> list[str]:
    """/status: the person's own testing and isolation after a return."""
    return [
        "🧪 " + "; ".join(parts)
        for measure in measures
        if (parts := measure_parts(t, measure, now))
    ]


# --------------------------------------------------------------------------- use cases


class ReturnMeasures:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def on_return(
        self, step: Step, request: TravelRequest, arrived: datetime, provinces: list[str]
    ) -> list[OutMessage]:
        """Called with the return declaration: what the areas visited require, told and kept."""
        start, end = request.departure_at.date(), arrived.date()
        matched = [
            area
            for area in await health_repo(step).areas()
            if area_requirement(area).anything
            and any(
                area_matches(area.province, area.start_day, area.end_day, p, start, end)
                for p in provinces
            )
        ]
        if not matched:
            return []
        requirement = strictest(area_requirement(a) for a in matched)
        measures = measures_for(arrived, requirement)
        area = "; ".join(area_description(step.t, a) for a in matched)
        remind_at = (
            result_steps(arrived, measures.test_due_at, self.deps.settings.quiet)[0]
            if measures.test_due_at is not None
            else None
        )
        await repo(step).open_measure(
            request.id,
            request.staff_id,
            area,
            arrived,
            measures.test_due_at,
            measures.isolation_until,
            remind_at,
            step.now,
        )
        await step.audit.append(
            step.now,
            step.actor,
            "return.measures",
            f"travel:{request.id}",
            {
                "areas": [a.id for a in matched],
                "test_hours": requirement.test_hours,
                "isolation_days": requirement.isolation_days,
            },
        )
        return [instructions(step.t, request.id, area, measures)]

    async def button(self, step: Step, button: MeasureAction) -> Answer:
        measure = await repo(step).measure(button.ref)
        if button.action == "tnag":
            return await self._nag(step, measure)
        person = await step.me()
        if measure is None or person is None or measure.staff_id != person.staff_id:
            return step.t._("This button is no longer valid."), []
        if measure.test_due_at is None:
            return step.t._("This button is no longer valid."), []
        result = "positive" if button.action == "pos" else "negative"
        if not await repo(step).record_result(measure.request_id, result, step.now):
            return step.t._(
                "Already recorded: {result}.", result=result_name(step.t, measure.test_result)
            ), []
        await step.audit.append(
            step.now, step.actor, "return.test_result", f"travel:{measure.request_id}",
            {"result": result},
        )  # fmt: skip
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(FLOW, "test", {"rid": measure.request_id}),
            step.now,
        )
        ask_photo = step.t._("Please send a photo of the result paper here as evidence.")
        if result == "negative":
            return None, [
                OutMessage(
                    step.t._(
                        "✅ Recorded at {when}: your test is negative.", when=step.t.short(step.now)
                    )
                    + "\n"
                    + ask_photo
                )
            ]
        case_id = await cases.open_case(step, person, person, person.full_name, "F0", None)
        await repo(step).link_case(measure.request_id, case_id, step.now)
        return None, [
            OutMessage(
                step.t._(
                    "🔴 Recorded: your test is positive. Case #{id} is opened and your head and the health officers are alerted now. Stay isolated, keep away from others and wait for the health staff, who will contact you.",
                    id=case_id,
                )
                + "\n"
                + ask_photo
            )
        ]

    async def status_lines(self, step: Step, staff_id: str) -> list[str]:
        since = step.now - timedelta(days=RESULT_SHOWN_DAYS)
        return own_lines(step.t, await repo(step).of_scope([staff_id], step.now, since), step.now)

    async def evidence(self, step: Step, data: dict[str, Any]) -> list[OutMessage]:
        """A photo sent in the `test` step: kept as the result's evidence."""
        attachment = step.who.attachment
        if attachment is None:
            return [OutMessage(step.t._("Send the result paper as a photo, please."))]
        measure = await repo(step).measure(int(data["rid"]))
        if measure is None:
            return [OutMessage(step.t._("This button is no longer valid."))]
        await repo(step).add_evidence(measure.request_id, attachment.file_id, step.now)
        await step.audit.append(
            step.now, step.actor, "return.test_evidence", f"travel:{measure.request_id}", {}
        )
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        return [
            OutMessage(
                step.t._(
                    "Photo of the test result kept as evidence ({when}).",
                    when=step.t.short(step.now),
                )
            )
        ]

    async def _nag(self, step: Step, measure: ReturnMeasure | None) -> Answer:
        me = await step.me()
        directory = await step.directory()
        if measure is None or me is None or not oversees(directory, me, measure.staff_id):
            return step.t._("You may not do this."), []
        if measure.test_result is not None:
            return step.t._("Nothing to remind: the test result is in."), []
        if await withdrawn(step, measure.staff_id, Purpose.DIRECTORY):
            subject = directory.person(measure.staff_id)
            name = subject.full_name if subject else measure.staff_id
            return followed_no_more(step.t, name, short=True), []
        await step.tell_staff(
            [measure.staff_id], lambda t: test_reminder(t, measure, step.now), priority=3
        )
        await step.audit.append(
            step.now, step.actor, "return.test_nag", f"travel:{measure.request_id}", {}
        )
        return step.t._("Reminder sent."), []

    # --- the sweep ------------------------------------------------------------------------

    async def sweep(self, now: datetime) -> int:
        """Test deadlines due at `now`, in batches of BATCH rows, each its own transaction (as
        the declaration windows in bot/services/returns/sweep.py: one query for the rows, one
        for the accounts, one insert for the outbox)."""
        handled = 0
        while True:
            async with self.deps.db.reading() as tx:
                if not await MeasuresRepo(tx, self.deps.clock.tz).anything_due(now):
                    return handled
            done = await self._batch(now)
            handled += done
            if done < BATCH:
                return handled

    async def _batch(self, now: datetime) -> int:
        async with self.deps.db.transaction() as tx:
            measures = MeasuresRepo(tx, self.deps.clock.tz)
            directory = await self.deps.directory.get(tx)
            out = Outbound(self.deps, directory)
            due = await measures.due(now, BATCH)
            stopped = await withdrawn_among(
                tx, self.deps.settings, self.deps.clock.tz, [m.staff_id for m in due],
                Purpose.DIRECTORY,
            )  # fmt: skip
            moves: list[tuple[int, int, datetime | None]] = []
            audit: list[tuple[str, str]] = []
            for measure in due:
                if measure.staff_id in stopped:  # the trip is followed no more: nor its test
                    moves.append((measure.request_id, measure.remind_stage, None))
                    audit.append((STOPPED_ACTION, f"travel:{measure.request_id}"))
                    continue  # (usually stopped at the withdrawal already)
                moves.append(self._step(measure, now, out, directory, audit))
            await measures.move_on_many(moves, now)
            await AuditRepo(tx).append_many(now, "system", audit)
            sent = await out.flush(tx, now)
        if sent:
            self.deps.wake_outbox()
        return len(due)

    def _step(
        self,
        measure: ReturnMeasure,
        now: datetime,
        out: Outbound,
        directory: Directory,
        audit: list[tuple[str, str]],
    ) -> tuple[int, int, datetime | None]:
        assert measure.test_due_at is not None
        steps = result_steps(measure.arrived_at, measure.test_due_at, self.deps.settings.quiet)
        due = result_step_due(steps, measure.remind_stage, now)
        if due is None:  # moved on already: the next step is later
            later = steps[measure.remind_stage] if measure.remind_stage < len(steps) else None
            return measure.request_id, measure.remind_stage, later
        out.tell([measure.staff_id], partial(test_reminder, measure=measure, now=now))
        if due.stage >= 2:
            out.tell(
                answerable_heads(directory, measure.staff_id),
                partial(_head_view, directory=directory, measure=measure),
            )
            audit.append(("return.test_overdue", f"travel:{measure.request_id}"))
        return measure.request_id, due.stage, due.next_at


def _head_view(t: Translator, directory: Directory, measure: ReturnMeasure) -> OutMessage:
    return overdue_for_head(t, requester_line(t, directory, measure.staff_id), measure)
