"""This process among the bot's instances on one database (README "Several instances").

Work that must run on one instance at a time is held by a lease (storage/leases_repo.py): the
sweep, the outbox sender, each person's inbox rows. Every instance beats once a second: it renews
every lease it holds (one statement) and tries to take the named leases it wants (the sweep, the
sender) when their holder stopped renewing them. A holder trusts its lease for two thirds of its
length after the last renewal that went through, so it stops working before another instance may
take over, even with the instances' clocks a second or two apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.domain.clock import Clock
from bot.outage import Outage
from storage.engine import Database
from storage.leases_repo import LeasesRepo

log = logging.getLogger(__name__)

SWEEP = "sweep"
OUTBOX = "outbox"
TRUSTED_PART = 2 / 3  # of a lease's length, after its last renewal, that its holder works on it


def default_name(port: int) -> str:
    """This machine and its webhook port: a restart on the same machine takes its own leases back
    at once (the previous process is gone: the port was free), while another machine or port
    waits for them to expire."""
    return f"{socket.gethostname()}:{port}"


class Instance:
    def __init__(
        self,
        db: Database,
        name: str,
        wall: Clock,
        lease_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.name = name
        self.wall = wall
        self.lease = timedelta(seconds=lease_seconds)
        self.beat_seconds = lease_seconds / 6
        self._monotonic = monotonic
        self._wanted: dict[str, Callable[[], None]] = {}  # lease -> what to do when taken
        self._trusted_until: dict[str, float] = {}
        self._stopped = asyncio.Event()
        self._outage = Outage(f"instance {name}")

    def want(self, lease: str, on_taken: Callable[[], None] = lambda: None) -> None:
        """Hold `lease` whenever nobody else does; `on_taken` runs each time it is taken."""
        self._wanted[lease] = on_taken

    def holds(self, lease: str) -> bool:
        return self._trusted_until.get(lease, 0.0) > self._monotonic()

    def now(self) -> datetime:
        return self.wall.now()

    def expiry(self) -> datetime:
        """When a lease taken or renewed now expires."""
        return self.wall.now() + self.lease

    async def beat(self) -> None:
        """Renew what is held, take what is wanted and free."""
        started = self._monotonic()
        now = self.wall.now()
        until = now + self.lease
        taken: dict[str, bool] = {}
        async with self.db.transaction() as tx:
            leases = LeasesRepo(tx)
            await leases.renew_all(self.name, until)
            for lease in self._wanted:
                taken[lease] = await leases.take(lease, self.name, now, until)
        trusted = started + self.lease.total_seconds() * TRUSTED_PART
        for lease, ok in taken.items():
            held_before = self.holds(lease)
            self._trusted_until[lease] = trusted if ok else 0.0
            if ok and not held_before:
                log.info("instance %s holds the %s lease", self.name, lease)
                self._wanted[lease]()

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                await self.beat()
                self._outage.worked()
            except Exception as exc:  # the database away: keep beating, work stops meanwhile
                self._outage.failed(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.beat_seconds)

    async def stop(self) -> None:
        """Hand every lease over at once (a clean stop): the others need not wait for expiry."""
        self._stopped.set()
        self._trusted_until.clear()
        with contextlib.suppress(Exception):
            async with self.db.transaction() as tx:
                await LeasesRepo(tx).release_all(self.name)
