"""No log line, at any level, carries the bot token or a secret setting (issue 19.4).

The flows run with the sandbox's known token; every record logged (at DEBUG, so nothing is
left out), and the stderr of the bot's own processes, is searched for it. Besides, a guard in
conftest.py searches every record the whole test suite logs.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import redaction
from bot.channels.telegram import fetch_bot_username
from bot.config import Settings
from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import (
    BotProcess,
    RunningBot,
    database_env,
    load_examples,
    make_settings,
    register,
    wait_polling,
)
from tests.paths import ROOT

TOKEN = FakeBotApi().token
SECRET = "zalo-app-secret-4f1c9a"


def leaks(records: list[logging.LogRecord], *secrets: str) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in records]
    return [line for line in lines if any(secret in line for secret in secrets)]


def test_the_token_and_secrets_are_masked_in_message_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redaction.install([TOKEN, SECRET, "short"])
    log = logging.getLogger("khaibao.test")
    with caplog.at_level(logging.DEBUG):
        log.debug("POST http://127.0.0.1:1/bot%s/getMe", TOKEN)
        log.info("secret is " + SECRET)
        log.warning("a %s in %r", "secret", {"key": SECRET})
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/sendMessage failed")
        except RuntimeError:
            log.exception("send failed")
        log.info("short words are kept: short")
    assert leaks(caplog.records, TOKEN, SECRET) == []
    assert "***" in caplog.text and "getMe" in caplog.text
    assert "short words are kept: short" in caplog.text


def test_any_token_shaped_url_path_is_masked() -> None:
    assert redaction.redact("GET https://api.telegram.org/bot999:AAbb-cc_dd/getUpdates") == (
        "GET https://api.telegram.org/bot***/getUpdates"
    )
    assert redaction.redact("/file/bot1:x/documents/a.pdf") == "/file/bot***/documents/a.pdf"
    assert redaction.redact("python -m bot run, /work/bot/app.py") == (
        "python -m bot run, /work/bot/app.py"
    )


def test_every_secret_setting_is_collected(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, telegram_bot_token=TOKEN, database_path=tmp_path / "k.db")  # type: ignore[call-arg,arg-type]
    assert settings.secret_values() == [TOKEN]


async def test_flows_in_process_log_no_token_at_debug(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    await load_examples(db_path, clock)
    settings = make_settings(fake, db_path)
    with caplog.at_level(logging.DEBUG):
        async with RunningBot(settings, clock):
            await register(fake, 1941, "TH-003")
            fake.fail_next("sendMessage", status=500)
            fake.send_text(fake.user(1941), "/help")
            await fake.next_message(1941, timeout=10)
        assert await fetch_bot_username(settings) == "khaibao_test_bot"
    assert len(caplog.records) > 50  # the flows really logged
    assert leaks(caplog.records, TOKEN) == []


def cli_env(fake: FakeBotApi, db_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
               **database_env(db_path), TELEGRAM_BOT_USERNAME="", LOG_LEVEL="DEBUG")  # fmt: skip
    env.update(extra)
    return env


async def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    import asyncio

    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def test_invites_asks_telegram_without_logging_the_token(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    await load_examples(db_path, clock)
    done = await run_cli(cli_env(fake, db_path), "invites", "--out", str(tmp_path / "i.csv"))
    assert done.returncode == 0, done.stderr
    assert any(method == "getMe" for method, _ in fake.requests)
    assert TOKEN not in done.stderr and TOKEN not in done.stdout
    assert "khaibao_test_bot" in (tmp_path / "i.csv").read_text(encoding="utf-8-sig")


async def test_invites_with_the_username_set_makes_no_bot_api_call(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    await load_examples(db_path, clock)
    env = cli_env(fake, db_path, TELEGRAM_BOT_USERNAME="so_noi_vu_bot",
                  TELEGRAM_BOT_TOKEN="", TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot")  # fmt: skip
    done = await run_cli(env, "invites", "--out", str(tmp_path / "i.csv"))
    assert done.returncode == 0, done.stderr
    assert fake.requests == []
    assert "t.me/so_noi_vu_bot?start=" in (tmp_path / "i.csv").read_text(encoding="utf-8-sig")


async def test_the_bot_process_stderr_carries_no_token(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    await load_examples(db_path, clock)
    log = db_path.parent / "bot.stderr"
    process = BotProcess(make_settings(fake, db_path), stderr_path=log, LOG_LEVEL="DEBUG")
    process.start()
    try:
        await wait_polling(fake, timeout=30)
        await register(fake, 1942, "TH-001")
        fake.fail_next("sendMessage", status=500)
        fake.send_text(fake.user(1942), "/help")
        await fake.next_message(1942, timeout=10)
    finally:
        await process.stop()
    written = log.read_text(encoding="utf-8", errors="replace")
    assert "getUpdates" in written and "DEBUG" in written  # it did log at DEBUG
    assert TOKEN not in written
