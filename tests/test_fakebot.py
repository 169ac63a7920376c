"""The fake Bot API, driven over real HTTP by a real PTB `Bot`, a polling `Application`, and as a process."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from tests.fakebot import TINY_PNG, FakeBotApi
from tests.paths import ROOT

CONFIRM = InlineKeyboardMarkup(
    [[InlineKeyboardButton("✅ Đồng ý", callback_data="reg:y"),
      InlineKeyboardButton("❌ Huỷ", callback_data="reg:n")]]
)  # fmt: skip


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (PTBDeprecationWarning) on reading RetryAfter.retry_after unless opted in.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@asynccontextmanager
async def serving(**kwargs: Any) -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi(**kwargs)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@asynccontextmanager
async def client(fake: FakeBotApi, **kwargs: Any) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url,
                   **kwargs) as bot:  # fmt: skip
        yield bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with serving() as api:
        yield api


@pytest.fixture
async def tg(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with client(fake) as bot:
        yield bot


# --------------------------------------------------------------------------- basics


async def test_get_me_identifies_the_bot(fake: FakeBotApi, tg: Bot) -> None:
    me = await tg.get_me()
    assert (me.id, me.is_bot, me.username) == (1000, True, "khaibao_test_bot")
    assert tg.username == "khaibao_test_bot"  # set by initialize(), which called getMe too
    assert [name for name, _ in fake.requests] == ["getMe", "getMe"]


async def test_wrong_token_and_unknown_method_answer_like_telegram(
    fake: FakeBotApi, tg: Bot
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.base_url}999:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{fake.base_url}{fake.token}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
    with pytest.raises(InvalidToken):
        await Bot("999:WRONG", base_url=fake.base_url).initialize()
    with pytest.raises(EndPointNotFound):
        await tg.do_api_request("noSuchMethod")


async def test_parameters_are_decoded_from_json_form_and_query(fake: FakeBotApi) -> None:
    fake.user(16)
    url = f"{fake.base_url}{fake.token}/sendMessage"
    async with aiohttp.ClientSession() as http:
        markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
        async with http.post(url, json={"chat_id": 16, "text": "123", "reply_markup": markup}) as r:
            assert (await r.json())["result"]["reply_markup"] == markup
        async with http.post(url, data={"chat_id": "16", "text": "true", "entities": "[]"}) as r:
            assert r.status == 200
        async with http.get(url, params={"chat_id": "16", "text": "null"}) as r:
            assert r.status == 200
    params = [p for name, p in fake.requests if name == "sendMessage"]
    assert params[0] == {"chat_id": 16, "text": "123", "reply_markup": markup}
    assert params[1] == {"chat_id": 16, "text": "true", "entities": []}
    assert [m.text for m in fake.messages(16)] == ["123", "true", "null"]


# --------------------------------------------------------------------------- sending and editing


async def test_send_then_edit_keeps_history_and_refuses_no_op_edits(
    fake: FakeBotApi, tg: Bot
) -> None:
    fake.user(11, "Lan")
    sent = await tg.send_message(11, "Xác nhận?", reply_markup=CONFIRM)
    message = await fake.next_message(11)
    assert (message.message_id, message.text, message.kind) == (
        sent.message_id,
        "Xác nhận?",
        "text",
    )
    assert sent.reply_markup == CONFIRM and sent.from_user is not None and sent.from_user.id == 1000
    assert message.button_texts() == ["✅ Đồng ý", "❌ Huỷ"]

    edited = await tg.edit_message_text("Đã xác nhận", chat_id=11, message_id=sent.message_id,
                                        reply_markup=CONFIRM)  # fmt: skip
    assert isinstance(edited, type(sent)) and edited.text == "Đã xác nhận"
    assert message.text == "Đã xác nhận" and message.edits[0]["text"] == "Xác nhận?"
    with pytest.raises(BadRequest, match="Message is not modified"):
        await tg.edit_message_text("Đã xác nhận", chat_id=11, message_id=sent.message_id,
                                   reply_markup=CONFIRM)  # fmt: skip
    await tg.edit_message_reply_markup(chat_id=11, message_id=sent.message_id, reply_markup=None)
    assert message.buttons() == [] and len(message.edits) == 2
    with pytest.raises(BadRequest, match="Message is not modified"):
        await tg.edit_message_reply_markup(chat_id=11, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await tg.edit_message_text("?", chat_id=11, message_id=999)


async def test_edit_text_without_markup_drops_the_inline_keyboard(
    fake: FakeBotApi, tg: Bot
) -> None:
    fake.user(17)
    sent = await tg.send_message(17, "Chọn", reply_markup=CONFIRM)
    edited = await tg.edit_message_text("Đã chọn", chat_id=17, message_id=sent.message_id)
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    assert fake.messages(17)[0].buttons() == []


async def test_unknown_chat_and_empty_text_are_bad_requests(fake: FakeBotApi, tg: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await tg.send_message(424242, "ai đó")
    fake.user(18)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await tg.send_message(18, "   ")
    with pytest.raises(BadRequest, match="Message is too long"):
        await tg.send_message(18, "x" * 4097)
    assert fake.messages(424242) == [] and fake.messages(18) == [] and fake.sent_count == 0


async def test_reply_keyboard_with_request_contact_round_trips(fake: FakeBotApi, tg: Bot) -> None:
    user = fake.user(12, "Ngọc")
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("📱 Gửi số điện thoại", request_contact=True)]],
                                   one_time_keyboard=True, resize_keyboard=True)  # fmt: skip
    sent = await tg.send_message(12, "Chia sẻ số điện thoại", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram never echoes reply keyboards
    message = await fake.next_message(12)
    assert message.reply_markup is not None
    assert message.reply_markup["keyboard"][0][0]["request_contact"] is True
    assert message.button_texts() == ["📱 Gửi số điện thoại"] and message.buttons() == []

    own = fake.send_contact(user, "0912 000 026")
    other = fake.send_contact(user, "0912 000 027", contact_user_id=None, first_name="Bạn")
    updates = await tg.get_updates()
    assert [u.update_id for u in updates] == [own, other]
    first, second = (u.message.contact for u in updates if u.message)
    assert first is not None and second is not None
    assert (first.phone_number, first.user_id) == ("0912 000 026", 12)
    assert (second.user_id, second.first_name) == (None, "Bạn")
    assert updates[0].message is not None and updates[0].message.from_user is not None
    assert updates[0].message.from_user.id == 12


async def test_inline_press_arrives_as_callback_query_and_answer_is_kept(
    fake: FakeBotApi, tg: Bot
) -> None:
    user = fake.user(13, "Hải")
    sent = await tg.send_message(13, "Xác nhận?", reply_markup=CONFIRM)
    message = await fake.next_message(13)
    update_id = fake.press(user, message, message.callback_data("Đồng ý"))
    (update,) = await tg.get_updates()
    query = update.callback_query
    assert update.update_id == update_id and query is not None and query.data == "reg:y"
    assert query.from_user.id == 13
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.message.chat.id == 13 and query.message.reply_markup == CONFIRM
    await query.answer("Đã ghi nhận", show_alert=True)
    answer = {"callback_query_id": query.id, "text": "Đã ghi nhận", "show_alert": True}
    assert fake.answer_for(update_id) == answer and fake.callback_answers == [answer]
    with pytest.raises(AssertionError, match="Không có"):
        message.callback_data("Không có")


async def test_press_shows_the_message_as_it_is_now(fake: FakeBotApi, tg: Bot) -> None:
    user = fake.user(19)
    sent = await tg.send_message(19, "Trước", reply_markup=CONFIRM)
    await tg.edit_message_text("Sau", chat_id=19, message_id=sent.message_id, reply_markup=CONFIRM)
    update_id = fake.press(user, fake.messages(19)[0], "reg:n")
    (update,) = await tg.get_updates()
    assert update.update_id == update_id and update.callback_query is not None
    shown = update.callback_query.message
    assert shown is not None and getattr(shown, "text", None) == "Sau"
    assert fake.answer_for(update_id) is None
    with pytest.raises(BadRequest, match="Query is too old"):
        await tg.answer_callback_query("no-such-query")


async def test_a_press_can_be_answered_only_within_15_seconds() -> None:
    now = [1_622_000_000.0]
    async with serving(clock=lambda: now[0]) as fake, client(fake) as tg:
        user = fake.user(20)
        await tg.send_message(20, "Xác nhận?", reply_markup=CONFIRM)
        message = await fake.next_message(20)
        fake.press(user, message, "reg:y")
        late = fake.press(user, message, "reg:n")
        first, second = await tg.get_updates()
        now[0] += 15
        assert first.callback_query is not None and await first.callback_query.answer()
        now[0] += 1
        assert second.callback_query is not None
        with pytest.raises(BadRequest, match="Query is too old"):
            await second.callback_query.answer("muộn")
        assert fake.answer_for(late) is None


async def test_a_bot_deletes_its_message_only_within_48_hours() -> None:
    now = [1_622_000_000.0]
    async with serving(clock=lambda: now[0]) as fake, client(fake) as tg:
        fake.user(21)
        old = await tg.send_message(21, "Văn bản cũ")
        now[0] += 48 * 3600 - 1
        recent = await tg.send_message(21, "Văn bản mới")
        assert await tg.delete_message(21, old.message_id)  # a second short of 48 hours
        now[0] += 2
        assert await tg.delete_message(21, recent.message_id)
        kept = await tg.send_message(21, "Văn bản khác")
        now[0] += 48 * 3600
        with pytest.raises(BadRequest, match="can't be deleted for everyone"):
            await tg.delete_message(21, kept.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
            await tg.delete_message(21, old.message_id)  # already deleted
        assert [m.deleted for m in fake.messages(21)] == [True, True, False]


async def test_a_reply_names_a_message_of_the_same_chat(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(22)
    fake.user(23)
    first = await tg.send_message(22, "Văn bản số 1")
    elsewhere = await tg.send_message(23, "Khác")
    reply = await tg.send_message(22, "Đính chính", reply_to_message_id=first.message_id)
    assert fake.messages(22)[-1].reply_to == first.message_id == reply.message_id - 1
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await tg.send_message(22, "Sai", reply_to_message_id=elsewhere.message_id + 50)
    await tg.send_message(
        22, "Không có gốc", reply_to_message_id=999, allow_sending_without_reply=True
    )
    assert fake.messages(22)[-1].reply_to is None


async def test_a_toast_over_200_characters_is_refused(fake: FakeBotApi, tg: Bot) -> None:
    user = fake.user(21)
    await tg.send_message(21, "Xác nhận?", reply_markup=CONFIRM)
    message = await fake.next_message(21)
    fake.press(user, message, "reg:y")
    fake.press(user, message, "reg:n")
    first, second = await tg.get_updates()
    assert first.callback_query is not None and second.callback_query is not None
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await first.callback_query.answer("đ" * 201)
    assert await second.callback_query.answer("đ" * 200)
    assert [len(a["text"]) for a in fake.callback_answers] == [200]


async def test_errors_have_the_bot_api_json_shape(fake: FakeBotApi) -> None:
    fake.user(22)
    url = f"{fake.base_url}{fake.token}"
    fake.fail_next("sendMessage", status=429, retry_after=3)
    async with aiohttp.ClientSession() as http:
        for body, status, shape in [
            ({"chat_id": 22, "text": "x"}, 429, {"ok": False, "error_code": 429,
             "description": "Too Many Requests: retry after 3",
             "parameters": {"retry_after": 3}}),
            ({"chat_id": 99, "text": "x"}, 400, {"ok": False, "error_code": 400,
             "description": "Bad Request: chat not found"}),
        ]:  # fmt: skip
            async with http.post(f"{url}/sendMessage", json=body) as response:
                assert response.status == status and await response.json() == shape
        edit = {"chat_id": 22, "message_id": 77, "text": "y"}
        async with http.post(f"{url}/editMessageText", json=edit) as response:
            assert response.status == 400
            assert await response.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message to edit not found",
            }


# --------------------------------------------------------------------------- updates


async def test_offset_confirms_updates_for_good(fake: FakeBotApi, tg: Bot) -> None:
    user = fake.user(20)
    ids = [fake.send_text(user, f"tin {n}") for n in range(3)]
    assert ids == [1, 2, 3]
    assert [u.update_id for u in await tg.get_updates()] == ids
    assert [u.update_id for u in await tg.get_updates()] == ids  # not confirmed yet
    assert [u.update_id for u in await tg.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await tg.get_updates(offset=0)] == ids[1:]  # 1 is gone
    assert [u.update_id for u in await tg.get_updates(limit=1)] == [ids[1]]
    assert await tg.get_updates(offset=ids[-1] + 1) == ()
    assert fake.pending_updates == 0


async def test_long_poll_returns_as_soon_as_an_update_is_queued(fake: FakeBotApi, tg: Bot) -> None:
    user = fake.user(21)
    loop = asyncio.get_running_loop()
    begin = loop.time()
    assert await tg.get_updates(timeout=1) == ()
    assert loop.time() - begin >= 0.9  # an empty poll waits for its time-out
    poll = asyncio.create_task(tg.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()
    begin = loop.time()
    fake.send_text(user, "xin chào")
    (update,) = await asyncio.wait_for(poll, 2)
    assert loop.time() - begin < 1 and update.message is not None
    assert update.message.text == "xin chào"


async def test_stop_releases_a_pending_long_poll_at_once() -> None:
    async with serving() as fake, client(fake) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.2)
        begin = asyncio.get_running_loop().time()
        await fake.stop()
        assert await asyncio.wait_for(poll, 3) == ()
        assert asyncio.get_running_loop().time() - begin < 2


async def test_an_update_is_handed_out_until_confirmed_then_never_again(
    fake: FakeBotApi, tg: Bot
) -> None:
    user = fake.user(22)
    update_id = fake.send_text(user, "/start abc")
    (first,) = await tg.get_updates()
    (again,) = await tg.get_updates()  # fetched, not confirmed: Telegram sends it again
    assert again.update_id == update_id and again.message is not None and first.message is not None
    assert (again.message.message_id, again.message.text) == (
        first.message.message_id,
        "/start abc",
    )
    assert again.message.entities[0].length == len("/start")
    assert await tg.get_updates(offset=update_id + 1) == ()
    assert await tg.get_updates(offset=update_id) == ()  # confirmed: gone for good
    assert update_id not in fake.updates
    with pytest.raises(AssertionError, match="never sends a confirmed update again"):
        fake.queue_raw_update({"update_id": update_id, "message": first.message.to_dict()})


async def test_taps_not_fetched_within_150_seconds_are_dropped(fake: FakeBotApi, tg: Bot) -> None:
    user = fake.user(25)
    sent = await tg.send_message(25, "Xác nhận?", reply_markup=CONFIRM)
    now = [1000.0]
    fake.monotonic = lambda: now[0]
    (message,) = fake.messages(25)
    old_tap = fake.press(user, message, "reg:y")
    now[0] += 100
    fresh_tap = fake.press(user, message, "reg:n")
    text = fake.send_text(user, "vẫn còn")
    now[0] += 60  # the first tap is 160 s old, the second 60 s
    assert [u.update_id for u in await tg.get_updates()] == [fresh_tap, text]
    assert old_tap not in fake.updates and fake.expired_taps == 1
    assert sent.message_id == message.message_id


async def test_raw_updates_keep_their_shape_and_make_the_sender_known(
    fake: FakeBotApi, tg: Bot
) -> None:
    raw = {"message": {"message_id": 7, "date": 1_700_000_000, "text": "thô",
                       "chat": {"id": 23, "type": "private", "first_name": "Thô"},
                       "from": {"id": 23, "is_bot": False, "first_name": "Thô"}}}  # fmt: skip
    update_id = fake.queue_raw_update(raw)
    (update,) = await tg.get_updates()
    dumped = update.to_dict()["message"]
    assert (
        update.update_id == update_id and {k: dumped[k] for k in raw["message"]} == raw["message"]
    )
    await tg.send_message(23, "đã nhận")  # the sender is a known chat now
    assert fake.queue_raw_update({"update_id": 50, **raw}) == 50
    assert fake.send_text(fake.user(24), "sau") == 51


async def test_webhook_blocks_get_updates_until_deleted(fake: FakeBotApi, tg: Bot) -> None:
    assert await tg.set_webhook("https://example.invalid/hook")
    assert (await tg.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Conflict):
        await tg.get_updates()
    assert await tg.delete_webhook()
    assert await tg.get_updates() == ()


async def test_set_webhook_refuses_what_telegram_refuses(fake: FakeBotApi, tg: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await tg.set_webhook("http://bot.example.gov.vn/hook")
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await tg.set_webhook("https://bot.example.gov.vn/hook", secret_token="có dấu")
    with pytest.raises(BadRequest, match="max_connections"):
        await tg.set_webhook("https://bot.example.gov.vn/hook", max_connections=101)
    assert (await tg.get_webhook_info()).url == ""
    assert await tg.set_webhook("http://127.0.0.1:9/hook")  # HTTP to this machine, as --local
    assert await tg.set_webhook("")  # an empty url removes it
    assert await tg.get_updates() == ()


@asynccontextmanager
async def webhook_receiver(answers: list[int]) -> AsyncIterator[tuple[str, list[Any]]]:
    """A bot's webhook on a free port: answers with `answers` in turn (then 200); records posts."""
    received: list[Any] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                         await request.json()))  # fmt: skip
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/hook", received
    finally:
        await runner.cleanup()


async def test_webhook_posts_with_the_secret_and_retries_until_200(
    fake: FakeBotApi, tg: Bot
) -> None:
    user = fake.user(26)
    async with webhook_receiver([500, 502]) as (url, received):
        assert await tg.set_webhook(url, secret_token="s3cret-token_0123456789")
        first = fake.send_text(user, "một")
        second = fake.send_text(user, "hai")
        await fake.wait_for(lambda: fake.pending_updates == 0, timeout=10)
        info = await tg.get_webhook_info()
    assert [body["update_id"] for _, body in received] == [first, first, first, second]
    assert {secret for secret, _ in received} == {"s3cret-token_0123456789"}
    assert info.last_error_message == "Wrong response from the webhook: 502"
    assert [status for _, status in fake.webhooks.deliveries] == [500, 502, 200, 200]
    with pytest.raises(Conflict):
        await tg.get_updates()


async def test_webhook_that_does_not_answer_gets_the_update_again(
    fake: FakeBotApi, tg: Bot
) -> None:
    user = fake.user(27)
    with socket.socket() as closed:  # a port where nothing listens
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert await tg.set_webhook(f"http://127.0.0.1:{port}/hook")
    update_id = fake.send_text(user, "có ai không")
    await fake.wait_for(lambda: len(fake.webhooks.deliveries) >= 2, timeout=10)
    assert {status for _, status in fake.webhooks.deliveries} == {0}
    assert fake.pending_updates == 1 and update_id in fake.updates
    assert (await tg.get_webhook_info()).last_error_message.startswith("Connection failed")


# --------------------------------------------------------------------------- faults


async def test_fail_next_429_raises_retry_after(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(30)
    fake.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await tg.send_message(30, "lần 1")
    assert caught.value.retry_after == timedelta(seconds=7)
    await tg.send_message(30, "lần 2")
    assert fake.rate_limited_count == 1 and fake.sent_count == 1
    assert [p["text"] for name, p in fake.requests if name == "sendMessage"] == ["lần 1", "lần 2"]
    assert [m.text for m in fake.messages(30)] == ["lần 2"]


async def test_fail_next_403_500_and_400(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(31)
    fake.fail_next("sendMessage", status=403)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await tg.send_message(31, "a")
    fake.fail_next("sendMessage", status=500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error") as caught:
            await tg.send_message(31, "b")
        assert type(caught.value) is NetworkError  # not BadRequest, which subclasses it
    fake.fail_next("sendMessage", status=400, description="Bad Request: message is too long")
    with pytest.raises(BadRequest, match="Message is too long"):
        await tg.send_message(31, "c")
    await tg.send_message(31, "d")
    assert [m.text for m in fake.messages(31)] == ["d"] and fake.rate_limited_count == 0


async def test_a_share_of_sends_is_faulted_at_random(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(36)
    made = fake.fault_share(0.5, stall_seconds=0.01, seed=7)
    refused = 0
    for n in range(40):
        try:
            await tg.send_message(36, f"tin {n}")
        except (RetryAfter, NetworkError):
            refused += 1
    assert refused == made["429"] + made["500"] + made["502"] > 0 and made["stall"] > 0
    assert fake.sent_count == 40 - refused  # a stalled send still arrives


async def test_sends_inside_a_429_wait_are_counted(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(37)
    fake.fail_next("sendMessage", status=429, retry_after=5)
    with pytest.raises(RetryAfter):
        await tg.send_message(37, "a")
    assert (fake.calls_in_flight_at_429, fake.calls_inside_429_wait) == (0, 0)
    await asyncio.sleep(0.1)  # past the grace for sends already on their way
    await tg.send_message(37, "too early")
    assert (fake.calls_in_flight_at_429, fake.calls_inside_429_wait) == (0, 1)


async def test_fail_next_can_target_one_chat(fake: FakeBotApi, tg: Bot) -> None:
    first, second = fake.user(32), fake.user(33)
    fake.fail_next("sendMessage", status=403, chat_id=first.id)
    await tg.send_message(second.id, "vẫn tới")
    with pytest.raises(Forbidden):
        await tg.send_message(first.id, "bị chặn một lần")
    await tg.send_message(first.id, "lần sau thì tới")
    assert [m.text for m in fake.messages(first.id)] == ["lần sau thì tới"]
    assert [m.text for m in fake.messages(second.id)] == ["vẫn tới"]


async def test_block_answers_403_from_now_on(fake: FakeBotApi, tg: Bot) -> None:
    blocked, other = fake.user(34), fake.user(35)
    await tg.send_message(blocked.id, "trước khi chặn")
    fake.block(blocked.id)
    for attempt in range(2):
        with pytest.raises(Forbidden, match="blocked by the user"):
            await tg.send_message(blocked.id, f"lần {attempt}")
    with pytest.raises(Forbidden):
        await tg.send_document(blocked.id, b"data", filename="x.txt")
    await tg.send_message(other.id, "vẫn tới")
    assert [m.text for m in fake.messages(blocked.id)] == ["trước khi chặn"]
    assert fake.sent_count == 2


async def test_rate_cap_limits_sends_per_rolling_second() -> None:
    async with serving(rate_cap=3) as fake, client(fake) as bot:
        fake.user(36)
        outcomes: list[object] = []
        for n in range(5):
            try:
                await bot.send_message(36, f"tin {n}")
                outcomes.append("ok")
            except RetryAfter as error:
                outcomes.append(error.retry_after)
        assert outcomes == ["ok"] * 3 + [timedelta(seconds=1)] * 2
        assert (fake.sent_count, fake.rate_limited_count) == (3, 2)
        await asyncio.sleep(1.05)
        await bot.send_message(36, "sau một giây")
        assert fake.sent_count == 4 and fake.messages(36)[-1].text == "sau một giây"


async def test_paid_broadcasts_have_their_own_higher_cap() -> None:
    async with serving(rate_cap=2) as fake, client(fake) as bot:
        fake.user(38)
        for n in range(2):
            await bot.send_message(38, f"miễn phí {n}")
        with pytest.raises(RetryAfter):
            await bot.send_message(38, "quá giới hạn")
        for n in range(20):  # up to 1,000 a second for Stars
            await bot.send_message(38, f"trả phí {n}", allow_paid_broadcast=True)
        assert fake.sent_count == 22 and fake.rate_limited_count == 1


async def test_delayed_send_times_out_but_still_happens(fake: FakeBotApi) -> None:
    fake.user(37)
    fake.delay_next("sendMessage", 1.0)
    async with client(fake, request=HTTPXRequest(read_timeout=0.3)) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(37, "muộn")
        assert fake.messages(37) == []
        message = await fake.next_message(37, timeout=3)
    assert message.text == "muộn" and fake.sent_count == 1


# --------------------------------------------------------------------------- files and others


async def test_send_document_stores_bytes_and_serves_them(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(40)
    data = "Họ tên,Đơn vị,Số điện thoại\n".encode() * 80_000  # ~2.6 MB, over aiohttp's default cap
    sent = await tg.send_document(40, document=data, filename="bao-cao.csv", caption="Báo cáo tuần")
    message = await fake.next_message(40)
    assert message.kind == "document" and message.caption == "Báo cáo tuần" and message.text is None
    assert message.document is not None and message.document["data"] == data
    assert message.document["file_name"] == "bao-cao.csv"
    assert sent.document is not None and sent.document.file_size == len(data)
    assert sent.caption == "Báo cáo tuần"
    file = await tg.get_file(sent.document.file_id)
    assert bytes(await file.download_as_bytearray()) == data
    assert fake.sent_count == 1


async def test_photos_both_ways(fake: FakeBotApi, tg: Bot) -> None:
    user = fake.user(41)
    update_id = fake.send_photo(user, TINY_PNG, caption="Ảnh thẻ")
    (update,) = await tg.get_updates()
    assert update.update_id == update_id and update.message is not None
    assert update.message.caption == "Ảnh thẻ"
    file = await update.message.photo[-1].get_file()
    assert bytes(await file.download_as_bytearray()) == TINY_PNG
    sent = await tg.send_photo(41, photo=TINY_PNG, caption="Đã nhận")
    message = await fake.next_message(41)
    assert (
        message.kind == "photo" and message.photo is not None and message.photo["data"] == TINY_PNG
    )
    assert sent.photo and sent.caption == "Đã nhận"


async def test_commands_are_kept_by_language(fake: FakeBotApi, tg: Bot) -> None:
    await tg.set_my_commands([BotCommand("start", "Bắt đầu"), BotCommand("me", "Thông tin")],
                             language_code="vi")  # fmt: skip
    await tg.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await tg.set_my_commands([BotCommand("start", "Bắt đầu")])
    assert fake.my_commands["vi"] == [{"command": "start", "description": "Bắt đầu"},
                                      {"command": "me", "description": "Thông tin"}]  # fmt: skip
    assert set(fake.my_commands) == {"vi", "en", ""}
    assert await tg.get_my_commands(language_code="en") == (BotCommand("start", "Start"),)
    assert await tg.delete_my_commands(language_code="en")
    assert "en" not in fake.my_commands and await tg.get_my_commands(language_code="en") == ()
    with pytest.raises(BadRequest):
        await tg.set_my_commands([BotCommand("Bắt_đầu", "x")])


async def test_chat_info_actions_menu_and_deletion(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(42, "Minh", last_name="Trần", username="minhtran")
    chat = await tg.get_chat(42)
    assert (chat.id, chat.type, chat.first_name, chat.last_name, chat.username) == (
        42, "private", "Minh", "Trần", "minhtran")  # fmt: skip
    with pytest.raises(BadRequest, match="Chat not found"):
        await tg.get_chat(43)
    assert await tg.send_chat_action(42, "typing") is True
    assert await tg.set_chat_menu_button() is True
    sent = await tg.send_message(42, "sẽ bị xoá")
    assert await tg.delete_message(42, sent.message_id) is True
    assert fake.messages(42)[0].deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await tg.delete_message(42, sent.message_id)
    assert await tg.close() is True and await tg.log_out() is True


async def test_next_message_and_wait_for_fail_with_a_useful_dump(fake: FakeBotApi, tg: Bot) -> None:
    fake.user(44)
    await tg.send_message(44, "tin thứ nhất", reply_markup=CONFIRM)
    assert (await fake.next_message(44)).text == "tin thứ nhất"
    with pytest.raises(AssertionError) as caught:
        await fake.next_message(44, timeout=0.2)
    dump = str(caught.value)
    assert "chat 44" in dump and "tin thứ nhất" in dump and "✅ Đồng ý" in dump
    with pytest.raises(AssertionError, match="not met within"):
        await fake.wait_for(lambda: fake.sent_count > 1, timeout=0.1)


# --------------------------------------------------------------------------- a real Application


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"Chào {' '.join(context.args or [])}")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def test_polling_application_end_to_end(fake: FakeBotApi) -> None:
    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    user = fake.user(50)
    await app.initialize()
    assert app.updater is not None
    try:
        await app.updater.start_polling(timeout=10, poll_interval=0)
        await app.start()
        fake.send_text(user, "/start abc")
        assert (await fake.next_message(50)).text == "Chào abc"
        fake.send_text(user, "xin chào")
        assert (await fake.next_message(50)).text == "xin chào"
        fake.send_text(user, "/start@khaibao_test_bot x")
        assert (await fake.next_message(50)).text == "Chào x"
    finally:
        begin = asyncio.get_running_loop().time()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert asyncio.get_running_loop().time() - begin < 3  # the 10 s long poll did not hold it up
    assert "deleteWebhook" in [name for name, _ in fake.requests]
    assert fake.pending_updates == 0  # the final getUpdates confirmed everything


# --------------------------------------------------------------------------- standalone process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with http.post(url, json=body) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _drive_control_api(base_url: str, control: str) -> None:
    token = "42:PROCESS-TOKEN"
    async with aiohttp.ClientSession() as http, Bot(token, base_url=base_url) as bot:
        await _post(
            http, f"{control}/users", {"user_id": 60, "first_name": "Hà", "language_code": "vi"}
        )
        assert await _post(http, f"{control}/text", {"user_id": 60, "text": "/me"}) == {
            "update_id": 1
        }
        (update,) = await bot.get_updates()
        assert update.message is not None and update.message.text == "/me"
        sent = await bot.send_message(60, "Xác nhận?", reply_markup=CONFIRM)
        await bot.send_document(60, b"12345", filename="a.csv")
        listed = await _get(http, f"{control}/messages?chat_id=60")
        assert [m["text"] for m in listed] == ["Xác nhận?", None]
        assert listed[0]["reply_markup"] == CONFIRM.to_dict()
        assert listed[1]["document"]["size"] == 5 and "data" not in listed[1]["document"]
        press = {"user_id": 60, "chat_id": 60, "message_id": sent.message_id, "data": "reg:y"}
        assert await _post(http, f"{control}/press", press) == {"update_id": 2}
        await _post(http, f"{control}/contact", {"user_id": 60, "phone_number": "0912 000 001"})
        updates = await bot.get_updates(offset=2)
        assert [u.update_id for u in updates] == [2, 3]
        assert updates[0].callback_query is not None and updates[0].callback_query.data == "reg:y"
        assert updates[1].message is not None and updates[1].message.contact is not None
        await _post(
            http, f"{control}/fail_next", {"method": "sendMessage", "status": 429, "retry_after": 3}
        )
        with pytest.raises(RetryAfter):
            await bot.send_message(60, "bị giới hạn")
        await _post(http, f"{control}/block", {"chat_id": 60})
        with pytest.raises(Forbidden):
            await bot.send_message(60, "bị chặn")
        async with http.post(f"{control}/text", json={"user_id": 61, "text": "?"}) as response:
            assert response.status == 400 and "unknown user" in (await response.json())["error"]
        stats = await _get(http, f"{control}/stats")
        assert stats == {"sent_count": 2, "rate_limited_count": 1, "messages_by_chat": {"60": 2},
                         "pending_updates": 2}  # fmt: skip


async def test_standalone_process_serves_control_api_and_stops_on_sigterm() -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakebot", "--port", str(port), "--token", "42:PROCESS-TOKEN",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        base_url = f"http://127.0.0.1:{port}/bot"
        assert line.split() == ["FAKEBOT_READY", base_url]
        await _drive_control_api(base_url, f"http://127.0.0.1:{port}/_control")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0 and output == b""


async def test_get_file_hands_out_a_sent_document_and_refuses_one_over_20_mb(
    fake: FakeBotApi, tg: Bot
) -> None:
    """Like the Bot API: getFile gives a path under /file/bot<token>/, files over 20 MB are
    refused with «file is too big» (the file stays the person's; the bot cannot have it)."""
    user = fake.user(5101)
    small = b"staff_id,full_name\nHB-1,An\n"
    update_id = fake.send_document(user, small, "staff.csv", "text/csv")
    document = fake.updates[update_id]["message"]["document"]
    assert document["file_name"] == "staff.csv" and document["file_size"] == len(small)
    found = await tg.get_file(document["file_id"])
    assert found.file_size == len(small) and found.file_path
    assert bytes(await found.download_as_bytearray()) == small
    big = fake.store_file(b"x" * (20 * 1024 * 1024 + 1), "documents", "text/csv", "big.csv")
    with pytest.raises(BadRequest, match="too big"):
        await tg.get_file(big.file_id)


async def test_a_file_link_works_only_after_get_file_and_for_an_hour(
    fake: FakeBotApi, tg: Bot
) -> None:
    """Like the Bot API: the download path is what getFile hands out, and its link works for
    an hour; after that (or before any getFile) it is 404 and getFile must be asked again."""
    now = [1000.0]
    fake.monotonic = lambda: now[0]
    stored = fake.store_file(b"%PDF-1.4 chi thi", "documents", "application/pdf", "ct.pdf")
    url = f"{fake.base_file_url}{fake.token}/{stored.file_path}"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as early:
            assert early.status == 404  # a path guessed, never handed out
        found = await tg.get_file(stored.file_id)
        assert found.file_path and found.file_path.endswith(stored.file_path)
        now[0] += 3599
        async with http.get(url) as fresh:
            assert fresh.status == 200 and await fresh.read() == b"%PDF-1.4 chi thi"
        now[0] += 2
        async with http.get(url) as stale:
            assert stale.status == 404 and (await stale.json())["description"] == "Not Found"
        await tg.get_file(stored.file_id)
        async with http.get(url) as again:
            assert again.status == 200
    assert fake.downloads == 2
