"""Webhook mode: the sandbox posts updates to the real bot's inbound server, as Telegram does."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.domain.clock import ManualClock
from bot.inbound.telegram import CRASH_AFTER_BATCH
from bot.inbound.webhook import SECRET_HEADER
from tests.fakebot import FakeBotApi
from tests.harness import (
    WEBHOOK_SECRET,
    BotProcess,
    RunningBot,
    database_env,
    db_value,
    free_port,
    load_examples,
    webhook_settings,
)


@pytest.fixture
async def hooked(fake: FakeBotApi, db_path: Path, clock: ManualClock) -> AsyncIterator[RunningBot]:
    await load_examples(db_path, clock)
    async with RunningBot(webhook_settings(fake, db_path), clock, webhook=True) as running:
        yield running


def _update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    sender = {"id": user_id, "is_bot": False, "first_name": "Thử", "language_code": "vi"}
    chat = {"id": user_id, "type": "private", "first_name": "Thử"}
    return {"update_id": update_id,
            "message": {"message_id": update_id, "date": 1_700_000_000, "text": text,
                        "chat": chat, "from": sender}}  # fmt: skip


async def _post(url: str, body: object, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as http:
        data = body if isinstance(body, bytes) else None
        kwargs: dict[str, Any] = {"data": data} if data is not None else {"json": body}
        async with http.post(url, headers=headers, **kwargs) as response:
            return response.status


async def test_webhook_is_set_with_the_secret_and_updates_are_handled(
    fake: FakeBotApi, hooked: RunningBot
) -> None:
    assert fake.webhook.url == hooked.settings.webhook_url
    assert fake.webhook.secret_token == WEBHOOK_SECRET
    user = fake.user(960)
    fake.send_text(user, "/start")
    answer = await fake.next_message(user.id)
    assert "số điện thoại" in (answer.text or "").lower()
    assert {status for _, status in fake.webhooks.deliveries} == {200}
    assert fake.pending_updates == 0


async def test_without_the_secret_is_refused_and_nothing_is_stored(
    fake: FakeBotApi, hooked: RunningBot, db_path: Path
) -> None:
    url = hooked.settings.webhook_url
    fake.user(961)
    body = _update(500, 961, "/start")
    assert await _post(url, body, {}) == 403
    assert await _post(url, body, {SECRET_HEADER: "wrong-secret-0123456789"}) == 403
    assert await _post(url, body, {SECRET_HEADER: WEBHOOK_SECRET[:-1]}) == 403
    assert db_value(db_path, "SELECT COUNT(*) FROM inbox") == 0
    await asyncio.sleep(0.3)
    assert fake.messages(961) == []


async def test_a_malformed_body_gets_400_and_no_traceback(
    fake: FakeBotApi, hooked: RunningBot, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, secret = hooked.settings.webhook_url, {SECRET_HEADER: WEBHOOK_SECRET}
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", {"update_id": "7"}, {"update_id": -1}, {}):
        assert await _post(url, body, secret) == 400, body
    assert db_value(db_path, "SELECT COUNT(*) FROM inbox") == 0
    assert "Traceback" not in caplog.text


async def test_the_same_update_twice_has_one_effect(
    fake: FakeBotApi, hooked: RunningBot, db_path: Path
) -> None:
    url, secret = hooked.settings.webhook_url, {SECRET_HEADER: WEBHOOK_SECRET}
    fake.user(962)
    body = _update(600, 962, "/start")
    assert await _post(url, body, secret) == 200
    assert await _post(url, body, secret) == 200  # Telegram sends again when unsure
    await fake.next_message(962)
    await asyncio.sleep(0.3)
    assert len(fake.messages(962)) == 1
    assert db_value(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NOT NULL") == 1


async def test_500_updates_from_100_people_are_all_handled_each_persons_in_order(
    fake: FakeBotApi, hooked: RunningBot
) -> None:
    handled: dict[int, list[int]] = {}

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_user is not None
        handled.setdefault(update.effective_user.id, []).append(update.update_id)

    hooked.app.add_handler(TypeHandler(Update, record), group=-1)  # watches, changes nothing
    people = [fake.user(20_000 + n) for n in range(100)]
    sent: dict[int, list[int]] = {}
    for round_ in range(5):
        for user in people:
            sent.setdefault(user.id, []).append(fake.send_text(user, f"tin {round_}"))
    await fake.wait_for(lambda: sum(map(len, handled.values())) == 500, timeout=60)
    await fake.wait_for(lambda: all(len(fake.messages(u.id)) == 5 for u in people), timeout=60)
    assert handled == sent


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"WEBHOOK_SECRET": WEBHOOK_SECRET}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://bot.example.gov.vn/telegram"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "https://bot.example.gov.vn/telegram", "WEBHOOK_SECRET": "short"},
         "WEBHOOK_SECRET"),
    ],
)  # fmt: skip
def test_webhook_mode_without_its_settings_says_which_in_one_line(
    tmp_path: Path, settings: dict[str, str], named: str
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBHOOK_")}
    env.update(TELEGRAM_BOT_TOKEN="123:abc", DATABASE_PATH=str(tmp_path / "k.db"), **settings)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--webhook"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], done.stderr


async def test_killed_after_storing_before_answering_has_one_effect_after_restart(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, processes: list[BotProcess]
) -> None:
    await load_examples(db_path, clock)
    settings = webhook_settings(fake, db_path)
    crashing = BotProcess(settings, webhook=True, **{CRASH_AFTER_BATCH: "1"})
    crashing.start()
    processes.append(crashing)
    await fake.wait_for(lambda: bool(fake.webhook.url), timeout=30)
    user = fake.user(970)
    fake.send_text(user, "/start")
    assert await crashing.wait_exit(timeout=30) == -signal.SIGKILL
    assert db_value(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 1
    assert fake.pending_updates == 1  # no 200 came: Telegram keeps it and posts it again

    fake.requests.clear()
    again = BotProcess(settings, webhook=True)
    again.start()
    processes.append(again)
    answer = await fake.next_message(user.id, timeout=30)
    assert "số điện thoại" in (answer.text or "").lower()
    await fake.wait_for(lambda: fake.pending_updates == 0, timeout=30)
    await asyncio.sleep(0.5)
    assert len(fake.messages(user.id)) == 1
    assert db_value(db_path, "SELECT COUNT(*) FROM inbox WHERE done_at IS NOT NULL") == 1


async def test_a_webhook_url_telegram_refuses_stops_the_bot_with_one_line(
    fake: FakeBotApi, db_path: Path
) -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("WEBHOOK_")}
    env.update(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
               **database_env(db_path), WEBHOOK_URL="http://bot.example.gov.vn/telegram",
               WEBHOOK_PORT=str(port), WEBHOOK_SECRET=WEBHOOK_SECRET)  # fmt: skip
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--webhook", cwd=db_path.parent, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(child.communicate(), timeout=60)
    errors = [line for line in stderr.decode().splitlines() if " INFO " not in line]
    assert child.returncode == 2
    assert len(errors) == 1 and "WEBHOOK_URL" in errors[0] and "https" in errors[0].lower(), errors
    assert fake.webhook.url == ""


async def test_an_update_no_one_can_read_is_stored_given_up_and_blocks_nothing(
    fake: FakeBotApi, hooked: RunningBot, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, secret = hooked.settings.webhook_url, {SECRET_HEADER: WEBHOOK_SECRET}
    assert await _post(url, {"update_id": 700, "message": "not a message"}, secret) == 200
    await fake.wait_for(
        lambda: db_value(db_path, "SELECT outcome FROM inbox WHERE update_id = '700'") == "failed"
    )
    assert "Traceback" not in caplog.text
    fake.user(963)
    assert await _post(url, _update(701, 963, "/start"), secret) == 200
    assert "số điện thoại" in ((await fake.next_message(963)).text or "").lower()
