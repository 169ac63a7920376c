"""The Zalo token pair refreshed by one instance at a time (README "Several instances"): the
refresh token is single-use, and the sandbox OA (tests/fakezalo) refuses it presented twice, as
Zalo does. Two instances' token keepers on one database race for a due refresh."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.channels.zalo.api import REFRESH_LEASE, ZaloApi, ZaloConfig
from bot.domain.clock import VIETNAM, ManualClock
from storage.engine import Database, to_db_time
from storage.leases_repo import LeasesRepo
from storage.zalo_repo import ZaloRepo
from tests.fakezalo import APP_ID, APP_SECRET, FakeZaloOA

START = datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM)


@pytest.fixture
async def oa() -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA()
    await fake.start()
    yield fake
    await fake.stop()


def instance_api(oa: FakeZaloOA, database: Database, first: str, told: list[str]) -> ZaloApi:
    """One instance's Zalo API client: its own tokens object, the shared database."""

    async def refused(reason: str) -> None:
        told.append(reason)

    config = ZaloConfig(APP_ID, APP_SECRET, first, oa.base_url, oa.base_url, 3600)
    return ZaloApi(config, database, ManualClock(START), on_token_refused=refused)


async def test_two_instances_due_for_a_refresh_at_once_refresh_once_and_share_the_pair(
    oa: FakeZaloOA, database: Database
) -> None:
    """The first refresh is slow to come back; the other instance, due at the same moment,
    waits for it and reads the new pair from the database instead of spending the token
    again (which Zalo would refuse: every send stops until an admin gives a new token)."""
    _, first = oa.issue_tokens()
    told: list[str] = []
    apis = [instance_api(oa, database, first, told) for _ in range(2)]
    oa.delay_next("access_token", 1.0)
    try:
        tokens = await asyncio.gather(*(api.tokens.current() for api in apis))
        assert tokens[0] == tokens[1]
        stats = oa.stats()
        assert stats["refreshes"] == 1 and stats["refresh_reuses"] == 0, stats
        assert told == []  # no admin told of a refused refresh
        async with database.reading() as tx:
            pair = await ZaloRepo(tx).tokens(VIETNAM)
            lease = await tx.scalar("SELECT COUNT(*) FROM leases WHERE name = ?", (REFRESH_LEASE,))
        assert pair is not None and pair.access_token == tokens[0]
        assert lease == 0  # given back
        oa.expire_access_tokens()  # and again, both refused the access token at once (-216)
        renewed = await asyncio.gather(*(api.tokens.refresh(tokens[0]) for api in apis))
        assert renewed[0].access_token == renewed[1].access_token != tokens[0]
        assert oa.stats()["refreshes"] == 2 and oa.stats()["refresh_reuses"] == 0
    finally:
        for api in apis:
            await api.close()


async def test_a_refresher_that_died_holding_the_lease_holds_the_others_only_until_it_expires(
    oa: FakeZaloOA, database: Database
) -> None:
    """The lease of an instance killed mid-refresh runs out; then another refreshes."""
    _, first = oa.issue_tokens()
    now = datetime.now(VIETNAM)
    async with database.transaction() as tx:
        assert await LeasesRepo(tx).take(REFRESH_LEASE, "dead", now, now + timedelta(seconds=1))
    told: list[str] = []
    api = instance_api(oa, database, first, told)
    try:
        token = await asyncio.wait_for(api.tokens.current(), timeout=10)
        assert oa.stats()["refreshes"] == 1 and told == []
        async with database.reading() as tx:
            expired = await tx.scalar(
                "SELECT COUNT(*) FROM leases WHERE name = ? AND expires_at > ?",
                (REFRESH_LEASE, to_db_time(datetime.now(VIETNAM))),
            )
        assert token and expired == 0
    finally:
        await api.close()
