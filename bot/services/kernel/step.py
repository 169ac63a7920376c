"""What every use case shares: the incoming event, the committed step, the directory cache."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import TypeVar, Unpack

from bot.channels.port import Capabilities
from bot.config import Settings
from bot.domain.clock import Clock
from bot.domain.directory import Directory
from bot.domain.models import Staff
from bot.i18n import Translations, Translator
from bot.outgoing import OutMessage
from storage.directory_repo import DirectoryRepo
from storage.engine import Database, Tx
from storage.outbox_repo import OutboxRepo, Recipient, SendOptions
from storage.repos import (
    Account,
    AccountsRepo,
    AuditRepo,
    ConversationsRepo,
    open_step,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Incoming:
    """One event from a person, whatever the messenger."""

    channel: str
    user_ref: str
    chat_ref: str
    update_id: int | str | None = None  # the messenger's event id (text on some channels)
    client_language: str | None = None
    message_ref: str | None = None  # the bot message a button press came from
    attachment: Attachment | None = None  # a photo or file sent with the message


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the person sent: the messenger's id to fetch it again, and what it is."""

    kind: str  # "photo" or "document"
    file_id: str
    file_name: str | None = None
    mime_type: str | None = None


def translator_for(
    translations: Translations,
    directory: Directory,
    staff_id: str | None,
    chosen: str | None,
    client_language: str | None = None,
) -> Translator:
    """The one rule for a person's language, for what they are sent and what they are answered:
    the choice made in the bot, else the directory's (`Directory.language_of`), else their
    messenger app's, else the default."""
    return translations.pick(directory.language_of(staff_id, chosen), client_language)


class DirectoryCache:
    """The directory in memory, reloaded when an import bumps its version."""

    def __init__(self) -> None:
        self._version = -1
        self._directory: Directory | None = None

    async def get(self, tx: Tx, version: int | None = None) -> Directory:
        """`version`: the directory version already read in this transaction, if any."""
        repo = DirectoryRepo(tx)
        if version is None:
            version = await repo.version()
        if self._directory is None or version != self._version:
            self._directory = await repo.load()
            self._version = version
        return self._directory


@dataclass
class Deps:
    db: Database
    clock: Clock
    translations: Translations
    directory: DirectoryCache
    wake_outbox: Callable[[], None]
    settings: Settings
    capabilities_of: Callable[[str], Capabilities | None] = lambda channel: None
    """What a channel can show (None: not known here, as in tests without one)."""


@dataclass
class Step:
    """One committed step of one person: the transaction, who they are, how to talk to them."""

    tx: Tx
    who: Incoming
    account: Account
    t: Translator
    now: datetime
    deps: Deps
    enqueued: int = 0
    replies: list[OutMessage] = field(default_factory=list)
    directory_version: int | None = None
    read_conversations: InitVar[ConversationsRepo | None] = None  # read in the first trip
    _directory: Directory | None = field(default=None, repr=False)
    conversations: ConversationsRepo = field(init=False, repr=False)

    @property
    def accounts(self) -> AccountsRepo:
        return AccountsRepo(self.tx)

    def __post_init__(self, read_conversations: ConversationsRepo | None) -> None:
        if read_conversations is None:  # a system step: nothing read in advance
            read_conversations = ConversationsRepo(self.tx)
        self.conversations = read_conversations

    @property
    def audit(self) -> AuditRepo:
        return AuditRepo(self.tx)

    @property
    def actor(self) -> str:
        return self.account.staff_id or f"{self.who.channel}:{self.who.user_ref}"

    async def directory(self) -> Directory:
        """The directory (checked against the database once per step)."""
        if self._directory is None:
            self._directory = await self.deps.directory.get(self.tx, self.directory_version)
        return self._directory

    async def me(self) -> Staff | None:
        """The staff member linked to this account, if any (from the cached directory when active)."""
        if self.account.staff_id is None:
            return None
        listed = (await self.directory()).staff.get(self.account.staff_id)
        return listed or await DirectoryRepo(self.tx).person(self.account.staff_id)

    async def linked(self) -> Staff | None:
        """The staff member linked to this account while still in the staff list (active)."""
        person = await self.me()
        return person if person is not None and person.active else None

    async def tell_staff(
        self,
        staff_ids: list[str],
        build: Callable[[Translator], OutMessage],
        **options: Unpack[SendOptions],
    ) -> list[tuple[str, int]]:
        """Queue a message to each registered person, in their own language: [(staff_id, outbox id)]."""
        queued: list[tuple[str, int]] = []
        directory = await self.directory()
        for account in await self.accounts.of_staff_many(staff_ids):
            translator = translator_for(
                self.deps.translations, directory, account.staff_id, account.language
            )
            recipient = Recipient(account.channel, account.chat_ref, account.staff_id)
            row_id = await OutboxRepo(self.tx).enqueue(
                recipient, build(translator), self.now, **options
            )
            queued.append((account.staff_id or "", row_id))
        self.enqueued += len(queued)
        return queued

    async def translator_of(self, staff_id: str | None, chosen: str | None) -> Translator:
        """A recipient's translator by the one rule (`translator_for`)."""
        return translator_for(self.deps.translations, await self.directory(), staff_id, chosen)

    async def send_to(
        self, recipient: Recipient, message: OutMessage, **options: Unpack[SendOptions]
    ) -> int:
        self.enqueued += 1
        return await OutboxRepo(self.tx).enqueue(recipient, message, self.now, **options)


def system_step(deps: Deps, tx: Tx, now: datetime) -> Step:
    """A step taken by the bot itself (a sweep job): actor `system`, default language."""
    account = Account("system", "system", "system", None, None)
    return Step(
        tx,
        Incoming("system", "system", "system"),
        account,
        deps.translations.for_language(None),
        now,
        deps,
    )


async def sweep_due(
    deps: Deps,
    now: datetime,
    find: Callable[[Step], Awaitable[Sequence[T]]],
    handle: Callable[[Step, T], Awaitable[None]],
) -> int:
    """A sweep job's usual shape: an idle tick is one read (no write lock); the due rows are
    handled in one transaction, together with the outbox rows they enqueue."""
    async with deps.db.reading() as tx:
        if not await find(system_step(deps, tx, now)):
            return 0
    async with deps.db.transaction() as tx:
        step = system_step(deps, tx, now)
        due = await find(step)
        for row in due:
            await handle(step, row)
    if step.enqueued:
        deps.wake_outbox()
    return len(due)


class StepRunner:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def run(
        self, who: Incoming, action: Callable[..., Awaitable[T]], *args: object, default: T
    ) -> T:
        """Run `action(step, *args)` as one committed step; `default` for a redelivered update."""
        async with self.begin(who) as step:
            if step is None:
                return default
            return await action(step, *args)

    @asynccontextmanager
    async def begin(self, who: Incoming) -> AsyncIterator[Step | None]:
        """Open one step; yields None when this update was handled before (a redelivery)."""
        deps = self.deps
        step: Step | None = None
        async with deps.db.transaction() as tx:
            now = deps.clock.now()
            start = await open_step(tx, who.channel, who.user_ref, who.update_id, now)
            if not start.claimed:
                yield None
                return
            account = start.account
            if account is None or account.chat_ref != who.chat_ref:
                accounts = AccountsRepo(tx)
                inbound_at = None if who.update_id is None else now
                await accounts.touch(who.channel, who.user_ref, who.chat_ref, inbound_at)
                account = await accounts.get(who.channel, who.user_ref)
            assert account is not None
            directory = None
            if account.staff_id is not None and account.language is None:
                directory = await deps.directory.get(tx, start.directory_version)
            translator = (
                translator_for(
                    deps.translations, directory, account.staff_id, None, who.client_language
                )
                if directory is not None
                else deps.translations.pick(account.language, who.client_language)
            )
            known = {
                (who.channel, who.user_ref): start.conversation
            }  # read in the step's first trip
            step = Step(
                tx,
                who,
                account,
                translator,
                now,
                deps,
                directory_version=start.directory_version,
                read_conversations=ConversationsRepo(tx, known),
                _directory=directory,
            )
            yield step
        if step is not None and step.enqueued:
            deps.wake_outbox()
