"""/policy (district admins), /away (absences and deputies), and what a new ban sets off."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from bot.domain.datetime_parse import ParsedWhen, ParseFailure, parse_when
from bot.domain.directory import Directory
from bot.domain.models import BuiltinRole
from bot.domain.outgoing import Button, OutMessage
from bot.domain.travel_policy import PolicyMode
from bot.i18n import Translator
from bot.services.kernel.step import Deps, Step
from bot.services.travel.buttons import RequestAction
from bot.services.travel.policy_state import mode_at
from bot.services.travel.views import request_lines
from storage.travel_repo import TravelRepo, TravelRequest

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
        mode = await mode_at(step.tx, step.now)
        lines = [t._("Travel policy now: {mode}", mode=mode_name(t, mode)), ""]
        for row in (await repo.policies())[-10:]:
            until = t.short(row.until) if row.until else t._("until further notice")
            lines.append(
                f"• {mode_name(t, PolicyMode(row.mode))}: {t.short(row.effective_from)} → {until}"
            )
        days = await repo.calendar_days()
        if days.get("day_off"):
            lines.append(
                t._(
                    "Declared days off: {days}",
                    days=", ".join(d.strftime("%d/%m/%Y") for d in days["day_off"][-10:]),
                )
            )
        if days.get("workday"):
            lines.append(
                t._(
                    "Make-up working days: {days}",
                    days=", ".join(d.strftime("%d/%m/%Y") for d in days["workday"][-10:]),
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
                        "I could not read the dates. Example: /policy ban 10/05/2021 08:00 - 31/05/2021"
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
        told = await self._announce_ban(step, start, until) if mode is PolicyMode.BAN else 0
        await repo.mark_announced(policy_id)
        until_label = t.when(until) if until else t._("until further notice")
        lines = [
            t._(
                "Travel policy set: {mode} from {start}, {until}.",
                mode=mode_name(t, mode),
                start=t.when(start),
                until=until_label,
            )
        ]
        if told:
            lines.append(
                t._(
                    "{n} approved trips depart during the ban: their holders and approvers were asked to cancel or confirm them.",
                    n=told,
                )
            )
        return [OutMessage("\n".join(lines))]

    async def _announce_ban(self, step: Step, start: datetime, until: datetime | None) -> int:
        repo = TravelRepo(step.tx, self.deps.clock.tz)
        directory = await step.directory()
        affected = [
            r
            for r in await repo.approved_departing_after(start)
            if until is None or r.departure_at < until
        ]
        for request in affected:
            await repo.set_ban_check(request.id, "asked")
            await step.tell_staff(
                [request.staff_id],
                partial(_ban_question, directory=directory, request=request),
                priority=2,
            )
            if request.decided_by:
                await step.tell_staff(
                    [request.decided_by],
                    partial(_ban_notice, directory=directory, request=request),
                )
        return len(affected)

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
                    t._("I could not read the date. Example: /policy dayoff 02/09/2021 Quốc khánh")
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
        deputies = [
            d.full_name
            for d in directory.deputies_of(person.unit_id)
            if d.staff_id != person.staff_id
        ]
        lines = [
            t._("Absence recorded from {start} to {end}.", start=t.date(start), end=t.date(end))
        ]
        if deputies:
            lines.append(
                t._(
                    "Meanwhile {names} decide requests in your place; you will be told what they decide.",
                    names=", ".join(deputies),
                )
            )
        else:
            lines.append(t._("Your unit has no deputy: requests go to the leader above meanwhile."))
        return [OutMessage("\n".join(lines))]


def mode_name(t: Translator, mode: PolicyMode) -> str:
    if mode is PolicyMode.BAN:
        return t._("no travel out of the city until further notice, except approved special cases")
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
