"""Medical monitoring: the daily check-in at CHECKIN_HOUR, one reminder, then the head is told;
it ends by itself after MONITOR_DAYS, or a leader ends it early with a reason (/monitor)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.domain.directory import Directory
from bot.domain.health import CaseLevel
from bot.domain.health_rules import ALL_RECORDS_ROLES, HEAD_ROLES, may_view_health, next_checkin
from bot.domain.models import Staff
from bot.domain.phones import display_phone
from bot.domain.privacy import Purpose
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.health.alerts import heads_now, repo
from bot.services.health.buttons import Checkin, MonitoringAction
from bot.services.health.flow import SymptomFlow
from bot.services.kernel.copies import settle, tell_tracked
from bot.services.kernel.reasons import refused_reason
from bot.services.kernel.step import Deps, Step, sweep_due
from bot.services.privacy.basis import may_process
from storage.health_repo import DONE, ENDED, HealthRepo, Monitoring
from storage.repos import Conversation

END_FLOW = "monitor_end"
ASKED = "asked"
REMINDED = "reminded"


def checkin_subject(monitoring_id: int, day: date) -> str:
    """One day's check-in as a subject of button messages (the question and its reminder)."""
    return f"checkin:{monitoring_id}:{day:%Y%m%d}"


def checkin_message(
    t: Translator, monitoring: Monitoring, day: date, reminder: bool = False
) -> OutMessage:
    question = t._("Today, do you have any symptoms (fever, cough, shortness of breath, …)?")
    if reminder:
        question = t._("⏰ Reminder: you have not answered today's check-in yet.") + "\n" + question
    buttons = (
        (
            Button(t._("No"), Checkin(monitoring.id, day, symptoms=False).encode()),
            Button(t._("Yes"), Checkin(monitoring.id, day, symptoms=True).encode()),
        ),
    )
    header = t._(
        "Medical monitoring, {day} (until {end}).", day=t.date(day), end=t.date(monitoring.end_day)
    )
    return OutMessage(f"{header}\n{question}", buttons=buttons)


def latest_checkin(scheduled: datetime, now: datetime, at: time) -> datetime:
    """The check-in to ask now: the scheduled one, or after a long outage the latest one due
    (no burst of stale questions for the days the bot was down)."""
    if now - scheduled < timedelta(days=1):
        return scheduled
    latest = datetime.combine(now.date(), at, tzinfo=scheduled.tzinfo)
    return latest if latest <= now else latest - timedelta(days=1)


class MonitoringSweep:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, now: datetime) -> int:
        return await sweep_due(
            self.deps, now, lambda step: repo(step).due_monitorings(now), self._one
        )

    async def next_checkin(self, now: datetime) -> datetime | None:
        """The sweep's wake-up: the minute of the next daily check-in (CHECKIN_HOUR)."""
        async with self.deps.db.reading() as tx:
            return await HealthRepo(tx, self.deps.clock.tz).next_checkin_at()

    async def _one(self, step: Step, monitoring: Monitoring) -> None:
        now = step.now
        if monitoring.pending_due_at is not None and monitoring.pending_due_at <= now:
            await self._overdue(step, monitoring)
            fresh = await repo(step).monitoring(monitoring.id)
            assert fresh is not None
            monitoring = fresh
        if monitoring.next_checkin_at is not None and monitoring.next_checkin_at <= now:
            if monitoring.pending_day is not None:
                await self._missed(step, monitoring)
            await self._ask(step, monitoring)

    async def _overdue(self, step: Step, monitoring: Monitoring) -> None:
        assert monitoring.pending_day is not None
        if monitoring.pending_stage == ASKED:
            due = step.now + self.deps.settings.checkin_remind_minutes
            await repo(step).set_pending(
                monitoring.id, monitoring.pending_day, REMINDED, due, step.now
            )
            day = monitoring.pending_day
            await tell_tracked(
                step,
                [monitoring.staff_id],
                lambda t: checkin_message(t, monitoring, day, reminder=True),
                [checkin_subject(monitoring.id, day)],
                priority=2,
            )
            await step.audit.append(
                step.now,
                "system",
                "monitoring.remind",
                f"monitoring:{monitoring.id}",
                {"day": day.isoformat()},
            )
            return
        await self._missed(step, monitoring)

    async def _missed(self, step: Step, monitoring: Monitoring) -> None:
        assert monitoring.pending_day is not None
        health = repo(step)
        day = monitoring.pending_day
        await health.set_pending(monitoring.id, None, None, None, step.now)
        await health.record_checkin(monitoring.id, day, "missed", step.now)
        directory = await step.directory()
        person = directory.person(monitoring.staff_id)
        await step.audit.append(
            step.now,
            "system",
            "monitoring.missed",
            f"monitoring:{monitoring.id}",
            {"day": day.isoformat()},
        )
        if person is None:
            return
        await step.tell_staff(
            await heads_now(step, person.staff_id),
            lambda t: OutMessage(
                t._(
                    "{name} ({phone}) is under medical monitoring and did not answer the check-in of {day}, even after a reminder. Please contact them.",
                    name=person.full_name,
                    phone=display_phone(person.phone),
                    day=t.date(day),
                )
            ),
            priority=2,
        )

    async def _ask(self, step: Step, monitoring: Monitoring) -> None:
        assert monitoring.next_checkin_at is not None
        health = repo(step)
        settings = self.deps.settings
        asked_at = latest_checkin(monitoring.next_checkin_at, step.now, settings.checkin_hour)
        day = asked_at.date()
        if day > monitoring.end_day:
            await health.finish(monitoring.id, DONE, None, None, step.now)
            await step.audit.append(
                step.now, "system", "monitoring.done", f"monitoring:{monitoring.id}", {}
            )
            await step.tell_staff(
                [monitoring.staff_id],
                lambda t: OutMessage(
                    t._(
                        "Your medical monitoring ended on {day}. Thank you. If symptoms appear later, report them with /symptoms.",
                        day=t.date(monitoring.end_day),
                    )
                ),
            )
            return
        due = step.now + settings.checkin_remind_minutes
        following = next_checkin(asked_at, settings.checkin_hour)
        if not await may_process(step, monitoring.staff_id, Purpose.HEALTH):
            # No health consent under the current notice (not answered yet): nothing is asked
            # today; a refusal or withdrawal has ended the monitoring already.
            await health.set_checkin_state(
                monitoring.id,
                next_checkin_at=following,
                pending_day=None,
                pending_stage=None,
                pending_due_at=None,
                now=step.now,
            )
            return
        await health.set_checkin_state(
            monitoring.id,
            next_checkin_at=following,
            pending_day=day,
            pending_stage=ASKED,
            pending_due_at=due,
            now=step.now,
        )
        await tell_tracked(
            step,
            [monitoring.staff_id],
            lambda t: checkin_message(t, monitoring, day),
            [checkin_subject(monitoring.id, day)],
            priority=2,
        )


class MonitoringDesk:
    """Check-in answers, and /monitor for leaders: the list, and ending early with a reason."""

    def __init__(self, symptoms: SymptomFlow) -> None:
        self.symptoms = symptoms

    async def checkin(self, step: Step, button: Checkin) -> tuple[str | None, list[OutMessage]]:
        t = step.t
        person = await step.me()
        health = repo(step)
        monitoring = await health.monitoring(button.monitoring_id)
        if person is None or monitoring is None or monitoring.staff_id != person.staff_id:
            return t._("This button is no longer valid."), []
        day, answer = button.day, "y" if button.symptoms else "n"
        if not await health.record_checkin(
            monitoring.id, day, "yes" if button.symptoms else "no", step.now
        ):
            return t._("You already answered this check-in."), []
        if monitoring.pending_day == day:
            await health.set_pending(monitoring.id, None, None, None, step.now)
        await step.audit.append(
            step.now,
            person.staff_id,
            "monitoring.checkin",
            f"monitoring:{monitoring.id}",
            {"day": day.isoformat(), "answer": answer},
        )
        # The check-in and its reminder both carry the buttons: both show it is answered.
        await settle(
            step,
            checkin_subject(monitoring.id, day),
            lambda tt, _: OutMessage(tt._("Check-in of {day}: answered.", day=tt.date(day))),
        )
        if not button.symptoms:
            return t._("Thank you. Stay well."), []
        return None, await self.symptoms.begin(step, "checkin")

    async def command(self, step: Step, person: Staff, args: list[str]) -> list[OutMessage]:
        t = step.t
        if not person.roles & (HEAD_ROLES | ALL_RECORDS_ROLES):
            mine = await repo(step).open_monitoring(person.staff_id)
            if mine is None:
                return [OutMessage(t._("You are not under medical monitoring."))]
            return [
                OutMessage(
                    t._("You are under medical monitoring until {day}.", day=t.date(mine.end_day))
                )
            ]
        directory = await step.directory()
        visible = [
            m for m in await repo(step).open_monitorings() if self._may_see(directory, person, m)
        ]
        if not visible:
            return [OutMessage(t._("Nobody you are responsible for is under medical monitoring."))]
        messages = [self._entry(t, directory, m) for m in visible[:30]]
        await step.audit.append(
            step.now,
            person.staff_id,
            "health.view",
            "monitoring:list",
            {"subjects": [m.staff_id for m in visible[:30]]},
        )
        return messages

    def _may_see(self, directory: Directory, viewer: Staff, monitoring: Monitoring) -> bool:
        subject = directory.person(monitoring.staff_id)
        return (
            subject is not None
            and subject.staff_id != viewer.staff_id
            and may_view_health(directory, viewer, subject.unit_id, subject.staff_id)
        )

    def _entry(self, t: Translator, directory: Directory, monitoring: Monitoring) -> OutMessage:
        subject = directory.staff[monitoring.staff_id]
        text = t._(
            "{name}: under monitoring since {start}, until {end} ({reason}).",
            name=subject.full_name,
            start=t.date(monitoring.start_day),
            end=t.date(monitoring.end_day),
            reason=monitoring_reasons(t, monitoring.reason),
        )
        return OutMessage(
            text,
            buttons=(
                (Button(t._("⏹ End early"), MonitoringAction("end", monitoring.id).encode()),),
            ),
        )

    async def end_button(
        self, step: Step, button: MonitoringAction
    ) -> tuple[str | None, list[OutMessage]]:
        t = step.t
        person = await step.me()
        monitoring = await repo(step).monitoring(button.ref)
        if person is None or monitoring is None or monitoring.status != "open":
            return t._("This button is no longer valid."), []
        if not self._may_see(await step.directory(), person, monitoring) or not person.roles & (
            HEAD_ROLES | ALL_RECORDS_ROLES
        ):
            return t._("You may not end this monitoring."), []
        await step.conversations.set(
            step.who.channel,
            step.who.user_ref,
            Conversation(END_FLOW, "reason", {"id": monitoring.id}),
            step.now,
        )
        return None, [
            OutMessage(
                t._("Why does this monitoring end early? Type the reason; the person is told.")
            )
        ]

    async def end_reason(
        self, step: Step, conversation: Conversation, text: str
    ) -> list[OutMessage]:
        t = step.t
        reason = text.strip()
        if refused := refused_reason(t, reason):
            return refused
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        person = await step.me()
        monitoring = await repo(step).monitoring(int(conversation.draft["id"]))
        if (
            person is None
            or monitoring is None
            or not await repo(step).finish(monitoring.id, ENDED, person.staff_id, reason, step.now)
        ):
            return [OutMessage(t._("This monitoring has already ended."))]
        await step.audit.append(
            step.now,
            person.staff_id,
            "monitoring.end",
            f"monitoring:{monitoring.id}",
            {"reason": reason},
        )
        await step.tell_staff(
            [monitoring.staff_id],
            lambda tt: OutMessage(
                tt._(
                    "Your medical monitoring was ended by {name}: {reason}",
                    name=person.full_name,
                    reason=reason,
                )
            ),
            priority=2,
        )
        return [OutMessage(t._("Monitoring ended. The person has been told."))]


def monitoring_reasons(t: Translator, stored: str) -> str:
    """The stored reasons (`symptoms; return:4; F1`) in words: «báo có triệu chứng; trở về
    sau chuyến đi #4; được xác định là F1»."""
    return "; ".join(_reason_words(t, part.strip()) for part in stored.split(";") if part.strip())


def _reason_words(t: Translator, code: str) -> str:
    kind, _, detail = code.partition(":")
    if kind == "symptoms":
        return t._("reported symptoms")
    if kind == "return" and detail.isdigit():
        return t._("returned from trip #{id}", id=detail)
    if kind == "return":
        return t._("returned from a trip")
    if kind in {level.value for level in CaseLevel}:
        return t._("listed as {level}", level=kind)
    return code
