"""Reading a file of the bot's own for an upload: only from inside its files folder.

A messenger's file id and a file the bot wrote are different types (`ChannelFile`,
`LocalFile`); this is the one place a `LocalFile` becomes bytes. The path is resolved (every
`..` and symlink followed) and must still lie inside FILES_DIR, and the last step is opened
without following a symlink, so nothing else on the disk can ever be sent to anyone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from bot.outgoing import LocalFile

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # what the Bot API accepts for a document


class NotOwnFile(Exception):
    """The reference names nothing the bot may upload; the message says why (for the log)."""


def read_own_file(folders: Sequence[Path], ref: LocalFile) -> tuple[bytes, str]:
    """The file's bytes and its name, or NotOwnFile. `folders`: the bot's own (FILES_DIR and
    EXPORTS_DIR); a relative path is taken inside the first."""
    if not ref.path or not folders:
        raise NotOwnFile("empty file reference")
    roots = [folder.resolve() for folder in folders]
    wanted = Path(ref.path)
    resolved = (wanted if wanted.is_absolute() else roots[0] / wanted).resolve()
    if not any(resolved.is_relative_to(root) and resolved != root for root in roots):
        raise NotOwnFile(f"{ref.path!r} is outside the bot's files folders")
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise NotOwnFile(f"{ref.path!r} cannot be opened: {exc.strerror}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotOwnFile(f"{ref.path!r} is not a regular file")
        if info.st_size > MAX_UPLOAD_BYTES:
            raise NotOwnFile(f"{ref.path!r} is larger than {MAX_UPLOAD_BYTES} bytes")
        with os.fdopen(fd, "rb", closefd=False) as file:
            return file.read(), resolved.name
    finally:
        os.close(fd)
