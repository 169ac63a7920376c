"""/areas: district admins keep the list of areas where the health authorities published cases.

/areas                                   the list, with an «End» button each
/areas add Đà Nẵng; Sơn Trà; 25/05/2021 - 08/06/2021; CDC Đà Nẵng 25/5
/areas end 3
/areas require 3 test 72h, isolate 14d   what area 3's directive requires on return (or «none»)
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.datetime_parse import ParseFailure, parse_when
from bot.domain.ids import looks_like_id, parse_id
from bot.domain.models import BuiltinRole, Staff
from bot.domain.provinces import search_provinces
from bot.domain.return_measures import Requirement, parse_requirement
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health.alerts import area_description, repo
from bot.services.health.buttons import AreaAction
from bot.services.kernel.step import Step
from storage.health_repo import Area

MAX_TEXT = 200


def usage(t: Translator, today: date) -> str:
    return t._(
        "To add an area: /areas add <province>; <place>; <from> - <to>; <source>\nExample: /areas add Đà Nẵng; Sơn Trà; {start} - {end}; CDC Đà Nẵng {published}\nLeave out «- <to>» while cases are still published.\nWhat its directive requires on return: /areas require <id> test 72h, isolate 14d (or «none»).",
        start=t.example(today, -7),
        end=t.example(today, 7),
        published=t.day_month(today - timedelta(days=7)).lstrip("0"),
    )


def requirement_text(t: Translator, requirement: Requirement) -> str:
    """«test within 72 h, isolation for 14 days», or that nothing is required."""
    parts = []
    if requirement.test_hours is not None:
        parts.append(t._("a test within {n} h of arriving", n=requirement.test_hours))
    if requirement.isolation_days is not None:
        parts.append(
            t.n_(
                "isolation for {n} day",
                "isolation for {n} days",
                requirement.isolation_days,
            )
        )
    return ", ".join(parts) if parts else t._("no test or isolation required")


def area_requirement(area: Area) -> Requirement:
    return Requirement(area.test_hours, area.isolation_days)


def listing_line(t: Translator, area: Area) -> str:
    return (
        f"#{area.id} "
        + area_description(t, area)
        + "\n"
        + t._("On return: {what}", what=requirement_text(t, area_requirement(area)))
    )


class Areas:
    async def command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        if not person.has_role(BuiltinRole.ADMIN.value):
            return [OutMessage(t._("Only district admins keep the list of areas with cases."))]
        if args and args[0] == "add":
            return await self._add(step, person, " ".join(args[1:]))
        if len(args) == 2 and args[0] == "end" and looks_like_id(args[1]):
            area_id = parse_id(args[1])
            if area_id is None:
                return [OutMessage(t._("No listed area #{id}.", id=args[1][:20]))]
            return [OutMessage(await self._end(step, person, area_id))]
        if len(args) >= 3 and args[0] == "require" and looks_like_id(args[1]):
            return [OutMessage(await self._require(step, person, args[1], " ".join(args[2:])))]
        return await self._list(step)

    async def _list(self, step: Step) -> list[OutMessage]:
        t = step.t
        areas = await repo(step).areas()
        if not areas:
            return [
                OutMessage(
                    t._("No area with published cases is listed.")
                    + "\n\n"
                    + usage(t, step.now.date())
                )
            ]
        messages = [
            OutMessage(
                listing_line(t, a),
                buttons=((Button(t._("End"), AreaAction("end", a.id).encode()),),),
            )
            for a in areas[:40]
        ]
        return messages + [OutMessage(usage(t, step.now.date()))]

    async def _add(self, step: Step, person: Staff, text: str) -> list[OutMessage]:
        t = step.t
        parts = [p.strip() for p in text.split(";")]
        if len(parts) != 4 or not all(parts) or any(len(p) > MAX_TEXT for p in parts):
            return [OutMessage(usage(t, step.now.date()))]
        found = search_provinces(parts[0], limit=1)
        if not found:
            return [OutMessage(t._("No province or city matches «{text}».", text=parts[0]))]
        dates = self._dates(step, parts[2])
        if dates is None:
            return [
                OutMessage(
                    t._(
                        "I could not recognise the dates you typed: type e.g. «{start} - {end}» or only the first day.",
                        start=t.example(step.now.date(), -7),
                        end=t.example(step.now.date(), 7),
                    )
                )
            ]
        province = found[0].province.name
        area_id = await repo(step).add_area(
            province, parts[1], dates[0], dates[1], parts[3], person.staff_id, step.now
        )
        await step.audit.append(
            step.now,
            person.staff_id,
            "area.add",
            f"area:{area_id}",
            {"province": province, "place": parts[1], "source": parts[3]},
        )
        areas = {a.id: a for a in await repo(step).areas()}
        return [
            OutMessage(
                t._(
                    "Area #{id} listed: {area}",
                    id=area_id,
                    area=area_description(t, areas[area_id]),
                )
            )
        ]

    def _dates(self, step: Step, text: str) -> tuple[date, date | None] | None:
        pieces = [p.strip() for p in text.replace("–", "-").split(" - ")]
        if len(pieces) > 2:
            return None
        days: list[date] = []
        for piece in pieces:
            parsed = parse_when(piece, step.now)
            if isinstance(parsed, ParseFailure):
                return None
            days.append(parsed.value.date())
        if len(days) == 2 and days[1] < days[0]:
            return None
        return days[0], days[1] if len(days) == 2 else None

    async def _require(self, step: Step, person: Staff, id_text: str, text: str) -> str:
        t = step.t
        area_id = parse_id(id_text)
        requirement = parse_requirement(text[:MAX_TEXT])
        if requirement is None:
            return t._(
                "I could not read what is required. Write e.g. «test 72h, isolate 14d», «xét nghiệm 48 giờ», «cách ly 7 ngày» or «none»."
            )
        if area_id is None or not await repo(step).set_area_requirement(
            area_id, requirement.test_hours, requirement.isolation_days
        ):
            return t._("No listed area #{id}.", id=id_text[:20])
        await step.audit.append(
            step.now,
            person.staff_id,
            "area.require",
            f"area:{area_id}",
            {"test_hours": requirement.test_hours, "isolation_days": requirement.isolation_days},
        )
        return t._(
            "Area #{id}: on return, {what}.", id=area_id, what=requirement_text(t, requirement)
        )

    async def _end(self, step: Step, person: Staff, area_id: int) -> str:
        t = step.t
        if not await repo(step).end_area(area_id, person.staff_id, step.now):
            return t._("No listed area #{id}.", id=area_id)
        await step.audit.append(step.now, person.staff_id, "area.end", f"area:{area_id}", {})
        return t._("Area #{id} is no longer listed.", id=area_id)

    async def button(self, step: Step, button: AreaAction) -> tuple[str | None, list[OutMessage]]:
        person = await step.me()
        if person is None or not person.has_role(BuiltinRole.ADMIN.value):
            return step.t._("This button is no longer valid."), []
        return None, [OutMessage(await self._end(step, person, button.ref))]
