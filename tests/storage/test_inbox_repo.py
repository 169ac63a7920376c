"""storage/inbox_repo.py: updates kept once, in arrival order, done with the step they caused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.engine import Database
from storage.inbox_repo import InboxRepo
from storage.repos import open_step

NOW = datetime(2021, 5, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def db(database: Database) -> Database:
    return database


async def _open_ids(db: Database) -> list[str]:
    async with db.reading() as tx:
        return [row.update_id for row in await InboxRepo(tx).open_rows("telegram")]


async def test_each_update_is_kept_once_in_arrival_order(db: Database) -> None:
    async with db.transaction() as tx:
        fresh = await InboxRepo(tx).store("telegram", [("9", "{}"), ("10", "{}"), ("9", "{}")], NOW)
    assert fresh == ["9", "10"]
    async with db.transaction() as tx:
        assert await InboxRepo(tx).store("telegram", [("10", "{}"), ("11", "{}")], NOW) == ["11"]
        assert await InboxRepo(tx).store("zalo", [("10", "{}")], NOW) == ["10"]  # per channel
    assert await _open_ids(db) == ["9", "10", "11"]


async def test_the_step_marks_its_row_done_and_a_failed_step_leaves_it_open(db: Database) -> None:
    async with db.transaction() as tx:
        await InboxRepo(tx).store("telegram", [("5", "{}"), ("6", "{}")], NOW)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await open_step(tx, "telegram", "42", 5, NOW)
            raise RuntimeError("the step failed")
    assert await _open_ids(db) == ["5", "6"]
    async with db.transaction() as tx:
        assert (await open_step(tx, "telegram", "42", 5, NOW)).claimed
    assert await _open_ids(db) == ["6"]
    async with db.transaction() as tx:
        await InboxRepo(tx).mark_done_many("telegram", ["5", "6"], NOW)
        assert await InboxRepo(tx).is_done("telegram", "6")
    assert await _open_ids(db) == []


async def test_attempts_are_counted_and_a_row_given_up_is_not_open(db: Database) -> None:
    async with db.transaction() as tx:
        repo = InboxRepo(tx)
        await repo.store("telegram", [("7", "{}")], NOW)
        assert await repo.count_attempt("telegram", "7") == 1
        assert await repo.count_attempt("telegram", "7") == 2
        await repo.give_up("telegram", "7", NOW)
        await repo.mark_done_many("telegram", ["7"], NOW)  # stays 'failed'
        outcome = await tx.scalar("SELECT outcome FROM inbox WHERE update_id = '7'")
    assert outcome == "failed" and await _open_ids(db) == []


async def test_the_last_id_is_only_trusted_while_recent(db: Database) -> None:
    async with db.transaction() as tx:
        await InboxRepo(tx).store("telegram", [("100", "{}"), ("101", "{}")], NOW)
    async with db.reading() as tx:
        repo = InboxRepo(tx)
        assert await repo.last_update_id("telegram", NOW - timedelta(days=6)) == "101"
        assert await repo.last_update_id("telegram", NOW + timedelta(seconds=1)) is None
        assert await repo.last_update_id("zalo", NOW - timedelta(days=6)) is None


async def test_a_done_update_keeps_its_id_but_not_what_the_person_wrote(db: Database) -> None:
    said = '{"message": {"text": "Sốt 38,5, ho", "contact": {"phone_number": "0912000111"}}}'
    async with db.transaction() as tx:
        await InboxRepo(tx).store("telegram", [("7", said), ("8", said), ("9", said)], NOW)
    async with db.transaction() as tx:
        assert (await open_step(tx, "telegram", "42", "7", NOW)).claimed
        await InboxRepo(tx).mark_done_many("telegram", ["8"], NOW)
    async with db.reading() as tx:
        bodies = await tx.all("SELECT update_id, body FROM inbox ORDER BY seq")
    assert [tuple(row) for row in bodies] == [("7", ""), ("8", ""), ("9", said)]
    async with db.transaction() as tx:  # the id stays: the same update again is recognised
        assert await InboxRepo(tx).store("telegram", [("7", said)], NOW) == []
