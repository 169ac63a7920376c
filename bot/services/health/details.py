"""«See details» under minimal messages (PRIVACY_MINIMAL_MESSAGES): the alert or report in full,
to those who may see it, each view audited, the message deleted from the chat after
PRIVACY_DETAIL_TTL (an outbox row scheduled in the database, sent when it is due)."""

from __future__ import annotations

from bot.domain.health_rules import may_view_health
from bot.domain.models import Staff
from bot.outgoing import OutMessage
from bot.services.health.alerts import repo, report_lines
from bot.services.health.buttons import HealthDetail
from bot.services.health.sweep import alert_text
from bot.services.kernel.feature import Answer
from bot.services.kernel.step import Step
from bot.services.outbox.sender import EDIT_BY_ROW
from storage.outbox_repo import Recipient


async def show_detail(step: Step, button: HealthDetail) -> Answer:
    t = step.t
    person = await step.linked()
    found = None if person is None else await _detail(step, person, button)
    if person is None or found is None:
        return t._("This button is no longer valid."), []
    allowed, subject, text = found
    record = f"{'alert' if button.action == 'a' else 'symptoms'}:{button.ref}"
    if not allowed:
        await step.audit.append(
            step.now, person.staff_id, "health.view.refused", record, {"subject": subject}
        )
        return t._("You may not see this health record."), []
    await step.audit.append(
        step.now, person.staff_id, "health.view", record, {"subject": subject, "via": "details"}
    )
    await _send_then_delete(step, person, text)
    hours = round(step.deps.settings.privacy_detail_ttl.total_seconds() / 3600)
    return t._("Details sent; they leave this chat after {n} h.", n=hours), []


async def _detail(
    step: Step, person: Staff, button: HealthDetail
) -> tuple[bool, str | None, str] | None:
    """(may the person see it, whom it is about, the full text), or None if it is gone."""
    health = repo(step)
    directory = await step.directory()
    if button.action == "a":
        alert = await health.alert(button.ref)
        if alert is None:
            return None
        allowed = person.staff_id in await health.recipients(alert.id) or may_view_health(
            directory, person, alert.unit_id, alert.staff_id
        )
        return allowed, alert.staff_id, (await alert_text(step, alert, full=True))(step.t)
    report = await health.report(button.ref)
    if report is None:
        return None
    subject = directory.person(report.staff_id)
    unit_id = subject.unit_id if subject else None
    allowed = may_view_health(directory, person, unit_id, report.staff_id)
    title = step.t._("Symptom report #{id}", id=report.id)
    return allowed, report.staff_id, "\n".join([title, *report_lines(step.t, directory, report)])


async def _send_then_delete(step: Step, person: Staff, text: str) -> None:
    recipient = Recipient(step.who.channel, step.who.chat_ref, person.staff_id)
    row_id = await step.send_to(recipient, OutMessage(text), priority=1, purpose="health_detail")
    await step.send_to(
        recipient,
        OutMessage("", delete_ref=f"{EDIT_BY_ROW}{row_id}"),
        priority=1,
        purpose="health_detail.delete",
        not_before=step.now + step.deps.settings.privacy_detail_ttl,
    )
