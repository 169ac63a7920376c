"""Fetching a file a person sent, through the channel it came on (no messenger named here)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class FetchRefused(Exception):
    """The file could not be fetched; `too_big` when it is over a size limit (`size` bytes)."""

    def __init__(self, reason: str, *, too_big: bool = False, size: int | None = None) -> None:
        super().__init__(reason)
        self.too_big = too_big
        self.size = size


class FileFetcher(Protocol):
    async def __call__(self, channel: str, file_id: str, dest: Path, max_bytes: int) -> None:
        """Write the file to `dest`; FetchRefused when it is larger than `max_bytes` (checked
        before downloading) or cannot be had."""
        ...
