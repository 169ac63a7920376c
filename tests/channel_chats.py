"""One person's chat with the bot on either messenger, for the user-day scripts that run the same
steps on Telegram (tests/fakebot) and on Zalo (tests/fakezalo): type, wait for a text, tap a
button by its label. What differs is kept here: Telegram edits a message in place where Zalo
sends a follow-up, and Telegram shares a contact where Zalo submits a form."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.fakezalo import FakeZaloOA, ZaloSent, ZaloUser
from tests.harness import register

QUIET = 0.4  # seconds without a new message: the bot has answered


@dataclass
class Shown:
    """A message the person got: its text, its button labels, and the messenger's own record."""

    text: str
    labels: list[str]
    raw: SentMessage | ZaloSent = field(repr=False)


class TelegramChat:
    channel = "telegram"

    def __init__(self, fake: FakeBotApi, user: FakeUser) -> None:
        self.fake, self.user = fake, user

    @classmethod
    async def register(cls, fake: FakeBotApi, user_id: int, staff_id: str) -> TelegramChat:
        return cls(fake, await register(fake, user_id, staff_id))

    async def next(self, timeout: float = 10) -> Shown:
        sent = await self.fake.next_message(self.user.id, timeout=timeout)
        return Shown(sent.text or "", sent.button_texts(), sent)

    async def next_with(self, fragment: str, timeout: float = 10) -> Shown:
        """The next message whose text has `fragment` (those before it are skipped)."""
        while fragment not in (shown := await self.next(timeout)).text:
            pass
        return shown

    async def say(self, text: str) -> list[Shown]:
        """Type `text`; the messages that answer it (until none comes for a moment)."""
        self.fake.mark_read(self.user.id)
        self.fake.send_text(self.user, text)
        return await self.answers()

    async def answers(self) -> list[Shown]:
        """The messages that come now, until none comes for a moment."""
        return await _answers(self)

    async def tap(self, shown: Shown, label: str) -> None:
        assert isinstance(shown.raw, SentMessage)
        self.fake.press(self.user, shown.raw, shown.raw.callback_data(label))

    async def tap_toggle(self, shown: Shown, label: str) -> list[Shown]:
        """Tap a button that changes its own message; the message as it now shows."""
        raw = shown.raw
        assert isinstance(raw, SentMessage)
        edits = len(raw.edits)
        await self.tap(shown, label)
        await self.fake.wait_for(lambda: len(raw.edits) > edits)
        return [Shown(raw.text or "", raw.button_texts(), raw)]

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.fake.messages(self.user.id)]


class ZaloChat:
    channel = "zalo"

    def __init__(self, oa: FakeZaloOA, user: ZaloUser) -> None:
        self.oa, self.user = oa, user

    @classmethod
    async def register(cls, oa: FakeZaloOA, name: str, phone: str) -> ZaloChat:
        from tests.test_e2e_zalo import register_on_zalo  # the one registration script

        return cls(oa, await register_on_zalo(oa, name, phone))

    async def next(self, timeout: float = 10) -> Shown:
        sent = await self.oa.next_message(self.user.user_id, timeout=timeout)
        return Shown(sent.text or "", sent.button_titles(), sent)

    async def next_with(self, fragment: str, timeout: float = 10) -> Shown:
        while fragment not in (shown := await self.next(timeout)).text:
            pass
        return shown

    async def next_kind(self, kind: str) -> ZaloSent:
        """The next message of that kind (text, buttons, request_user_info, file, ...)."""
        while (sent := await self.oa.next_message(self.user.user_id, timeout=10)).kind != kind:
            pass
        return sent

    async def say(self, text: str) -> list[Shown]:
        self.oa.mark_read(self.user.user_id)
        self.oa.send_text(self.user, text)
        return await self.answers()

    async def answers(self) -> list[Shown]:
        return await _answers(self)

    async def tap(self, shown: Shown, label: str) -> None:
        assert isinstance(shown.raw, ZaloSent)
        self.oa.tap(self.user, shown.raw, label)

    async def tap_toggle(self, shown: Shown, label: str) -> list[Shown]:
        """No edits on Zalo: the changed message comes again as new ones, with its buttons."""
        await self.tap(shown, label)
        return await self.answers()

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.oa.messages(self.user.user_id)]


Chat = TelegramChat | ZaloChat


async def _answers(chat: Chat) -> list[Shown]:
    found = [await chat.next()]
    while True:
        try:
            found.append(await chat.next(timeout=QUIET))
        except (AssertionError, TimeoutError):
            return found


def with_button(shown: list[Shown], label: str) -> Shown:
    """The one of `shown` with a button labelled `label` (the question among the answers)."""
    return next(s for s in shown if any(label in x for x in s.labels))
