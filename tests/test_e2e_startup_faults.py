"""`python -m bot run` when the Bot API is not there or refuses the token: one clear line per
fault in the default language (Vietnamese), no traceback, retries with backoff while the API is
unreachable (never an exit), exit code 2 for a token Telegram refuses, at start or later."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakebot import FakeBotApi
from tests.harness import BotProcess, make_settings, wait_polling

UNREACHABLE = "Không kết nối được tới Telegram Bot API"
REFUSED = "Telegram từ chối mã của bot"


class Run:
    """The bot as a child process, its stderr in a file the test reads as it grows."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.log = folder / "stderr.txt"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=folder,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()

    async def wait_lines(self, wanted: Callable[[list[str]], bool], timeout: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not wanted(self.lines()):
            assert loop.time() < deadline, self.lines()
            assert self.process.poll() is None, (self.process.returncode, self.lines())
            await asyncio.sleep(0.1)

    async def exit_code(self, timeout: float = 30) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.process.poll() is None:
            assert loop.time() < deadline, self.lines()
            await asyncio.sleep(0.1)
        return self.process.returncode

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await self.exit_code()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for run in started:
        run.kill()


def start(fake: FakeBotApi, db_path: Path, runs: list[Run], **env: str) -> Run:
    settings = make_settings(fake, db_path)
    run = Run(BotProcess(settings, **env).env(), db_path.parent)
    runs.append(run)
    return run


def clean(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert "Traceback" not in text and "Unclosed" not in text, text


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def count(lines: list[str], fragment: str) -> int:
    return sum(fragment in line for line in lines)


async def test_no_bot_api_is_one_line_per_try_and_the_bot_keeps_trying(
    fake: FakeBotApi, db_path: Path, runs: list[Run]
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/bot"
    run = start(fake, db_path, runs, TELEGRAM_API_BASE_URL=url)
    await run.wait_lines(lambda lines: count(lines, UNREACHABLE) >= 3)
    lines = run.lines()
    assert all(UNREACHABLE in line and url in line for line in lines), lines
    assert "thử lại sau 1 giây" in lines[0] and "thử lại sau 2 giây" in lines[1]  # backoff
    assert await run.stop() == 0
    clean(run.lines())


async def test_a_502_is_waited_out_and_then_the_bot_runs(
    fake: FakeBotApi, db_path: Path, runs: list[Run]
) -> None:
    fake.fail_next("getMe", status=502, count=2)
    run = start(fake, db_path, runs)
    await wait_polling(fake, timeout=30)
    lines = run.lines()
    assert count(lines, UNREACHABLE) == 2 and count(lines, "Bad Gateway") == 2, lines
    assert await run.stop() == 0
    clean(run.lines())


async def test_a_refused_token_is_one_line_and_exit_code_2(
    fake: FakeBotApi, db_path: Path, runs: list[Run]
) -> None:
    run = start(
        fake, db_path, runs, TELEGRAM_BOT_TOKEN="123456:REVOKED-abcdefghijklmnopqrstuvwxyz12"
    )
    assert await run.exit_code() == 2
    lines = run.lines()
    assert len(lines) == 1 and REFUSED in lines[0] and "TELEGRAM_BOT_TOKEN" in lines[0], lines
    assert "REVOKED" not in lines[0]  # the token itself is never shown
    clean(lines)


async def test_a_token_revoked_while_running_stops_the_bot_with_exit_code_2(
    fake: FakeBotApi, db_path: Path, runs: list[Run]
) -> None:
    run = start(fake, db_path, runs)
    await wait_polling(fake, timeout=30)
    fake.revoke_token("123456:NEW-TOKEN-abcdefghijklmnopqrstuvwxyz1234")
    assert await run.exit_code() == 2
    lines = run.lines()
    assert count(lines, REFUSED) == 1, lines
    clean(lines)


async def test_a_bot_api_outage_while_polling_is_one_line_per_fault_and_the_bot_goes_on(
    fake: FakeBotApi, db_path: Path, runs: list[Run]
) -> None:
    run = start(fake, db_path, runs)
    await wait_polling(fake, timeout=30)
    fake.fail_next("getUpdates", status=502, count=2)
    await run.wait_lines(lambda lines: count(lines, "Bad Gateway") >= 2)
    user = fake.user(861)
    fake.send_text(user, "/start")
    assert (await fake.next_message(user.id, timeout=30)).text
    assert await run.stop() == 0
    lines = run.lines()
    assert count(lines, "Lấy cập nhật từ Telegram Bot API") == 2, lines
    clean(lines)


async def test_an_outage_right_after_connecting_is_waited_out_too(
    fake: FakeBotApi, db_path: Path, runs: list[Run]
) -> None:
    fake.fail_next("deleteWebhook", status=502)  # polling starts with deleteWebhook
    run = start(fake, db_path, runs)
    await wait_polling(fake, timeout=30)
    assert await run.stop() == 0
    clean(run.lines())
