"""/case: F0/F1 case reports for unit heads and health officers, told at once to the chain that
CASE_ALERT_ROLES names (Long Biên, seeds/002 §2), and the contact tree F0 → F1 → F2."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from bot.domain.directory import Directory
from bot.domain.health import CaseLevel, CaseNode, child_level, render_tree
from bot.domain.health_rules import ALL_RECORDS_ROLES, HEAD_ROLES, health_contact, may_view_health
from bot.domain.ids import looks_like_id, parse_id
from bot.domain.models import Staff
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health.alerts import (
    contact_default,
    heads_now,
    minimal,
    open_or_extend,
    repo,
    send_alert,
)
from bot.services.health.buttons import (
    SCENARIOS,
    CaseAddContact,
    CaseButton,
    CaseLevelChoice,
    CasePeoplePage,
    CasePerson,
    CaseScenario,
    CaseSignal,
)
from bot.services.health.case_picture import case_tree_photo
from bot.services.health.outside import prepare_outside_reports
from bot.services.kernel.pickers import PeopleButtons, people_page, people_picker
from bot.services.kernel.step import Step
from storage.health_repo import CaseNodeRow, CaseReport
from storage.repos import Conversation
from storage.travel_repo import APPROVED, PENDING, TravelRepo, TravelRequest

FLOW = "case"
MAX_NAME = 120


def may_report(person: Staff) -> bool:
    return bool(person.roles & (HEAD_ROLES | ALL_RECORDS_ROLES))


def scope_of(directory: Directory, person: Staff) -> set[str] | None:
    """Units whose staff the person may name in a case (None: everyone)."""
    if person.roles & ALL_RECORDS_ROLES:
        return None
    return directory.subtree(person.unit_id)


def scenario_text(t: Translator, scenario: str | None) -> str:
    return {
        "PA1": t._("PA1: an F1 became F0"),
        "PA2": t._("PA2: F0 with no known source"),
    }.get(scenario or "", "")


def tree_lines(
    t: Translator, directory: Directory, case: CaseReport, nodes: list[CaseNodeRow]
) -> list[str]:
    unit = directory.unit(case.unit_id or "")
    reporter = directory.person(case.reported_by)
    lines = [
        t._("Case #{id}", id=case.id)
        + (f" — {scenario_text(t, case.scenario)}" if case.scenario else "")
    ]
    lines.append(
        t._(
            "Unit: {unit}; reported by {name} on {when}",
            unit=unit.name if unit else "?",
            name=reporter.full_name if reporter else case.reported_by,
            when=t.short(case.created_at),
        )
    )
    tree = render_tree([CaseNode(n.id, n.parent_id, n.name, CaseLevel(n.level)) for n in nodes])
    by_id = {n.id: n for n in nodes}
    for depth, node in tree:
        outside = "" if by_id[node.node_id].staff_id else " " + t._("(outside the directory)")
        lines.append(
            f"{'    ' * depth}{'└ ' if depth else ''}{node.level.value} {node.name}{outside}"
        )
    return lines


async def case_alert_builder(step: Step, case_id: int) -> Callable[[Translator], str]:
    health = repo(step)
    case = await health.case(case_id)
    assert case is not None
    nodes = await health.nodes(case_id)
    directory = await step.directory()
    return lambda t: "\n".join(
        [
            t._("🚨 CASE REPORT: act at once."),
            *tree_lines(t, directory, case, nodes),
            t._("Details: /case {id}", id=case_id),
        ]
    )


async def case_alert_summary(step: Step, case_id: int) -> Callable[[Translator], str]:
    """Under minimal messages: the case, its unit and who reported it; the tree on a tap."""
    case = await repo(step).case(case_id)
    assert case is not None
    directory = await step.directory()
    unit = directory.unit(case.unit_id or "")
    return lambda t: t._(
        "🚨 CASE REPORT #{id} in {unit}: act at once.", id=case_id, unit=unit.name if unit else "?"
    )


async def open_case(
    step: Step,
    reporter: Staff,
    subject: Staff | None,
    name: str,
    level: str,
    scenario: str | None,
) -> int:
    """A case report with its root node, audited, the case chain alerted at once and the reports
    for the outside contacts prepared (a head or health officer through /case; a person's own
    positive test after a return)."""
    health = repo(step)
    unit_id = subject.unit_id if subject else reporter.unit_id
    case_id = await health.add_case(unit_id, scenario, reporter.staff_id, step.now)
    await health.add_node(
        case_id,
        None,
        subject.staff_id if subject else None,
        name,
        level,
        reporter.staff_id,
        step.now,
    )
    await step.audit.append(
        step.now,
        reporter.staff_id,
        "case.report",
        f"case:{case_id}",
        {"level": level, "scenario": scenario, "subject": subject.staff_id if subject else None},
    )
    await _alert_chain(step, case_id, unit_id, subject, reporter)
    await prepare_outside_reports(step, case_id, tree_lines)
    return case_id


async def _alert_chain(
    step: Step, case_id: int, unit_id: str, subject: Staff | None, reporter: Staff
) -> None:
    directory = await step.directory()
    roles = [r.strip() for r in step.deps.settings.case_alert_roles.split(",") if r.strip()]
    chain = [s for role in roles for s in directory.role_ids(role)]
    if subject is not None:
        chain = await heads_now(step, subject.staff_id) + chain
    else:
        chain = list(directory.head_ids(unit_id)) + chain
    targets = [
        s
        for s in dict.fromkeys(chain)
        if s != reporter.staff_id and (subject is None or s != subject.staff_id)
    ]
    alert_id = await repo(step).add_alert(
        f"case:{case_id}",
        subject.staff_id if subject else None,
        unit_id,
        step.now + step.deps.settings.alert_ack_minutes,
        step.now,
    )
    if minimal(step):
        summary = await case_alert_summary(step, case_id)
        await send_alert(step, alert_id, targets, 0, summary, detail=True)
    else:
        await send_alert(step, alert_id, targets, 0, await case_alert_builder(step, case_id))


class Cases:
    async def command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        if args and looks_like_id(args[0]):
            case_id = parse_id(args[0])
            if case_id is None:
                return [OutMessage(t._("No such case."))]
            return await self.view(step, person, case_id)
        if not may_report(person):
            return [OutMessage(t._("Only unit heads and health officers report cases."))]
        await self._save(step, "who", {"parent": None})
        return [
            OutMessage(
                t._(
                    "Who is the case? Type the name of a staff member of your unit, or the full name of someone outside the directory."
                )
            )
        ]

    async def _save(self, step: Step, at: str, draft: dict[str, Any]) -> None:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, at, draft), step.now
        )

    async def on_text(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        t = step.t
        name = " ".join(text.split())
        if conversation.step != "who":
            return [OutMessage(t._("Please use the buttons above."))]
        if not name or len(name) > MAX_NAME:
            return [OutMessage(t._("Please type a name of at most {n} characters.", n=MAX_NAME))]
        person = await step.me()
        assert person is not None
        directory = await step.directory()
        draft = dict(conversation.draft)
        draft["typed"] = name
        await self._save(step, "pick", draft)
        return [self._people_question(t, directory, person, name, 0)]

    def _people_question(
        self, t: Translator, directory: Directory, person: Staff, name: str, page: int
    ) -> OutMessage:
        found, more = people_page(directory, name, page, scope_of(directory, person))
        kinds = PeopleButtons(pick=lambda s: CasePerson(s.staff_id), turn=CasePeoplePage)
        rows = list(people_picker(t, directory, found, page, more, kinds))
        rows.append(
            (
                Button(
                    t._("Someone outside the directory: {name}", name=name[:40]),
                    CaseSignal("ext").encode(),
                ),
            )
        )
        question = (
            t._("Which person?")
            if found
            else t._("Nobody in your units matches «{name}».", name=name)
        )
        return OutMessage(question, buttons=tuple(rows))

    async def _more_people(self, step: Step, draft: dict[str, Any], page: int) -> list[OutMessage]:
        """Another page of the names found, in place of the one pressed."""
        person = await step.me()
        assert person is not None
        directory = await step.directory()
        question = self._people_question(step.t, directory, person, str(draft["typed"]), page)
        if step.who.message_ref is None:
            return [question]
        return [replace(question, edit_ref=step.who.message_ref)]

    async def button(self, step: Step, button: CaseButton) -> tuple[str | None, list[OutMessage]]:
        t = step.t
        if isinstance(button, CaseAddContact):
            return None, await self._start_contact(step, button.ref)
        conversation = await step.conversations.get(step.who.channel, step.who.user_ref)
        if conversation is None or conversation.flow != FLOW:
            return t._("This button is no longer valid."), []
        draft = dict(conversation.draft)
        match button, conversation.step:
            case ((CasePerson() | CaseSignal()), "pick"):
                return None, await self._picked_person(step, draft, button)
            case CasePeoplePage(page), "pick":
                return None, await self._more_people(step, draft, page)
            case CaseLevelChoice(level), "level":
                draft["level"] = level
                if level == "F1":
                    await step.conversations.clear(step.who.channel, step.who.user_ref)
                    return None, await self._create(step, draft)
                await self._save(step, "scenario", draft)
                buttons = tuple(
                    (Button(scenario_text(t, s), CaseScenario(s).encode()),) for s in SCENARIOS
                )
                return None, [OutMessage(t._("Which scenario?"), buttons=buttons)]
            case CaseScenario(scenario), "scenario":
                draft["scenario"] = scenario
                await step.conversations.clear(step.who.channel, step.who.user_ref)
                return None, await self._create(step, draft)
        return t._("This button is no longer valid."), []

    async def _picked_person(
        self, step: Step, draft: dict[str, Any], button: CasePerson | CaseSignal
    ) -> list[OutMessage]:
        t = step.t
        draft["staff_id"] = button.staff_id if isinstance(button, CasePerson) else None
        if draft.get("parent") is not None:
            await step.conversations.clear(step.who.channel, step.who.user_ref)
            return await self._add_contact(step, draft)
        await self._save(step, "level", draft)
        buttons: tuple[tuple[Button, ...], ...] = (
            (
                Button(t._("F0 (confirmed)"), CaseLevelChoice("F0").encode()),
                Button(t._("F1 (close contact)"), CaseLevelChoice("F1").encode()),
            ),
        )
        return [OutMessage(t._("Confirmed case (F0) or close contact (F1)?"), buttons=buttons)]

    async def _subject(self, step: Step, draft: dict[str, Any]) -> tuple[Staff | None, str] | None:
        """The chosen staff member (checked against the reporter's scope) and the node name."""
        person = await step.me()
        directory = await step.directory()
        staff_id = draft.get("staff_id")
        if staff_id is None:
            return None, draft["typed"]
        subject = directory.person(staff_id)
        scope = scope_of(directory, person) if person else set()
        if subject is None or (scope is not None and subject.unit_id not in scope):
            return None
        return subject, subject.full_name

    async def _create(self, step: Step, draft: dict[str, Any]) -> list[OutMessage]:
        t = step.t
        person = await step.me()
        chosen = await self._subject(step, draft)
        if person is None or chosen is None or not may_report(person):
            return [OutMessage(t._("This button is no longer valid."))]
        subject, name = chosen
        case_id = await open_case(
            step, person, subject, name, draft["level"], draft.get("scenario")
        )
        if subject is not None:
            await self._tell_subject(step, subject, CaseLevel(draft["level"]))
        return [
            OutMessage(
                t._(
                    "Case #{id} recorded; the leaders and health officers have been alerted. Add contacts (F1, F2) with the buttons below.",
                    id=case_id,
                )
            )
        ] + await self._tree_message(step, case_id)

    async def _tell_subject(self, step: Step, subject: Staff, level: CaseLevel) -> None:
        await self._tell_isolated(step, subject, level)
        await flag_trips_of(step, subject, level.value)

    async def _tell_isolated(self, step: Step, subject: Staff, level: CaseLevel) -> None:
        if level is CaseLevel.F0:
            await step.tell_staff(
                [subject.staff_id],
                lambda t: OutMessage(
                    t._(
                        "You have been reported as a confirmed case (F0). Stay isolated and follow the instructions of the health staff, who will contact you."
                    )
                ),
                priority=1,
            )
            return
        directory = await step.directory()
        contact = health_contact(directory, subject.unit_id, contact_default(step.t, step))
        monitoring, _ = await open_or_extend(step, subject.staff_id, level.value)
        await step.tell_staff(
            [subject.staff_id],
            lambda t: OutMessage(
                t._(
                    "You have been listed as {level} (contact of a case). Please self-isolate now and wait for guidance from the health facility: {contact}. You are under medical monitoring until {day}.",
                    level=level.value,
                    contact=contact,
                    day=t.date(monitoring.end_day),
                )
            ),
            priority=1,
        )

    # --- contacts -----------------------------------------------------------------------------

    async def _start_contact(self, step: Step, node_id: int) -> list[OutMessage]:
        t = step.t
        person = await step.me()
        node = await repo(step).node(node_id)
        if (
            person is None
            or node is None
            or not may_report(person)
            or not await self._may_view(step, person, node.case_id)
        ):
            return [OutMessage(t._("This button is no longer valid."))]
        await self._save(step, "who", {"parent": node_id})
        return [
            OutMessage(
                t._(
                    "Contact of {name} ({level}): type the name of the contact.",
                    name=node.name,
                    level=node.level,
                )
            )
        ]

    async def _add_contact(self, step: Step, draft: dict[str, Any]) -> list[OutMessage]:
        t = step.t
        person = await step.me()
        health = repo(step)
        parent = await health.node(int(draft["parent"]))
        chosen = await self._subject(step, draft)
        if person is None or parent is None or chosen is None:
            return [OutMessage(t._("This button is no longer valid."))]
        subject, name = chosen
        level = child_level(CaseLevel(parent.level))
        node_id = await health.add_node(
            parent.case_id,
            parent.id,
            subject.staff_id if subject else None,
            name,
            level.value,
            person.staff_id,
            step.now,
        )
        await step.audit.append(
            step.now,
            person.staff_id,
            "case.contact",
            f"case:{parent.case_id}",
            {
                "node": node_id,
                "level": level.value,
                "subject": subject.staff_id if subject else None,
            },
        )
        if subject is not None:
            await self._tell_subject(step, subject, level)
        return [
            OutMessage(t._("{name} added as {level}.", name=name, level=level.value))
        ] + await self._tree_message(step, parent.case_id)

    # --- viewing ------------------------------------------------------------------------------

    async def _may_view(self, step: Step, person: Staff, case_id: int) -> bool:
        case = await repo(step).case(case_id)
        if case is None:
            return False
        directory = await step.directory()
        subjects = {n.staff_id for n in await repo(step).nodes(case_id) if n.staff_id}
        return person.staff_id in subjects or may_view_health(directory, person, case.unit_id, None)

    async def view(self, step: Step, person: Staff, case_id: int) -> list[OutMessage]:
        t = step.t
        case = await repo(step).case(case_id)
        if case is None:
            return [OutMessage(t._("No such case."))]
        if not await self._may_view(step, person, case_id):
            await step.audit.append(
                step.now, person.staff_id, "health.view.refused", f"case:{case_id}", {}
            )
            return [
                OutMessage(
                    t._(
                        "You may not see this health record: only the person, the leaders above them, the health officers and the district admins may."
                    )
                )
            ]
        await step.audit.append(step.now, person.staff_id, "health.view", f"case:{case_id}", {})
        return await self._tree_message(
            step, case_id, with_buttons=may_report(person)
        ) + await case_tree_photo(step, case_id)

    async def _tree_message(
        self, step: Step, case_id: int, with_buttons: bool = True
    ) -> list[OutMessage]:
        t = step.t
        health = repo(step)
        case = await health.case(case_id)
        assert case is not None
        nodes = await health.nodes(case_id)
        lines = tree_lines(t, await step.directory(), case, nodes)
        buttons = (
            tuple(
                (
                    Button(
                        t._("➕ Contact of {name}", name=n.name[:30]),
                        CaseAddContact("add", n.id).encode(),
                    ),
                )
                for n in nodes[:12]
            )
            if with_buttons
            else ()
        )
        return [OutMessage("\n".join(lines), buttons=buttons)]


async def flag_trips_of(step: Step, subject: Staff, level: str) -> None:
    """A person just told to self-isolate: whoever approved, or is to decide, their trips still
    ahead or under way is told."""
    travel = TravelRepo(step.tx, step.deps.clock.tz)
    for request in await travel.of_staff(subject.staff_id):
        if request.status not in (APPROVED, PENDING) or request.return_at <= step.now:
            continue
        deciders = await travel.deciders(request.id)
        told = (
            [request.decided_by]
            if request.status == APPROVED and request.decided_by
            else [s for s, kind in deciders.items() if kind == "decider"]
        )
        await step.tell_staff(
            told, partial(_trip_flag, subject=subject, request=request, level=level), priority=2
        )


def _trip_flag(t: Translator, subject: Staff, request: TravelRequest, level: str) -> OutMessage:
    text = (
        t._(
            "⚠️ {who} was listed as {level} and told to self-isolate. You approved their trip #{id} to {place}, leaving {start}.",
            who=subject.full_name,
            level=level,
            id=request.id,
            place=request.destination,
            start=t.short(request.departure_at),
        )
        if request.status == APPROVED
        else t._(
            "⚠️ {who} was listed as {level} and told to self-isolate. Their trip #{id} to {place}, leaving {start}, waits for your decision.",
            who=subject.full_name,
            level=level,
            id=request.id,
            place=request.destination,
            start=t.short(request.departure_at),
        )
    )
    return OutMessage(text)
