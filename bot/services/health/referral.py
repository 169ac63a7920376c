"""«⏫ Vượt thẩm quyền» (seeds 000 §4, 001 §3): a duty officer who received an alert passes it up
to the district leaders with a typed note; the first leader to tap «✅ I take it» is recorded (as
an alert's acknowledgement is), every leader's copy then shows who took it, and the officer is
told."""

from __future__ import annotations

from bot.domain.directory import Directory
from bot.domain.models import Staff
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.duty.buttons import PASS_UP, PassUp
from bot.services.duty.roster import district_leaders, on_duty_for
from bot.services.health.alerts import minimal, repo
from bot.services.health.sweep import alert_text
from bot.services.kernel.copies import settle, tell_tracked
from bot.services.kernel.feature import Answer, ButtonRoute, Feature
from bot.services.kernel.reasons import MAX_REASON, refused_reason
from bot.services.kernel.step import Step
from storage.buttons_repo import ButtonCopy
from storage.duty_repo import ReferralsRepo
from storage.health_repo import Alert
from storage.repos import Conversation

FLOW = "duty.refer"


def referral_subject(referral_id: int) -> str:
    return f"referral:{referral_id}"


def _referrals(step: Step) -> ReferralsRepo:
    return ReferralsRepo(step.tx, step.deps.clock.tz)


async def pass_up_offer(
    step: Step, directory: Directory, person: Staff, alert: Alert
) -> list[OutMessage]:
    """After a duty officer received an alert: «⏫» to pass it up, if it goes beyond them."""
    if not await on_duty_for(step, directory, person, alert.unit_id):
        return []
    t = step.t
    button = Button(t._("⏫ Beyond my authority"), PassUp("up", alert.id).encode())
    text = t._("If this goes beyond your authority, pass it up to the district leaders:")
    return [OutMessage(text, buttons=((button,),))]


class Referrals:
    def feature(self) -> Feature:
        return Feature(flows={FLOW: self.note}, buttons=[ButtonRoute(PASS_UP, self.button)])

    async def button(self, step: Step, button: PassUp) -> Answer:
        if button.action == "up":
            return await self._ask(step, button.ref)
        return await self._take(step, button.ref)

    async def _ask(self, step: Step, alert_id: int) -> Answer:
        t = step.t
        person = await step.linked()
        alert = await repo(step).alert(alert_id)
        if person is None or alert is None:
            return t._("This button is no longer valid."), []
        directory = await step.directory()
        if not await on_duty_for(step, directory, person, alert.unit_id):
            await step.audit.append(
                step.now, person.staff_id, "duty.refer.refused", f"alert:{alert_id}", {}
            )
            return t._("Only the duty officers of this unit pass an alert up."), []
        if await _referrals(step).open_for(alert_id) is not None:
            return t._("This alert was already passed up; a leader will take it."), []
        conversation = Conversation(FLOW, "note", {"alert": alert_id})
        await step.conversations.set(step.who.channel, step.who.user_ref, conversation, step.now)
        question = t._(
            "Why does it go beyond your authority? Type a short note for the district leaders "
            "(at most {n} characters); /cancel to stop.",
            n=MAX_REASON,
        )
        return None, [OutMessage(question)]

    async def note(self, step: Step, conversation: Conversation, text: str) -> list[OutMessage]:
        t = step.t
        note = text.strip()
        refused = refused_reason(t, note)
        if refused:
            return refused
        person = await step.linked()
        alert = await repo(step).alert(int(conversation.draft["alert"]))
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        if person is None or alert is None:
            return [OutMessage(t._("This button is no longer valid."))]
        directory = await step.directory()
        if not await on_duty_for(step, directory, person, alert.unit_id):
            return [OutMessage(t._("Only the duty officers of this unit pass an alert up."))]
        if await _referrals(step).open_for(alert.id) is not None:
            return [OutMessage(t._("This alert was already passed up; a leader will take it."))]
        leaders = [s for s in district_leaders(directory, alert.unit_id) if s != person.staff_id]
        if not leaders:
            return [OutMessage(t._("No district leader is in the directory to pass it to."))]
        referral_id = await _referrals(step).add(alert.id, person.staff_id, note, leaders, step.now)
        await step.audit.append(
            step.now,
            person.staff_id,
            "duty.refer",
            f"alert:{alert.id}",
            {"referral": referral_id, "to": leaders},
        )
        original = await alert_text(step, alert, full=not minimal(step))

        def message(tt: Translator) -> OutMessage:
            head = tt._(
                "⏫ Beyond the authority of the duty: {name} passes this alert up to you.",
                name=person.full_name,
            )
            lines = [head, tt._("Note: {note}", note=note), "", original(tt)]
            take = Button(tt._("✅ I take it"), PassUp("take", referral_id).encode())
            return OutMessage("\n".join(lines), buttons=((take,),))

        await tell_tracked(step, leaders, message, [referral_subject(referral_id)], priority=1)
        names = ", ".join(_name(directory, s) for s in leaders)
        return [OutMessage(t._("⏫ Passed up to the district leaders: {names}.", names=names))]

    async def _take(self, step: Step, referral_id: int) -> Answer:
        t = step.t
        person = await step.linked()
        referrals = _referrals(step)
        referral = await referrals.get(referral_id)
        if person is None or referral is None:
            return t._("This button is no longer valid."), []
        directory = await step.directory()
        if person.staff_id not in referral.sent_to:
            await step.audit.append(
                step.now, person.staff_id, "duty.refer.take.refused", f"referral:{referral_id}", {}
            )
            return t._("Only the district leaders it was passed to take it."), []
        if not await referrals.take(referral_id, person.staff_id, step.now):
            fresh = await referrals.get(referral_id)
            taker = _name(directory, fresh.taken_by or "") if fresh else "?"
            return t._("Already taken by {name}.", name=taker), []
        await step.audit.append(
            step.now,
            person.staff_id,
            "duty.refer.take",
            f"referral:{referral_id}",
            {"alert": referral.alert_id},
        )
        when = step.now

        def taken(tt: Translator, copy: ButtonCopy) -> OutMessage:
            line = tt._("✅ Taken by {name} at {when}.", name=person.full_name, when=tt.short(when))
            return OutMessage(f"{copy.text}\n\n{line}", send_if_edit_fails=True)

        await settle(step, referral_subject(referral_id), taken)
        await step.tell_staff(
            [referral.referred_by],
            lambda tt: OutMessage(
                tt._(
                    "✅ {name} took the alert you passed up (note: {note}).",
                    name=person.full_name,
                    note=referral.note[:200],
                )
            ),
            priority=1,
        )
        return t._("Recorded: you take this alert."), []


def _name(directory: Directory, staff_id: str) -> str:
    person = directory.person(staff_id)
    return person.full_name if person else staff_id
