"""The sandbox Zalo OA's request parsing under fuzzing: whatever comes, the answer is Zalo's shape
(HTTP 200 with a non-zero `error` and a message), never a crash or a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.zalo_api import ROUTES
from bot.sandbox.zalo_model import CsMessage, ZaloError, parse_cs
from bot.sandbox.zalo_server import FakeZaloOA

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["recipient", "message", "user_id", "text", "attachment", "type", "payload", "buttons",
     "template_type", "elements", "title", "media_type", "attachment_id", "token", "url",
     "quote_message_id", "subtitle", "image_url", "phone_code", "width", "height"]
)  # fmt: skip
# Bodies made of the cs API's own keys, so the fuzzing reaches past the first check.
CS_LIKE = st.recursive(
    st.none()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "template",
            "file",
            "media",
            "image",
            "gif",
            "request_user_info",
            "oa.query.hide",
            "oa.open.url",
            "https://x.vn/a.png",
            "5400000000000000001",
            "",
        ]
    ),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=25,
)
VALID = {"recipient": {"user_id": "5400000000000000001"},
         "message": {"text": "Chọn", "attachment": {"type": "template", "payload": {
             "buttons": [{"title": "Duyệt", "type": "oa.query.hide", "payload": "#kb:a"}]}}}}  # fmt: skip


def paths(body: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = []
    items = (
        body.items()
        if isinstance(body, dict)
        else enumerate(body)
        if isinstance(body, list)
        else []
    )
    for key, value in items:
        found.append((*prefix, key))
        found += paths(value, (*prefix, key))
    return found


def parsed_or_refused(body: object) -> CsMessage | ZaloError:
    try:
        return parse_cs(body)
    except ZaloError as error:
        return error


@given(st.one_of(JSON_VALUES, CS_LIKE))
def test_any_body_parses_or_is_refused_with_a_zalo_code(body: object) -> None:
    outcome = parsed_or_refused(body)
    if isinstance(outcome, ZaloError):
        assert outcome.code in (-201, -233) and outcome.message
        assert outcome.body() == {"error": outcome.code, "message": outcome.message}
    else:
        assert outcome.user_id.isdigit() and outcome.kind


@given(st.data())
def test_a_valid_body_missing_any_field_is_refused(data: st.DataObject) -> None:
    assert isinstance(parse_cs(VALID), CsMessage)
    body = json.loads(json.dumps(VALID))
    optional = ("message", "attachment")  # without it, a plain text: valid
    path = data.draw(st.sampled_from([p for p in paths(body) if p != optional]))
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    outcome = parsed_or_refused(body)
    assert isinstance(outcome, ZaloError) and outcome.code == -201


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloOA]:
    fake = FakeZaloOA()
    await fake.start()
    user = fake.user()
    fake.follow(user)
    yield fake
    await fake.stop()


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(
    endpoint=st.sampled_from(sorted(ROUTES)),
    raw=st.one_of(
        st.binary(max_size=200),
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        CS_LIKE.map(lambda v: json.dumps(v).encode()),
    ),
    with_token=st.booleans(),
)
async def test_any_request_to_any_endpoint_gets_http_200_and_a_code(
    zalo: FakeZaloOA, endpoint: str, raw: bytes, with_token: bool
) -> None:
    method, path = ROUTES[endpoint]
    headers = {"access_token": zalo.issue_tokens()[0] if with_token else "nope"}
    async with aiohttp.ClientSession() as session:
        if method == "GET":
            params = {"data": raw.decode(errors="replace")}
            request = session.get(zalo.base_url + path, params=params, headers=headers)
        else:
            content_type = (
                "multipart/form-data; boundary=x" if "upload" in endpoint else "application/json"
            )
            headers["Content-Type"] = content_type
            request = session.post(zalo.base_url + path, data=raw, headers=headers)
        async with request as response:
            assert response.status == 200
            answer = await response.json()
    assert isinstance(answer["error"], int) and isinstance(answer["message"], str)
    assert (answer["error"] == 0) == ("data" in answer)


@FUZZ
@given(form=st.dictionaries(st.sampled_from(["app_id", "grant_type", "refresh_token", "code"]),
                            st.text(max_size=20), max_size=4))  # fmt: skip
async def test_any_token_request_gets_http_200_and_no_token_unless_valid(
    zalo: FakeZaloOA, form: dict[str, str]
) -> None:
    async with aiohttp.ClientSession() as session:
        url = zalo.base_url + "/v4/oa/access_token"
        async with session.post(url, data=form, headers={"secret_key": "x"}) as response:
            assert response.status == 200
            answer = await response.json()
    assert answer["error"] < 0 and "access_token" not in answer
