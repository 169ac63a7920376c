"""`python -m bot demo` runs the real bot on both messengers: a pane switched to Zalo registers
through the OA's phone form and asks for travel, and the principal decides in a Telegram pane
(the demo's own Zalo OA and Telegram sandbox, the bot's real Zalo channel between them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.sandbox.demo import Demo, DemoOptions
from tests.channel_chats import Shown, ZaloChat
from tests.fakezalo import ZaloSent
from tests.test_e2e_zalo_day import request_travel
from tests.test_sandbox import START, Page


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    settings = Settings(_env_file=None, sweep_interval_seconds=60)  # type: ignore[call-arg]
    running = Demo(settings, DemoOptions(start=START, keep_db=tmp_path / "demo.db"))
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def page(demo: Demo) -> AsyncIterator[Page]:
    async with aiohttp.ClientSession() as session:
        assert demo.web is not None
        yield Page(session, demo.url, demo.web.token)


async def tap(page: Page, staff_id: str, shown: Shown, title: str) -> None:
    """A tap in the pane, as the page sends it."""
    assert isinstance(shown.raw, ZaloSent)
    message_id = shown.raw.message_id
    await page.post(
        "_sandbox/zalo/tap", {"staff_id": staff_id, "message_id": message_id, "title": title}
    )


async def test_a_zalo_pane_registers_and_asks_for_travel_with_the_real_bot(
    demo: Demo, page: Page
) -> None:
    opened = await page.post("_sandbox/zalo/open", {"staff_id": "TH-003"})
    teacher = ZaloChat(demo.zalo, demo.zalo.users[opened["user_id"]])
    welcome = await teacher.next_with("Chào mừng")
    assert "biểu mẫu" in welcome.text
    await teacher.next_kind("request_user_info")
    await page.post("_sandbox/zalo/contact", {"staff_id": "TH-003"})  # the OA asked: the form
    await tap(page, "TH-003", await teacher.next_with("có phải"), "✅")
    await teacher.next_with("🔒")
    await tap(page, "TH-003", await teacher.next(), "Đồng ý")
    await tap(page, "TH-003", await teacher.next_with("(b)"), "Đồng ý")
    assert "Lại Thị Diệu Linh" in (await teacher.next_with("Đăng ký thành công")).text
    sent = await request_travel(teacher)
    assert "Châu Thị Bích Ngọc" in sent.text
    chat = (await page.get("_sandbox/state?since=-1&staff=TH-003"))["channels"]["zalo"]["TH-003"]
    assert any("Châu Thị Bích Ngọc" in (entry.get("text") or "") for entry in chat)
    assert demo.zalo.stats()["refused"] == {}
