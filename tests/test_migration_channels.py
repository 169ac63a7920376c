"""Migration 026 on a database of the version before: accounts, processed update ids and
queued outbox rows all survive, and the new rules hold (one account per person and channel,
text event ids, the channel a message goes to)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.clock import VIETNAM
from bot.outgoing import MenuItem, OutMessage, stored_message
from storage.db import Database
from storage.engine.migrations import migrations
from storage.outbox_repo import OutboxRepo
from storage.repos import AccountsRepo, open_step

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)
OLD_ROW = (
    '{"text": "Chào", "keyboard": [["✈️ Đi", "❓ Trợ giúp"]], '
    '"contact_button": "📱 Chia sẻ số điện thoại"}'
)


def _old_database(path: Path) -> None:
    """The schema up to migration 025, with a Telegram account, a processed update and a
    queued message written in the shapes of then."""
    scripts = migrations("sqlite")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
        for version, sql in scripts:
            if version >= 26:
                continue
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations (version) VALUES (?)", (version,))
        conn.execute(
            "INSERT INTO accounts (channel, user_ref, chat_ref, staff_id, language, linked_at) "
            "VALUES ('telegram', '501', '501', 'TH-003', 'vi', '2021-05-20T01:00:00+00:00')"
        )
        conn.execute(
            "INSERT INTO processed_updates (channel, update_id, processed_at) "
            "VALUES ('telegram', 12345, '2021-05-26T01:00:00+00:00')"
        )
        conn.execute(
            "INSERT INTO outbox (channel, chat_ref, payload, priority, next_attempt_at, "
            "created_at, staff_id) VALUES ('telegram', '501', ?, 5, "
            "'2021-05-26T01:00:00+00:00', '2021-05-26T01:00:00+00:00', 'TH-003')",
            (OLD_ROW,),
        )


async def test_an_old_database_keeps_its_accounts_updates_and_queued_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_database(path)
    db = await Database.open(path)
    try:
        async with db.transaction() as tx:
            accounts = AccountsRepo(tx)
            assert (await accounts.of_staff("TH-003")) is not None
            # the update handled before the upgrade is still known, by its id as text
            again = await open_step(tx, "telegram", "501", 12345, NOW)
            assert not again.claimed
            [row] = await OutboxRepo(tx).due(NOW + timedelta(days=1), 10, set())
        assert row.message == OutMessage(
            "Chào",
            menu=((MenuItem("", "✈️ Đi"), MenuItem("", "❓ Trợ giúp")),),
            ask_phone="📱 Chia sẻ số điện thoại",
        )
        with sqlite3.connect(path) as conn:
            kinds = conn.execute("SELECT DISTINCT typeof(update_id) FROM processed_updates")
            assert kinds.fetchall() == [("text",)]
    finally:
        await db.close()


async def test_a_person_has_one_account_per_channel_and_is_written_to_on_the_last_used(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "new.db")
    try:
        async with db.transaction() as tx:
            accounts = AccountsRepo(tx)
            await accounts.touch("telegram", "501", "501", NOW)
            await accounts.link("telegram", "501", "TH-003", NOW)
            await accounts.touch("zalo", "z-1", "z-1", NOW + timedelta(minutes=1))
            await accounts.link("zalo", "z-1", "TH-003", NOW)
            reached = await accounts.of_staff("TH-003")
            assert reached is not None and reached.channel == "zalo"
            await open_step(tx, "telegram", "501", "u-2", NOW + timedelta(minutes=2))
            reached = await accounts.of_staff("TH-003")
            assert reached is not None and reached.channel == "telegram"
            await accounts.choose_channel("TH-003", "zalo", NOW)
            [many] = await accounts.of_staff_many(["TH-003"])
            assert many.channel == "zalo"
            assert [a.channel for a in await accounts.all_of_staff("TH-003")] == [
                "zalo",
                "telegram",
            ]
            await accounts.touch("telegram", "777", "777")
            with pytest.raises(sqlite3.IntegrityError):
                await accounts.link("telegram", "777", "TH-003", NOW)
    finally:
        await db.close()


def test_a_row_stored_before_menus_named_their_commands_reads_back() -> None:
    import json

    message = stored_message(json.loads(OLD_ROW))
    assert isinstance(message, OutMessage)
    assert [item.label for item in message.menu[0]] == ["✈️ Đi", "❓ Trợ giúp"]
    assert message.ask_phone == "📱 Chia sẻ số điện thoại"
    again = OutMessage.from_json(message.to_json())
    assert again == message
    named = OutMessage("x", menu=((MenuItem("travel", "✈️ Đi"),),), ask_phone="📱")
    assert OutMessage.from_json(named.to_json()) == named
