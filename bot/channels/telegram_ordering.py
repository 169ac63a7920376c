"""Updates of different people handled concurrently, each person's strictly in order.

While one person's reply is on its way over HTTP, the next person's step can already run; a
person's own updates never overtake each other (their conversation steps depend on order). The
database still commits one step at a time (storage/engine/), so steps stay atomic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[object, asyncio.Lock] = {}
        self._users: dict[object, int] = {}  # updates holding or waiting for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _person(update)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:  # asyncio.Lock wakes waiters first-come, first-served
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key], self._locks[key]

    @property
    def busy_people(self) -> int:
        """People with an update being handled or waiting (0 when idle: nothing is kept)."""
        return len(self._locks)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def _person(update: object) -> object:
    if isinstance(update, Update):
        user = update.effective_user
        if user is not None:
            return ("user", user.id)
        chat = update.effective_chat
        if chat is not None:
            return ("chat", chat.id)
    return ("other", None)  # anything else: one queue, in order
