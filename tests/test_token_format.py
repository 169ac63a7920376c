"""TELEGRAM_BOT_TOKEN: only what @BotFather issues passes; the error never shows the token."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings, SettingsError

GOOD = (
    "7012345678:" + "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw-"
)  # invented, split so no scan mistakes it for a real one


def settings(token: str) -> Settings:
    return Settings(_env_file=None, telegram_bot_token=token)  # type: ignore[call-arg]


def test_a_token_as_botfather_gives_it_passes() -> None:
    assert settings(GOOD).require_token() == GOOD
    assert settings(f"  {GOOD}\n").require_token() == GOOD  # pasted with a newline


@pytest.mark.parametrize(
    ("token", "flaw"),
    [
        ("7012345678:AAHdqTcvCH1vGWJ xfSeofSAs0K5PALDsaw", "space"),
        ("7012345678 AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "space"),
        ("7012345678AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "colon"),
        ("7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw!", "other characters"),
        ("7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw\u00e9", "other characters"),
        ("7012345678:AAHdqTcv", "length"),
        ("12:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "length"),
    ],
)
def test_a_token_telegram_never_issues_is_refused_with_the_reason(token: str, flaw: str) -> None:
    with pytest.raises(SettingsError) as refused:
        settings(token).require_token()
    assert "TELEGRAM_BOT_TOKEN" in str(refused.value) and flaw in str(refused.value)
    assert token.strip() not in str(refused.value)


SECRET = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=30, max_size=50)


@given(
    st.integers(min_value=10_000, max_value=999_999_999_999),
    SECRET,
    st.integers(min_value=0, max_value=40),
    st.sampled_from([" ", "\t", "\u00a0", "\u3000"]),
)
def test_any_inner_space_is_refused(bot_id: int, secret: str, at: int, space: str) -> None:
    token = f"{bot_id}:{secret}"
    cut = 1 + at % (len(token) - 1)
    with pytest.raises(SettingsError):
        settings(token[:cut] + space + token[cut:]).require_token()


@given(st.integers(min_value=10_000, max_value=999_999_999_999), SECRET)
def test_every_well_formed_token_passes(bot_id: int, secret: str) -> None:
    assert settings(f"{bot_id}:{secret}").require_token() == f"{bot_id}:{secret}"
