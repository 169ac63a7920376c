"""The demo page in headless Chromium: a pane switches to Zalo and back (Zalo's look, its own
chat), as the browser test of the Telegram panes does (tests/test_sandbox_browser.py)."""

from __future__ import annotations

import pytest

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
        lambda: any("xin chào OA" in m.text
                    for m in pane.element.find_elements(By.CSS_SELECTOR, ".msg.me")),
    )  # fmt: skip
    screenshot(browser, "zalo-pane")
    switch.click()  # back to Telegram: that chat never saw the Zalo message
    wait_until(
        "the Telegram look", lambda: "zalo" not in (pane.element.get_attribute("class") or "")
    )
    wait_until(
        "the Telegram chat",
        lambda: not any("xin chào OA" in m.text
                        for m in pane.element.find_elements(By.CSS_SELECTOR, ".msg.me")),
    )  # fmt: skip
