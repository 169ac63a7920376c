"""Telling the admins that something broke, at most once per interval, and apologising."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.models import BuiltinRole
from bot.outgoing import OutMessage
from bot.services.kernel.step import Deps, Incoming, translator_for
from storage.directory_repo import DirectoryRepo
from storage.outbox_repo import OutboxRepo, Recipient
from storage.repos import AccountsRepo


class AdminAlerts:
    def __init__(self, deps: Deps, interval: timedelta) -> None:
        self.deps = deps
        self.interval = interval
        self._last_sent: datetime | None = None
        self.suppressed = 0

    async def report(self, summary: str) -> bool:
        """Queue an alert to every admin unless one went out within the interval."""
        now = self.deps.clock.now()
        if self._last_sent is not None and now - self._last_sent < self.interval:
            self.suppressed += 1
            return False
        self._last_sent = now
        suppressed, self.suppressed = self.suppressed, 0
        async with self.deps.db.transaction() as tx:
            admins = await DirectoryRepo(tx).staff_ids_with_role(BuiltinRole.ADMIN)
            directory = await self.deps.directory.get(tx)
            for account in await AccountsRepo(tx).of_staff_many(admins):
                t = translator_for(
                    self.deps.translations, directory, account.staff_id, account.language
                )
                text = t._("⚠️ khaibao error: {summary}", summary=summary[:500])
                if suppressed:
                    text += "\n" + t._(
                        "({n} more errors were not reported separately.)", n=suppressed
                    )
                recipient = Recipient(account.channel, account.chat_ref, account.staff_id)
                await OutboxRepo(tx).enqueue(
                    recipient, OutMessage(text), now, priority=1, purpose="admin_alert"
                )
        self.deps.wake_outbox()
        return True

    def apology(self, who: Incoming, *, received: bool) -> OutMessage:
        """`received`: what they sent took effect and only answering them failed; otherwise it
        was tried a few times and given up."""
        t = self.deps.translations.pick(None, who.client_language)
        if received:
            return OutMessage(
                t._(
                    "Sorry, something went wrong on our side while answering you. "
                    "What you sent was received."
                )
            )
        return OutMessage(
            t._(
                "Sorry, something went wrong on our side and what you sent could not be handled. "
                "Please send it again in a moment."
            )
        )
