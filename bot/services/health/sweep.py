"""The sweep job for health alerts: an alert nobody acknowledged within ALERT_ACK_MINUTES goes
to the next leader up and the district's health officers, in the same transaction as its
outbox rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.domain.directory import Directory, superiors_of
from bot.domain.duty_roster import next_on_duty
from bot.domain.health_rules import duty_officers_for
from bot.domain.models import BuiltinRole
from bot.i18n import Translator
from bot.services.duty.roster import on_duty_now
from bot.services.health.alerts import (
    minimal,
    repo,
    send_alert,
    symptom_alert_summary,
    symptom_alert_text,
)
from bot.services.kernel.step import Deps, Step, sweep_due
from storage.health_repo import Alert

OFFICER_ROLES = (BuiltinRole.HEALTH_OFFICER.value, BuiltinRole.DUTY_OFFICER.value)


class AlertSweep:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def __call__(self, now: datetime) -> int:
        return await sweep_due(
            self.deps, now, lambda step: repo(step).due_alerts(now), self._escalate
        )

    async def _escalate(self, step: Step, alert: Alert) -> None:
        health = repo(step)
        directory = await step.directory()
        already = await health.recipients(alert.id)
        leaders = await self._latest_leaders(step, alert, directory)
        shifts = await on_duty_now(step, directory, alert.unit_id) if alert.unit_id else []
        on_duty = next_on_duty(shifts, {*already, alert.staff_id or ""}) or (
            duty_officers_for(directory, alert.unit_id) if alert.unit_id else []
        )
        targets = escalation_targets(directory, alert, already, leaders, on_duty)
        level = alert.level + 1
        wait = self.deps.settings.alert_ack_minutes
        await health.set_escalation(alert.id, level, step.now + wait if targets else None)
        await step.audit.append(
            step.now,
            "system",
            "health.escalate",
            f"alert:{alert.id}",
            {"to": targets, "level": level},
        )
        if not targets:
            return
        original = await alert_text(step, alert, full=not minimal(step))
        await send_alert(
            step,
            alert.id,
            targets,
            level,
            lambda t: _escalated(t, wait, original(t)),
            detail=minimal(step),
        )

    async def _latest_leaders(self, step: Step, alert: Alert, directory: Directory) -> list[str]:
        sent_to = await repo(step).recipients_at(alert.id, alert.level)
        people = [directory.person(staff_id) for staff_id in sent_to]
        return [p.staff_id for p in people if p is not None and not set(OFFICER_ROLES) & p.roles]


def escalation_targets(
    directory: Directory,
    alert: Alert,
    already: list[str],
    leaders: list[str],
    on_duty: Sequence[str] = (),
) -> list[str]:
    """The next leader up (who decides the current leaders' own requests, else the heads of the
    units above), whoever is on duty now one unit further up (`on_duty`, from the roster, else
    the duty officers of the alert's unit and the units above), plus
    every health officer not told yet."""
    skip = {*already, alert.staff_id}
    found = superiors_of(directory, leaders)
    if not [s for s in found if s not in skip]:
        found.extend(_heads_above(directory, alert.unit_id, leaders, skip))
    found.extend(on_duty)
    found.extend(directory.role_ids(BuiltinRole.HEALTH_OFFICER.value))
    return [s for s in dict.fromkeys(found) if s not in skip]


def _heads_above(
    directory: Directory, unit_id: str | None, leaders: list[str], skip: set[str | None]
) -> list[str]:
    starts = [directory.staff[s].unit_id for s in leaders if s in directory.staff] or (
        [unit_id] if unit_id else []
    )
    for start in starts:
        for up in directory.ancestor_ids(start):
            heads = [h for h in directory.head_ids(up) if h not in skip]
            if heads:
                return heads
    return []


def _escalated(t: Translator, wait: timedelta, text: str) -> str:
    minutes = round(wait / timedelta(minutes=1))
    return (
        t._("⏫ Nobody acknowledged this alert within {n} minutes; it now comes to you.", n=minutes)
        + "\n\n"
        + text
    )


async def alert_text(step: Step, alert: Alert, full: bool = True) -> Callable[[Translator], str]:
    """The alert's text: `full` with the details, else only who and what kind."""
    kind, _, ref = alert.object.partition(":")
    directory = await step.directory()
    if kind == "symptoms":
        report = await repo(step).report(int(ref))
        assert report is not None
        if not full:
            return lambda t: symptom_alert_summary(t, directory, report)
        return lambda t: symptom_alert_text(t, directory, report)
    from bot.services.health.cases import case_alert_builder, case_alert_summary

    if not full:
        return await case_alert_summary(step, int(ref))
    return await case_alert_builder(step, int(ref))
