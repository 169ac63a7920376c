"""The sandbox without a browser: the OffsetClock, and `Demo` in this process driven over its
page's JSON API (the same calls the page's JavaScript makes)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import services_of
from bot.clock import OffsetClock, SystemClock
from bot.config import TOKEN_FORMAT, Settings
from bot.domain.clock import VIETNAM, ManualClock
from bot.sandbox.demo import Demo, DemoError, DemoOptions
from bot.sandbox.server import TINY_PNG, FakeBotApi
from bot.sandbox.web import TOKEN_HEADER

START = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)


def test_offset_clock_moves_only_its_offset() -> None:
    base = ManualClock(datetime(2026, 1, 1, 8, 0, tzinfo=VIETNAM))
    clock = OffsetClock(base)
    assert clock.now() == base.now() and clock.tz == VIETNAM
    assert clock.advance(timedelta(hours=1)) == datetime(2026, 1, 1, 9, 0, tzinfo=VIETNAM)
    base.advance(timedelta(minutes=5))  # time keeps flowing at the base clock's pace
    assert clock.now() == datetime(2026, 1, 1, 9, 5, tzinfo=VIETNAM)
    assert clock.jump_to(datetime(2021, 5, 26, 9, 0)) == START  # naive: the clock's zone
    assert clock.now().tzinfo == VIETNAM and clock.offset < timedelta(0)
    assert clock.reset() == base.now()


def test_offset_clock_over_the_system_clock_and_system_clock_unchanged() -> None:
    assert SystemClock().now().tzinfo == VIETNAM
    clock = OffsetClock()
    clock.advance(timedelta(days=2))
    delta = clock.now() - SystemClock().now()
    assert timedelta(days=2) - timedelta(seconds=5) < delta <= timedelta(days=2)


class Page:
    """The page's JSON calls."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.session = session
        self.url = url
        self.auth = {TOKEN_HEADER: token}

    async def get(self, path: str) -> Any:
        async with self.session.get(self.url + path, headers=self.auth) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> Any:
        async with self.session.post(self.url + path, json=body, headers=self.auth) as response:
            assert response.status == status, await response.text()
            return await response.json()

    async def chat(self, staff_id: str) -> list[dict[str, Any]]:
        state = await self.get(f"_sandbox/state?since=-1&staff={staff_id}")
        return state["chats"][staff_id]  # type: ignore[no-any-return]

    async def wait_bot(
        self, staff_id: str, count: int, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The chat, once the bot has sent it at least `count` messages."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            chat = await self.chat(staff_id)
            if sum(entry["from"] == "bot" for entry in chat) >= count:
                return chat
            assert asyncio.get_running_loop().time() < deadline, chat
            await asyncio.sleep(0.05)


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


async def test_page_and_directory_are_served_on_localhost(demo: Demo, page: Page) -> None:
    assert demo.url.startswith("http://127.0.0.1:")
    for path, marker in (
        ("", "<title>khaibao"),
        ("sandbox.js", "/_sandbox/state"),
        ("sandbox.css", ".pane"),
    ):
        async with page.session.get(page.url + path) as response:
            assert response.status == 200 and marker in await response.text()
    people = await page.get("_sandbox/people")
    by_id = {person["staff_id"]: person for person in people}
    assert by_id["TH-003"]["name"] == "Lại Thị Diệu Linh"
    assert by_id["TH-001"]["roles"] == ["unit_head"]
    assert len({person["user_id"] for person in people}) == len(people) > 20


async def test_chatting_as_a_sample_person_registers_them(page: Page) -> None:
    await page.post("_sandbox/open", {"staff_id": "TH-003"})
    await page.post("_sandbox/text", {"staff_id": "TH-003", "text": "/start"})
    welcome = (await page.wait_bot("TH-003", 1))[-1]
    keys = welcome["reply_markup"]["keyboard"][0]
    assert keys[0]["request_contact"] is True
    assert (
        welcome["date"] == int(START.timestamp()) or abs(welcome["date"] - START.timestamp()) < 60
    )
    await page.post("_sandbox/contact", {"staff_id": "TH-003"})
    chat = await page.wait_bot("TH-003", 2)
    assert chat[2]["contact"]["phone_number"] == "+84912000026"  # the person's own number
    question = [entry for entry in chat if entry["from"] == "bot"][-1]
    yes = next(
        b for row in question["reply_markup"]["inline_keyboard"] for b in row if "✅" in b["text"]
    )
    await page.post("_sandbox/press", {"staff_id": "TH-003", "message_id": question["message_id"],
                                       "data": yes["callback_data"]})  # fmt: skip
    for answered in (4, 5):  # the notice, then (a) and (b), each answered «Đồng ý»
        chat = await page.wait_bot("TH-003", answered)
        consent = [entry for entry in chat if entry["from"] == "bot"][-1]
        agree = next(
            b for row in consent["reply_markup"]["inline_keyboard"] for b in row
            if b["text"] == "Đồng ý"
        )  # fmt: skip
        await page.post("_sandbox/press", {"staff_id": "TH-003",
                        "message_id": consent["message_id"], "data": agree["callback_data"]})  # fmt: skip
    chat = await page.wait_bot("TH-003", 6)
    assert any("Đăng ký thành công" in (entry.get("text") or "") for entry in chat)
    assert any(
        entry.get("press") == yes["callback_data"] and "✅" in entry["button"] for entry in chat
    )


async def test_the_dial_moves_the_bots_clock_and_runs_the_sweep_at_once(
    demo: Demo, page: Page
) -> None:
    seen: list[datetime] = []

    async def spy(now: datetime) -> int:
        seen.append(now)
        return 0

    assert demo.app is not None
    services_of(demo.app).sweeper.jobs.append(spy)
    moved = await page.post("_sandbox/clock", {"advance_minutes": 60})
    assert moved["local"] == "26/05/2021 10:00"  # dd/mm, as the page shows it
    assert seen and seen[-1] - START >= timedelta(hours=1)
    assert services_of(demo.app).deps.clock.now() - START >= timedelta(hours=1)
    moved = await page.post("_sandbox/clock", {"jump_to": "2021-05-30T18:30"})
    assert moved["label"].startswith("Chủ nhật 30/05/2021 18:30")
    moved = await page.post("_sandbox/clock", {"jump_to": "30/05/2021 18:45"})
    assert moved["label"] == "Chủ nhật 30/05/2021 18:45"
    assert seen[-1].date() == datetime(2021, 5, 30).date()
    for bad in ({"advance_minutes": -5}, {"advance_minutes": "x"}, {"jump_to": "soon"}, {}):
        await page.post("_sandbox/clock", bad, status=400)


async def test_bad_requests_from_the_page_are_refused(page: Page) -> None:
    await page.post("_sandbox/open", {"staff_id": "NOBODY"}, status=400)
    await page.post("_sandbox/text", {"staff_id": "TH-003", "text": "  "}, status=400)
    await page.post(
        "_sandbox/press", {"staff_id": "TH-003", "message_id": 99, "data": "x"}, status=400
    )
    async with page.session.get(page.url + "_sandbox/file/nope", headers=page.auth) as response:
        assert response.status == 404


async def test_long_poll_answers_when_something_changes(page: Page) -> None:
    state = await page.get("_sandbox/state?since=-1&staff=TH-005")
    waiting = asyncio.ensure_future(
        page.get(f"_sandbox/state?since={state['version']}&staff=TH-005")
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await page.post("_sandbox/text", {"staff_id": "TH-005", "text": "/start"})
    changed = await asyncio.wait_for(waiting, 5)
    assert changed["version"] > state["version"] and changed["chats"]["TH-005"]


async def test_missing_sample_files_stop_the_demo_with_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    demo = Demo(settings, DemoOptions(examples=tmp_path, keep_db=tmp_path / "x.db"))
    with pytest.raises(DemoError, match=r"units\.csv"):
        await demo.start()
    await demo.stop()


async def test_tests_fakebot_is_the_product_sandbox() -> None:
    from tests.fakebot import FakeBotApi as TestsFake
    from tests.fakebot.server import FakeBotApi as TestsServerFake

    assert TestsFake is FakeBotApi and TestsServerFake is FakeBotApi


async def test_files_both_ways_documents_from_the_bot_photos_from_the_page(
    demo: Demo, page: Page
) -> None:
    person = await page.post("_sandbox/open", {"staff_id": "DU-003"})
    assert demo.app is not None
    await demo.app.bot.send_document(person["user_id"], document=b"a;b\n1;2\n", filename="bao-cao.csv",
                                     caption="Báo cáo")  # fmt: skip
    sent = (await page.wait_bot("DU-003", 1))[-1]
    assert sent["kind"] == "document" and sent["caption"] == "Báo cáo"
    async with page.session.get(
        page.url + f"_sandbox/file/{sent['document']['file_id']}", headers=page.auth
    ) as response:
        assert response.status == 200 and await response.read() == b"a;b\n1;2\n"
        assert "bao-cao.csv" in response.headers["Content-Disposition"]

    form = aiohttp.FormData()
    form.add_field("staff_id", "DU-003")
    form.add_field("photo", TINY_PNG, filename="x.png", content_type="image/png")
    async with page.session.post(
        page.url + "_sandbox/photo", data=form, headers=page.auth
    ) as response:
        assert response.status == 200, await response.text()
    mine = [entry for entry in await page.chat("DU-003") if entry["from"] == "user"][-1]
    async with page.session.get(
        page.url + f"_sandbox/file/{mine['photo'][-1]['file_id']}", headers=page.auth
    ) as response:
        assert await response.read() == TINY_PNG and response.content_type == "image/png"


# --- the guard (issue 19.12): only this computer's browser, on this run's page ---------------


def port_of(demo: Demo) -> int:
    return int(demo.url.rstrip("/").rsplit(":", 1)[1])


async def status(
    session: aiohttp.ClientSession, method: str, url: str, **kwargs: object
) -> tuple[int, str]:
    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.text()


async def test_the_page_embeds_this_runs_token(page: Page, demo: Demo) -> None:
    async with page.session.get(page.url) as response:
        html = await response.text()
        assert response.headers["X-Frame-Options"] == "DENY"
    token = re.search(r'name="sandbox-token" content="([^"]+)"', html)
    assert token and demo.web is not None and token.group(1) == demo.web.token
    assert len(token.group(1)) >= 24 and "{{" not in html


async def test_another_host_name_is_refused_page_and_api(page: Page, demo: Demo) -> None:
    port = port_of(demo)
    for host in ("evil.example", f"evil.example:{port}", f"attacker.127.0.0.1.nip.io:{port}"):
        headers = {"Host": host, **page.auth}
        assert (await status(page.session, "GET", page.url, headers=headers))[0] == 403
        code, _ = await status(page.session, "GET", page.url + "_sandbox/people", headers=headers)
        assert code == 403
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        headers = {"Host": host, **page.auth}
        assert (await status(page.session, "GET", page.url + "_sandbox/people", headers=headers))[
            0
        ] == 200


async def test_the_api_needs_the_token(page: Page) -> None:
    people = page.url + "_sandbox/people"
    assert (await status(page.session, "GET", people))[0] == 403
    assert (await status(page.session, "GET", people, headers={TOKEN_HEADER: "guess"}))[0] == 403
    assert (await status(page.session, "GET", people, headers=page.auth))[0] == 200
    body = {"staff_id": "TH-003", "text": "/start"}
    code, text = await status(page.session, "POST", page.url + "_sandbox/text", json=body)
    assert code == 403 and "token" in text
    token = page.auth[TOKEN_HEADER]
    code, _ = await status(
        page.session, "POST", page.url + f"_sandbox/text?token={token}", json=body
    )
    assert code == 403  # the query form is for file links only
    assert await page.chat("TH-003") == []  # nothing reached the bot


async def test_file_links_carry_the_token_in_the_query(page: Page) -> None:
    token = page.auth[TOKEN_HEADER]
    assert (await status(page.session, "GET", page.url + "_sandbox/file/nope"))[0] == 403
    assert (await status(page.session, "GET", page.url + f"_sandbox/file/nope?token={token}"))[
        0
    ] == 404


async def test_a_cross_origin_request_is_refused_even_with_the_token(
    page: Page, demo: Demo
) -> None:
    port = port_of(demo)
    body = {"staff_id": "TH-003", "text": "/start"}
    for origin in (
        "http://evil.example",
        f"http://localhost:{port + 1}",
        f"https://127.0.0.1:{port}",
        "null",
    ):
        headers = {"Origin": origin, **page.auth}
        code, _ = await status(
            page.session, "POST", page.url + "_sandbox/text", json=body, headers=headers
        )
        assert code == 403, origin
    same = {"Origin": f"http://127.0.0.1:{port}", **page.auth}
    code, _ = await status(
        page.session, "POST", page.url + "_sandbox/text", json=body, headers=same
    )
    assert code == 200


async def test_actions_must_be_json(page: Page) -> None:
    """A form or text/plain post (what another site can send without asking) is refused."""
    for kind in ("text/plain", "application/x-www-form-urlencoded"):
        headers = {"Content-Type": kind, **page.auth}
        code, _ = await status(page.session, "POST", page.url + "_sandbox/clock",
                               data='{"advance_minutes": 60}', headers=headers)  # fmt: skip
        assert code == 415, kind
    moved = await page.post("_sandbox/clock", {"advance_minutes": 60})
    assert moved["offset_seconds"] != 0  # the same request as JSON goes through


async def test_the_demo_serves_no_control_api_and_guards_its_bot_api(
    page: Page, demo: Demo
) -> None:
    """Beside the page, the demo's server is the bot's Bot API: another site (a simple
    text/plain post, which needs no permission) or another host name (DNS rebinding) must not
    drive it, read the chats or take the bot's updates; its token is this run's."""
    port = port_of(demo)
    inject = {"user_id": 1, "text": "/start"}
    for path in ("_control/users", "_control/text"):
        code, _ = await status(page.session, "POST", page.url + path, json=inject)
        assert code == 404, path  # the tests' control API is not served by the demo
    assert demo.api.token != FakeBotApi().token  # not the well-known test token
    assert TOKEN_FORMAT.fullmatch(demo.api.token)  # and shaped as @BotFather's
    updates = page.url + f"bot{demo.api.token}/getUpdates"
    for headers in ({"Origin": "http://evil.example", "Content-Type": "text/plain"},
                    {"Host": f"evil.example:{port}"}):  # fmt: skip
        code, _ = await status(page.session, "POST", updates, headers=headers, data="{}")
        assert code == 403, headers
    assert (await status(page.session, "GET", page.url + "_control/messages?chat_id=1"))[0] == 404


async def test_item30_each_sample_person_has_an_invite_link_that_registers(
    demo: Demo, page: Page, tmp_path: Path
) -> None:
    """Issue 14 item 30: the demo writes the invite links (invites.csv beside its database) and
    the page offers each person theirs (🔗 at the top of a pane sends `/start <code>`)."""
    people = {p["staff_id"]: p for p in await page.get("_sandbox/people")}
    link = people["TH-003"]["invite"]
    assert link.startswith("https://t.me/khaibao_sandbox_bot?start=")
    assert link in (tmp_path / "invites.csv").read_text(encoding="utf-8-sig")
    await page.post("_sandbox/open", {"staff_id": "TH-003"})
    code = link.split("start=")[1]
    await page.post("_sandbox/text", {"staff_id": "TH-003", "text": f"/start {code}"})
    chat = await page.wait_bot("TH-003", 2)
    # the code linked her: the consent questions come only to a person the bot has matched
    texts = [m.get("text") or "" for m in chat]
    assert any("🔒" in text for text in texts) and "(a)" in texts[-1], texts
