"""Registration (contact sharing or invite link), /me, /help, /language.

Every method is one committed step: the conversation state and the effect are written in one
transaction together with the update id, so a crash loses nothing and a redelivery does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.channels.port import PhoneSharing
from bot.domain.models import BuiltinRole, Staff
from bot.domain.phones import display_phone, normalize_phone
from bot.i18n import Translator
from bot.outgoing import Button, OutMessage
from bot.services.kernel.menu import LANGUAGE_CHOICES, help_text, language_picker, menu_message
from bot.services.kernel.people import describe_person, describe_route, messenger_name
from bot.services.kernel.step import Deps, Incoming, Step, StepRunner
from bot.services.registration.buttons import CONFIRMATIONS, ConfirmMatch
from storage.directory_repo import DirectoryRepo
from storage.repos import Conversation, InvitesRepo

FLOW = "register"
AWAIT_CONTACT = "await_contact"
CONFIRM = "confirm"


def contact_request(t: Translator, text: str) -> OutMessage:
    return OutMessage(text, ask_phone=t._("📱 Share my phone number"))


def phone_sharing_of(deps: Deps, channel: str) -> PhoneSharing:
    """How a person on `channel` hands over their number (a button where it is not known)."""
    caps = deps.capabilities_of(channel)
    return caps.phone_sharing if caps is not None else PhoneSharing.BUTTON


def registration_help(t: Translator, sharing: PhoneSharing = PhoneSharing.BUTTON) -> OutMessage:
    if sharing is PhoneSharing.FORM:
        text = t._(
            "To use khaibao, register first: tap «Share my phone number» below and send the "
            "form that opens, or type the invite code the district office sent you."
        )
    elif sharing is PhoneSharing.TYPED:
        text = t._(
            "To use khaibao, register first: type the invite code the district office sent you."
        )
    else:
        text = t._(
            "To use khaibao, register first: tap «Share my phone number» below, or open the "
            "invite link the district office sent you."
        )
    return contact_request(t, text)


def start_text(t: Translator, sharing: PhoneSharing) -> str:
    """The first words to someone not registered yet, by how their channel shares a phone."""
    greeting = t._("Welcome to khaibao, the staff reporting bot of the district office.")
    if sharing is PhoneSharing.FORM:
        how = t._(
            "To register, tap «Share my phone number» below and send the form that opens. "
            "Your number is matched with the staff list of your unit."
        )
    elif sharing is PhoneSharing.TYPED:
        how = t._("To register, type the invite code the district office sent you.")
    else:
        how = t._(
            "To register, tap «Share my phone number» below. Your number is matched "
            "with the staff list of your unit."
        )
    return greeting + "\n" + how


def welcome(t: Translator, person: Staff) -> OutMessage:
    """The end of registration: the welcome, what the bot can do, the menu."""
    text = (
        t._("Registered. Welcome, {name}!", name=person.full_name) + "\n\n" + help_text(t, person)
    )
    return menu_message(t, text, person)


OnLinked = Callable[[Step, Staff], Awaitable[list[OutMessage]]]
"""What follows the link, before anything else is asked (the personal-data notice and consent)."""


class RegistrationService:
    def __init__(self, deps: Deps, on_linked: OnLinked | None = None) -> None:
        self.deps = deps
        self.steps = StepRunner(deps)
        self.on_linked = on_linked

    async def start(self, who: Incoming, invite_code: str | None) -> list[OutMessage]:
        async with self.steps.begin(who) as step:
            if step is None:
                return []
            if invite_code:
                return await self._use_invite(step, invite_code)
            return await self._start(step)

    async def contact(
        self, who: Incoming, phone: str, contact_user_ref: str | None
    ) -> list[OutMessage]:
        async with self.steps.begin(who) as step:
            if step is None:
                return []
            return await self._contact(step, phone, contact_user_ref)

    async def confirm(self, who: Incoming, data: str) -> list[OutMessage]:
        async with self.steps.begin(who) as step:
            if step is None:
                return []
            answer = CONFIRMATIONS.decode(data)
            if answer is None:
                return [OutMessage(step.t._("This button is no longer valid."))]
            return await self._confirm(step, answer.word == "y")

    async def press(self, who: Incoming, data: str) -> list[OutMessage] | None:
        """A registration button (the «Is this you?» answer, a language); None for others."""
        if CONFIRMATIONS.owns(data):
            return await self.confirm(who, data)
        if LANGUAGE_CHOICES.owns(data):
            return await self.set_language(who, data)
        return None

    async def language_menu(self, who: Incoming) -> list[OutMessage]:
        async with self.steps.begin(who) as step:
            return [] if step is None else [language_picker(step.t)]

    async def set_language(self, who: Incoming, data: str) -> list[OutMessage]:
        async with self.steps.begin(who) as step:
            if step is None:
                return []
            choice = LANGUAGE_CHOICES.decode(data)
            if choice is None:
                return [OutMessage(step.t._("This button is no longer valid."))]
            language = choice.word
            await step.accounts.set_language(who.channel, who.user_ref, language)
            t = self.deps.translations.for_language(language)
            text = (
                t._("Language set to English.")
                if language == "en"
                else t._("Language set to Vietnamese.")
            )
            if await step.linked() is None:
                return [
                    OutMessage(text),
                    registration_help(t, phone_sharing_of(self.deps, who.channel)),
                ]
            return [menu_message(t, text, await step.linked())]

    # --- the steps -------------------------------------------------------------------------

    async def _start(self, step: Step) -> list[OutMessage]:
        person = await step.linked()
        if person is not None:
            return [
                menu_message(
                    step.t, step.t._("Welcome back, {name}.", name=person.full_name), person
                )
            ]
        if step.account.staff_id is not None:
            return [self._access_removed(step.t)]
        await self._set_state(step, AWAIT_CONTACT, {})
        return [
            contact_request(
                step.t, start_text(step.t, phone_sharing_of(self.deps, step.who.channel))
            )
        ]

    async def _contact(
        self, step: Step, raw_phone: str, contact_user_ref: str | None
    ) -> list[OutMessage]:
        t = step.t
        if await step.linked() is not None:
            return [menu_message(t, t._("You are already registered."))]
        if contact_user_ref != step.who.user_ref:
            return [
                contact_request(
                    t,
                    t._(
                        "Please share your own phone number with the button below, not someone else's contact."
                    ),
                )
            ]
        phone = normalize_phone(raw_phone)
        person = await DirectoryRepo(step.tx).active_by_phone(phone) if phone else None
        if person is None:
            await self._report_unknown_phone(step, raw_phone)
            return [
                OutMessage(
                    t._(
                        "Sorry, the number {phone} is not in the staff list. Please contact the district "
                        "office (Văn phòng) so they can add or correct it, then try again.",
                        phone=raw_phone,
                    ),
                    remove_keyboard=True,
                )
            ]
        if await step.accounts.of_staff_on(person.staff_id, step.who.channel) is not None:
            await step.audit.append(
                step.now,
                step.actor,
                "register.refused",
                person.staff_id,
                {"reason": "linked_elsewhere"},
            )
            return [
                OutMessage(
                    t._(
                        "This person is already registered on another {messenger} account. If this is you, please contact the district office.",
                        messenger=messenger_name(step.who.channel),
                    ),
                    remove_keyboard=True,
                )
            ]
        await self._set_state(step, CONFIRM, {"staff_id": person.staff_id})
        return [await self._confirmation_question(step, person)]

    async def _confirmation_question(self, step: Step, person: Staff) -> OutMessage:
        t = step.t
        lines = describe_person(t, await step.directory(), person)
        return OutMessage(
            t._("Is this you?") + "\n\n" + "\n".join(lines),
            buttons=(
                (
                    Button(t._("✅ Yes, that is me"), ConfirmMatch("y").encode()),
                    Button(t._("❌ No"), ConfirmMatch("n").encode()),
                ),
            ),
        )

    async def _confirm(self, step: Step, yes: bool) -> list[OutMessage]:
        t = step.t
        state = await step.conversations.get(step.who.channel, step.who.user_ref)
        if state is None or (state.flow, state.step) != (FLOW, CONFIRM):
            return [OutMessage(t._("This button is no longer valid."))]
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        person = await DirectoryRepo(step.tx).person(state.draft["staff_id"])
        answered = await self._answered_question(step, person, yes)
        if not yes:
            return answered + [
                OutMessage(
                    t._(
                        "Then the staff list has a wrong number. Please contact the district office."
                    ),
                    remove_keyboard=True,
                )
            ]
        if (
            person is None
            or not person.active
            or await step.accounts.of_staff_on(person.staff_id, step.who.channel)
        ):
            return answered + [
                OutMessage(
                    t._("Registration could not be completed. Please contact the district office.")
                )
            ]
        return answered + await self._link(step, person, "contact")

    async def _answered_question(
        self, step: Step, person: Staff | None, yes: bool
    ) -> list[OutMessage]:
        """The «Is this you?» question pressed shows the answer and loses its buttons."""
        if step.who.message_ref is None or person is None:
            return []
        question = await self._confirmation_question(step, person)
        answer = step.t._("✅ Confirmed: that is me.") if yes else step.t._("❌ Not me.")
        return [OutMessage(f"{question.text}\n\n{answer}", edit_ref=step.who.message_ref)]

    async def _use_invite(self, step: Step, code: str) -> list[OutMessage]:
        t = step.t
        if await step.linked() is not None:
            return [menu_message(t, t._("You are already registered."))]
        invites = InvitesRepo(step.tx)
        invite = await invites.get(code[:64], self.deps.clock.tz)
        person = await DirectoryRepo(step.tx).person(invite.staff_id) if invite else None
        if invite is None or person is None or not person.active:
            return [
                registration_help(t, phone_sharing_of(self.deps, step.who.channel)),
                OutMessage(t._("This invite link is not valid.")),
            ]
        if invite.used_at is not None or await step.accounts.of_staff_on(
            person.staff_id, step.who.channel
        ):
            await step.audit.append(
                step.now, step.actor, "invite.reused", person.staff_id, {"code": code}
            )
            return [
                OutMessage(
                    t._(
                        "This invite link has already been used. Each link works once; please contact the district office for a new one."
                    )
                )
            ]
        await invites.use(code, step.who.user_ref, step.now)
        return await self._link(step, person, "invite")

    async def _link(self, step: Step, person: Staff, how: str) -> list[OutMessage]:
        await step.accounts.link(step.who.channel, step.who.user_ref, person.staff_id, step.now)
        await step.conversations.clear(step.who.channel, step.who.user_ref)
        await step.audit.append(
            step.now,
            person.staff_id,
            "register",
            person.staff_id,
            {"via": how, "user": step.who.user_ref},
        )
        if self.on_linked is not None:
            return await self.on_linked(step, person)
        return [welcome(step.t, person)]

    async def me_step(self, step: Step, person: Staff) -> list[OutMessage]:
        directory = await step.directory()
        lines = (
            describe_person(step.t, directory, person)
            + [""]
            + describe_route(step.t, directory, person)
        )
        return [menu_message(step.t, "\n".join(lines), person)]

    async def unregistered(self, step: Step) -> list[OutMessage]:
        if step.account.staff_id is not None:
            return [self._access_removed(step.t)]
        return [registration_help(step.t, phone_sharing_of(self.deps, step.who.channel))]

    def _access_removed(self, t: Translator) -> OutMessage:
        return OutMessage(
            t._(
                "Your access has been removed: you are no longer in the staff list. If this is a mistake, contact the district office."
            ),
            remove_keyboard=True,
        )

    async def _set_state(self, step: Step, name: str, draft: dict[str, str]) -> None:
        await step.conversations.set(
            step.who.channel, step.who.user_ref, Conversation(FLOW, name, draft), step.now
        )

    async def _report_unknown_phone(self, step: Step, phone: str) -> None:
        await step.audit.append(
            step.now, step.actor, "register.unknown_phone", None, {"phone": phone}
        )
        admins = await DirectoryRepo(step.tx).staff_ids_with_role(BuiltinRole.ADMIN)
        await step.tell_staff(
            admins,
            lambda t: OutMessage(
                t._(
                    "Someone tried to register with the number {phone}, which is not in the staff list ({messenger} user {user}).",
                    phone=display_phone(normalize_phone(phone)) or phone,
                    messenger=messenger_name(step.who.channel),
                    user=step.who.user_ref,
                )
            ),
            purpose="admin_alert",
        )
