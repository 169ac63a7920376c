"""No log line, at any level, carries the bot token or a secret setting.

`install(secrets)` puts a record factory in place: every log record, whoever logs it and
whichever handler writes it (the console, a file, pytest's capture), has each secret replaced
by `***` in its message, its arguments and its traceback before anything formats it. The
loggers of the HTTP clients, which write each request's URL (the token is part of a Bot API
URL) at INFO, are set to WARNING.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter values are not secrets worth the cost (and would mask words)
QUIET_LOGGERS = ("httpx", "httpcore", "aiohttp.access", "aiohttp.client")
_BOT_PATH = re.compile(r"(/(?:file/)?bot)\d+:[A-Za-z0-9_-]+")

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_original: Callable[..., logging.LogRecord] | None = None


def redact(text: str) -> str:
    """`text` with every known secret, and any Bot API token in a URL path, masked."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _BOT_PATH.sub(rf"\1{MASK}", text) if "/bot" in text else text


def install(secrets: Iterable[str]) -> None:
    """Mask these values (added to any installed before) in every record from now on."""
    global _secrets, _original
    with _lock:
        found = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_SECRET_LENGTH}
        _secrets = tuple(sorted(found | set(_secrets), key=len, reverse=True))
        if _original is None:
            _original = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_redacting_factory)
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _original is not None
    record = _original(*args, **kwargs)
    _scrub(record)
    return record


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it itself when it formats
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        if redact(text) != text:
            record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
