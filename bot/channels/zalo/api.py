"""The OA Open API over HTTP: the `access_token` header, errors as HTTP 200 with a code, the
token pair kept fresh, and a cap on requests per minute for the whole app.

Tokens: the access token lives 25 h and is refreshed when less than `REFRESH_AHEAD` is left, by
one refresh at a time. The refresh token is single-use: the new pair is committed to the
database in one transaction before either is used, so a crash right after a refresh loses
nothing (the spent token is never tried again). One refresh at a time across instances too: the
refresher holds a lease (storage/leases_repo.py); the others wait for it and read the new pair
from the database (two refreshes with the same token: Zalo refuses the second, and a refused
refresh stops every send until an admin gives a new token). `-216`/`-220`/`-124` refresh once and retry.
A refused refresh is told to the admins (once) and every send waits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp

from bot import redaction
from bot.channels.port import RetryLater, Transient
from bot.channels.zalo.errors import ErrorClass, TokenRefused, ZaloApiError
from bot.clock import SystemClock
from bot.domain.clock import Clock
from storage.engine import Database
from storage.leases_repo import LeasesRepo
from storage.zalo_repo import TokenPair, ZaloRepo

log = logging.getLogger(__name__)

JSON = dict[str, Any]
REFRESH_AHEAD = timedelta(hours=5)  # refresh at about 20 h of the 25
REFRESH_LEASE = "zalo:token-refresh"  # held by the instance refreshing (leases table)
REFRESH_WAIT_STEP = 0.2  # seconds between looks while another instance refreshes
DEFAULT_LIFETIME = timedelta(seconds=90_000)
TOKEN_REFUSED_PAUSE = 300.0


@dataclass(frozen=True, slots=True)
class ZaloConfig:
    app_id: str
    app_secret: str
    first_refresh_token: str
    api_base: str
    oauth_base: str
    requests_per_minute: int
    timeout: float = 15.0


class MinuteCap:
    """At most `limit` requests in any 60 s: a safety cap under the outbox's own pace, which
    also covers uploads and token refreshes."""

    WINDOW = 60.0

    def __init__(
        self,
        limit: int,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limit = limit
        self._monotonic = monotonic
        self._sleep = sleep
        self._recent: deque[float] = deque()

    async def acquire(self) -> None:
        while True:
            now = self._monotonic()
            while self._recent and self._recent[0] <= now - self.WINDOW:
                self._recent.popleft()
            if len(self._recent) < self.limit:
                self._recent.append(now)
                return
            await self._sleep(self._recent[0] + self.WINDOW - now + 0.001)


class Tokens:
    """The OA's token pair, from the database (or the first refresh token of the settings)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: ZaloConfig,
        post_form: Callable[[str, dict[str, str], dict[str, str]], Awaitable[JSON]],
        on_refused: Callable[[str], Awaitable[None]] | None = None,
        wall: Clock | None = None,
    ) -> None:
        """`wall`: the real clock the refresh lease is timed by (the instances' leases are)."""
        self._db = db
        self._wall = wall or SystemClock()
        self._holder = f"zalo-tokens-{uuid.uuid4().hex[:12]}"  # this object, among instances
        # longer than a refresh can take (its request times out first), shorter than a wait
        # anyone would notice should the refresher die holding it
        self._lease_length = timedelta(seconds=max(30.0, 2 * config.timeout))
        self._clock = clock
        self._config = config
        self._post_form = post_form
        self._on_refused = on_refused
        self._lock = asyncio.Lock()
        self._pair: TokenPair | None = None
        self._refused = False
        self._tried_first = ""  # ZALO_REFRESH_TOKEN tried after the saved token was refused

    async def current(self) -> str:
        """An access token with time left; refreshed first when it is due."""
        pair = self._pair or await self._load()
        if pair is None or pair.expires_at - self._clock.now() < REFRESH_AHEAD:
            pair = await self.refresh(pair.access_token if pair else None)
        return pair.access_token

    async def refresh(self, stale: str | None) -> TokenPair:
        """One refresh at a time: a caller that waited finds the pair renewed by the first.
        The pair is read from the database first: another instance may have renewed it."""
        async with self._lock:
            pair = await self._load() or self._pair
            if pair is not None and self._renewed_meanwhile(pair, stale):
                return pair
            renewed = await self._take_refresh_lease(stale)
            if renewed is not None:
                return renewed
            try:
                pair = await self._load() or self._pair
                if pair is not None and self._renewed_meanwhile(pair, stale):
                    return pair  # renewed elsewhere just before the lease was taken
                return await self._refresh_now(pair)
            finally:
                await self._give_back_lease()

    async def _take_refresh_lease(self, stale: str | None) -> TokenPair | None:
        """Wait for the refresh lease: None once it is taken, or the pair another instance
        renewed while this one waited."""
        while True:
            now = self._wall.now()
            async with self._db.transaction() as tx:
                until = now + self._lease_length
                if await LeasesRepo(tx).take(REFRESH_LEASE, self._holder, now, until):
                    return None
            await asyncio.sleep(REFRESH_WAIT_STEP)
            pair = await self._load()
            if pair is not None and self._renewed_meanwhile(pair, stale):
                return pair

    async def _give_back_lease(self) -> None:
        try:
            async with self._db.transaction() as tx:
                await LeasesRepo(tx).release(REFRESH_LEASE, self._holder)
        except Exception as exc:  # the database away: the lease expires by itself
            log.warning("Zalo token refresh lease not given back (%s)", exc)

    async def _refresh_now(self, pair: TokenPair | None) -> TokenPair:
        """The refresh itself, this instance holding the refresh lease."""
        used = pair.refresh_token if pair else self._config.first_refresh_token
        answer = await self._exchange_or_first(used)
        if _refused(answer):
            latest = await self._load()
            if latest is not None and latest.refresh_token != used:
                return latest  # another instance spent the token first: its pair stands
            reason = str(answer.get("error_description") or answer.get("message") or answer)
            await self._refused_now(reason[:200])
        return await self._keep(answer, pair)

    async def _exchange_or_first(self, refresh_token: str) -> JSON:
        """The refresh; when the saved token is refused, a new ZALO_REFRESH_TOKEN the admin put
        in (tried once)."""
        if not refresh_token:
            await self._refused_now("no refresh token (ZALO_REFRESH_TOKEN is empty)")
        answer = await self._exchange(refresh_token)
        first = self._config.first_refresh_token
        if _refused(answer) and first and first not in (refresh_token, self._tried_first):
            self._tried_first = first
            answer = await self._exchange(first)
        return answer

    async def _keep(self, answer: JSON, before: TokenPair | None) -> TokenPair:
        """The new pair committed before either token is used."""
        access, renewed = str(answer["access_token"]), str(answer["refresh_token"])
        redaction.install([access, renewed])
        now = self._clock.now()
        expires = now + _lifetime(answer.get("expires_in"))
        async with self._db.transaction() as tx:
            await ZaloRepo(tx).save_tokens(access, renewed, expires, now)
        generation = (before.generation if before else 0) + 1
        self._pair = TokenPair(access, renewed, expires, generation)
        self._refused = False
        log.info("Zalo access token refreshed; valid until %s", expires.isoformat())
        return self._pair

    async def _exchange(self, refresh_token: str) -> JSON:
        return await self._post_form(
            f"{self._config.oauth_base.rstrip('/')}/v4/oa/access_token",
            {"secret_key": self._config.app_secret},
            {
                "app_id": self._config.app_id,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
        )

    def _renewed_meanwhile(self, pair: TokenPair, stale: str | None) -> bool:
        """`stale` None: the caller only found the token due; else the token it was refused."""
        if stale is not None:
            return pair.access_token != stale
        return pair.expires_at - self._clock.now() >= REFRESH_AHEAD

    async def _load(self) -> TokenPair | None:
        async with self._db.reading() as tx:
            pair = await ZaloRepo(tx).tokens(self._clock.tz)
        if pair is not None:
            redaction.install([pair.access_token, pair.refresh_token])
            self._pair = pair
        return pair

    async def _refused_now(self, reason: str) -> None:
        first, self._refused = not self._refused, True
        log.error("Zalo refused the token refresh: %s", reason)
        if first and self._on_refused is not None:
            await self._on_refused(reason)
        raise TokenRefused(reason)


def _refused(answer: JSON) -> bool:
    access, renewed = answer.get("access_token"), answer.get("refresh_token")
    return not (isinstance(access, str) and access and isinstance(renewed, str) and renewed)


def _lifetime(value: object) -> timedelta:
    try:
        seconds = int(str(value))
    except ValueError:
        return DEFAULT_LIFETIME
    return timedelta(seconds=seconds) if 60 <= seconds <= 10 * 86_400 else DEFAULT_LIFETIME


class ZaloApi:
    """JSON calls and uploads to the OA API, with the token and the minute cap."""

    def __init__(
        self,
        config: ZaloConfig,
        db: Database,
        clock: Clock,
        on_token_refused: Callable[[str], Awaitable[None]] | None = None,
        cap: MinuteCap | None = None,
    ) -> None:
        self.config = config
        self._cap = cap or MinuteCap(config.requests_per_minute)
        self._session: aiohttp.ClientSession | None = None
        self.tokens = Tokens(db, clock, config, self._post_form, on_token_refused)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.config.timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, path: str, body: JSON) -> JSON:
        """POST JSON to the API; the answer's `data` (raises ZaloApiError for a code)."""
        return await self._with_token(lambda token: self._request("POST", path, token, json=body))

    async def get(self, path: str, query: JSON) -> JSON:
        params = {"data": json.dumps(query, separators=(",", ":"))}
        return await self._with_token(
            lambda token: self._request("GET", path, token, params=params)
        )

    async def upload(self, kind: str, content: bytes, name: str, mime: str) -> JSON:
        """POST /v2.0/oa/upload/{image|file}: multipart, the field `file`."""

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("file", content, filename=name, content_type=mime)
            return data

        path = f"/v2.0/oa/upload/{kind}"
        return await self._with_token(lambda token: self._request("POST", path, token, data=form()))

    async def _with_token(self, call: Callable[[str], Awaitable[JSON]]) -> JSON:
        try:
            token = await self.tokens.current()
            try:
                return await call(token)
            except ZaloApiError as exc:
                if exc.kind is not ErrorClass.REFRESH:
                    raise
                log.info("Zalo said the access token is not valid (%s): refreshing once", exc.code)
                renewed = await self.tokens.refresh(token)
                return await call(renewed.access_token)
        except TokenRefused as exc:
            raise RetryLater(TOKEN_REFUSED_PAUSE) from exc

    async def _request(self, method: str, path: str, token: str, **kwargs: Any) -> JSON:
        await self._cap.acquire()
        url = f"{self.config.api_base.rstrip('/')}{path}"
        try:
            async with self._http().request(
                method, url, headers={"access_token": token}, **kwargs
            ) as response:
                if response.status == 429:
                    raise RetryLater(float(response.headers.get("Retry-After", "60") or 60))
                if response.status >= 500:
                    raise Transient(f"Zalo answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Transient(f"Zalo could not be reached: {type(exc).__name__}") from exc
        return _data_of(answer)

    async def _post_form(self, url: str, headers: dict[str, str], form: dict[str, str]) -> JSON:
        await self._cap.acquire()
        try:
            async with self._http().post(url, headers=headers, data=form) as response:
                if response.status >= 500:
                    raise Transient(f"Zalo OAuth answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise Transient(f"Zalo OAuth could not be reached: {type(exc).__name__}") from exc
        return answer if isinstance(answer, dict) else {"message": "not a JSON object"}


def _data_of(answer: object) -> JSON:
    if not isinstance(answer, dict):
        raise Transient("Zalo answered something that is not a JSON object")
    code = answer.get("error", 0)
    if isinstance(code, str) and code.lstrip("-").isdigit():
        code = int(code)
    if not isinstance(code, int) or isinstance(code, bool):
        raise Transient(f"Zalo answered an unreadable error code {code!r}"[:200])
    if code != 0:
        raise ZaloApiError(code, str(answer.get("message") or ""))
    data = answer.get("data")
    return data if isinstance(data, dict) else {}
