"""The Zalo channel's own records: the token pair, users' last interaction, uploads, and the
outbox rows held until a person writes again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from storage.engine import Tx, from_db_time, to_db_time
from storage.outbox_repo import HELD_PREFIX

SIGNATURE_ID_KEY = "zalo_signature_id"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime
    generation: int


class ZaloRepo:
    def __init__(self, tx: Tx) -> None:
        self.tx = tx

    # --- tokens ---------------------------------------------------------------------------

    async def tokens(self, tz: tzinfo) -> TokenPair | None:
        row = await self.tx.one(
            "SELECT access_token, refresh_token, expires_at, generation FROM zalo_tokens "
            "WHERE id = 1"
        )
        if row is None:
            return None
        return TokenPair(row[0], row[1], from_db_time(row[2], tz), int(row[3]))

    async def save_tokens(
        self, access: str, refresh: str, expires_at: datetime, now: datetime
    ) -> None:
        """The new pair replaces the old one (the old refresh token is spent)."""
        await self.tx.execute(
            "INSERT INTO zalo_tokens (id, access_token, refresh_token, expires_at, refreshed_at) "
            "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "access_token = excluded.access_token, refresh_token = excluded.refresh_token, "
            "expires_at = excluded.expires_at, refreshed_at = excluded.refreshed_at, "
            "generation = zalo_tokens.generation + 1",
            (access, refresh, to_db_time(expires_at), to_db_time(now)),
        )

    # --- the window -----------------------------------------------------------------------

    async def touch_user(self, user_id: str, now: datetime) -> None:
        """The person interacted (wrote, tapped, followed): their window starts again. Goes
        with the transaction's next trip (nothing reads its outcome)."""
        self.tx.defer(
            "INSERT INTO zalo_users (user_id, last_interaction_at, following) VALUES (?, ?, 1) "
            "ON CONFLICT (user_id) DO UPDATE SET last_interaction_at = excluded.last_interaction_at, "
            "following = 1",
            (user_id, to_db_time(now)),
        )

    async def set_following(self, user_id: str, following: bool) -> None:
        """Following or not, without it counting as an interaction (an unfollow)."""
        self.tx.defer(
            "UPDATE zalo_users SET following = ? WHERE user_id = ?", (int(following), user_id)
        )

    async def window_of(self, user_id: str, tz: tzinfo) -> tuple[datetime | None, bool]:
        """(the person's last interaction, whether they follow the OA); (None, True): unknown."""
        row = await self.tx.one(
            "SELECT last_interaction_at, following FROM zalo_users WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return None, True
        return from_db_time(row[0], tz), bool(row[1])

    # --- uploads --------------------------------------------------------------------------

    async def upload(self, file_key: str, tz: tzinfo) -> tuple[str, datetime] | None:
        row = await self.tx.one(
            "SELECT upload_id, uploaded_at FROM zalo_uploads WHERE file_key = ?", (file_key,)
        )
        return None if row is None else (row[0], from_db_time(row[1], tz))

    async def save_upload(self, file_key: str, kind: str, upload_id: str, now: datetime) -> None:
        await self.tx.execute(
            "INSERT INTO zalo_uploads (file_key, kind, upload_id, uploaded_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (file_key) DO UPDATE SET upload_id = excluded.upload_id, "
            "uploaded_at = excluded.uploaded_at, kind = excluded.kind",
            (file_key, kind, upload_id, to_db_time(now)),
        )

    # --- held messages: outbox rows recorded undeliverable with HELD_PREFIX ------------------

    async def held_rows(self, channel: str, chat_ref: str) -> int:
        return int(
            await self.tx.scalar(
                "SELECT COUNT(*) FROM outbox WHERE channel = ? AND chat_ref = ? "
                "AND status = 'undeliverable' AND error LIKE ?",
                (channel, chat_ref, HELD_PREFIX + "%"),
            )
            or 0
        )

    async def release_held(self, channel: str, chat_ref: str, now: datetime) -> int:
        """The person's held rows due again at once, in their order; how many."""
        return await self.tx.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?, attempts = 0, "
            "error = NULL WHERE channel = ? AND chat_ref = ? AND status = 'undeliverable' "
            "AND error LIKE ?",
            (to_db_time(now), channel, chat_ref, HELD_PREFIX + "%"),
        )

    async def release_held_of_recent(self, channel: str, since: datetime, now: datetime) -> int:
        """The held rows of people who wrote since `since` (and follow the OA) due again at
        once: a hold recorded just after the person's message had released what was held."""
        return await self.tx.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = ?, attempts = 0, "
            "error = NULL WHERE channel = ? AND status = 'undeliverable' AND error LIKE ? "
            "AND chat_ref IN (SELECT user_id FROM zalo_users WHERE following = 1 "
            "AND last_interaction_at >= ?)",
            (to_db_time(now), channel, HELD_PREFIX + "%", to_db_time(since)),
        )

    async def held_users(self, channel: str) -> set[str]:
        rows = await self.tx.all(
            "SELECT DISTINCT chat_ref FROM outbox WHERE channel = ? AND status = 'undeliverable' "
            "AND error LIKE ?",
            (channel, HELD_PREFIX + "%"),
        )
        return {str(r[0]) for r in rows}

    # --- the signature's id ---------------------------------------------------------------

    async def signature_id(self) -> str | None:
        value = await self.tx.scalar("SELECT value FROM meta WHERE key = ?", (SIGNATURE_ID_KEY,))
        return None if value is None else str(value)

    async def settle_signature_id(self, which: str) -> None:
        await self.tx.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (SIGNATURE_ID_KEY, which),
        )

    # --- accounts of the same person on other channels ------------------------------------

    async def staff_of(self, channel: str, user_ref: str) -> str | None:
        value = await self.tx.scalar(
            "SELECT staff_id FROM accounts WHERE channel = ? AND user_ref = ?", (channel, user_ref)
        )
        return None if value is None else str(value)

    async def other_chats(self, staff_id: str, channel: str) -> list[tuple[str, str]]:
        """(channel, chat_ref) of the person's accounts on the other channels."""
        rows = await self.tx.all(
            "SELECT channel, chat_ref FROM accounts WHERE staff_id = ? AND channel <> ? "
            "ORDER BY channel",
            (staff_id, channel),
        )
        return [(str(r[0]), str(r[1])) for r in rows]
