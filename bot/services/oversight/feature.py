"""Oversight (rule 8 of DOMAIN.md): /unit for heads, /district for admins, /export, the digests.

Heads and deputies see their unit and every unit below it, nothing else; the quick actions
reuse the buttons of the flows that own them (`rt:nag`, `rt:ask` from returns, `ap:ID:y|n`
from approvals, `bc:u` from broadcasts), whose handlers check the rights again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

from bot.domain.directory import Directory, deciding_people
from bot.domain.health_rules import HEAD_ROLES
from bot.domain.models import BuiltinRole, Staff
from bot.domain.text import export_subfolder
from bot.i18n import Translator
from bot.outgoing import Button, LocalFile, OutMessage
from bot.services.kernel.channel_notices import channel_usage_text
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.step import Deps, Step
from bot.services.oversight.buttons import EXPORTS, ExportRegister
from bot.services.oversight.chart import Heatmap, on_time_chart
from bot.services.oversight.digest import Digests
from bot.services.oversight.exports import (
    KINDS,
    ExportRequest,
    Refused,
    export_scope,
    file_name,
    health_footer,
    sheet_title,
    write_workbook,
)
from bot.services.oversight.views import (
    UnitPicture,
    district_text,
    share,
    unit_messages,
    unit_text,
    unregistered_deciders_text,
)
from bot.services.returns.measures import RESULT_SHOWN_DAYS
from storage.engine import Tx
from storage.measures_repo import MeasuresRepo
from storage.oversight_repo import OversightRepo, UnitFigures
from storage.repos import Conversation

CHART_UNITS = 20
CHART_DAYS = 30
EXPORT_DAYS = 30
PURPOSE_FLOW = "export_purpose"
MAX_PURPOSE = 300


def staff_in(directory: Directory, units: set[str]) -> list[str]:
    return [s.staff_id for s in directory.staff.values() if s.active and s.unit_id in units]


def is_head(person: Staff) -> bool:
    return bool(person.roles & HEAD_ROLES)


class Oversight:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.digests = Digests(deps, self.district_figures)

    def feature(self) -> Feature:
        return Feature(
            commands={"unit": self.unit, "district": self.district, "export": self.export},
            flows={PURPOSE_FLOW: self._purpose_typed},
            buttons=[ButtonRoute(EXPORTS, self._button)],
            jobs=[self.digests.sweep],
            wakes=[self.digests.next_due],
        )

    @property
    def folder(self) -> Path:
        return self.deps.settings.exports_folder

    def _repo(self, step: Step) -> OversightRepo:
        return OversightRepo(step.tx, self.deps.clock.tz)

    # --- /unit ------------------------------------------------------------------------------

    async def unit(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        if not is_head(person):
            return [OutMessage(t._("Only unit heads and their deputies see a unit's picture."))]
        directory = await step.directory()
        scope = staff_in(directory, directory.subtree(person.unit_id))
        picture = await self.picture(step, person, scope)
        if picture.health or picture.measures:  # test results are health data too
            await step.audit.append(
                step.now,
                person.staff_id,
                "health.view",
                f"unit:{person.unit_id}",
                {"via": "unit", "lines": len(picture.health) + len(picture.measures)},
            )
        unit = directory.unit(person.unit_id)
        head_line = t._(
            "📋 {unit} and the units below: {n} staff — {when}",
            unit=unit.name if unit else person.unit_id,
            n=len(scope),
            when=t.short(step.now),
        )
        lines = unit_text(
            t, directory, person.unit_id, picture, step.now, self.deps.settings.return_grace
        )
        return unit_messages(t, head_line, lines, picture.buttons)

    async def picture(self, step: Step, person: Staff, scope: list[str]) -> UnitPicture:
        settings = self.deps.settings
        repo = self._repo(step)
        directives = await repo.recent_directives(
            step.now - timedelta(days=settings.oversight_directive_days)
        )
        return UnitPicture(
            trips=await repo.trips(scope, step.now),
            windows=await repo.windows(scope),
            waiting=await repo.waiting(scope, person.staff_id),
            health=await repo.health(
                scope, step.now - timedelta(days=settings.oversight_symptom_days)
            ),
            unread=await repo.unread(scope, directives),
            measures=await MeasuresRepo(step.tx, self.deps.clock.tz).of_scope(
                scope, step.now, step.now - timedelta(days=RESULT_SHOWN_DAYS)
            ),
        )

    # --- /district --------------------------------------------------------------------------

    async def district(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        if not person.has_role(BuiltinRole.ADMIN):
            return [OutMessage(t._("Only district admins see the district's picture."))]
        directory = await step.directory()
        figures = await self.district_figures(step.tx, step.now)
        text = district_text(t, directory, figures, self.deps.settings.district_lines)
        deciding = deciding_people(directory)
        registered = {a.staff_id for a in await step.accounts.of_staff_many(deciding)}
        gaps = [s for s in deciding if s not in registered]
        if gaps:
            text += "\n\n" + unregistered_deciders_text(t, directory, gaps)
        if usage := await channel_usage_text(step):
            text += "\n\n" + usage
        messages = [OutMessage(text)]  # split to its channel's length as it leaves
        heatmap = await self._heatmap(step, directory)
        path = self.folder / "charts" / f"district-{step.now:%Y%m%d-%H%M%S}.png"
        await asyncio.to_thread(on_time_chart, heatmap, path)
        messages.append(OutMessage(heatmap.title, photo=LocalFile(str(path))))
        return messages

    async def district_figures(self, tx: Tx, now: datetime) -> dict[str, UnitFigures]:
        repo = OversightRepo(tx, self.deps.clock.tz)
        directives = await repo.recent_directives(
            now - timedelta(days=self.deps.settings.oversight_directive_days)
        )
        return await repo.district(
            now,
            now - timedelta(days=7),
            now - timedelta(days=30),
            [d[0] for d in directives],
            self.deps.settings.return_grace,
        )

    async def _heatmap(self, step: Step, directory: Directory) -> Heatmap:
        t = step.t
        today = step.now.date()
        days = [today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
        since = datetime.combine(days[0], datetime.min.time(), step.now.tzinfo)
        offset = int((step.now.utcoffset() or timedelta()).total_seconds() // 60)
        rows = await self._repo(step).on_time_days(since, step.now, offset)
        per_unit: dict[str, dict[date, tuple[int, int]]] = defaultdict(dict)
        for unit_id, day, on_time, due in rows:
            per_unit[unit_id][date.fromisoformat(day)] = (on_time, due)
        late = {u: sum(due - on for on, due in d.values()) for u, d in per_unit.items()}
        ratio = {
            u: share(sum(v[0] for v in d.values()), sum(v[1] for v in d.values())) or 0.0
            for u, d in per_unit.items()
        }
        worst = sorted(per_unit, key=lambda u: (-late[u], ratio[u], u))[
            :CHART_UNITS
        ]  # most missed first
        chart_rows = [
            (
                directory.units[u].name if u in directory.units else u,
                [share(*per_unit[u][d]) if d in per_unit[u] else None for d in days],
            )
            for u in worst
        ]
        return Heatmap(
            title=t._("Health declarations within 24 hours, last {n} days: the {k} weakest units", n=CHART_DAYS, k=len(worst)),
            days=days, rows=chart_rows, legend=t._("% on time"), no_data=t._("No returns to declare in these days."),
        )  # fmt: skip

    # --- /export ----------------------------------------------------------------------------

    async def export(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        if not args:
            return [self._export_menu(step, person)]
        what = args[0].lower()
        if what not in KINDS:
            return [
                OutMessage(
                    t._(
                        "Export what? One of: {kinds}. E.g. /export travel {start} {end}",
                        kinds=", ".join(KINDS),
                        **_example_period(t, step.now.date()),
                    )
                )
            ]
        try:
            start, end = self._period(step, args[1:3])
        except ValueError:
            return [
                OutMessage(
                    t._(
                        "Dates as dd/mm/yyyy, e.g. /export travel {start} {end}",
                        **_example_period(t, step.now.date()),
                    )
                )
            ]
        unit = args[3] if len(args) > 3 else None
        return await self.run_export(step, person, ExportRequest(what, start, end, unit))

    def _period(self, step: Step, texts: list[str]) -> tuple[date, date]:
        if not texts:
            today = step.now.date()
            return today - timedelta(days=EXPORT_DAYS - 1), today
        start = datetime.strptime(texts[0], "%d/%m/%Y").date()
        end = datetime.strptime(texts[1], "%d/%m/%Y").date() if len(texts) > 1 else step.now.date()
        if end < start:
            raise ValueError("end before start")
        return start, end

    def _export_menu(self, step: Step, person: Staff) -> OutMessage:
        t = step.t
        kinds = [
            k
            for k in KINDS
            if k != "health" or person.roles & {"admin", "health_officer", *HEAD_ROLES}
        ]
        buttons = tuple(
            (Button("📊 " + sheet_title(t, k), ExportRegister(k).encode()),) for k in kinds
        )
        return OutMessage(
            t._(
                "Which register, for the last {n} days? (Other dates: /export travel {start} {end})",
                n=EXPORT_DAYS,
                **_example_period(t, step.now.date()),
            ),
            buttons=buttons,
        )

    async def _ask_purpose(self, step: Step, request: ExportRequest) -> list[OutMessage]:
        """Health data leaves only with its purpose, which goes into the file and the audit."""
        draft = {
            "what": request.what,
            "start": request.start.isoformat(),
            "end": request.end.isoformat(),
            "unit": request.unit_id,
        }
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(PURPOSE_FLOW, "purpose", draft),
            step.now,
        )
        return [
            OutMessage(
                step.t._(
                    "Why do you export health data? Type the purpose in one line (e.g. «report to "
                    "the district health centre»); it is written in the file and the audit log."
                )
            )
        ]

    async def _purpose_typed(
        self, step: Step, conversation: Conversation, text: str
    ) -> list[OutMessage]:
        purpose = " ".join(text.split())
        if not purpose or len(purpose) > MAX_PURPOSE:
            return [
                OutMessage(
                    step.t._("Please type the purpose in at most {n} characters.", n=MAX_PURPOSE)
                )
            ]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        person = await step.linked()
        if person is None:
            return []
        draft = conversation.draft
        request = ExportRequest(
            draft["what"],
            date.fromisoformat(draft["start"]),
            date.fromisoformat(draft["end"]),
            draft.get("unit"),
            purpose=purpose,
        )
        return await self.run_export(step, person, request)

    async def _button(self, step: Step, button: ExportRegister) -> Answer:
        person = await step.me()
        if person is None:
            return step.t._("This button is no longer valid."), []
        start, end = self._period(step, [])
        return None, await self.run_export(step, person, ExportRequest(button.value, start, end))

    async def run_export(
        self, step: Step, person: Staff, request: ExportRequest
    ) -> list[OutMessage]:
        t = step.t
        directory = await step.directory()
        health = request.what == "health"
        details = {
            "what": request.what,
            "from": request.start.isoformat(),
            "to": request.end.isoformat(),
            "unit": request.unit_id,
            "via": "chat",
        }
        try:
            units = export_scope(t, directory, person, request.what, request.unit_id)
        except Refused as refusal:
            if health:
                await step.audit.append(
                    step.now, person.staff_id, "health.export.refused", "export:health", details
                )
            return [OutMessage(str(refusal))]
        if health and not request.purpose:
            return await self._ask_purpose(step, request)
        footer = (
            health_footer(t, f"{person.full_name} ({person.staff_id})", step.now, request.purpose)
            if health and request.purpose
            else ()
        )
        unit = directory.unit(request.unit_id) if request.unit_id else None
        name = file_name(t, request, unit.name if unit else None)
        path = self.folder / export_subfolder(person.staff_id, step.now) / name
        rows = await write_workbook(
            self._repo(step), t, request, units, self.deps.clock.tz, path, footer
        )
        await step.audit.append(
            step.now,
            person.staff_id,
            "health.export" if health else "export",
            f"export:{request.what}",
            details | {"rows": rows, "purpose": request.purpose},
        )
        caption = t._(
            "{what}, {start} – {end}: {n} rows.",
            what=sheet_title(t, request.what),
            start=request.start.strftime("%d/%m/%Y"),
            end=request.end.strftime("%d/%m/%Y"),
            n=rows,
        )
        return [OutMessage(caption, document=LocalFile(str(path)))]


def _example_period(t: Translator, today: date) -> dict[str, str]:
    """The example period of the export prompts: this month so far."""
    return {"start": t.numeric_date(today.replace(day=1)), "end": t.numeric_date(today)}
