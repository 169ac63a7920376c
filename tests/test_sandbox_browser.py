"""`python -m bot demo` in real headless Chromium, driven by Selenium (Debian's chromium and
chromium-driver; `.ci/run` installs them).

A teacher (TH-003) and her principal (TH-001) register by sharing their contact, the teacher asks
to travel at the weekend, the principal approves, the time dial is turned past the planned return
and the return question arrives in the teacher's pane. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "tests" / "artifacts"
START = "2021-05-26 09:00"  # a Wednesday, in Asia/Ho_Chi_Minh
WAIT = 20.0

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402


def browser_missing() -> str | None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    return (
        f"not installed: {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if missing
        else None
    )


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    """`python -m bot demo` as a child process (cwd: an empty folder, so no developer .env)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELEGRAM_")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--start", START],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=(tmp_path / "demo.log").open("wb"), text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    assert match, f"demo printed {line!r}; log: {(tmp_path / 'demo.log').read_text()[-2000:]}"
    try:
        yield match.group(0)
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        rest = process.stdout.read()
        process.stdout.close()
        assert code == 0, (code, (tmp_path / "demo.log").read_text()[-3000:])
        assert "khaibao sandbox:" in rest  # "stopping", in the default language


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    problem = browser_missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {problem}")
        pytest.skip(problem)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1700,1000",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


# ------------------------------------------------------------------------------ page helpers


def wait_until(what: str, check: Callable[[], object], timeout: float = WAIT) -> object:
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except StaleElementReferenceException:
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Pane:
    def __init__(self, driver: WebDriver, staff_id: str) -> None:
        self.driver = driver
        self.staff_id = staff_id

    @property
    def element(self) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'.pane[data-staff="{self.staff_id}"]')

    def bot_texts(self) -> list[str]:
        for _ in range(50):  # the pane may redraw while it is read
            try:
                return [m.text for m in self.element.find_elements(By.CSS_SELECTOR, ".msg.bot")]
            except StaleElementReferenceException:
                time.sleep(0.05)
        raise AssertionError(f"the {self.staff_id} pane kept redrawing")

    def wait_for_text(self, fragment: str, timeout: float = WAIT) -> WebElement:
        def find() -> WebElement | None:
            for message in self.element.find_elements(By.CSS_SELECTOR, ".msg.bot"):
                if fragment in message.text:
                    return message
            return None

        try:
            return wait_until(f"{fragment!r} in {self.staff_id}", find, timeout)  # type: ignore[return-value]
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the pane shows: {self.bot_texts()[-5:]}") from None

    def wait_for_button(self, label: str) -> WebElement:
        def find() -> WebElement | None:
            for message in reversed(self.element.find_elements(By.CSS_SELECTOR, ".msg.bot")):
                if any(
                    label in b.text for b in message.find_elements(By.CSS_SELECTOR, "button.inline")
                ):
                    return message
            return None

        return wait_until(f"a {label!r} button in {self.staff_id}", find)  # type: ignore[return-value]

    def send(self, text: str) -> None:
        """Type and send; wait until the bot has answered (one more message, then quiet)."""
        before = len(self.bot_texts())
        box = self.element.find_element(By.CSS_SELECTOR, ".compose textarea[name=text]")
        box.send_keys(text)
        self.element.find_element(By.CSS_SELECTOR, ".compose .send").click()
        wait_until(f"an answer to {text!r}", lambda: len(self.bot_texts()) > before)
        self.settle()

    def settle(self) -> None:
        count = -1
        while count != len(self.bot_texts()):
            count = len(self.bot_texts())
            time.sleep(0.4)

    def tap_inline(self, message: WebElement, label: str) -> None:
        before = len(self.bot_texts())
        self._click(message, label)
        wait_until(f"an answer to {label!r}", lambda: len(self.bot_texts()) > before)
        self.settle()

    def tap_inline_once(self, message: WebElement, label: str) -> None:
        """Tap without expecting a new message in this pane (the message is edited instead)."""
        self._click(message, label)

    def _click(self, message: WebElement, label: str) -> None:
        """The pane draws its chat again on every new message: a message found before may be
        gone from the page, drawn anew; the newest message with that button is then taken."""
        for _ in range(20):
            try:
                for button in message.find_elements(By.CSS_SELECTOR, "button.inline"):
                    if label in button.text:
                        button.click()
                        return
                raise AssertionError(f"no button {label!r} in {message.text!r}")
            except StaleElementReferenceException:
                message = self.wait_for_button(label)
        raise AssertionError(f"the {self.staff_id} pane kept redrawing")

    def tap_when_shown(self, selector: str, label: str = "") -> None:
        """Tap the first `selector` element showing `label`, found and tapped in one go: the
        pane may draw its chat again in between."""

        def tap() -> bool:
            for element in self.element.find_elements(By.CSS_SELECTOR, selector):
                if label in element.text:
                    element.click()
                    return True
            return False

        wait_until(f"{selector} {label!r} in {self.staff_id}, tapped", tap)

    def register(self) -> None:
        self.send("/start")
        self.tap_when_shown(".keyboard button.contact")
        question = self.wait_for_button("✅")
        self.tap_inline(question, "✅")
        for _ in ("(a) staff list and travel", "(b) health data"):
            self.tap_inline(self.wait_for_button("Đồng ý"), "Đồng ý")
        self.wait_for_text("Đăng ký thành công")


def open_pane(driver: WebDriver, staff_id: str) -> Pane:
    search = driver.find_element(By.ID, "people-filter")
    search.clear()
    search.send_keys(staff_id)
    driver.find_element(By.CSS_SELECTOR, f'.person[data-staff="{staff_id}"]').click()
    pane = Pane(driver, staff_id)
    wait_until(
        f"the pane of {staff_id}",
        lambda: driver.find_elements(By.CSS_SELECTOR, f'.pane[data-staff="{staff_id}"]'),
    )
    return pane


def screenshot(driver: WebDriver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def jump_to(driver: WebDriver, moment: str) -> None:
    field = driver.find_element(By.ID, "jump-at")
    driver.execute_script("arguments[0].value = arguments[1];", field, moment)
    driver.find_element(By.ID, "jump-btn").click()


def clock_label(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "clock-label").text


# ------------------------------------------------------------------------------ the test


def test_weekend_trip_approved_and_return_question_after_the_dial(
    demo_url: str, browser: WebDriver
) -> None:
    browser.get(demo_url)
    wait_until("the sample directory", lambda: browser.find_elements(By.CSS_SELECTOR, ".person"))
    assert "26/05/2021 09:0" in clock_label(browser)
    teacher = open_pane(browser, "TH-003")
    principal = open_pane(browser, "TH-001")
    assert "Lại Thị Diệu Linh" in teacher.element.text
    assert "Châu Thị Bích Ngọc" in principal.element.text
    try:
        teacher.register()
        principal.register()

        teacher.send("/travel")
        for answer in ("da nang", "12 Trần Phú, phường Hải Châu", "29/05/2021 07:00",
                       "30/05/2021 18:00", "Thăm gia đình"):  # fmt: skip
            teacher.send(answer)
        teacher.tap_inline(teacher.wait_for_button("Không"), "Không")
        teacher.tap_inline(teacher.wait_for_button("Gửi"), "Gửi")
        teacher.wait_for_text("Châu Thị Bích Ngọc")

        request = principal.wait_for_text("Lại Thị Diệu Linh")
        assert "cuối tuần" in request.text
        principal.tap_inline_once(request, "Phê duyệt")
        teacher.wait_for_text("Đã phê duyệt")
        screenshot(browser, "sandbox-approved")

        browser.find_element(By.ID, "plus-day").click()
        wait_until("the dial a day on", lambda: "27/05/2021 09:" in clock_label(browser))
        jump_to(browser, "30/05/2021 17:30")  # as the page shows dates: dd/mm
        wait_until("the dial at 17:30", lambda: "30/05/2021 17:30" in clock_label(browser))
        browser.find_element(By.ID, "plus-hour").click()
        wait_until(
            "the dial past the return time", lambda: "30/05/2021 18:30" in clock_label(browser)
        )
        teacher.wait_for_text("đã về chưa")
        screenshot(browser, "sandbox-return-question")
    except Exception:
        screenshot(browser, "sandbox-failure")
        raise


# ------------------------------------------------------------------------------ issue 14 item 30


def chat_box(pane: Pane) -> WebElement:
    return pane.element.find_element(By.CSS_SELECTOR, ".chat")


def in_view(driver: WebDriver, chat: WebElement, message: WebElement) -> bool:
    """The message's top line is inside the chat's visible area."""
    return bool(
        driver.execute_script(
            "const c = arguments[0].getBoundingClientRect(), m = arguments[1].getBoundingClientRect();"
            "return m.top >= c.top - 1 && m.top < c.bottom - 10;",
            chat,
            message,
        )
    )


def set_viewport(driver: WebDriver, width: int, height: int) -> None:
    """The page's own area at this size (the window also holds the browser's frame)."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
    assert driver.execute_script("return [window.innerWidth, window.innerHeight];") == [
        width,
        height,
    ]


def user_texts(pane: Pane) -> list[str]:
    return [m.text for m in pane.element.find_elements(By.CSS_SELECTOR, ".msg.me")]


def test_item30_demo_page_reads_well_and_sends_files_forwards_and_toasts(
    demo_url: str, browser: WebDriver, tmp_path: Path
) -> None:
    browser.get(demo_url)
    set_viewport(browser, 1280, 720)
    wait_until("the sample directory", lambda: browser.find_elements(By.CSS_SELECTOR, ".person"))
    wait_until(
        "the dial in Vietnamese", lambda: clock_label(browser).startswith("Thứ Tư 26/05/2021 09:")
    )
    jump_field = browser.find_element(By.ID, "jump-at").get_attribute("value") or ""
    assert "lệch giờ thật" in browser.find_element(By.ID, "clock-zone").text
    assert re.fullmatch(r"26/05/2021 09:\d\d", jump_field), jump_field
    admin = open_pane(browser, "DU-003")
    try:
        admin.register()
        keyboard = admin.element.find_element(By.CSS_SELECTOR, ".keyboard")
        assert keyboard.is_displayed() and keyboard.find_elements(By.CSS_SELECTOR, "button")
        chat_height = chat_box(admin).size["height"]
        assert chat_height >= 0.45 * admin.element.size["height"], (
            chat_height,
            admin.element.size,
        )  # the menu keyboard leaves room to read at 1280×720
        screenshot(browser, "sandbox-1280x720")

        admin.send("/broadcast")
        admin.send("1061/UBND-VP 26/05/2021")
        admin.send("V/v tăng cường phòng, chống dịch")
        box = admin.element.find_element(By.CSS_SELECTOR, ".compose textarea[name=text]")
        browser.execute_script(
            "arguments[0].value = arguments[1];", box, "Dòng một của văn bản\nDòng hai của văn bản"
        )  # as a paste puts it
        before = len(admin.bot_texts())
        admin.element.find_element(By.CSS_SELECTOR, ".compose .send").click()
        wait_until("the pasted text's answer", lambda: len(admin.bot_texts()) > before)
        admin.settle()
        assert any("Dòng một của văn bản\nDòng hai của văn bản" in t for t in user_texts(admin))
        assert "41 ký tự" in admin.bot_texts()[-1], admin.bot_texts()[-1]  # the line break kept

        box.send_keys("Trích thông báo của Quận ủy")
        before = len(admin.bot_texts())
        admin.element.find_element(By.CSS_SELECTOR, ".compose .forward").click()
        wait_until("the forwarded text's answer", lambda: len(admin.bot_texts()) > before)
        admin.settle()
        assert any("↪" in t and "Trích thông báo" in t for t in user_texts(admin))

        pdf = tmp_path / "thong-bao-262.pdf"
        pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        upload = admin.element.find_element(By.CSS_SELECTOR, ".attach input[type=file]")
        browser.execute_script("arguments[0].hidden = false;", upload)
        before = len(admin.bot_texts())
        upload.send_keys(str(pdf))
        wait_until("the file's answer", lambda: len(admin.bot_texts()) > before)
        admin.settle()
        assert "thong-bao-262.pdf" in admin.bot_texts()[-1], admin.bot_texts()[-1]
        assert any("📄 thong-bao-262.pdf" in t for t in user_texts(admin))

        browser.execute_script("arguments[0].hidden = true;", upload)
        admin.tap_inline(admin.wait_for_button("Xong"), "Xong")  # the audience question comes
        stale = next(  # the chat is drawn anew at each change: find it again
            m
            for m in admin.element.find_elements(By.CSS_SELECTOR, ".msg.bot")
            if "Xong" in m.text and m.find_elements(By.CSS_SELECTOR, "button.inline")
        )
        admin.tap_inline_once(stale, "Xong")  # an earlier «Xong»: answered by a toast
        toast = wait_until(
            "a toast",
            lambda: [
                t
                for t in admin.element.find_elements(By.CSS_SELECTOR, ".toasts .toast")
                if "không còn hiệu lực" in t.text
            ],
        )
        assert toast
        screenshot(browser, "sandbox-toast")

        audience = admin.wait_for_button("Mọi người")
        before = len(admin.bot_texts())
        admin.tap_inline(audience, "Mọi người")
        new = admin.element.find_elements(By.CSS_SELECTOR, ".msg.bot")[before]
        assert "Xem trước" in new.text
        assert in_view(browser, chat_box(admin), new), "the first new message is in view"
        screenshot(browser, "sandbox-preview-in-view")
    except Exception:
        screenshot(browser, "sandbox-item30-failure")
        raise
