"""Faults a test asks the sandbox Bot API to make: error answers and slow answers, per method."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol, TypeVar

from bot.sandbox.model import BLOCKED, JSON, SEND_METHODS, ApiError, too_many_requests


class Countdown(Protocol):
    remaining: int


T = TypeVar("T", bound=Countdown)


@dataclass
class Fault:
    method: str
    status: int
    remaining: int
    retry_after: int | None = None
    description: str | None = None
    chat_id: int | None = None


@dataclass
class Delay:
    method: str
    seconds: float
    remaining: int


def take(entries: list[T], matches: Callable[[T], bool]) -> T | None:
    """The first entry that matches, using up one of its `remaining` uses."""
    for entry in entries:
        if matches(entry):
            entry.remaining -= 1
            if entry.remaining <= 0:
                entries.remove(entry)
            return entry
    return None


def injected_error(status: int, retry_after: int | None, description: str | None) -> ApiError:
    if status == 429:
        return too_many_requests(retry_after or 1, description)
    defaults = {400: "Bad Request", 403: BLOCKED, 500: "Internal Server Error"}
    try:
        fallback = defaults.get(status) or HTTPStatus(status).phrase
    except ValueError:
        fallback = "Error"
    return ApiError(status, description or fallback)


RANDOM_KINDS = ("429", "500", "502", "stall")
JITTER_VARIABLE = "SANDBOX_SEND_JITTER"


class SendJitter:
    """Each send waits a random 0 to `seconds` before it is taken, as a real network varies:
    two senders racing for one chat (a direct reply and the outbox) then arrive in either order,
    which a localhost fake otherwise hides. Off unless SANDBOX_SEND_JITTER (seconds) is set."""

    def __init__(self, seconds: float | None = None, seed: int | None = None) -> None:
        self.seconds = jitter_from_environment() if seconds is None else seconds
        self._rng = random.Random(seed)

    async def wait(self, stopping: asyncio.Event) -> None:
        if self.seconds > 0:
            try:
                await asyncio.wait_for(stopping.wait(), self._rng.random() * self.seconds)
            except TimeoutError:
                return


def jitter_from_environment() -> float:
    raw = os.environ.get(JITTER_VARIABLE, "").strip()
    try:
        seconds = float(raw) if raw else 0.0
    except ValueError:
        raise ValueError(f"{JITTER_VARIABLE}={raw!r}: a number of seconds, e.g. 0.05") from None
    if not 0 <= seconds <= 5:
        raise ValueError(f"{JITTER_VARIABLE}={raw!r}: between 0 and 5 seconds")
    return seconds


@dataclass
class RandomFaults:
    """A share of the calls to `methods` faulted at random, one of RANDOM_KINDS each."""

    share: float
    stall_seconds: float
    retry_after: int
    rng: random.Random
    methods: frozenset[str]
    made: dict[str, int]


class Faults:
    """The faults still to make, used up one call at a time."""

    def __init__(self, stopping: asyncio.Event) -> None:
        self._faults: list[Fault] = []
        self._delays: list[Delay] = []
        self._stopping = stopping
        self._random: RandomFaults | None = None
        self.jitter = SendJitter()

    def fault_share(
        self,
        share: float,
        *,
        stall_seconds: float = 6.0,
        retry_after: int = 1,
        seed: int = 0,
        methods: frozenset[str] = SEND_METHODS,
    ) -> dict[str, int]:
        """From now on, `share` of the calls to `methods` are faulted, as Telegram does on a bad
        day: a 429 (retry_after), a 500, a 502, or a stall of `stall_seconds` after which the
        call goes ahead (the client may have given up: what it sends again arrives twice).
        Returns the live count of faults made, per kind."""
        made = dict.fromkeys(RANDOM_KINDS, 0)
        self._random = RandomFaults(
            share, stall_seconds, retry_after, random.Random(seed), methods, made
        )
        return made

    async def apply_random(self, method: str) -> None:
        chosen = self._random
        if chosen is None or method not in chosen.methods or chosen.rng.random() >= chosen.share:
            return
        kind = chosen.rng.choice(RANDOM_KINDS)
        chosen.made[kind] += 1
        if kind == "stall":
            await self._stall(chosen.stall_seconds)
        elif kind == "429":
            raise too_many_requests(chosen.retry_after)
        else:
            raise injected_error(int(kind), None, None)

    async def _stall(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return
        raise ApiError(500, "Internal Server Error")

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        self._faults.append(Fault(method, status, count, retry_after, description, chat_id))

    def delay_next(self, method: str, seconds: float, count: int = 1) -> None:
        self._delays.append(Delay(method, seconds, count))

    async def apply_jitter(self, method: str) -> None:
        if method in SEND_METHODS:
            await self.jitter.wait(self._stopping)

    async def apply_delay(self, method: str) -> None:
        delay = take(self._delays, lambda entry: entry.method == method)
        if delay is None:
            return
        try:
            await asyncio.wait_for(self._stopping.wait(), delay.seconds)
        except TimeoutError:
            return  # the delay ran out: the call goes ahead, whether the client still waits or not
        raise ApiError(500, "Internal Server Error")  # stopped mid-delay: the call never happened

    def apply_fault(self, method: str, params: JSON) -> None:
        def matches(fault: Fault) -> bool:
            return fault.method == method and fault.chat_id in (None, params.get("chat_id"))

        fault = take(self._faults, matches)
        if fault is not None:
            raise injected_error(fault.status, fault.retry_after, fault.description)
