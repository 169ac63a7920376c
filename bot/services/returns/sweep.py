"""The returns part of the sweep: "are you back?" steps and the 24-hour declaration window.

Deadlines and next-reminder times are columns of trip_returns; each tick takes the due rows,
enqueues their messages and moves the rows on in one transaction. After downtime only the
latest reminder still relevant is sent (bot/domain/reminders.py decides which). Rows are handled
in batches (one query for the trips, one for the accounts, one insert for the outbox) so that
10,000 due rows take well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

from bot.domain.directory import Directory, answerable_heads
from bot.domain.privacy import Purpose
from bot.domain.reminders import (
    ReminderKind,
    declaration_schedule,
    due_next_only,
    due_now,
    return_checks,
    shift_out_of_quiet,
)
from bot.i18n import Translator
from bot.outgoing import LaterMessage, OutMessage
from bot.services.kernel.copies import settle
from bot.services.kernel.step import Deps, Step
from bot.services.privacy.basis import STOPPED_ACTION, withdrawn_among
from bot.services.returns.views import (
    back_question,
    back_subject,
    declaration_stopped,
    declare_subject,
    later_declaration_reminder,
    not_back_for_head,
    overdue_for_head,
)
from storage.buttons_repo import ButtonsRepo
from storage.engine import Tx, dumps
from storage.outbox_repo import OutboxRepo, Recipient
from storage.repos import AccountsRepo, AuditRepo
from storage.returns_repo import ReturnsRepo, TripReturn
from storage.travel_repo import TravelRepo, TravelRequest

Build = Callable[[Translator], OutMessage]
LIVE = ("approved", "recorded", "pending")  # pending: tracked when unanswered at departure
BATCH = 5000


TRACKED = "returns:"
"""The purpose of a sweep message that carries a subject's buttons: `returns:<subject>`."""


class Outbound:
    """Messages collected during a sweep, written to the outbox in one statement. A message
    given a `subject` is remembered as carrying its buttons (edited once it is settled)."""

    def __init__(self, deps: Deps, directory: Directory) -> None:
        self.deps = deps
        self.directory = directory
        self.wanted: list[tuple[str, Build, str | None]] = []
        self.later: list[tuple[Recipient, LaterMessage, str | None]] = []

    def tell(self, staff_ids: list[str], build: Build, subject: str | None = None) -> None:
        self.wanted.extend((s, build, subject) for s in staff_ids)

    def tell_later(
        self, recipient: Recipient, message: LaterMessage, subject: str | None = None
    ) -> None:
        """Rendered by the sender as it goes (the bulk of a sweep: one small row each)."""
        self.later.append((recipient, message, subject))

    async def flush(self, tx: Tx, now: datetime) -> int:
        accounts = await AccountsRepo(tx).of_staff_many(list({s for s, _, _ in self.wanted}))
        by_staff = {a.staff_id: a for a in accounts}
        wanted = [
            (Recipient(a.channel, a.chat_ref, staff_id), a.language, build, subject)
            for staff_id, build, subject in self.wanted
            if (a := by_staff.get(staff_id)) is not None  # not registered: nobody to tell
        ]
        translators: dict[str | None, Translator] = {}
        rows: list[tuple[Recipient, str, str | None]] = [
            (r, dumps(m.to_json()), _purpose(subject)) for r, m, subject in self.later
        ]
        for recipient, saved, build, subject in wanted:
            language = self.directory.language_of(recipient.staff_id, saved)
            t = translators.get(language)
            if t is None:
                t = translators[language] = self.deps.translations.for_language(language)
            rows.append((recipient, dumps(build(t).to_json()), _purpose(subject)))
        buttons = ButtonsRepo(tx)
        before = await buttons.last_outbox_id()
        await OutboxRepo(tx).enqueue_payloads(rows, now, priority=4)
        if any(purpose != "returns" for _, _, purpose in rows):
            await buttons.remember_since(before, TRACKED)
        return len(rows)


def declaration_object(request_id: int) -> str:
    """The audit object of a return's official declaration (`privacy.stopped` on it)."""
    return f"declaration:{request_id}"


async def stop_declaration_reminders(step: Step, staff_id: str, purpose: Purpose) -> None:
    """The person refused or withdrew health consent (b): the official declarations still
    awaited are reminded no more, and their copies (the person's question, a head's «overdue»
    notice) say so and lose their buttons. The trip's own follow-up rests on (a) and goes on."""
    if purpose is not Purpose.HEALTH:
        return
    stopped = await ReturnsRepo(step.tx, step.deps.clock.tz).stop_declaration(staff_id, step.now)
    for request_id in stopped:
        await settle(
            step,
            declare_subject(request_id),
            lambda t, copy: OutMessage(copy.text + "\n\n" + declaration_stopped(t)),
        )
        await step.audit.append(
            step.now, "system", STOPPED_ACTION, declaration_object(request_id), {}
        )


def _purpose(subject: str | None) -> str:
    return "returns" if subject is None else TRACKED + subject


class ReturnsSweep:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def sweep(self, now: datetime) -> int:
        """Everything due at `now`, in batches of at most BATCH rows, each its own transaction
        (bounded memory; the sender and other users' steps get the database in between)."""
        handled = 0
        while True:
            async with self.deps.db.reading() as tx:
                if not await self._repo(tx).anything_due(now):
                    return handled
            done = await self._batch(now)
            handled += done
            if done < BATCH:
                return handled

    async def _batch(self, now: datetime) -> int:
        async with self.deps.db.transaction() as tx:
            directory = await self.deps.directory.get(tx)
            out = Outbound(self.deps, directory)
            await self._track_new(tx, now)
            handled = await self._asks(tx, now, out, directory)
            handled += await self._reminders(tx, now, out, directory)
            sent = await out.flush(tx, now)
        if sent:
            self.deps.wake_outbox()
        return handled

    async def _track_new(self, tx: Tx, now: datetime) -> None:
        repo = self._repo(tx)
        new = await repo.untracked_due(now, BATCH)
        if new:
            await repo.track_many(
                [
                    (n, shift_out_of_quiet(n.planned_return_at, self.deps.settings.quiet), 0)
                    for n in new
                ],
                now,
            )
            stopped = await self._withdrawn(tx, [n.staff_id for n in new])
            await self._stop(tx, [n.request_id for n in new if n.staff_id in stopped], now)

    async def _asks(self, tx: Tx, now: datetime, out: Outbound, directory: Directory) -> int:
        repo = self._repo(tx)
        due = await repo.due_asks(now, BATCH)
        requests = await TravelRepo(tx, self.deps.clock.tz).get_many([t.request_id for t in due])
        stopped = await self._withdrawn(tx, [t.staff_id for t in due])
        moves: list[tuple[int, datetime | None, int]] = []
        halted: list[int] = []
        gone: list[int] = []
        audit: list[tuple[str, str]] = []
        for trip in due:
            request = requests.get(trip.request_id)
            if request is None or request.status not in LIVE:
                gone.append(trip.request_id)
                continue
            if trip.staff_id in stopped:  # no question, no word to the head: asked no more
                halted.append(trip.request_id)
                continue
            moves.append(self._ask(trip, request, now, out, directory, audit))
        await repo.set_asks(moves, now)
        await self._stop(tx, halted, now)
        await repo.close_cancelled(gone, now)
        await AuditRepo(tx).append_many(now, "system", audit)
        return len(due)

    def _ask(
        self,
        trip: TripReturn,
        request: TravelRequest,
        now: datetime,
        out: Outbound,
        directory: Directory,
        audit: list[tuple[str, str]],
    ) -> tuple[int, datetime | None, int]:
        checks = return_checks(
            trip.planned_return_at, self.deps.settings.return_grace, self.deps.settings.quiet
        )
        times = [
            shift_out_of_quiet(trip.planned_return_at, self.deps.settings.quiet),
            checks.ask_at,
            checks.tell_head_at,
        ]
        stage = sum(1 for at in times if at <= now)
        if stage <= trip.ask_stage:
            return trip.request_id, times[trip.ask_stage], trip.ask_stage
        if stage == 3:
            out.tell(
                answerable_heads(directory, trip.staff_id),
                lambda t: not_back_for_head(t, directory, request),
                back_subject(trip.request_id),
            )
            audit.append(("return.not_reported", f"travel:{trip.request_id}"))
        else:
            out.tell(
                [trip.staff_id],
                lambda t: back_question(t, request, again=stage == 2),
                back_subject(trip.request_id),
            )
            audit.append(("return.ask", f"travel:{trip.request_id}"))
        return trip.request_id, times[stage] if stage < 3 else None, stage

    async def _reminders(self, tx: Tx, now: datetime, out: Outbound, directory: Directory) -> int:
        repo = self._repo(tx)
        due = await repo.due_reminders(now, BATCH)
        moves: list[tuple[int, datetime | None, int | None, bool]] = []
        audit: list[tuple[str, str]] = []
        offsets, quiet = self.deps.settings.declaration_reminders, self.deps.settings.quiet
        stopped = await self._withdrawn(tx, [row.staff_id for row in due])
        halted = [row.request_id for row in due if row.staff_id in stopped]
        await self._stop(tx, halted, now)
        unhealthy = await self._withdrawn(tx, [row.staff_id for row in due], Purpose.HEALTH)
        for row in due:
            if row.staff_id in stopped:  # no reminder, no overdue notice: reminded no more
                continue
            if row.staff_id in unhealthy:  # the declaration is health data: reminded no more
                moves.append((row.request_id, None, row.last_seq, False))
                audit.append((STOPPED_ACTION, declaration_object(row.request_id)))
                continue
            plan = due_next_only(row.schedule(upto=(row.last_seq or 0) + 2), now, row.last_seq)
            if plan is None:
                schedule = row.schedule() or declaration_schedule(
                    row.arrived_at, offsets, quiet=quiet
                )
                plan = due_now(schedule, now, row.last_seq, quiet)
            overdue = False
            for reminder in plan.to_send:
                if reminder.kind is ReminderKind.OVERDUE:
                    overdue = True
                    out.tell(
                        answerable_heads(directory, row.staff_id),
                        partial(
                            overdue_for_head,
                            directory=directory,
                            staff_id=row.staff_id,
                            request_id=row.request_id,
                            place=row.destination,
                            deadline=row.deadline_at,
                        ),
                        declare_subject(row.request_id),
                    )
                    audit.append(("return.overdue", f"travel:{row.request_id}"))
                elif row.channel is not None and row.chat_ref is not None:
                    recipient = Recipient(row.channel, row.chat_ref, row.staff_id)
                    language = directory.language_of(row.staff_id, row.language)
                    out.tell_later(
                        recipient,
                        later_declaration_reminder(
                            row.request_id, row.destination, row.deadline_at, language
                        ),
                        declare_subject(row.request_id),
                    )
            moves.append((row.request_id, plan.next_at, plan.new_last_seq, overdue))
        await repo.set_reminders(moves, now)
        await AuditRepo(tx).append_many(now, "system", audit)
        return len(due)

    async def _withdrawn(
        self, tx: Tx, staff_ids: list[str], purpose: Purpose = Purpose.DIRECTORY
    ) -> set[str]:
        """Who withdrew (a): their trips are followed no more, from that moment on; (b): their
        official declaration is reminded no more."""
        tz = self.deps.clock.tz
        return await withdrawn_among(tx, self.deps.settings, tz, staff_ids, purpose)

    async def _stop(self, tx: Tx, request_ids: list[int], now: datetime) -> None:
        """Usually done at the withdrawal itself (bot/services/privacy/flow.py); here for the
        trips tracked since, or caught between the two."""
        if request_ids:
            await self._repo(tx).stop_following(request_ids, now)
            entries = [(STOPPED_ACTION, f"travel:{request_id}") for request_id in request_ids]
            await AuditRepo(tx).append_many(now, "system", entries)

    def _repo(self, tx: Tx) -> ReturnsRepo:
        return ReturnsRepo(tx, self.deps.clock.tz)
