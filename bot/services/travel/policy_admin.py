"""/policy (district admins), /away (absences and deputies), and what a new ban sets off."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from bot.domain.datetime_parse import ParsedWhen, ParseFailure, parse_when
from bot.domain.directory import AwayCover, Directory, cover_while_away, resolve_route
from bot.domain.models import BuiltinRole
from bot.domain.travel_policy import PolicyMode, PolicyPeriod, TripClass, in_force_or_scheduled
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.kernel.people import names_of
from bot.services.kernel.step import Deps, Step, system_step
from bot.services.travel.buttons import RequestAction
from bot.services.travel.policy_state import policy_periods
from bot.services.travel.views import request_lines, special_reason_question
from storage.travel_repo import APPROVED, PENDING, RECORDED, TravelRepo, TravelRequest

USAGE_ARGS = "ban|normal [FROM] [- UNTIL] · dayoff|workday DD/MM/YYYY [note]"


class PolicyAdmin:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def policy(self, step: Step, args: list[str]) -> list[OutMessage]:
        person = await step.me()
        if person is None or not person.has_role(BuiltinRole.ADMIN):
            return [OutMessage(step.t._("Only district admins can change the travel policy."))]
        if not args:
            return [await self._show(step)]
        command, rest = args[0].lower(), " ".join(args[1:])
        if command in ("ban", "normal"):
            mode = PolicyMode.BAN if command == "ban" else PolicyMode.APPROVAL_OUTSIDE_HOURS
            return await self.set_mode(step, mode, rest)
        if command in ("dayoff", "workday"):
            return await self._declare_day(step, command, rest)
        return [
            OutMessage(step.t._("Unknown policy command. Use: /policy {usage}", usage=USAGE_ARGS))
        ]

    async def _show(self, step: Step) -> OutMessage:
        t = step.t
        repo = TravelRepo(step.tx, self.deps.clock.tz)
        current, later = in_force_or_scheduled(
            await policy_periods(step.tx, self.deps.clock.tz), step.now
        )
        if current is None:
            lines = [
                t._("In force now: {mode}.", mode=mode_name(t, PolicyMode.APPROVAL_OUTSIDE_HOURS))
            ]
        else:
            lines = [t._("In force now: {mode}.", mode=mode_name(t, current.mode))]
            lines.append(period_span(t, current) + ".")
        if later:
            lines += ["", t._("Scheduled:")]
            lines += [f"• {period_span(t, p)}: {mode_name(t, p.mode)}." for p in later[:10]]
        days = await repo.calendar_days()
        today = step.now.date()
        days_off = [d for d in days.get("day_off", []) if d >= today]
        workdays = [d for d in days.get("workday", []) if d >= today]
        if days_off:
            lines.append(
                t._(
                    "Declared days off: {days}",
                    days=", ".join(d.strftime("%d/%m/%Y") for d in days_off[:10]),
                )
            )
        if workdays:
            lines.append(
                t._(
                    "Make-up working days: {days}",
                    days=", ".join(d.strftime("%d/%m/%Y") for d in workdays[:10]),
                )
            )
        lines += ["", t._("Change it: /policy {usage}", usage=USAGE_ARGS)]
        return OutMessage("\n".join(lines))

    async def set_mode(self, step: Step, mode: PolicyMode, rest: str) -> list[OutMessage]:
        """Switch the travel policy to `mode` from `rest` ("START - UNTIL", both optional):
        `/policy ban ...` and a directive that carries a policy change both come here."""
        t = step.t
        start_text, _, until_text = rest.partition(" - ")
        start = self._moment(step, start_text) if start_text.strip() else step.now
        until = self._moment(step, until_text) if until_text.strip() else None
        if start is None or (until_text.strip() and until is None):
            return [
                OutMessage(
                    t._(
                        "I could not recognise the dates you typed. Example: /policy ban {start} - {end}",
                        start=t.example(step.now.date(), 1, "08:00"),
                        end=t.example(step.now.date(), 15),
                    )
                )
            ]
        if until is not None and until <= start:
            return [OutMessage(t._("The end must be after the start."))]
        repo = TravelRepo(step.tx, self.deps.clock.tz)
        policy_id = await repo.add_policy(mode.value, start, until, step.actor, step.now)
        await step.audit.append(
            step.now,
            step.actor,
            "policy.set",
            f"policy:{policy_id}",
            {
                "mode": mode.value,
                "from": start.isoformat(),
                "until": until.isoformat() if until else None,
            },
        )
        period = PolicyPeriod(mode, start, until)
        lines = [
            t._("Travel policy set: {mode}.", mode=mode_name(t, mode)),
            period_span(t, period) + ".",
        ]
        if mode is PolicyMode.BAN and start > step.now:
            lines.append(
                t._(
                    "When it starts, the trips it covers are looked at again and their holders asked. Requests for trips inside it are judged by it from now on."
                )
            )
            return [OutMessage("\n".join(lines))]
        await repo.mark_announced(policy_id)
        if mode is PolicyMode.BAN:
            lines += ban_start_lines(t, await self.ban_started(step, start, until))
        return [OutMessage("\n".join(lines))]

    async def next_ban_start(self, now: datetime) -> datetime | None:
        """The sweep's wake-up: the minute a ban set ahead starts."""
        async with self.deps.db.reading() as tx:
            return await TravelRepo(tx, self.deps.clock.tz).next_ban_start(now)

    async def sweep(self, now: datetime) -> int:
        """Bans set ahead whose start has come: the trips they cover are looked at again."""
        async with self.deps.db.reading() as tx:
            if not await TravelRepo(tx, self.deps.clock.tz).ban_starts_due(now):
                return 0
        async with self.deps.db.transaction() as tx:
            step = system_step(self.deps, tx, now)
            repo = TravelRepo(tx, self.deps.clock.tz)
            due = await repo.ban_starts_due(now)
            for row in due:
                await self.ban_started(step, row.effective_from, row.until)
                await repo.mark_announced(row.id)
        if step.enqueued:
            self.deps.wake_outbox()
        return len(due)

    async def ban_started(
        self, step: Step, start: datetime, until: datetime | None
    ) -> tuple[int, int]:
        """A ban is in force: approved trips it covers are asked to cancel or confirm; recorded
        work trips and pending requests it covers wait for the special reason the seed requires.
        Returns (approved asked, others asked)."""
        repo = TravelRepo(step.tx, self.deps.clock.tz)
        directory = await step.directory()
        approved = [
            r
            for r in await repo.overlapping((APPROVED,), max(start, step.now), until)
            if r.departure_at > step.now
        ]
        for request in approved:
            await self._ask_to_cancel_or_confirm(step, directory, request)
        others = [
            r
            for r in await repo.overlapping((PENDING, RECORDED), max(start, step.now), until)
            if r.departure_at > step.now
            and r.trip_class != TripClass.EXCEPTION_UNDER_BAN.value
            and (r.status == PENDING or r.trip_class == TripClass.WORK_TRIP.value)
            and _needs_approval(directory, r.staff_id)
        ]
        for request in others:
            await self._ask_for_the_special_reason(step, directory, request)
        return len(approved), len(others)

    async def _ask_to_cancel_or_confirm(
        self, step: Step, directory: Directory, request: TravelRequest
    ) -> None:
        await TravelRepo(step.tx, self.deps.clock.tz).set_ban_check(request.id, "asked")
        await step.tell_staff(
            [request.staff_id],
            partial(_ban_question, directory=directory, request=request),
            priority=2,
        )
        if request.decided_by:
            await step.tell_staff(
                [request.decided_by], partial(_ban_notice, directory=directory, request=request)
            )

    async def _ask_for_the_special_reason(
        self, step: Step, directory: Directory, request: TravelRequest
    ) -> None:
        repo = TravelRepo(step.tx, self.deps.clock.tz)
        await repo.await_ban_reason(request.id)
        await step.audit.append(
            step.now, "system", "travel.ban_reassess", f"travel:{request.id}",
            {"was": request.status, "trip_class": request.trip_class},
        )  # fmt: skip
        await step.tell_staff(
            [request.staff_id], lambda t: special_reason_question(t, directory, request), priority=2
        )
        deciders = [s for s, kind in (await repo.deciders(request.id)).items() if kind == "decider"]
        await step.tell_staff(
            deciders,
            lambda t: _with_request(
                t._(
                    "A travel ban now covers this request: it waits for the requester's special reason before you decide."
                ),
                t,
                directory,
                request,
            ),
        )

    async def keep_under_ban(self, step: Step, request_id: int) -> list[OutMessage]:
        repo = TravelRepo(step.tx, self.deps.clock.tz)
        person = await step.me()
        request = await repo.get(request_id)
        if (
            person is None
            or request is None
            or request.staff_id != person.staff_id
            or request.ban_check != "asked"
        ):
            return [OutMessage(step.t._("This button is no longer valid."))]
        await repo.set_ban_check(request_id, "kept")
        await step.audit.append(
            step.now, person.staff_id, "travel.keep_under_ban", f"travel:{request_id}", {}
        )
        directory = await step.directory()
        if request.decided_by:
            await step.tell_staff(
                [request.decided_by],
                lambda t: OutMessage(
                    "\n".join(
                        [
                            t._(
                                "The requester confirms this trip is still necessary despite the ban:"
                            ),
                            *request_lines(t, directory, request),
                        ]
                    )
                ),
            )
        return [OutMessage(step.t._("Noted: the trip is kept. Your approver has been told."))]

    async def _declare_day(self, step: Step, kind: str, rest: str) -> list[OutMessage]:
        t = step.t
        day_text, _, note = rest.strip().partition(" ")
        parsed = parse_when(day_text, step.now)
        if isinstance(parsed, ParseFailure):
            return [
                OutMessage(
                    t._(
                        "I could not recognise the date you typed. Example: /policy dayoff {day} Quốc khánh",
                        day=t.numeric_date(_next_national_day(step.now.date())),
                    )
                )
            ]
        day = parsed.value.date()
        stored = "day_off" if kind == "dayoff" else "workday"
        await TravelRepo(step.tx, self.deps.clock.tz).set_calendar_day(
            day, stored, note.strip() or None
        )
        await step.audit.append(
            step.now,
            step.actor,
            "calendar.set",
            day.isoformat(),
            {"kind": stored, "note": note.strip()},
        )
        if stored == "day_off":
            return [OutMessage(t._("{day} is now a day off.", day=t.date(day)))]
        return [OutMessage(t._("{day} is now a make-up working day.", day=t.date(day)))]

    def _moment(self, step: Step, text: str) -> datetime | None:
        parsed = parse_when(text.strip(), step.now)
        return None if isinstance(parsed, ParseFailure) else parsed.value

    async def away(self, step: Step, args: list[str]) -> list[OutMessage]:
        t = step.t
        person = await step.me()
        if person is None:
            return [OutMessage(t._("Please register first: /start"))]
        parsed = [parse_when(a, step.now) for a in args[:2]]
        days = [p.value.date() for p in parsed if isinstance(p, ParsedWhen)]
        if len(days) != 2:
            return [
                OutMessage(
                    t._("Tell me the first and last day of your absence, e.g. /away 01/06 05/06")
                )
            ]
        start, end = days
        if end < start:
            return [OutMessage(t._("The last day must not be before the first."))]
        await TravelRepo(step.tx, self.deps.clock.tz).add_absence(
            person.staff_id, start, end, step.now
        )
        await step.audit.append(
            step.now,
            person.staff_id,
            "absence.declare",
            person.staff_id,
            {"from": start.isoformat(), "to": end.isoformat()},
        )
        directory = await step.directory()
        lines = [
            t._("Absence recorded from {start} to {end}.", start=t.date(start), end=t.date(end))
        ]
        repo = TravelRepo(step.tx, self.deps.clock.tz)
        absent_then = await repo.absent_on(start)
        cover = cover_while_away(directory, person.staff_id, absent_then | {person.staff_id})
        lines.append(away_cover_line(t, directory, cover))
        return [OutMessage("\n".join(lines))]


def away_cover_line(t: Translator, directory: Directory, cover: AwayCover) -> str:
    """Who will really decide, meanwhile, the requests that would have come to this person."""
    if cover.requesters == 0:
        return t._("No request is routed to you for a decision, so nothing else changes.")
    names, admins = names_of(directory, cover.deciders), names_of(directory, cover.admins)
    if cover.deciders and cover.admins:
        return t._(
            "Meanwhile requests that would come to you go to {names}; those nobody else can decide go to the district admins ({admins}). You will be told what they decide.",
            names=names,
            admins=admins,
        )
    if cover.admins:
        return t._(
            "Nobody can stand in for you meanwhile: the district admins ({admins}) decide the requests that would come to you. You will be told what they decide.",
            admins=admins,
        )
    if not cover.deciders:
        return t._("Nobody can decide in your place meanwhile: please tell the district admins.")
    return t._(
        "Meanwhile requests that would come to you go to {names}; you will be told what they decide.",
        names=names,
    )


def period_span(t: Translator, period: PolicyPeriod) -> str:
    if period.until is None:
        return t._("From {start}, until further notice", start=t.when(period.effective_from))
    return t._(
        "From {start} to {until}", start=t.when(period.effective_from), until=t.when(period.until)
    )


def ban_start_lines(t: Translator, counts: tuple[int, int]) -> list[str]:
    approved, others = counts
    lines: list[str] = []
    if approved:
        lines.append(
            t._(
                "{n} approved trips depart during the ban: their holders and approvers were asked to cancel or confirm them.",
                n=approved,
            )
        )
    if others:
        lines.append(
            t._(
                "{n} recorded or waiting requests fall inside the ban: their holders were asked for the special reason.",
                n=others,
            )
        )
    return lines


def mode_name(t: Translator, mode: PolicyMode) -> str:
    if mode is PolicyMode.BAN:
        return t._(
            "travel ban: nobody leaves {area} except approved special cases", area=t.home_area()
        )
    return t._("approval needed for travel on weekends, holidays and outside working hours")


def _ban_notice(t: Translator, directory: Directory, request: TravelRequest) -> OutMessage:
    """To the approver of a trip a new ban covers."""
    lines = [
        t._(
            "A travel ban now covers this approved trip; the requester is asked to cancel it or confirm it is necessary."
        ),
        *request_lines(t, directory, request),
    ]
    return OutMessage("\n".join(lines))


def _needs_approval(directory: Directory, staff_id: str) -> bool:
    """False for the top of the directory, whose trips are recorded and reported, ban or not."""
    return staff_id in directory.staff and resolve_route(directory, staff_id).needs_approval


def _with_request(
    text: str, t: Translator, directory: Directory, request: TravelRequest
) -> OutMessage:
    return OutMessage("\n".join([text, *request_lines(t, directory, request)]))


def _ban_question(t: Translator, directory: Directory, request: TravelRequest) -> OutMessage:
    lines = [
        t._(
            "⚠️ A travel ban now covers your approved trip. Cancel it, or confirm it is still necessary (your approver is told)."
        ),
        *request_lines(t, directory, request),
    ]
    buttons = (
        (
            Button(t._("🚫 Cancel the trip"), RequestAction("x", request.id).encode()),
            Button(t._("Still necessary"), RequestAction("keep", request.id).encode()),
        ),
    )
    return OutMessage("\n".join(lines), buttons=buttons)


def _next_national_day(today: date) -> date:
    """2 September (Quốc khánh) this year, or next year once it has passed: the dayoff example."""
    this_year = date(today.year, 9, 2)
    return this_year if this_year >= today else date(today.year + 1, 9, 2)
