"""Zalo webhooks: the signature, the event parser, the inbox route (forged, malformed, foreign
and repeated events), fuzzed with hypothesis."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.port import AttachmentSent, Command, PhoneShared, Press, Text
from bot.channels.zalo.events import BadEvent, ZaloEvent, intent_of, is_foreign, parse_event
from bot.channels.zalo.signature import HEADER, SignatureCheck, mac, matching_id
from bot.domain.clock import VIETNAM, ManualClock
from bot.inbound.zalo import ZaloInbound, ZaloWebhook
from storage.db import Database
from storage.inbox_repo import InboxRepo
from tests.zalo_stub import APP_ID, OA_ID

KEY = "oa-secret-key-for-tests"
USER = "2468458835296197922"


def text_event(text: str, msg_id: str = "96d3cdf3af150460909", user: str = USER) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "user_id_by_app": "552177279717587730",
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": "1699003881354",
    }


def signed(body: dict[str, Any], prefix: str = APP_ID, key: str = KEY) -> tuple[bytes, str]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw, "mac=" + mac(prefix, raw, str(body["timestamp"]), key)


# --- the signature ------------------------------------------------------------------------


async def test_either_id_is_accepted_until_the_first_match_settles_it() -> None:
    settled: list[str] = []

    async def keep(kind: str) -> None:
        settled.append(kind)

    check = SignatureCheck(APP_ID, OA_ID, KEY, None, keep)
    raw, by_oa = signed(text_event("a"), prefix=OA_ID)
    assert await check.verify(by_oa, raw)
    assert settled == ["oa_id"] and check.settled == "oa_id"
    raw, by_app = signed(text_event("b"), prefix=APP_ID)
    assert not await check.verify(by_app, raw)  # settled: the other id no longer passes


async def test_a_wrong_key_or_a_changed_body_fails() -> None:
    check = SignatureCheck(APP_ID, OA_ID, KEY)
    raw, header = signed(text_event("a"), key="another key")
    assert not await check.verify(header, raw)
    raw, header = signed(text_event("a"))
    assert not await check.verify(header, raw.replace(b'"a"', b'"b"'))
    assert await check.verify(header.upper().replace("MAC=", "mac="), raw)  # hex case ignored


@given(header=st.text(max_size=80), body=st.binary(max_size=300))
def test_forged_signatures_never_pass_and_never_raise(header: str, body: bytes) -> None:
    assert matching_id(header, body, {"app_id": APP_ID, "oa_id": OA_ID}, KEY) is None


# --- the parser ---------------------------------------------------------------------------


def test_typed_text_a_button_tap_and_a_command() -> None:
    assert intent_of(parse_event(text_event("xin chào"))) == Text("xin chào")
    assert intent_of(parse_event(text_event("#kb:ap:12:y"))) == Press("ap:12:y")
    assert intent_of(parse_event(text_event("/start abc"))) == Command("start", ("abc",))


def test_the_shared_phone_in_both_shapes() -> None:
    base = {
        "sender": {"id": USER},
        "recipient": {"id": OA_ID},
        "event_name": "user_submit_info",
        "app_id": APP_ID,
        "timestamp": "1540368141908",
    }
    new = {**base, "info": {"name": "Nguyễn Văn A", "phone": "84912345678", "user_dob": "x"}}
    old = {**base, "info": {"name": "A", "phone": "84912345678", "address": "", "city": ""}}
    for body in (new, old):
        assert intent_of(parse_event(body)) == PhoneShared("84912345678", own=True)


def test_a_picture_a_file_follow_and_unfollow() -> None:
    image = text_event("ảnh")
    image["event_name"] = "user_send_image"
    image["message"]["attachments"] = [{"type": "image", "payload": {"url": "https://x/1.jpg"}}]
    event = parse_event(image)
    assert intent_of(event) == AttachmentSent("ảnh")
    file = text_event("")
    file["event_name"] = "user_send_file"
    file["message"]["attachments"] = [
        {"type": "file", "payload": {"url": "https://x/a.csv", "name": "a.csv"}}
    ]
    assert intent_of(parse_event(file)) == AttachmentSent("")
    follow = {
        "oa_id": OA_ID,
        "follower": {"id": USER},
        "event_name": "follow",
        "app_id": APP_ID,
        "timestamp": "1543979782740",
    }
    followed = parse_event(follow)
    assert intent_of(followed) == Command("start") and followed.user_id == USER
    assert followed.key == f"follow:{USER}:1543979782740"
    gone = parse_event({**follow, "event_name": "unfollow"})
    assert intent_of(gone) is None and not gone.interaction


def test_echoes_and_foreign_events_are_recognised() -> None:
    echo = text_event("sent by the OA")
    echo["event_name"] = "oa_send_text"
    echo["sender"], echo["recipient"] = {"id": OA_ID}, {"id": USER}
    event = parse_event(echo)
    assert event.echo and event.user_id == USER and intent_of(event) is None
    foreign = parse_event({**text_event("x"), "app_id": "111"})
    assert is_foreign(foreign, APP_ID, OA_ID)
    assert not is_foreign(parse_event(text_event("x")), APP_ID, OA_ID)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
EVENT_KEYS = st.sampled_from(
    ["event_name", "sender", "recipient", "follower", "message", "timestamp", "info", "app_id"]
)
EVENTS = st.dictionaries(EVENT_KEYS, JSON_VALUES, max_size=8) | st.builds(
    lambda base, name, message: {**base, "event_name": name, "message": message},
    st.just(text_event("x")),
    st.sampled_from(["user_send_text", "user_send_image", "user_send_file", "oa_send_text", "?"]),
    JSON_VALUES,
)


@given(body=JSON_VALUES | EVENTS)
def test_any_json_is_an_event_or_bad_event_never_a_crash(body: object) -> None:
    try:
        event = parse_event(body)
    except BadEvent:
        return
    assert isinstance(event, ZaloEvent) and event.user_id and event.key
    intent_of(event)


# --- the route ----------------------------------------------------------------------------


@pytest.fixture
async def route(tmp_path: Path) -> AsyncIterator[tuple[str, Database, list[ZaloEvent]]]:
    db = await Database.open(tmp_path / "inbox.db")
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM))
    handled: list[ZaloEvent] = []

    async def handle(event: ZaloEvent) -> None:
        await asyncio.sleep(0.01 if event.text == "slow" else 0)
        handled.append(event)

    inbound = ZaloInbound(db, clock, handle)
    webhook = ZaloWebhook(SignatureCheck(APP_ID, OA_ID, KEY), inbound, APP_ID, OA_ID)
    app = web.Application()
    app.router.add_post(webhook.path, webhook.handle)
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url(webhook.path)), db, handled
    await inbound.drain(2)
    await server.close()
    await db.close()


async def post(url: str, raw: bytes, header: str | None, **headers: str) -> int:
    if header is not None:
        headers[HEADER] = header
    async with ClientSession() as http, http.post(url, data=raw, headers=headers) as answer:
        return answer.status


async def stored(db: Database) -> list[str]:
    async with db.reading() as tx:
        return [row.update_id for row in await InboxRepo(tx).open_rows("zalo")] + [
            str(r[0]) for r in await tx.all("SELECT update_id FROM inbox WHERE done_at IS NOT NULL")
        ]


async def test_a_wrong_or_missing_signature_is_403_and_nothing_stored(
    route: tuple[str, Database, list[ZaloEvent]],
) -> None:
    url, db, handled = route
    raw, _ = signed(text_event("x"))
    assert await post(url, raw, None) == 403
    assert await post(url, raw, "mac=" + "0" * 64) == 403
    assert await post(url, b"not json", "mac=00") == 403
    assert await stored(db) == [] and handled == []


async def test_a_repeated_delivery_is_stored_and_handled_once_in_order(
    route: tuple[str, Database, list[ZaloEvent]],
) -> None:
    url, db, handled = route
    first, second = text_event("slow", "m1"), text_event("two", "m2")
    for body, retry in ((first, "0"), (first, "1"), (second, "0")):
        raw, header = signed(body)
        assert await post(url, raw, header, num_retry=retry) == 200
    for _ in range(100):
        if len(handled) == 2:
            break
        await asyncio.sleep(0.01)
    assert [e.text for e in handled] == ["slow", "two"]  # one person's events in order
    assert sorted(await stored(db)) == ["m1", "m2"]


async def test_echoes_foreign_and_unknown_events_are_answered_but_not_stored(
    route: tuple[str, Database, list[ZaloEvent]],
) -> None:
    url, db, handled = route
    echo = {**text_event("x", "e1"), "event_name": "oa_send_text"}
    echo["sender"], echo["recipient"] = {"id": OA_ID}, {"id": USER}
    foreign = {**text_event("x", "f1"), "recipient": {"id": "999"}}
    seen = {**text_event("x", "s1"), "event_name": "user_seen_message"}
    for body in (echo, foreign, seen, {"timestamp": "1", "nothing": True}):
        raw, header = signed(body)
        assert await post(url, raw, header) == 200
    assert await stored(db) == [] and handled == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=EVENTS)
async def test_signed_but_malformed_events_never_crash_the_route(
    route: tuple[str, Database, list[ZaloEvent]], body: dict[str, Any]
) -> None:
    url, _, _ = route
    body = {**body, "timestamp": "1699003881354"}
    raw, header = signed(body)
    assert await post(url, raw, header) == 200


async def test_an_event_that_keeps_failing_is_given_up_and_the_person_told(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "inbox.db")
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM))
    tries: list[str] = []
    told: list[str] = []

    async def handle(event: ZaloEvent) -> None:
        tries.append(event.key)
        raise RuntimeError("the database stayed locked")

    async def give_up(event: ZaloEvent) -> None:
        told.append(event.user_id)

    inbound = ZaloInbound(db, clock, handle, give_up=give_up, retry_pauses=(0, 0))
    try:
        assert await inbound.accept(parse_event(text_event("x", "k1")), "{}")
        await inbound.drain(5)
        assert tries == ["k1"] * 3 and told == [USER]
        async with db.reading() as tx:
            outcome = await tx.scalar("SELECT outcome FROM inbox WHERE update_id = 'k1'")
        assert outcome == "failed"
    finally:
        await db.close()


async def test_a_body_far_larger_than_any_event_is_refused(
    route: tuple[str, Database, list[ZaloEvent]],
) -> None:
    url, db, _ = route
    raw, header = signed(text_event("x" * 70_000))
    assert await post(url, raw, header) == 413
    assert await stored(db) == []


async def test_an_event_failing_with_the_database_away_is_one_line_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The loops say once that the database is away (bot/outage.py); each event's failure
    meanwhile is one line, not a traceback, and the event is tried again."""
    db = await Database.open(tmp_path / "inbox.db")
    clock = ManualClock(datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM))
    tries: list[str] = []

    async def handle(event: ZaloEvent) -> None:
        tries.append(event.key)
        if len(tries) == 1:
            raise sqlite3.OperationalError("unable to open database file")

    inbound = ZaloInbound(db, clock, handle, retry_pauses=(0, 0))
    try:
        assert await inbound.accept(parse_event(text_event("x", "k2")), "{}")
        await inbound.drain(5)
        assert tries == ["k2", "k2"]
        said = [r for r in caplog.records if "Zalo event k2" in r.getMessage()]
        assert [(r.levelname, r.exc_info) for r in said] == [("WARNING", None)], said
    finally:
        await db.close()
