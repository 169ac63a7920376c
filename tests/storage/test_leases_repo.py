"""storage/leases_repo.py and the inbox's claims: one holder at a time, free again on expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.engine import Database
from storage.inbox_repo import InboxRepo
from storage.leases_repo import Lease, LeasesRepo, person_lease, sweeping_alone

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=6)


async def _take(db: Database, holder: str, now: datetime) -> bool:
    async with db.transaction() as tx:
        return await LeasesRepo(tx).take("sweep", holder, now, now + timedelta(seconds=6))


async def test_a_lease_is_one_holders_until_it_expires_unless_renewed(database: Database) -> None:
    assert await _take(database, "web-1", NOW)
    assert await _take(database, "web-1", NOW + timedelta(seconds=1))  # its own: renewed
    assert not await _take(database, "web-2", NOW + timedelta(seconds=2))
    async with database.transaction() as tx:
        assert await LeasesRepo(tx).renew_all("web-1", NOW + timedelta(seconds=10)) == 1
    assert not await _take(database, "web-2", LATER)  # renewed past it
    assert await _take(database, "web-2", NOW + timedelta(seconds=10))  # expired: taken over
    assert not await _take(database, "web-1", NOW + timedelta(seconds=11))


async def test_a_clean_stop_hands_every_lease_over_at_once(database: Database) -> None:
    assert await _take(database, "web-1", NOW)
    async with database.transaction() as tx:
        await LeasesRepo(tx).release_all("web-1")
    assert await _take(database, "web-2", NOW + timedelta(seconds=1))


async def test_two_instances_racing_for_a_free_lease_never_both_get_it(database: Database) -> None:
    results = await asyncio.gather(*(_take(database, f"web-{n}", NOW) for n in range(5)))
    assert sorted(results) == [False] * 4 + [True]


async def test_stored_updates_are_handled_by_their_persons_lease_holder_only(
    database: Database,
) -> None:
    """The instance that stores an update takes its person's lease when free and reads that
    person's open rows in arrival order; another instance stores but reads nothing of theirs."""
    people = {"1": "user:7", "2": "user:8"}
    mine = Lease("web-1", NOW, LATER)
    async with database.transaction() as tx:
        fresh, rows = await InboxRepo(tx).store_and_take(
            "telegram", [("1", "{}"), ("2", "{}")], NOW, people, mine
        )
    assert fresh == ["1", "2"] and [r.update_id for r in rows] == ["1", "2"]
    other = Lease("web-2", NOW, LATER)
    async with database.transaction() as tx:
        fresh, rows = await InboxRepo(tx).store_and_take(
            "telegram", [("3", "{}")], NOW, {"3": "user:7"}, other
        )
    assert fresh == ["3"] and rows == []  # user:7 is web-1's: left to it
    async with database.transaction() as tx:
        left = await InboxRepo(tx).finish_and_look("telegram", ["1"], NOW, ["user:7"], "web-1")
    assert [r.update_id for r in left] == ["3"]  # web-1 gave user:7 up, then saw the new row
    async with database.reading() as tx:
        picked = await InboxRepo(tx).people_to_pick_up("telegram", "web-2", LATER)
    assert sorted(picked) == ["user:7", "user:8"]  # user:7 free, user:8's lease expired
    async with database.transaction() as tx:
        assert await LeasesRepo(tx).take(
            person_lease("telegram", "user:8"), "web-2", LATER, LATER + timedelta(seconds=6)
        )


async def test_one_sweep_tick_at_a_time_across_connections(database: Database) -> None:
    async with sweeping_alone(database) as first:
        assert first
        if database.dialect.try_lock_sql is not None:  # SQLite: its write lock serialises instead
            async with sweeping_alone(database) as second:
                assert not second
    async with sweeping_alone(database) as again:
        assert again
