"""The demo page's Zalo panes over its JSON API: a pane switched to Zalo chats through the sandbox
OA (the OA's side is driven here as the bot's Zalo channel will drive it: over the OA API)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Settings
from bot.sandbox.demo import Demo, DemoOptions
from bot.sandbox.zalo_web import zalo_phone
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


async def oa_send(demo: Demo, page: Page, user_id: str, message: dict[str, Any]) -> str:
    """What the bot's Zalo channel does: a cs message through the OA API."""
    access, _ = demo.zalo.issue_tokens()
    body = {"recipient": {"user_id": user_id}, "message": message}
    url = demo.zalo.base_url + "/v3.0/oa/message/cs"
    async with page.session.post(url, json=body, headers={"access_token": access}) as response:
        answer = await response.json()
    assert answer["error"] == 0, answer
    return str(answer["data"]["message_id"])


async def zalo_chat(page: Page, staff_id: str) -> list[dict[str, Any]]:
    state = await page.get(f"_sandbox/state?since=-1&staff={staff_id}")
    return state["channels"]["zalo"][staff_id]  # type: ignore[no-any-return]


async def test_a_pane_on_zalo_follows_the_oa_and_chats_through_it(demo: Demo, page: Page) -> None:
    opened = await page.post("_sandbox/zalo/open", {"staff_id": "TH-003"})
    user_id = opened["user_id"]
    assert opened["follower"] is True and opened["phone"] == "84912000026"
    assert [event.event_name for event in demo.zalo.events] == ["follow"]
    await page.post("_sandbox/zalo/text", {"staff_id": "TH-003", "text": "xin chào"})
    sent = demo.zalo.events[-1].body
    assert sent["event_name"] == "user_send_text" and sent["message"]["text"] == "xin chào"

    choices = [{"title": "Duyệt", "type": "oa.query.hide", "payload": "#kb:appr:1"},
               {"title": "Từ chối", "type": "oa.query.show", "payload": "#kb:deny:1"}]  # fmt: skip
    message = {"text": "Đơn đi công tác", "attachment": {"type": "template",
                                                          "payload": {"buttons": choices}}}  # fmt: skip
    message_id = await oa_send(demo, page, user_id, message)
    chat = await zalo_chat(page, "TH-003")
    assert chat[-1]["from"] == "bot" and [b["title"] for b in chat[-1]["buttons"]] == [
        "Duyệt", "Từ chối"
    ]  # fmt: skip
    await page.post("_sandbox/zalo/tap", {"staff_id": "TH-003", "message_id": message_id,
                                          "title": "Duyệt"})  # fmt: skip
    assert demo.zalo.events[-1].body["message"]["text"] == "#kb:appr:1"
    assert (await zalo_chat(page, "TH-003"))[-1]["hidden"] is True
    telegram = await page.get("_sandbox/state?since=-1&staff=TH-003")
    assert all(entry.get("text") != "xin chào" for entry in telegram["chats"]["TH-003"])


async def test_on_zalo_the_phone_is_shared_only_when_the_oa_asks(demo: Demo, page: Page) -> None:
    user_id = (await page.post("_sandbox/zalo/open", {"staff_id": "TH-001"}))["user_id"]
    refused = await page.post("_sandbox/zalo/contact", {"staff_id": "TH-001"}, status=400)
    assert "asks" in refused["error"]
    element = {"title": "Xác minh", "subtitle": "Chia sẻ số điện thoại",
               "image_url": "https://example.org/logo.png"}  # fmt: skip
    ask = {"attachment": {"type": "template", "payload": {"template_type": "request_user_info",
                                                          "elements": [element]}}}  # fmt: skip
    await oa_send(demo, page, user_id, ask)
    await page.post("_sandbox/zalo/contact", {"staff_id": "TH-001"})
    shared = demo.zalo.events[-1].body
    assert shared["event_name"] == "user_submit_info" and shared["info"]["phone"].startswith("84")


async def test_a_photo_from_a_zalo_pane_reaches_the_oa_as_user_send_image(
    demo: Demo, page: Page
) -> None:
    from bot.sandbox.model import TINY_PNG

    await page.post("_sandbox/zalo/open", {"staff_id": "TH-003"})
    form = aiohttp.FormData()
    form.add_field("staff_id", "TH-003")
    form.add_field("photo", TINY_PNG, filename="a.png", content_type="image/png")
    async with page.session.post(page.url + "_sandbox/zalo/photo", data=form,
                                 headers=page.auth) as response:  # fmt: skip
        assert response.status == 200, await response.text()
    event = demo.zalo.events[-1]
    url = event.body["message"]["attachments"][0]["payload"]["url"]
    assert event.event_name == "user_send_image" and url.startswith(demo.zalo.base_url)
    async with page.session.get(url) as response:  # the bot's channel downloads it from there
        assert await response.read() == TINY_PNG
    assert json.loads(event.raw)["sender"]["id"] == event.user_id


def test_the_demo_wires_zalo_once_settings_know_it(tmp_path: Path) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    demo = Demo(settings, DemoOptions(keep_db=tmp_path / "demo.db"))
    wired = demo.zalo_settings()  # Settings has the Zalo channel's fields: the bot runs both
    assert wired["zalo_app_id"] == demo.zalo.app_id and wired["zalo_oa_id"] == demo.zalo.oa_id
    assert wired["zalo_api_base_url"] == wired["zalo_oauth_base_url"] == demo.zalo.base_url
    assert settings.model_copy(update=wired).zalo_on
    assert zalo_phone("0912 000 026") == "84912000026" and zalo_phone("nope") == ""
