"""What each Bot API error means for the outbox (bot/channels/telegram.py `send_error`)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
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

from bot.channels.telegram import TRANSIENT_400, send_error
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


def test_a_copy_too_old_to_delete_may_fall_back_to_a_notice() -> None:
    for description in ("Bad Request: message can't be deleted for everyone",
                        "Bad Request: message to delete not found"):  # fmt: skip
        assert isinstance(send_error(BadRequest(description), editing=True), EditTargetGone)


def test_a_429_carries_its_pause() -> None:
    found = send_error(RetryAfter(dt.timedelta(seconds=7)), editing=False)
    assert isinstance(found, RetryLater) and found.seconds == 7


def test_a_refused_token_pauses_rather_than_gives_up() -> None:
    found = send_error(InvalidToken("Unauthorized"), editing=False)
    assert isinstance(found, RetryLater)


@given(st.text(max_size=300), st.booleans())
def test_every_bad_request_has_a_class_and_keeps_its_words(description: str, editing: bool) -> None:
    found = send_error(BadRequest(description or "Bad Request"), editing=editing)
    assert isinstance(found, Transient | Undeliverable)
    assert isinstance(found, EditTargetGone) <= editing  # only an edit can fall back


@given(st.text(max_size=80))
def test_a_blocked_or_unknown_chat_is_never_retried(noise: str) -> None:
    assert type(send_error(Forbidden(f"Forbidden: {noise}"), editing=False)) is Undeliverable
    passing = any(fragment in noise.lower() for fragment in TRANSIENT_400)
    found = send_error(BadRequest(f"Bad Request: chat not found {noise}"), editing=False)
    assert type(found) is (Transient if passing else Undeliverable)
