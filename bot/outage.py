"""A loop that keeps going while the database is away says so once, and once when it is back."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class Outage:
    def __init__(self, what: str) -> None:
        self.what = what
        self.down = False

    def failed(self, exc: BaseException) -> None:
        if not self.down:
            self.down = True
            log.error("%s: the database cannot be reached (%s); retrying", self.what, exc)

    def worked(self) -> None:
        if self.down:
            self.down = False
            log.warning("%s: the database is reachable again", self.what)
