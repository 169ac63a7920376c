"""PTB's HTTP layer on aiohttp instead of httpx, for the sender's throughput.

Measured against the fake Bot API on this machine: httpx's connection pool tops out at about
650 requests a second (and falls to about 250 with 32 requests in flight), while aiohttp does
several thousand, so a broadcast at Telegram's paid rate (up to 1,000 msg/s) needs this.
Timeouts and errors map onto PTB's exceptions like its own HTTPXRequest does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.redaction import redact


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        pool_size: int = 256,
        timeout: float = 10.0,
        media_write_timeout: float = 30.0,
        on_refused_token: Callable[[], None] | None = None,
        read_timeout: float | None = None,
    ) -> None:
        """`timeout`: to connect (and to read, unless `read_timeout` says otherwise).
        `on_refused_token`: called when the Bot API answers 401 (the token was revoked)."""
        self._on_refused_token = on_refused_token
        self._pool_size = pool_size
        self._timeout = timeout
        self._read_timeout = read_timeout or timeout
        self._media_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = _seconds(read_timeout, self._read_timeout)
        total = read + (self._media_timeout if files else 0.0)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=_seconds(connect_timeout, self._timeout)
        )
        try:
            body, headers = _body(request_data)
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                if response.status == HTTPStatus.UNAUTHORIZED and self._on_refused_token:
                    self._on_refused_token()
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The URL in aiohttp's message holds the token; this text is logged and stored.
            raise NetworkError(f"aiohttp.{type(err).__name__}: {redact(str(err))}") from err
        except asyncio.CancelledError:
            raise


def _seconds(value: Any, default: float) -> float:
    return default if isinstance(value, DefaultValue) or value is None else float(value)


def _body(
    request_data: RequestData | None,
) -> tuple[aiohttp.FormData | bytes | None, dict[str, str] | None]:
    """A JSON body (cheaper to build than a form), or a multipart form when files go along."""
    if request_data is None:
        return None, None
    if not request_data.contains_files:
        return request_data.json_payload, {"Content-Type": "application/json"}
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content = part[0], part[1]
        content_type = part[2] if len(part) > 2 else None
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form, None
