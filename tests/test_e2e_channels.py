"""One person on two channels: the real bot on the Telegram sandbox, plus a second channel in
the same process that records what the outbox hands it (Zalo-like capabilities: 2,000
characters, 5 buttons, no edits, no menu; or no buttons at all).

The second channel's events go to the one Dispatcher as intents, as a channel adapter hands
them in. The clock starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from datetime import timedelta

from bot.channels.port import Capabilities, Command, Intent, PhoneShared, Press, Text
from bot.outgoing import OutMessage
from bot.services.kernel.feature import with_unshown_answer
from bot.services.kernel.step import Incoming
from bot.services.outbox.render import render_for
from storage.repos import AccountsRepo
from tests.fakebot import FakeBotApi, FakeUser
from tests.harness import PHONES, RunningBot, register
from tests.test_channel_render import NO_BUTTONS, ZALO_LIKE
from tests.test_e2e_travel import PRINCIPAL, TEACHER, submit


class RecordingChannel:
    """A channel that keeps what it is sent; it refuses what its capabilities exclude."""

    def __init__(self, name: str, capabilities: Capabilities) -> None:
        self.name = name
        self.capabilities = capabilities
        self.sent: list[tuple[str, OutMessage, str]] = []
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()

    def render(self, message: OutMessage) -> list[OutMessage]:
        return render_for(message, self.capabilities)

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        caps = self.capabilities
        assert message.edit_ref is None or caps.can_edit, "an edit on a channel without edits"
        assert len(message.text) <= caps.max_text
        assert sum(map(len, message.buttons)) <= caps.max_buttons
        ref = f"{self.name}-{next(self._ids)}"
        self.sent.append((chat_ref, message, ref))
        self._arrived.set()
        return ref

    async def next_containing(self, chat_ref: str, words: str, timeout: float = 10.0) -> OutMessage:
        async def found() -> OutMessage:
            while True:
                for chat, message, _ in self.sent:
                    if chat == chat_ref and words in message.text:
                        return message
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(found(), timeout)

    def ref_of(self, message: OutMessage) -> str:
        return next(ref for _, sent, ref in self.sent if sent is message)


class Person:
    """Someone writing on the second channel: each event a new id, answers rendered as the
    channel would show them."""

    def __init__(self, bot: RunningBot, channel: RecordingChannel, user_ref: str) -> None:
        self.bot = bot
        self.channel = channel
        self.user_ref = user_ref
        self._events = itertools.count(1)

    async def say(self, intent: Intent, message_ref: str | None = None) -> list[OutMessage]:
        who = Incoming(
            self.channel.name,
            self.user_ref,
            self.user_ref,
            update_id=f"ev-{self.user_ref}-{next(self._events)}",
            message_ref=message_ref,
        )
        toast, messages = await self.bot.services.dispatcher.handle(who, intent)
        # no acknowledgement on this channel: a press's short answer comes as a message
        said = with_unshown_answer(toast, False, messages)
        return [part for message in said for part in self.channel.render(message)]


def _data(message: OutMessage, label: str) -> str:
    for row in message.buttons:
        for button in row:
            if label in button.text and button.callback:
                return button.callback
    raise AssertionError(f"no button {label!r} in {message}")


def _text(messages: Sequence[OutMessage]) -> str:
    return "\n".join(m.text for m in messages)


async def _link_second_account(person: Person, staff_id: str) -> list[OutMessage]:
    """/start, the phone shared, «Is this you?» answered yes: what follows the link."""
    [ask] = await person.say(Command("start"))
    assert ask.menu == () and "Chia sẻ" in (ask.ask_phone or "")
    [question] = await person.say(PhoneShared(PHONES[staff_id]))
    assert "có phải" in question.text
    return await person.say(Press(_data(question, "✅")))


async def test_an_approver_decides_on_either_channel_and_both_copies_show_it(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    zalo = RecordingChannel("zalolike", ZALO_LIKE)
    bot.services.sender.add_channel(zalo.name, zalo)
    teacher: FakeUser = await register(fake, TEACHER, "TH-003")
    principal_tg = await register(fake, PRINCIPAL, "TH-001")
    principal = Person(bot, zalo, "z-802")
    bot.clock.advance(timedelta(minutes=5))
    linked = await _link_second_account(principal, "TH-001")
    assert "Châu Thị Bích Ngọc" in _text(linked) or "thành công" in _text(linked)
    async with bot.services.db.reading() as tx:
        accounts = await AccountsRepo(tx).all_of_staff("TH-001")
    assert [a.channel for a in accounts] == ["zalolike", "telegram"]  # used last first

    # The request goes to the channel the principal used last: the Zalo-like one.
    await submit(fake, teacher)
    request = await zalo.next_containing("z-802", "Lại Thị Diệu Linh")
    assert 0 < sum(map(len, request.buttons)) <= 5
    assert not [m for m in fake.messages(principal_tg.id) if "Lại Thị Diệu Linh" in (m.text or "")]

    # Decided there: the teacher hears on Telegram; the copy cannot be edited, so a follow-up
    # quoting it says the outcome.
    await principal.say(Press(_data(request, "Phê duyệt")), message_ref=zalo.ref_of(request))
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "")
    follow_up = await zalo.next_containing("z-802", "Đã phê duyệt")
    assert follow_up.reply_to == zalo.ref_of(request) and follow_up.buttons == ()

    # /channel on Telegram: Telegram from now on, even after writing on the other channel.
    fake.send_text(principal_tg, "/channel")
    picker = await fake.next_message(principal_tg.id)
    assert "Telegram" in str(picker.buttons()) and "Zalolike" in str(picker.buttons())
    fake.press(principal_tg, picker, picker.callback_data("Telegram"))
    chosen = await fake.next_message(principal_tg.id)
    assert "qua Telegram" in (chosen.text or "")
    bot.clock.advance(timedelta(minutes=5))
    await principal.say(Command("me"))
    second = await submit(fake, teacher, dest="hue")
    assert second.text
    on_telegram = await fake.next_message(principal_tg.id)
    assert "Lại Thị Diệu Linh" in (on_telegram.text or "")

    # /pending on the other channel shows it there too; a press there settles both copies:
    # Telegram's is edited, the Zalo-like one gets a follow-up.
    await principal.say(Command("pending"))
    pending = await zalo.next_containing("z-802", "#2")
    await principal.say(Press(_data(pending, "Phê duyệt")), message_ref=zalo.ref_of(pending))
    await fake.wait_for(lambda: bool(on_telegram.edits))
    assert "Đã phê duyệt" in (on_telegram.text or "") and not on_telegram.buttons()


async def test_on_a_channel_without_buttons_a_typed_number_answers_the_choices(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    plain = RecordingChannel("plain", NO_BUTTONS)
    bot.services.sender.add_channel(plain.name, plain)
    bot.services.dispatcher.choice_channels = frozenset({plain.name})
    teacher = await register(fake, TEACHER, "TH-003")
    principal = Person(bot, plain, "p-802")
    await principal.say(Command("start"))
    [question] = await principal.say(PhoneShared(PHONES["TH-001"]))
    assert "\n1. ✅" in question.text and question.buttons == ()
    answered = await principal.say(Text("1"))  # the number of «Yes, that is me»
    while any("\n1. " in m.text for m in answered[-1:]):  # the consent questions: agree
        agree = next(line for line in answered[-1].text.splitlines() if "Đồng ý" in line)
        answered = await principal.say(Text(agree.split(". ", 1)[1]))  # typed as its label
    assert "thành công" in _text(answered) or "Châu Thị Bích Ngọc" in _text(answered)

    await submit(fake, teacher)
    request = await plain.next_containing("p-802", "Lại Thị Diệu Linh")
    number = next(
        line.split(".", 1)[0] for line in request.text.splitlines() if "Phê duyệt" in line
    )
    # the sender stores the message's numbered choices just after the channel took it
    await bot.services.sender.drain()
    await principal.say(Text(number))
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "")


async def test_a_typed_number_is_plain_text_when_no_choice_is_pending(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    plain = RecordingChannel("plain", NO_BUTTONS)
    bot.services.sender.add_channel(plain.name, plain)
    bot.services.dispatcher.choice_channels = frozenset({plain.name})
    person = Person(bot, plain, "p-900")
    [help_text] = await person.say(Text("1"))
    assert "vui lòng đăng ký" in help_text.text  # read as text: registration help
    [ask] = await person.say(Command("language"))  # a choice is pending now
    assert "\n1. 🇻🇳" in ask.text
    chosen, *_ = await person.say(Text("2"))
    assert "English" in chosen.text or "Language set" in chosen.text
    again, *_ = await person.say(Text("2"))  # answered: nothing pending any more
    assert "register" in again.text.lower() and "Language set" not in again.text
