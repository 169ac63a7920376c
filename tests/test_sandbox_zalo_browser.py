"""The demo page in headless Chromium: a pane switches to Zalo and back (Zalo's look, its own
chat), as the browser test of the Telegram panes does (tests/test_sandbox_browser.py).

The second test runs the demo in this process (its event loop in a thread) so that it can play
the bot's Zalo channel: it sends through the sandbox OA's API, and the pane shows Zalo's buttons
and its request for the phone, which the person answers by tapping.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from bot.config import Settings
from bot.sandbox.demo import Demo, DemoOptions
from tests.test_sandbox import START
from tests.test_sandbox_browser import (  # noqa: F401 (fixtures)
    browser,
    demo_url,
    open_pane,
    screenshot,
    wait_until,
)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402

T = TypeVar("T")


def test_a_pane_switches_to_zalo_follows_the_oa_and_has_no_menu_keyboard(
    browser: WebDriver,  # noqa: F811
    demo_url: str,  # noqa: F811
) -> None:
    browser.get(demo_url)
    pane = open_pane(browser, "TH-003")
    switch = pane.element.find_element(By.CSS_SELECTOR, ".pane-head .channel")
    assert switch.text == "Telegram"
    wait_until("the first state", lambda: browser.execute_script("return S.version >= 0"))
    switch.click()
    wait_until("the Zalo look", lambda: "zalo" in (pane.element.get_attribute("class") or ""))
    assert switch.text == "Zalo"
    wait_until("the follow note", lambda: "quan tâm" in pane.element.text)
    keyboard_toggle = pane.element.find_element(By.CSS_SELECTOR, ".toggle-keyboard")
    assert not keyboard_toggle.is_displayed()
    box = pane.element.find_element(By.CSS_SELECTOR, ".compose textarea[name=text]")
    box.send_keys("xin chào OA")
    pane.element.find_element(By.CSS_SELECTOR, ".compose .send").click()
    wait_until(
        "my Zalo message",
        lambda: any(
            "xin chào OA" in m.text for m in pane.element.find_elements(By.CSS_SELECTOR, ".msg.me")
        ),
    )
    switch.click()  # back to Telegram: that chat never saw the Zalo message
    wait_until(
        "the Telegram look", lambda: "zalo" not in (pane.element.get_attribute("class") or "")
    )
    wait_until(
        "the Telegram chat",
        lambda: (
            not any(
                "xin chào OA" in m.text
                for m in pane.element.find_elements(By.CSS_SELECTOR, ".msg.me")
            )
        ),
    )


class DemoThread:
    """`Demo` on an event loop of its own thread, so Selenium's blocking calls do not stop it."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        settings = Settings(_env_file=None, sweep_interval_seconds=60)  # type: ignore[call-arg]
        self.demo = self.run(self._make(settings, tmp_path))

    @staticmethod
    async def _make(settings: Settings, tmp_path: Path) -> Demo:
        return Demo(settings, DemoOptions(start=START, keep_db=tmp_path / "demo.db"))

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(60)

    def oa_send(self, user_id: str, message: dict[str, Any]) -> str:
        """What the bot's Zalo channel does: a cs message through the OA API."""

        async def send() -> str:
            access, _ = self.demo.zalo.issue_tokens()
            body = {"recipient": {"user_id": user_id}, "message": message}
            url = self.demo.zalo.base_url + "/v3.0/oa/message/cs"
            headers = {"access_token": access}
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, json=body, headers=headers) as response,
            ):
                answer = await response.json()
            assert answer["error"] == 0, answer
            return str(answer["data"]["message_id"])

        return self.run(send())

    def close(self) -> None:
        self.run(self.demo.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[DemoThread]:
    running = DemoThread(tmp_path)
    running.run(running.demo.start())
    try:
        yield running
    finally:
        running.close()


def test_a_zalo_pane_shows_buttons_and_the_phone_request_and_taps_send_payloads(
    browser: WebDriver,  # noqa: F811
    in_process: DemoThread,
) -> None:
    demo = in_process.demo
    browser.get(demo.url)
    pane = open_pane(browser, "TH-003")
    wait_until("the first state", lambda: browser.execute_script("return S.version >= 0"))
    pane.element.find_element(By.CSS_SELECTOR, ".pane-head .channel").click()
    # the bot answers on Zalo now, and the pane reports what it has seen: the follow comes first
    wait_until("the follow", lambda: [e.event_name for e in demo.zalo.events][:1] == ["follow"])
    user_id = demo.zalo.events[0].user_id
    element = {"title": "Xác minh số điện thoại", "subtitle": "Chạm để chia sẻ",
               "image_url": "https://example.org/logo.png"}  # fmt: skip
    in_process.oa_send(user_id, {"attachment": {"type": "template", "payload": {
        "template_type": "request_user_info", "elements": [element]}}})  # fmt: skip
    pane.tap_when_shown("button.inline", "Chia sẻ")
    shared = wait_until(
        "the shared phone",
        lambda: [e for e in demo.zalo.events if e.event_name == "user_submit_info"],
    )
    assert shared[0].body["info"]["phone"] == "84912000026"  # type: ignore[index]
    choices = [{"title": f"Lựa chọn {n}", "type": "oa.query.hide", "payload": f"#kb:{n}"}
               for n in range(5)]  # fmt: skip
    in_process.oa_send(user_id, {"text": "Chọn một", "attachment": {
        "type": "template", "payload": {"buttons": choices}}})  # fmt: skip
    message = pane.wait_for_button("Lựa chọn 4")
    assert len(message.find_elements(By.CSS_SELECTOR, "button.inline")) == 5
    assert not pane.element.find_elements(By.CSS_SELECTOR, ".keyboard button")
    screenshot(browser, "zalo-pane")
    pane.tap_inline_once(message, "Lựa chọn 4")
    wait_until(
        "the tap",
        lambda: any(e.body.get("message", {}).get("text") == "#kb:4" for e in demo.zalo.events),
    )
    wait_until("the tap note", lambda: "↳ Lựa chọn 4" in pane.element.text)


def test_python_m_bot_demo_a_zalo_pane_registers_and_asks_for_travel_decided_on_telegram(
    browser: WebDriver,  # noqa: F811
    demo_url: str,  # noqa: F811
) -> None:
    """The real bot answers the Zalo pane: its welcome and phone form, the consents, /travel;
    the principal's Telegram pane decides, and the decision reaches the Zalo pane."""
    browser.get(demo_url)
    teacher = open_pane(browser, "TH-003")
    principal = open_pane(browser, "TH-001")
    wait_until("the first state", lambda: browser.execute_script("return S.version >= 0"))
    try:
        teacher.element.find_element(By.CSS_SELECTOR, ".pane-head .channel").click()
        assert "biểu mẫu" in teacher.wait_for_text("Chào mừng").text  # Zalo: the form, no key
        teacher.tap_inline(teacher.wait_for_button("Chia sẻ"), "Chia sẻ")
        teacher.tap_inline(teacher.wait_for_button("✅"), "✅")
        for _ in ("(a) staff list and travel", "(b) health data"):
            teacher.tap_inline(teacher.wait_for_button("Đồng ý"), "Đồng ý")
        teacher.wait_for_text("Đăng ký thành công")
        principal.register()
        for typed in ("/travel", "da nang", "12 Trần Phú, phường Hải Châu", "29/05/2021 07:00",
                      "30/05/2021 18:00", "Thăm gia đình"):  # fmt: skip
            teacher.send(typed)
        teacher.tap_inline(teacher.wait_for_button("Không"), "Không")
        teacher.tap_inline(teacher.wait_for_button("Gửi"), "Gửi")
        teacher.wait_for_text("Châu Thị Bích Ngọc")
        principal.tap_inline_once(principal.wait_for_text("Lại Thị Diệu Linh"), "Phê duyệt")
        teacher.wait_for_text("Đã phê duyệt")
        screenshot(browser, "zalo-pane-approved")
    except Exception:
        screenshot(browser, "zalo-pane-failure")
        raise
