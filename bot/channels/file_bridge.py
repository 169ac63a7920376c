"""A file one channel holds, sent on a channel that cannot use its id.

A directive's PDF that an admin sent on one messenger is a `ChannelFile` holding that
messenger's id; another messenger cannot be handed that id, and one that takes no file by the
id it gave (`Capabilities.resends_received_files`) cannot even resend its own. The first time
such a file must go out there, it is fetched once through the channel that holds it (its
`FileFetcher`) into the bot's files folder (FILES_DIR/channel-files/), then sent as one of the
bot's own files (`LocalFile`, read only from inside FILES_DIR): a channel that gives an upload an
id of its own (`KeepsUploads`) uploads it once and sends that id to everyone after; another
keeps its own uploads (Zalo's, reused for 7 days). Copies and failures are recorded
(storage/file_copies_repo.py), so 10,000 recipients cause one download and one upload, and a
file that cannot go (too big, a kind the channel does not take, not to be had) one attempt and
one `FileUnavailable(first=True)`: the outbox then sends the text with the message's note.

The first send of each file on each channel is made under a lock, the others wait for it: the
copy and the channel's id of it are known before the next recipient's turn.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePath

from bot.channels.own_files import MAX_UPLOAD_BYTES
from bot.channels.port import Capabilities, Channel, FileUnavailable, KeepsUploads
from bot.domain.clock import Clock
from bot.domain.text import file_slug
from bot.outgoing import ChannelFile, LocalFile, OutMessage
from bot.services.directory.fetch import FetchRefused, FileFetcher
from storage.engine import Database
from storage.file_copies_repo import LOCAL, FileCopiesRepo, FileCopy

log = logging.getLogger(__name__)

FOLDER = "channel-files"
FETCH_ATTEMPTS = 3  # a fetch that fails for another reason than the size is tried again
FETCH_PAUSE = 1.0  # seconds before the second attempt, doubled before the third


@dataclass(frozen=True, slots=True)
class _Key:
    source: str  # the channel holding the file
    file_id: str  # its id there
    target: str  # the channel it goes out on


@dataclass(frozen=True, slots=True)
class _Failed:
    why: str


Settled = ChannelFile | LocalFile | _Failed
"""What recipients on a channel are sent for a file once its first send is done."""


class FileBridge:
    """The copies of other channels' files, shared by every channel of the process."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        files_folder: Path,
        fetch: FileFetcher,
        pause: float = FETCH_PAUSE,
    ) -> None:
        self._db = db
        self._clock = clock
        self._folder = files_folder / FOLDER
        self._fetch = fetch
        self._pause = pause
        self._settled: dict[_Key, Settled] = {}
        self._locks: dict[_Key, asyncio.Lock] = {}
        self._fetching: dict[tuple[str, str], asyncio.Lock] = {}

    def around(self, channel: Channel) -> BridgedChannel:
        return BridgedChannel(channel, self)

    @staticmethod
    def needs_copy(part: OutMessage, channel: str, caps: Capabilities) -> bool:
        ref = part.document
        if not isinstance(ref, ChannelFile) or not ref.channel:
            return False  # a row from before files were typed goes out as it is
        return ref.channel != channel or not caps.resends_received_files

    async def send(self, channel: Channel, chat_ref: str, part: OutMessage) -> str | None:
        """Send `part` on `channel` with its file as a copy this channel can send."""
        source = part.document
        assert isinstance(source, ChannelFile) and source.channel is not None
        key = _Key(source.channel, source.file_id, channel.name)
        settled = self._settled.get(key)
        if isinstance(settled, LocalFile) and not Path(settled.path).is_file():
            self._settled.pop(key, None)  # the copy was deleted meanwhile: fetched again
            settled = None
        if settled is None:
            async with self._locks.setdefault(key, asyncio.Lock()):
                settled = self._settled.get(key)
                if settled is None:
                    return await self._first_send(channel, chat_ref, part, key)
        if isinstance(settled, _Failed):
            raise FileUnavailable(settled.why, source.name, first=False)
        return await channel.send(chat_ref, replace(part, document=settled))

    async def _first_send(
        self, channel: Channel, chat_ref: str, part: OutMessage, key: _Key
    ) -> str | None:
        source = part.document
        assert isinstance(source, ChannelFile)
        try:
            copy = await self._copy_for(key, source.name, channel.capabilities)
        except FileUnavailable as missing:
            self._settled[key] = _Failed(missing.why)
            raise
        if isinstance(copy, LocalFile) and isinstance(channel, KeepsUploads):
            ref, own_id = await channel.send_upload(chat_ref, replace(part, document=copy))
            async with self._db.transaction() as tx:
                saved = FileCopy(own_id, None)
                await FileCopiesRepo(tx).save(key.source, key.file_id, key.target, saved, self._now)
            self._settled[key] = ChannelFile(key.target, own_id, source.name)
            log.info("a %s file is now held by %s too", key.source, key.target)
            return ref
        ref = await channel.send(chat_ref, replace(part, document=copy))
        self._settled[key] = copy
        return ref

    @property
    def _now(self) -> datetime:
        return self._clock.now()

    async def _copy_for(
        self, key: _Key, name: str | None, caps: Capabilities
    ) -> ChannelFile | LocalFile:
        """The channel's own id of the file when it has one, else the copy in FILES_DIR
        (fetched now if needed); FileUnavailable when the file cannot go on this channel."""
        async with self._db.reading() as tx:
            repo = FileCopiesRepo(tx)
            own = await repo.find(key.source, key.file_id, key.target)
        if own is not None and own.copy_ref:
            return ChannelFile(key.target, own.copy_ref, name)
        if own is not None:
            raise FileUnavailable(own.failure or FileUnavailable.FETCH, name, first=False)
        path = await self._local_copy(key, name, caps)
        why = _refusal(path, caps)
        if why is not None:
            first = await self._record(key.source, key.file_id, key.target, FileCopy(None, why))
            raise FileUnavailable(why, name, first=first)
        return LocalFile(str(path))

    async def _local_copy(self, key: _Key, name: str | None, caps: Capabilities) -> Path:
        """The file in FILES_DIR, fetched through its channel the first time (once, whichever
        channel asks)."""
        async with self._fetching.setdefault((key.source, key.file_id), asyncio.Lock()):
            async with self._db.reading() as tx:
                found = await FileCopiesRepo(tx).find(key.source, key.file_id, LOCAL)
            if found is not None and found.failure:
                raise FileUnavailable(found.failure, name, first=False)
            if found is not None and found.copy_ref and self._inside(Path(found.copy_ref)):
                return Path(found.copy_ref)
            if found is not None:  # recorded, but no longer on the disk: fetched again
                async with self._db.transaction() as tx:
                    await FileCopiesRepo(tx).forget(key.source, key.file_id, LOCAL)
            return await self._fetched(key, name, caps)

    def _inside(self, path: Path) -> bool:
        resolved = path.resolve()
        return resolved.is_relative_to(self._folder.resolve()) and resolved.is_file()

    async def _fetched(self, key: _Key, name: str | None, caps: Capabilities) -> Path:
        dest = self._path_for(key, name)
        limit = min(caps.max_document_bytes or MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES)
        partial = dest.with_name(dest.name + ".part")
        for attempt in range(FETCH_ATTEMPTS):
            try:
                await self._fetch(key.source, key.file_id, partial, limit)
                break
            except FetchRefused as refused:
                partial.unlink(missing_ok=True)
                log.warning("a %s file could not be fetched: %s", key.source, refused)
                if refused.too_big:  # for this channel; another may take it
                    failed = FileCopy(None, FileUnavailable.TOO_BIG)
                    first = await self._record(key.source, key.file_id, key.target, failed)
                    raise FileUnavailable(FileUnavailable.TOO_BIG, name, first=first) from None
                if attempt + 1 == FETCH_ATTEMPTS:
                    failed = FileCopy(None, FileUnavailable.FETCH)
                    first = await self._record(key.source, key.file_id, LOCAL, failed)
                    raise FileUnavailable(FileUnavailable.FETCH, name, first=first) from None
                await asyncio.sleep(self._pause * 2**attempt)
        os.replace(partial, dest)  # never a half-written file under the final name
        await self._record(key.source, key.file_id, LOCAL, FileCopy(str(dest), None))
        return dest

    def _path_for(self, key: _Key, name: str | None) -> Path:
        """FILES_DIR/channel-files/<digest of the source>/<the file's name, made safe>."""
        digest = hashlib.sha256(f"{key.source}\x00{key.file_id}".encode()).hexdigest()[:32]
        folder = self._folder / digest
        folder.mkdir(parents=True, exist_ok=True)
        return folder / safe_name(name)

    async def _record(self, source: str, file_id: str, place: str, copy: FileCopy) -> bool:
        async with self._db.transaction() as tx:
            return await FileCopiesRepo(tx).save(source, file_id, place, copy, self._now)


def safe_name(name: str | None) -> str:
    """A file name that is only a name (no folder, no leading dot), its suffix kept."""
    pure = PurePath(name or "")
    suffix = pure.suffix.lower()
    if not (1 < len(suffix) <= 8 and suffix[1:].isalnum() and suffix.isascii()):
        suffix = ""
    stem = file_slug(pure.stem if suffix else pure.name)
    return f"{'file' if stem == '-' else stem}{suffix}"


def _refusal(path: Path, caps: Capabilities) -> str | None:
    """Why the channel would refuse this file (its kind, its size), or None."""
    suffixes = caps.document_suffixes
    if suffixes is not None and path.suffix.lower() not in suffixes:
        return FileUnavailable.KIND
    limit = caps.max_document_bytes
    if limit is not None and path.stat().st_size > limit:
        return FileUnavailable.TOO_BIG
    return None


class BridgedChannel:
    """A channel whose parts with another channel's file go through the `FileBridge`."""

    def __init__(self, inner: Channel, bridge: FileBridge) -> None:
        self._inner = inner
        self._bridge = bridge

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def capabilities(self) -> Capabilities:
        return self._inner.capabilities

    def render(self, message: OutMessage) -> Sequence[OutMessage]:
        return self._inner.render(message)

    async def send(self, chat_ref: str, message: OutMessage) -> str | None:
        if self._bridge.needs_copy(message, self.name, self.capabilities):
            return await self._bridge.send(self._inner, chat_ref, message)
        return await self._inner.send(chat_ref, message)
