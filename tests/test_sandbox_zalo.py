"""The sandbox Zalo OA against ZALO.md: its answers, its window, tokens, uploads, webhooks.

These test the fake itself over HTTP (as the bot's adapter will speak to it), with a small
receiver standing in for the bot's webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import signal
import socket
import sys
import unicodedata
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.model import TINY_PNG
from bot.sandbox.zalo_model import DAY, HOUR
from bot.sandbox.zalo_server import APP_ID, APP_SECRET, OA_ID, OA_SECRET_KEY, FakeZaloOA
from tests.paths import ROOT

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Receiver:
    """The bot's webhook, as far as these tests need it: records each post, answers from
    `statuses` (then 200), waiting `delays` seconds first."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.statuses: deque[int] = deque()
        self.delays: deque[float] = deque()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/zalo/webhook", self._take)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/zalo/webhook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _take(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        if self.delays:
            await asyncio.sleep(self.delays.popleft())
        return web.Response(status=self.statuses.popleft() if self.statuses else 200)

    def bodies(self, event_name: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(raw) for _, raw in self.posts]
        return [body for body in found if event_name in (None, body["event_name"])]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    yield hook
    await hook.stop()


@pytest.fixture
async def zalo(receiver: Receiver) -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA(webhook_url=receiver.url, retry_pauses=(0.05, 0.1, 0.1))
    await fake.start()
    yield fake
    await fake.stop()


class Client:
    """The OA API as an adapter calls it: `access_token` header, JSON bodies, `data` on GETs."""

    def __init__(self, session: aiohttp.ClientSession, fake: FakeZaloOA, token: str) -> None:
        self.session, self.fake, self.token = session, fake, token

    async def post(self, path: str, body: Any, *, raw: bytes | None = None) -> dict[str, Any]:
        data = raw if raw is not None else json.dumps(body).encode()
        headers = {"access_token": self.token, "Content-Type": "application/json"}
        async with self.session.post(self.fake.base_url + path, data=data, headers=headers) as r:
            assert r.status == 200, await r.text()  # Zalo answers errors with HTTP 200 too
            return await r.json()  # type: ignore[no-any-return]

    async def get(self, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        params = {"data": json.dumps(data)} if data is not None else {}
        headers = {"access_token": self.token}
        url = self.fake.base_url + path
        async with self.session.get(url, params=params, headers=headers) as response:
            assert response.status == 200
            return await response.json()  # type: ignore[no-any-return]

    async def cs(self, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        return await self.post(
            "/v3.0/oa/message/cs", {"recipient": {"user_id": user_id}, "message": message}
        )

    async def upload(self, kind: str, data: bytes, name: str) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field("file", io.BytesIO(data), filename=name)
        url = f"{self.fake.base_url}/v2.0/oa/upload/{kind}"
        async with self.session.post(url, data=form, headers={"access_token": self.token}) as r:
            assert r.status == 200
            return await r.json()  # type: ignore[no-any-return]

    async def refresh(self, refresh_token: str, secret: str = APP_SECRET) -> dict[str, Any]:
        form = {"app_id": APP_ID, "grant_type": "refresh_token", "refresh_token": refresh_token}
        url = self.fake.base_url + "/v4/oa/access_token"
        async with self.session.post(url, data=form, headers={"secret_key": secret}) as response:
            assert response.status == 200
            return await response.json()  # type: ignore[no-any-return]


@pytest.fixture
async def api(zalo: FakeZaloOA) -> AsyncIterator[Client]:
    access, _ = zalo.issue_tokens()
    async with aiohttp.ClientSession() as session:
        yield Client(session, zalo, access)


def later(zalo: FakeZaloOA, api: Client, seconds: float) -> None:
    """Move Zalo's clock; the client takes a fresh token (an adapter refreshes its own)."""
    zalo.advance(seconds)
    api.token = zalo.issue_tokens()[0]


def following(zalo: FakeZaloOA, name: str = "Trần Thị Bình") -> str:
    user = zalo.user(name, phone="84912345678")
    zalo.follow(user)
    return user.user_id


# --------------------------------------------------------------------------- signature


@pytest.mark.parametrize(("signature_id", "prefix"), [("app_id", APP_ID), ("oa_id", OA_ID)])
async def test_each_webhook_is_signed_over_the_raw_body_and_its_timestamp(
    zalo: FakeZaloOA, receiver: Receiver, signature_id: str, prefix: str
) -> None:
    zalo.webhooks.configure(signature_id=signature_id)
    user = zalo.user("Lê Văn Cường")
    zalo.send_text(user, "xin chào")
    await zalo.webhooks.wait_idle()
    headers, raw = receiver.posts[0]
    body = json.loads(raw)
    expected = hashlib.sha256(
        prefix.encode() + raw + body["timestamp"].encode() + OA_SECRET_KEY.encode()
    ).hexdigest()
    assert headers["X-ZEvent-Signature"] == f"mac={expected}"
    assert raw != json.dumps(body).encode()  # a receiver must hash the bytes, not re-serialise
    assert body["event_name"] == "user_send_text" and body["message"]["text"] == "xin chào"
    assert body["sender"] == {"id": user.user_id} and body["recipient"] == {"id": OA_ID}
    assert isinstance(body["timestamp"], str) and isinstance(body["message"]["msg_id"], str)
    assert "num_retry" not in headers


async def test_the_app_secret_can_be_the_signing_key(zalo: FakeZaloOA, receiver: Receiver) -> None:
    zalo.webhooks.configure(signature_key=APP_SECRET)
    zalo.follow(zalo.user())
    await zalo.webhooks.wait_idle()
    headers, raw = receiver.posts[0]
    stamp = json.loads(raw)["timestamp"]
    digest = hashlib.sha256(APP_ID.encode() + raw + stamp.encode() + APP_SECRET.encode())
    assert headers["X-ZEvent-Signature"] == "mac=" + digest.hexdigest()


# --------------------------------------------------------------------------- the window


async def test_cs_is_free_within_48_hours_billable_to_7_days_refused_after(
    zalo: FakeZaloOA, api: Client
) -> None:
    user_id = following(zalo)
    first = await api.cs(user_id, {"text": "Chào anh"})
    assert first["error"] == 0 and first["message"] == "Success"
    assert first["data"]["user_id"] == user_id and isinstance(first["data"]["message_id"], str)
    later(zalo, api, 48 * HOUR + 1)
    assert (await api.cs(user_id, {"text": "Nhắc khai báo"}))["error"] == 0
    later(zalo, api, 5 * DAY - 2)
    assert (await api.cs(user_id, {"text": "Still inside 7 days"}))["error"] == 0
    later(zalo, api, 2)
    refused = await api.cs(user_id, {"text": "Too late"})
    assert refused["error"] == -230 and "data" not in refused
    assert [m.billable for m in zalo.messages(user_id)] == [False, True, True]
    stats = zalo.stats()
    assert stats["sent"] == 3 and stats["billable"] == 2 and stats["refused"] == {"-230": 1}
    assert stats["billable_by_user"] == {user_id: 2}


async def test_any_interaction_reopens_the_window(zalo: FakeZaloOA, api: Client) -> None:
    user_id = following(zalo)
    later(zalo, api, 8 * DAY)
    assert (await api.cs(user_id, {"text": "refused"}))["error"] == -230
    zalo.send_text(zalo.known(user_id), "tôi đây")
    answer = await api.cs(user_id, {"text": "Chào"})
    assert answer["error"] == 0 and not zalo.messages(user_id)[-1].billable
    quota = await api.post("/v3.0/oa/quota/message", {"user_id": user_id})
    last = zalo.known(user_id).last_interaction
    assert last is not None and quota["data"]["last_interaction"] == str(int(last * 1000))


async def test_a_user_never_seen_not_following_or_blocking_is_refused(
    zalo: FakeZaloOA, api: Client
) -> None:
    silent = zalo.user()
    assert (await api.cs(silent.user_id, {"text": "x"}))["error"] == -213
    silent.follower = True
    assert (await api.cs(silent.user_id, {"text": "x"}))["error"] == -230  # never interacted
    user_id = following(zalo)
    zalo.unfollow(zalo.known(user_id))
    assert (await api.cs(user_id, {"text": "x"}))["error"] == -213
    zalo.follow(zalo.known(user_id))
    zalo.block(zalo.known(user_id))
    assert (await api.cs(user_id, {"text": "x"}))["error"] == -217
    assert (await api.cs("999", {"text": "x"}))["error"] == -201
    numeric = {"recipient": {"user_id": int(user_id)}, "message": {"text": "x"}}
    assert (await api.post("/v3.0/oa/message/cs", numeric))["error"] == -201  # ids are strings


# --------------------------------------------------------------------------- message shapes


async def test_text_is_at_most_2000_nfc_characters(zalo: FakeZaloOA, api: Client) -> None:
    user_id = following(zalo)
    assert (await api.cs(user_id, {"text": "a" * 2000}))["error"] == 0
    too_long = await api.cs(user_id, {"text": "a" * 2001})
    assert too_long["error"] == -201 and "text" in too_long["message"]
    decomposed = unicodedata.normalize("NFD", "ệ" * 1000)  # 3000 code points, 1000 in NFC
    assert (await api.cs(user_id, {"text": decomposed}))["error"] == 0
    assert (await api.cs(user_id, {"text": ""}))["error"] == -201
    question = zalo.send_text(zalo.known(user_id), "Hỏi?").body["message"]["msg_id"]
    reply = await api.cs(user_id, {"text": "Đáp", "quote_message_id": question})
    assert reply["error"] == 0 and zalo.messages(user_id)[-1].quote_message_id == question
    assert (await api.cs(user_id, {"text": "x", "quote_message_id": "abc"}))["error"] == -201
    assert (await api.cs(user_id, {}))["error"] == -201


def buttons(count: int) -> dict[str, Any]:
    rows = [{"title": f"Lựa chọn {n}", "type": "oa.query.hide", "payload": f"#kb:c{n}"}
            for n in range(count)]  # fmt: skip
    return {"text": "Chọn:", "attachment": {"type": "template", "payload": {"buttons": rows}}}


async def test_at_most_five_buttons_and_a_tap_arrives_as_text(
    zalo: FakeZaloOA, api: Client, receiver: Receiver
) -> None:
    user_id = following(zalo)
    assert (await api.cs(user_id, buttons(6)))["error"] == -201
    assert (await api.cs(user_id, buttons(5)))["error"] == 0
    sent = zalo.messages(user_id)[-1]
    assert sent.kind == "buttons" and len(sent.button_titles()) == 5
    zalo.tap(zalo.known(user_id), sent, "Lựa chọn 3")
    await zalo.webhooks.wait_idle()
    tap = receiver.bodies("user_send_text")[-1]
    assert tap["message"]["text"] == "#kb:c3" and tap["sender"]["id"] == user_id
    assert zalo.timeline(user_id)[-1]["hidden"] is True


@pytest.mark.parametrize(
    "button",
    [
        {"title": "", "type": "oa.query.show", "payload": "#kb:x"},
        {"title": "Mở", "type": "oa.open.url", "payload": "https://example.org"},
        {"title": "Mở", "type": "oa.open.url", "payload": {"url": "ftp://x"}},
        {"title": "Gọi", "type": "oa.open.phone", "payload": {"phone_code": "+84 9"}},
        {"title": "Bấm", "type": "postback", "payload": "#kb:x"},
        {"title": "Bấm", "type": "oa.query.hide", "payload": {"text": "#kb:x"}},
        {"title": "x" * 21, "type": "oa.query.hide", "payload": "#kb:x"},  # the strict 20
        {"title": "Bấm", "type": "oa.query.hide", "payload": "#kb:" + "x" * 997},
        {"title": "Bấm", "type": "oa.query.show", "payload": "#kb:" + "đ" * 499},  # 1,002 bytes
    ],
)
async def test_malformed_buttons_are_refused(
    zalo: FakeZaloOA, api: Client, button: dict[str, Any]
) -> None:
    user_id = following(zalo)
    message = {"text": "Chọn", "attachment": {"type": "template", "payload": {"buttons": [button]}}}
    assert (await api.cs(user_id, message))["error"] == -201
    assert not zalo.messages(user_id)


async def test_titles_of_20_characters_and_payloads_of_1000_bytes_go(
    zalo: FakeZaloOA, api: Client
) -> None:
    user_id = following(zalo)
    title = "Đ" + "x" * 18 + "e\u0301"  # 20 characters once composed (NFC), 21 code points
    button = {"title": title, "type": "oa.query.hide", "payload": "#kb:" + "x" * 996}
    message = {"text": "Chọn", "attachment": {"type": "template", "payload": {"buttons": [button]}}}
    assert (await api.cs(user_id, message))["error"] == 0
    assert zalo.messages(user_id)[-1].button_titles() == [title]


async def test_phone_is_shared_only_after_request_user_info(
    zalo: FakeZaloOA, api: Client, receiver: Receiver
) -> None:
    user_id = following(zalo)
    user = zalo.known(user_id)
    with pytest.raises(ValueError, match="request_user_info"):
        zalo.submit_info(user)
    element = {"title": "Chia sẻ số điện thoại", "subtitle": "Để xác minh",
               "image_url": "https://example.org/logo.png"}  # fmt: skip
    ask = {"attachment": {"type": "template",
                          "payload": {"template_type": "request_user_info",
                                      "elements": [element]}}}  # fmt: skip
    assert (await api.cs(user_id, ask))["error"] == 0
    zalo.submit_info(user)
    await zalo.webhooks.wait_idle()
    shared = receiver.bodies("user_submit_info")[0]
    assert shared["info"]["phone"] == "84912345678" and shared["sender"]["id"] == user_id
    detail = await api.get("/v3.0/oa/user/detail", {"user_id": user_id})
    assert detail["data"]["shared_info"]["phone"] == "84912345678"
    assert detail["data"]["user_is_follower"] is True


async def test_unsupported_message_kinds_are_refused(zalo: FakeZaloOA, api: Client) -> None:
    user_id = following(zalo)
    listing = {"attachment": {"type": "template", "payload": {"template_type": "list"}}}
    assert (await api.cs(user_id, listing))["error"] == -233
    audio = {"attachment": {"type": "audio", "payload": {}}}
    assert (await api.cs(user_id, audio))["error"] == -233
    v2 = {"recipient": {"user_id": user_id}, "message": {"text": "old API"}}
    assert (await api.post("/v2.0/oa/message", v2))["error"] == -240


async def test_each_send_is_echoed_as_an_oa_event(
    zalo: FakeZaloOA, api: Client, receiver: Receiver
) -> None:
    user_id = following(zalo)
    answer = await api.cs(user_id, {"text": "Đã nhận"})
    await zalo.webhooks.wait_idle()
    echo = receiver.bodies("oa_send_text")[0]
    assert echo["sender"]["id"] == OA_ID and echo["recipient"]["id"] == user_id
    assert echo["message"]["msg_id"] == answer["data"]["message_id"]


# --------------------------------------------------------------------------- uploads


async def test_uploads_give_ids_that_expire_after_7_days(zalo: FakeZaloOA, api: Client) -> None:
    user_id = following(zalo)
    image = await api.upload("image", TINY_PNG, "a.png")
    attachment_id = image["data"]["attachment_id"]
    media = {"text": "Ảnh", "attachment": {"type": "template", "payload": {
        "template_type": "media", "elements": [{"media_type": "image",
                                                "attachment_id": attachment_id}]}}}  # fmt: skip
    assert (await api.cs(user_id, media))["error"] == 0
    document = await api.upload("file", PDF, "chi-thi.pdf")
    file_message = {"attachment": {"type": "file", "payload": {"token": document["data"]["token"]}}}
    assert (await api.cs(user_id, file_message))["error"] == 0
    later(zalo, api, 7 * DAY + 1)
    zalo.send_text(zalo.known(user_id), "vẫn đây")  # the window is open again
    assert (await api.cs(user_id, media))["error"] == -100
    assert (await api.cs(user_id, file_message))["error"] == -100
    unknown = {"attachment": {"type": "file", "payload": {"token": "nope"}}}
    assert (await api.cs(user_id, unknown))["error"] == -201


async def test_uploads_take_only_the_allowed_types_and_sizes(api: Client) -> None:
    xlsx = b"PK\x03\x04" + b"\0" * 100
    assert (await api.upload("file", xlsx, "report.xlsx"))["error"] == -201
    assert (await api.upload("file", b"not a pdf", "x.pdf"))["error"] == -201
    assert (await api.upload("file", b"a,b\n1,2\n", "list.csv"))["error"] == 0
    big = TINY_PNG + b"\0" * (1024 * 1024)
    assert (await api.upload("image", big, "big.png"))["error"] == -201
    assert (await api.upload("image", PDF, "x.png"))["error"] == -201


# --------------------------------------------------------------------------- tokens


async def test_access_tokens_expire_after_25_hours_and_refresh_tokens_are_single_use(
    zalo: FakeZaloOA, api: Client
) -> None:
    user_id = following(zalo)
    _, refresh = zalo.issue_tokens()
    zalo.advance(25 * HOUR)
    zalo.send_text(zalo.known(user_id), "hi")
    expired = await api.cs(user_id, {"text": "x"})
    assert expired["error"] == -216
    pair = await api.refresh(refresh)
    assert pair["expires_in"] == "90000" and pair["refresh_token"] != refresh
    api.token = pair["access_token"]
    assert (await api.cs(user_id, {"text": "x"}))["error"] == 0
    again = await api.refresh(refresh)
    assert again["error"] == -14014 and "access_token" not in again
    assert zalo.counters.refresh_reuses == 1
    assert (await api.refresh(pair["refresh_token"], secret="wrong"))["error"] != 0
    assert "access_token" in await api.refresh(pair["refresh_token"])  # untouched by the refusal
    api.token = "made-up"
    assert (await api.cs(user_id, {"text": "x"}))["error"] == -216


async def test_the_authorization_code_is_single_use(zalo: FakeZaloOA, api: Client) -> None:
    code = zalo.issue_auth_code()
    form = {"app_id": APP_ID, "grant_type": "authorization_code", "code": code}
    url = zalo.base_url + "/v4/oa/access_token"
    headers = {"secret_key": APP_SECRET}
    async with api.session.post(url, data=form, headers=headers) as response:
        assert "refresh_token" in await response.json()
    async with api.session.post(url, data=form, headers=headers) as response:
        assert (await response.json())["error"] != 0


# --------------------------------------------------------------------------- webhooks


async def test_an_event_not_answered_200_in_time_comes_again_with_num_retry(
    zalo: FakeZaloOA, receiver: Receiver
) -> None:
    zalo.webhooks.answer_timeout = 0.3
    receiver.statuses.extend([500])
    receiver.delays.extend([0.0, 0.6])  # the first answer is a 500, the second comes too late
    zalo.send_text(zalo.user(), "lần một")
    await zalo.webhooks.wait_idle()
    await asyncio.sleep(0.7)  # the late answer's handler finishes
    assert [headers.get("num_retry") for headers, _ in receiver.posts] == [None, "1", "2"]
    assert len({raw for _, raw in receiver.posts}) == 1  # the same bytes, the same signature
    assert [d.status for d in zalo.webhooks.deliveries] == [500, 0, 200]


async def test_an_event_is_given_up_after_the_last_retry(
    zalo: FakeZaloOA, receiver: Receiver
) -> None:
    receiver.statuses.extend([503] * 10)
    event = zalo.send_text(zalo.user(), "không ai nhận")
    await zalo.webhooks.wait_idle()
    assert len(receiver.posts) == 1 + len(zalo.webhooks.retry_pauses)
    assert zalo.webhooks.given_up == [event]


async def test_some_events_come_twice_even_after_200(zalo: FakeZaloOA, receiver: Receiver) -> None:
    zalo.webhooks.repeat_next(1)
    user = zalo.user()
    zalo.send_text(user, "một")
    zalo.send_text(user, "hai")
    await zalo.webhooks.wait_idle()
    texts = [(json.loads(raw)["message"]["text"], h.get("num_retry")) for h, raw in receiver.posts]
    assert sorted(texts, key=str) == sorted([("một", None), ("hai", None), ("một", "1")], key=str)
    assert texts.index(("một", None)) < texts.index(("hai", None))  # in order per user


# --------------------------------------------------------------------------- faults and limits


async def test_the_rate_limit_answers_minus_32(receiver: Receiver) -> None:
    fake = FakeZaloOA(webhook_url=receiver.url, rate_per_minute=3)
    await fake.start()
    try:
        user_id = following(fake)
        access, _ = fake.issue_tokens()
        async with aiohttp.ClientSession() as session:
            api = Client(session, fake, access)
            codes = [(await api.cs(user_id, {"text": str(n)}))["error"] for n in range(4)]
        assert codes == [0, 0, 0, -32]
        assert fake.stats()["refused"] == {"-32": 1}
    finally:
        await fake.stop()


async def test_injected_faults(zalo: FakeZaloOA, api: Client) -> None:
    user_id = following(zalo)
    zalo.fail_next("message/cs", -32, message="Your OA reached limit call api")
    answer = await api.cs(user_id, {"text": "x"})
    assert answer == {"error": -32, "message": "Your OA reached limit call api"}
    zalo.fail_next("message/cs", 0, http_status=502)
    async with api.session.post(
        zalo.base_url + "/v3.0/oa/message/cs", json={}, headers={"access_token": api.token}
    ) as response:
        assert response.status == 502
    assert (await api.cs(user_id, {"text": "x"}))["error"] == 0
    with pytest.raises(ValueError, match="unknown endpoint"):
        zalo.fail_next("message/nope", -1)


async def test_unknown_paths_and_bad_bodies_are_answered_200_with_an_error(api: Client) -> None:
    assert (await api.post("/v3.0/oa/message/nope", {}))["error"] == -201
    assert (await api.post("/v3.0/oa/message/cs", None, raw=b"{not json"))["error"] == -201
    assert (await api.post("/v3.0/oa/message/cs", None, raw=b"\xff\xfe"))["error"] == -201
    assert (await api.post("/v3.0/oa/message/cs", [1, 2]))["error"] == -201
    form = await api.session.post(api.fake.base_url + "/v3.0/oa/message/cs",
                                  data={"recipient": "x"}, headers={"access_token": api.token})  # fmt: skip
    assert (await form.json())["error"] == -201 and form.status == 200  # JSON bodies only
    assert (await api.get("/v3.0/oa/user/detail", {"user_id": "1"}))["error"] == -201
    oa = await api.get("/v2.0/oa/getoa")
    assert oa["data"]["oaid"] == OA_ID


# --------------------------------------------------------------------------- the test API


async def test_the_control_api_drives_a_user_over_http(
    zalo: FakeZaloOA, api: Client, receiver: Receiver
) -> None:
    control = zalo.base_url + "/_zalo/control/"
    session = api.session

    async def call(name: str, body: dict[str, Any] | None = None) -> Any:
        async with session.post(control + name, json=body or {}) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    user = await call("users", {"display_name": "Phạm Thị Dung", "phone": "84987654321",
                                "follow": True})  # fmt: skip
    assert user["event"]["event_name"] == "follow"
    sent = await api.cs(user["user_id"], buttons(2))
    tapped = await call("tap", {"user_id": user["user_id"], "title": "Lựa chọn 1",
                                "message_id": sent["data"]["message_id"]})  # fmt: skip
    assert tapped["body"]["message"]["text"] == "#kb:c1"
    assert (await call("clock", {"advance_days": 3}))["offset"] == 3 * DAY
    tokens = await call("tokens")
    api.token = tokens["access_token"]
    assert (await api.cs(user["user_id"], {"text": "billable"}))["error"] == 0
    async with session.get(control + "messages", params={"user_id": user["user_id"]}) as r:
        messages = await r.json()
    assert [m["billable"] for m in messages] == [False, True]
    await call("fail_next", {"endpoint": "message/cs", "code": -217, "user_id": user["user_id"]})
    assert (await api.cs(user["user_id"], {"text": "x"}))["error"] == -217
    async with session.post(control + "tap", json={"user_id": "nobody"}) as response:
        assert response.status == 400
    await zalo.webhooks.wait_idle()
    async with session.get(control + "stats") as response:
        stats = await response.json()
    assert stats["billable"] == 1 and stats["idle"] is True and stats["deliveries"] >= 4


# --------------------------------------------------------------------------- for the adapter's tests


async def test_read_receipts_name_the_oa_messages_seen(
    zalo: FakeZaloOA, api: Client, receiver: Receiver
) -> None:
    user_id = following(zalo)
    await api.cs(user_id, {"text": "Chỉ thị số 5"})
    user = zalo.known(user_id)
    last = user.last_interaction
    zalo.receipt(user, zalo.messages(user_id))
    await zalo.webhooks.wait_idle()
    seen = receiver.bodies("user_seen_message")[0]
    assert seen["message"]["msg_ids"] == [zalo.messages(user_id)[0].message_id]
    assert seen["recipient"] == {"id": user_id}
    assert user.last_interaction == last  # reading is no interaction
    other = zalo.user()
    with pytest.raises(ValueError, match="only messages sent to this user"):
        zalo.receipt(other, zalo.messages(user_id))


async def test_the_peak_rate_and_each_answer_time_are_measured(
    zalo: FakeZaloOA, api: Client
) -> None:
    user_id = following(zalo)
    for number in range(3):
        await api.cs(user_id, {"text": str(number)})
    assert zalo.peak_calls(60.0) == 3 and zalo.peak_calls(0.0) <= 1
    await zalo.webhooks.wait_idle()
    assert all(0 <= d.seconds < 2.0 for d in zalo.webhooks.deliveries)


async def test_tests_fakezalo_runs_alone_and_stops_on_sigterm(receiver: Receiver) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakezalo", "--port", str(port),
        "--webhook-url", receiver.url, "--signature-id", "oa_id",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode().split()
        assert line[:2] == ["FAKEZALO_READY", f"http://127.0.0.1:{port}"]
        control = f"{line[1]}/_zalo/control/"
        async with aiohttp.ClientSession() as session:
            async with session.post(control + "users", json={"follow": True}) as response:
                assert (await response.json())["event"]["event_name"] == "follow"
            form = {"app_id": APP_ID, "grant_type": "refresh_token", "refresh_token": line[2]}
            url = line[1] + "/v4/oa/access_token"
            async with session.post(url, data=form, headers={"secret_key": APP_SECRET}) as r:
                assert "access_token" in await r.json()
        for _ in range(100):
            if receiver.posts:
                break
            await asyncio.sleep(0.05)
        headers, raw = receiver.posts[0]
        stamp = json.loads(raw)["timestamp"]
        digest = hashlib.sha256(OA_ID.encode() + raw + stamp.encode() + OA_SECRET_KEY.encode())
        assert headers["X-ZEvent-Signature"] == "mac=" + digest.hexdigest()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0 and output == b""


async def test_reactions_and_templates(zalo: FakeZaloOA, api: Client) -> None:
    user_id = following(zalo)
    msg_id = zalo.send_text(zalo.known(user_id), "Đã đọc").body["message"]["msg_id"]
    react = {"recipient": {"user_id": user_id},
             "sender_action": {"react_icon": "/-strong", "react_message_id": msg_id}}  # fmt: skip
    assert (await api.post("/v2.0/oa/message", react))["error"] == 0
    react["sender_action"]["react_message_id"] = "nope"
    assert (await api.post("/v2.0/oa/message", react))["error"] == -201
    zalo.approve_template("501", ("name",))
    template = {"user_id": user_id, "template_id": "501", "template_data": {"name": "Bình"}}
    hour = int((zalo.now() + 7 * HOUR) // HOUR % 24)  # Vietnam's hour now
    later(zalo, api, ((12 - hour) % 24) * HOUR)  # about noon in Vietnam
    later(zalo, api, 8 * DAY)  # far outside the cs window: a template still goes
    assert (await api.cs(user_id, {"text": "x"}))["error"] == -230
    assert (await api.post("/v3.0/oa/message/template", template))["error"] == 0
    assert (await api.post("/v3.0/oa/message/template", {**template, "template_id": "9"}))[
        "error"
    ] == -201
    later(zalo, api, 11 * HOUR)  # about 23:00 in Vietnam: no template sends at night
    assert (await api.post("/v3.0/oa/message/template", template))["error"] == -234
    assert zalo.stats()["templates"] == 1


async def test_the_legacy_reply_quota_and_the_rate_headers(zalo: FakeZaloOA, api: Client) -> None:
    zalo.reply_quota = 8
    user_id = following(zalo)
    remains = [(await api.cs(user_id, {"text": str(n)}))["data"]["quota"]["remain"]
               for n in range(8)]  # fmt: skip
    assert remains == [7, 6, 5, 4, 3, 2, 1, 0]
    assert (await api.cs(user_id, {"text": "9th"}))["error"] == -211
    zalo.send_text(zalo.known(user_id), "again")  # an interaction gives new replies
    assert (await api.cs(user_id, {"text": "ok"}))["data"]["quota"]["remain"] == 7
    headers = {"access_token": api.token}
    async with api.session.get(zalo.base_url + "/v2.0/oa/getoa", headers=headers) as response:
        assert response.headers["X-RateLimit-Limit"] == "4000"
        assert int(response.headers["X-RateLimit-Remain"]) == 4000 - len(zalo.requests)


async def test_locations_stickers_and_settings_over_the_control_api(
    zalo: FakeZaloOA, api: Client, receiver: Receiver
) -> None:
    control = zalo.base_url + "/_zalo/control/"
    user_id = following(zalo)
    for name, body in (("location", {"latitude": 21.03, "longitude": 105.85}), ("sticker", {})):
        async with api.session.post(control + name, json={"user_id": user_id, **body}) as r:
            assert (await r.json())["event_name"] == f"user_send_{name}"
    async with api.session.post(control + "settings", json={"expired_token_code": -220}) as r:
        assert (await r.json())["expired_token_code"] == -220
    zalo.expire_access_tokens()
    assert (await api.cs(user_id, {"text": "x"}))["error"] == -220
    await zalo.webhooks.wait_idle()
    location = receiver.bodies("user_send_location")[0]["message"]["attachments"][0]
    assert location["payload"]["coordinates"] == {"latitude": "21.03", "longitude": "105.85"}
