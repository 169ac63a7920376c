"""Files people send on Zalo: an event carries the file's URL on Zalo's servers; it is fetched
with its size checked before and while downloading."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.channels.zalo import CHANNEL
from bot.services.directory.fetch import FetchRefused

CHUNK = 64 * 1024


class ZaloFiles:
    def __init__(self, timeout: float = 30.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def __call__(self, channel: str, file_id: str, dest: Path, max_bytes: int) -> None:
        if channel != CHANNEL:
            raise FetchRefused(f"not a {CHANNEL} file")
        if not file_id.startswith(("https://", "http://")):
            raise FetchRefused("not a file address")
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as http,
                http.get(file_id) as response,
            ):
                if response.status != 200:
                    raise FetchRefused(f"HTTP {response.status}")
                size = response.content_length
                if size is not None and size > max_bytes:
                    raise FetchRefused("file too big", too_big=True, size=size)
                await _write(response, dest, max_bytes)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise FetchRefused(f"could not fetch: {type(exc).__name__}") from exc


async def _write(response: aiohttp.ClientResponse, dest: Path, max_bytes: int) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with dest.open("wb") as out:
        async for chunk in response.content.iter_chunked(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                out.close()
                dest.unlink(missing_ok=True)
                raise FetchRefused("file too big", too_big=True, size=written)
            out.write(chunk)
