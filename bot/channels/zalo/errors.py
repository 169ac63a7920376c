"""Zalo OA error codes (HTTP 200 with `{"error": <non-zero>, "message": …}`) as outbox outcomes.

The classes follow ZALO.md §3.4: refresh the token and retry once; retry later; outside the
window (the fallback: another channel, a template, or held); permanent; needs an admin (the
admins are told once, and the messages wait instead of being given up for a setting).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from bot.channels.port import RetryLater, SendError, Transient, Undeliverable, WindowClosed


class ErrorClass(Enum):
    REFRESH = "refresh"
    RETRY = "retry"
    REUPLOAD = "reupload"
    WINDOW = "window"
    PERMANENT = "permanent"
    ADMIN = "admin"
    UNKNOWN = "unknown"


CLASSES: dict[int, ErrorClass] = {
    -216: ErrorClass.REFRESH,
    -220: ErrorClass.REFRESH,
    -124: ErrorClass.REFRESH,
    -32: ErrorClass.RETRY,
    -211: ErrorClass.RETRY,
    -234: ErrorClass.RETRY,
    -100: ErrorClass.REUPLOAD,
    -213: ErrorClass.WINDOW,
    -217: ErrorClass.WINDOW,
    -227: ErrorClass.WINDOW,
    -230: ErrorClass.WINDOW,
    -232: ErrorClass.WINDOW,
    -244: ErrorClass.WINDOW,
    -201: ErrorClass.PERMANENT,
    -233: ErrorClass.PERMANENT,
    -240: ErrorClass.PERMANENT,
    -248: ErrorClass.PERMANENT,
    -204: ErrorClass.ADMIN,
    -205: ErrorClass.ADMIN,
    -209: ErrorClass.ADMIN,
    -212: ErrorClass.ADMIN,
    -221: ErrorClass.ADMIN,
    -223: ErrorClass.ADMIN,
    -224: ErrorClass.ADMIN,
    -242: ErrorClass.ADMIN,
}

RATE_LIMIT_PAUSE = 60.0  # -32: the app's (or the OA's) calls per minute are used up
QUOTA_PAUSE = 600.0  # -211: the OA's reply quota
ADMIN_PAUSE = 300.0  # the OA or the app needs an admin: wait, do not give the messages up
NIGHT_ENDS = 6  # -234: templates and promotions are not sent 22:00-06:00


class ZaloApiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}"[:300])
        self.code = code
        self.message = message

    @property
    def kind(self) -> ErrorClass:
        return CLASSES.get(self.code, ErrorClass.UNKNOWN)


class TokenRefused(Exception):
    """Zalo refused the refresh token: an admin must connect the OA again."""


def until_morning(now: datetime) -> float:
    """Seconds until the next 06:00 local (`now` carries the zone)."""
    morning = now.replace(hour=NIGHT_ENDS, minute=0, second=0, microsecond=0)
    if morning <= now:
        morning += timedelta(days=1)
    return (morning - now).total_seconds()


def send_error(error: ZaloApiError, now: datetime) -> SendError:
    """What the outbox does about an error (after the token refresh and the re-upload, which
    the client has tried already)."""
    kind = error.kind
    if error.code == -234:
        return RetryLater(until_morning(now))
    if error.code == -211:
        return RetryLater(QUOTA_PAUSE)
    if kind is ErrorClass.RETRY:
        return RetryLater(RATE_LIMIT_PAUSE)
    if kind is ErrorClass.WINDOW:
        return WindowClosed(str(error))
    if kind is ErrorClass.PERMANENT:
        return Undeliverable(str(error))
    if kind is ErrorClass.ADMIN:
        return RetryLater(ADMIN_PAUSE)
    return Transient(str(error))  # refresh already tried, a re-upload that did not help, unknown
