"""What each Bot API error means for the outbox (bot/channels/telegram.py `send_error`)."""

from __future__ import annotations

import datetime as dt

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.telegram import send_error
from bot.services.outbox.sender import EditTargetGone, RetryLater, Transient, Undeliverable


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (Forbidden("Forbidden: bot was blocked by the user"), Undeliverable),
        (BadRequest("Bad Request: chat not found"), Undeliverable),
        (BadRequest("Bad Request: message is too long"), Undeliverable),
        (BadRequest("Bad Request: reply markup is too long"), Undeliverable),
        (BadRequest("Bad Request: BUTTON_DATA_INVALID"), Undeliverable),
        (BadRequest("Bad Request: message to edit not found"), Undeliverable),
        (ChatMigrated(-100123), Undeliverable),
        (BadRequest("Bad Request: RPC_CALL_FAIL"), Transient),
        (NetworkError("Bad Gateway"), Transient),
        (NetworkError("Internal Server Error (500)"), Transient),
        (TimedOut(), Transient),
        (TelegramError("Invalid server response"), Transient),
    ],
)
def test_each_error_has_its_class(error: TelegramError, kind: type[Exception]) -> None:
    found = send_error(error, editing=False)
    assert type(found) is kind


def test_an_edit_whose_message_is_gone_may_fall_back() -> None:
    found = send_error(BadRequest("Bad Request: message to edit not found"), editing=True)
    assert isinstance(found, EditTargetGone)


def test_a_429_carries_its_pause() -> None:
    found = send_error(RetryAfter(dt.timedelta(seconds=7)), editing=False)
    assert isinstance(found, RetryLater) and found.seconds == 7


def test_a_refused_token_pauses_rather_than_gives_up() -> None:
    found = send_error(InvalidToken("Unauthorized"), editing=False)
    assert isinstance(found, RetryLater)
