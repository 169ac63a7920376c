"""Accounts, invites, processed updates, conversation state and the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from storage.engine import Row, Statement, Tx, dumps, from_db_time, to_db_time
from storage.inbox_repo import mark_done_statement


@dataclass(frozen=True, slots=True)
class Account:
    channel: str
    user_ref: str
    chat_ref: str
    staff_id: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    staff_id: str
    used_at: datetime | None
    used_by: str | None


@dataclass(frozen=True, slots=True)
class Conversation:
    flow: str
    step: str
    draft: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    object: str | None
    details: dict[str, Any]


_ACCOUNT_COLUMNS = "channel, user_ref, chat_ref, staff_id, language"
INBOUND_GRAIN = timedelta(minutes=1)  # how exactly an account's last inbound time is kept


class AccountsRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def get(self, channel: str, user_ref: str) -> Account | None:
        row = await self.tx.one(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE channel = ? AND user_ref = ?",
            (channel, user_ref),
        )
        return None if row is None else Account(*row)

    async def of_staff(self, staff_id: str) -> Account | None:
        """The account a message to the person goes to: on the channel they chose (/channel),
        else the one they used last."""
        row = await self.tx.one(
            f"SELECT {_ACCOUNT_COLUMNS} FROM reachable_accounts WHERE staff_id = ?", (staff_id,)
        )
        return None if row is None else Account(*row)

    async def all_of_staff(self, staff_id: str) -> list[Account]:
        """Every account linked to the person, one per channel, the one written to first."""
        first = await self.of_staff(staff_id)
        rows = await self.tx.all(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE staff_id = ? ORDER BY channel",
            (staff_id,),
        )
        return sorted((Account(*r) for r in rows), key=lambda a: a != first)

    async def of_staff_on(self, staff_id: str, channel: str) -> Account | None:
        row = await self.tx.one(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE staff_id = ? AND channel = ?",
            (staff_id, channel),
        )
        return None if row is None else Account(*row)

    async def choose_channel(self, staff_id: str, channel: str, now: datetime) -> None:
        await self.tx.execute(
            "INSERT INTO channel_choices (staff_id, channel, chosen_at) VALUES (?, ?, ?) "
            "ON CONFLICT(staff_id) DO UPDATE SET channel = excluded.channel, "
            "chosen_at = excluded.chosen_at",
            (staff_id, channel, to_db_time(now)),
        )

    async def forget_channel_choice(self, staff_id: str) -> None:
        await self.tx.execute("DELETE FROM channel_choices WHERE staff_id = ?", (staff_id,))

    async def chosen_channel(self, staff_id: str) -> str | None:
        found = await self.tx.scalar(
            "SELECT channel FROM channel_choices WHERE staff_id = ?", (staff_id,)
        )
        return None if found is None else str(found)

    async def of_staff_many(self, staff_ids: list[str]) -> list[Account]:
        found: list[Account] = []
        for start in range(0, len(staff_ids), 500):
            chunk = staff_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self.tx.all(
                f"SELECT {_ACCOUNT_COLUMNS} FROM reachable_accounts WHERE staff_id IN ({marks})",
                chunk,
            )
            found.extend(Account(*r) for r in rows)
        return found

    async def touch(
        self, channel: str, user_ref: str, chat_ref: str, inbound_at: datetime | None = None
    ) -> None:
        """The account exists and writes to `chat_ref`; `inbound_at`: the person just wrote."""
        stamp = None if inbound_at is None else to_db_time(inbound_at)
        await self.tx.execute(
            "INSERT INTO accounts (channel, user_ref, chat_ref, last_inbound_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(channel, user_ref) DO UPDATE SET chat_ref = excluded.chat_ref, "
            "last_inbound_at = COALESCE(excluded.last_inbound_at, accounts.last_inbound_at)",
            (channel, user_ref, chat_ref, stamp),
        )

    async def link(self, channel: str, user_ref: str, staff_id: str, now: datetime) -> None:
        await self.tx.execute(
            "UPDATE accounts SET staff_id = ?, linked_at = ? WHERE channel = ? AND user_ref = ?",
            (staff_id, to_db_time(now), channel, user_ref),
        )

    async def set_language(self, channel: str, user_ref: str, language: str) -> None:
        await self.tx.execute(
            "UPDATE accounts SET language = ? WHERE channel = ? AND user_ref = ?",
            (language, channel, user_ref),
        )


class InvitesRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def create_many(self, codes: list[tuple[str, str]], now: datetime) -> None:
        await self.tx.executemany(
            "INSERT INTO invites (code, staff_id, created_at) VALUES (?, ?, ?)",
            [(code, staff_id, to_db_time(now)) for code, staff_id in codes],
        )

    async def get(self, code: str, tz: tzinfo) -> Invite | None:
        row = await self.tx.one(
            "SELECT code, staff_id, used_at, used_by FROM invites WHERE code = ?", (code,)
        )
        if row is None:
            return None
        return Invite(row[0], row[1], from_db_time(row[2], tz), row[3])

    async def use(self, code: str, used_by: str, now: datetime) -> bool:
        """Mark the invite used; False if somebody used it first."""
        changed = await self.tx.execute(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE code = ? AND used_at IS NULL",
            (to_db_time(now), used_by, code),
        )
        return changed == 1

    async def open_codes(self) -> dict[str, str]:
        rows = await self.tx.all("SELECT staff_id, code FROM invites WHERE used_at IS NULL")
        return {r[0]: r[1] for r in rows}


@dataclass(frozen=True, slots=True)
class StepStart:
    claimed: bool  # False when the update was handled before (a redelivery)
    account: Account | None
    directory_version: int
    conversation: Conversation | None = None


async def open_step(
    tx: Tx, channel: str, user_ref: str, update_id: str | int | None, now: datetime
) -> StepStart:
    """What every step reads first, in one trip: the update claimed (and its inbox row done), the
    account (its last inbound time set: a person's event), the directory version and the
    conversation."""
    event_id = None if update_id is None else str(update_id)

    statements: list[Statement] = []
    if event_id is not None:  # the inbox row is done when (and only if) this step commits
        statements += [
            mark_done_statement(channel, event_id, now),
            (
                "INSERT INTO processed_updates (channel, update_id, processed_at) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (channel, event_id, to_db_time(now)),
            ),
            (  # a person's event, to the minute (most steps then write nothing); only when claimed
                "UPDATE accounts SET last_inbound_at = ? WHERE channel = ? AND user_ref = ? "
                "AND (last_inbound_at IS NULL OR last_inbound_at < ?) AND EXISTS (SELECT 1 FROM "
                "processed_updates WHERE channel = ? AND update_id = ? AND processed_at = ?)",
                (to_db_time(now), channel, user_ref, to_db_time(now - INBOUND_GRAIN),
                 channel, event_id, to_db_time(now)),
            ),
        ]  # fmt: skip
    # Read along in the same trip; unused when the update was handled before.
    statements += [
        (
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE channel = ? AND user_ref = ?",
            (channel, user_ref),
        ),
        ("SELECT value FROM meta WHERE key = 'directory_version'", ()),
        (
            "SELECT flow, step, draft FROM conversations WHERE channel = ? AND user_ref = ?",
            (channel, user_ref),
        ),
    ]
    *claim, account, version, conversation = await tx.batch(statements)
    if claim and claim[1].rowcount != 1:
        return StepStart(False, None, 0)
    return StepStart(
        True,
        Account(*account.rows[0]) if account.rows else None,
        int(version.rows[0][0]) if version.rows else 0,
        _conversation(conversation.rows[0] if conversation.rows else None),
    )


class ConversationsRepo:
    """Where a person is in a conversation. Within one step, what it read or wrote is kept in
    `known`, and writes go with the step's next trip (Tx.defer)."""

    def __init__(
        self, tx: Tx, known: dict[tuple[str, str], Conversation | None] | None = None
    ) -> None:
        self.tx = tx
        self._known = {} if known is None else known

    async def get(self, channel: str, user_ref: str) -> Conversation | None:
        key = (channel, user_ref)
        if key not in self._known:
            row = await self.tx.one(
                "SELECT flow, step, draft FROM conversations WHERE channel = ? AND user_ref = ?",
                key,
            )
            self._known[key] = _conversation(row)
        return self._known[key]

    async def set(
        self, channel: str, user_ref: str, conversation: Conversation, now: datetime
    ) -> None:
        self._known[(channel, user_ref)] = conversation
        self.tx.defer(
            "INSERT INTO conversations (channel, user_ref, flow, step, draft, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, user_ref) DO UPDATE SET "
            "flow = excluded.flow, step = excluded.step, draft = excluded.draft, "
            "updated_at = excluded.updated_at",
            (
                channel,
                user_ref,
                conversation.flow,
                conversation.step,
                dumps(conversation.draft),
                to_db_time(now),
            ),
        )

    async def clear(self, channel: str, user_ref: str) -> None:
        self._known[(channel, user_ref)] = None
        self.tx.defer(
            "DELETE FROM conversations WHERE channel = ? AND user_ref = ?", (channel, user_ref)
        )


def _conversation(row: Row | None) -> Conversation | None:
    return None if row is None else Conversation(row[0], row[1], json.loads(row[2]))


class AuditRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    async def append(
        self,
        now: datetime,
        actor: str,
        action: str,
        obj: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.tx.defer(
            "INSERT INTO audit_log (at, actor, action, object, details) VALUES (?, ?, ?, ?, ?)",
            (to_db_time(now), actor, action, obj, dumps(details or {})),
        )

    async def append_many(self, now: datetime, actor: str, entries: list[tuple[str, str]]) -> None:
        """Many (action, object) entries by one actor at one time: a sweep's batch."""
        stamp = to_db_time(now)
        await self.tx.executemany(
            "INSERT INTO audit_log (at, actor, action, object, details) VALUES (?, ?, ?, ?, '{}')",
            [(stamp, actor, action, obj) for action, obj in entries],
        )

    async def recent(
        self, tz: tzinfo, action: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        where, params = ("WHERE action = ?", (action, limit)) if action else ("", (limit,))
        rows = await self.tx.all(
            f"SELECT at, actor, action, object, details FROM audit_log {where} "
            "ORDER BY id DESC LIMIT ?",
            params,
        )
        return [
            AuditEntry(from_db_time(r[0], tz), r[1], r[2], r[3], json.loads(r[4])) for r in rows
        ]
