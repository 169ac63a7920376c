"""The outbox sender against the fake Bot API: 429, 500, time-outs, 403, and no lost message."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from bot.outgoing import LaterMessage, OutMessage
from bot.services.outbox.sender import RateLimiter
from storage.outbox_repo import OutboxRepo, Recipient
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, db_rows, load_examples, make_settings


async def enqueue(bot: RunningBot, chat_id: int, text: str) -> int:
    async with bot.services.db.transaction() as tx:
        row_id = await OutboxRepo(tx).enqueue(
            Recipient("telegram", str(chat_id)), OutMessage(text), bot.clock.now()
        )
    bot.services.sender.wake()
    return row_id


async def statuses(bot: RunningBot, chat_id: int) -> list[tuple[str, str, str | None]]:
    async with bot.services.db.reading() as tx:
        return await OutboxRepo(tx).for_chat(str(chat_id))


async def test_retry_after_is_honoured(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(701)
    fake.fail_next("sendMessage", status=429, retry_after=1)
    await enqueue(bot, user.id, "sau 429")
    message = await fake.next_message(user.id, timeout=10)
    assert message.text == "sau 429"
    assert fake.rate_limited_count == 1
    sends = [p for m, p in fake.requests if m == "sendMessage"]
    assert len(sends) == 2
    await fake.wait_for(lambda: _status_is(bot, user.id, "sent"))


async def test_server_error_is_retried(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(702)
    fake.fail_next("sendMessage", status=500, count=2)
    await enqueue(bot, user.id, "sau 500")
    message = await fake.next_message(user.id, timeout=10)
    assert message.text == "sau 500"
    await fake.wait_for(lambda: _status_is(bot, user.id, "sent"))
    status, _, error = (await statuses(bot, user.id))[0]
    assert status == "sent" and error is not None


async def test_forbidden_is_recorded_and_the_rest_goes_on(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    blocked, other = fake.user(703), fake.user(704)
    fake.block(blocked.id)
    await enqueue(bot, blocked.id, "không tới được")
    await enqueue(bot, other.id, "vẫn tới")
    assert (await fake.next_message(other.id)).text == "vẫn tới"
    await fake.wait_for(
        lambda: bool(fake.requests) and _status_is(bot, blocked.id, "undeliverable")
    )
    rows = await statuses(bot, blocked.id)
    assert rows[0][0] == "undeliverable" and "blocked" in (rows[0][2] or "")
    assert fake.messages(blocked.id) == []


def _status_is(bot: RunningBot, chat_id: int, wanted: str) -> bool:

    rows = db_rows(
        bot.settings.database_path, "SELECT status FROM outbox WHERE chat_ref = ?", (str(chat_id),)
    )
    return bool(rows) and rows[0][0] == wanted


async def test_timeout_is_retried(fake: FakeBotApi, db_path: Path, clock: ManualClock) -> None:
    await load_examples(db_path, clock)
    settings = make_settings(fake, db_path, send_read_timeout_seconds=0.5)
    async with RunningBot(settings, clock) as bot:
        user = fake.user(705)
        fake.delay_next("sendMessage", 1.5)
        await enqueue(bot, user.id, "sau khi quá thời gian")
        await fake.wait_for(lambda: _status_is(bot, user.id, "sent"), timeout=15)
        rows = await statuses(bot, user.id)
        assert rows[0][2] is not None  # the time-out was recorded before the retry went through
        assert any(m.text == "sau khi quá thời gian" for m in fake.messages(user.id))


async def test_a_slow_answer_within_the_read_timeout_arrives_once(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    """A send that times out may have arrived: retrying it delivers it twice. Sends wait for
    Telegram's answer up to SEND_READ_TIMEOUT_SECONDS, longer than any other call."""
    await load_examples(db_path, clock)
    settings = make_settings(fake, db_path, http_timeout_seconds=0.5)  # read time-out: default
    async with RunningBot(settings, clock) as bot:
        user = fake.user(710)
        fake.delay_next("sendMessage", 1.5)
        await enqueue(bot, user.id, "chậm nhưng một lần")
        await fake.wait_for(lambda: _status_is(bot, user.id, "sent"), timeout=15)
        await bot.services.sender.drain()
        assert [m.text for m in fake.messages(user.id)] == ["chậm nhưng một lần"]
        [(_, _, error)] = await statuses(bot, user.id)
        assert error is None


async def test_per_chat_order_is_kept(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(706)
    for n in range(5):
        await enqueue(bot, user.id, f"tin {n}")
    texts = [(await fake.next_message(user.id)).text for _ in range(5)]
    assert texts == [f"tin {n}" for n in range(5)]


async def test_rate_limiter_paces_bulk_but_not_urgent() -> None:
    now = [0.0]
    limiter = RateLimiter(10, monotonic=lambda: now[0])
    await limiter.acquire()
    assert limiter._next_free == 0.1
    await limiter.acquire(urgent=True)  # does not wait, pushes the bulk back
    assert limiter._next_free == 0.2
    limiter.pause(5)
    assert limiter._paused_until == 5.0


async def test_urgent_sends_wait_once_the_whole_rate_was_used_within_a_second() -> None:
    """Replies are not paced, but many at once never exceed the cap in a rolling second."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(10, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(10):
        await limiter.acquire(urgent=True)
        limiter.release()
    assert now[0] == 0.0  # ten at once: no wait
    await limiter.acquire(urgent=True)
    assert now[0] >= 1.0  # the eleventh waits until the first stops counting


async def test_an_edit_queued_before_the_message_is_sent_waits_for_it(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    user = fake.user(709)
    fake.delay_next("sendMessage", 1.0)
    original = await enqueue(bot, user.id, "Đề nghị #1: chờ phê duyệt")
    async with bot.services.db.transaction() as tx:
        await OutboxRepo(tx).enqueue(
            Recipient("telegram", str(user.id)),
            OutMessage("Đề nghị #1: đã phê duyệt", edit_ref=f"outbox:{original}"),
            bot.clock.now(),
        )
    bot.services.sender.wake()
    message = await fake.next_message(user.id, timeout=10)
    await fake.wait_for(lambda: message.text == "Đề nghị #1: đã phê duyệt")
    assert len(fake.messages(user.id)) == 1
    await fake.wait_for(lambda: all(row[0] == "sent" for row in _rows(bot, user.id)))


def _rows(bot: RunningBot, chat_id: int) -> list[tuple[str]]:

    return db_rows(
        bot.settings.database_path, "SELECT status FROM outbox WHERE chat_ref = ?", (str(chat_id),)
    )


async def test_a_later_message_is_rendered_when_it_leaves(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    """A sweep stores a view and its arguments; the sender renders it in the recipient's language,
    with the time left at the moment it goes out."""
    from datetime import timedelta

    from bot.services.returns.views import later_declaration_reminder

    vi_user, en_user, broken = fake.user(706), fake.user(707), fake.user(708)
    deadline = bot.clock.now() + timedelta(hours=5, minutes=30)
    async with bot.services.db.transaction() as tx:
        outbox = OutboxRepo(tx)
        await outbox.enqueue(
            Recipient("telegram", str(vi_user.id)),
            later_declaration_reminder(41, "Đà Nẵng", deadline, "vi"),
            bot.clock.now(),
        )
        await outbox.enqueue(
            Recipient("telegram", str(en_user.id)),
            later_declaration_reminder(42, "Huế", deadline, "en"),
            bot.clock.now(),
        )
        await outbox.enqueue(
            Recipient("telegram", str(broken.id)),
            LaterMessage("no.such.view", {}, "vi"),
            bot.clock.now(),
        )
    bot.clock.advance(timedelta(hours=1))  # sent an hour after the sweep enqueued it
    bot.services.sender.wake()
    vi_text = (await fake.next_message(vi_user.id)).text or ""
    assert "Đà Nẵng" in vi_text and "4 giờ 30 phút" in vi_text
    en_message = await fake.next_message(en_user.id)
    assert "Huế" in (en_message.text or "") and "4 h 30 min" in (en_message.text or "")
    assert en_message.callback_data("✅") == "rt:ok:42"
    await fake.wait_for(lambda: _status_is(bot, broken.id, "undeliverable"))
    assert fake.messages(broken.id) == []
    assert (await statuses(bot, broken.id))[0][1] == "[no.such.view]"


async def test_a_chat_that_was_just_written_to_is_not_pushed_to_the_end_of_a_big_batch(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    """The admin's own copy of a directive follows the progress message by a second, not by
    the whole broadcast: a skipped row is looked at again within about a second of sends."""
    await load_examples(db_path, clock)
    async with RunningBot(
        make_settings(fake, db_path, send_rate_per_second=20, per_chat_interval_seconds=1), clock
    ) as bot:
        admin, others = fake.user(720), [fake.user(721 + n) for n in range(60)]
        await enqueue(bot, admin.id, "tiến độ")
        await fake.next_message(admin.id)
        async with bot.services.db.transaction() as tx:
            outbox = OutboxRepo(tx)
            for user in [admin, *others]:
                await outbox.enqueue(
                    Recipient("telegram", str(user.id)),
                    OutMessage(f"văn bản cho {user.id}"),
                    clock.now(),
                    priority=8,
                )
        bot.services.sender.wake()
        copy = await fake.next_message(admin.id, timeout=10)
        assert copy.text == f"văn bản cho {admin.id}"
        delivered_before = sum(1 for user in others if fake.messages(user.id))
        assert delivered_before < 45  # 60 at 20/s take 3 s; the admin's copy went after about 1 s


PERMANENT_400 = [
    "Bad Request: message is too long",
    "Bad Request: reply markup is too long",
    "Bad Request: BUTTON_DATA_INVALID",
    "Bad Request: chat not found",
]


@pytest.mark.parametrize("description", PERMANENT_400)
async def test_a_permanent_error_is_attempted_once_and_the_row_says_why(
    fake: FakeBotApi, bot: RunningBot, description: str
) -> None:
    user = fake.user(730)
    fake.fail_next("sendMessage", status=400, description=description)
    await enqueue(bot, user.id, "một lần thôi")
    await fake.wait_for(lambda: _status_is(bot, user.id, "undeliverable"))
    await bot.services.sender.drain()
    sends = [p for m, p in fake.requests if m == "sendMessage" and p.get("chat_id") == user.id]
    assert len(sends) == 1
    [(_, _, error)] = await statuses(bot, user.id)
    assert (error or "").lower() == description.removeprefix("Bad Request: ").lower()


async def test_a_transient_400_is_retried(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(731)
    fake.fail_next("sendMessage", status=400, description="Bad Request: RPC_CALL_FAIL")
    await enqueue(bot, user.id, "lần sau được")
    assert (await fake.next_message(user.id, timeout=10)).text == "lần sau được"


async def enqueue_edit(bot: RunningBot, chat_id: int, message: OutMessage) -> None:
    async with bot.services.db.transaction() as tx:
        await OutboxRepo(tx).enqueue(Recipient("telegram", str(chat_id)), message, bot.clock.now())
    bot.services.sender.wake()


async def test_an_edit_that_matters_is_sent_as_a_new_message_when_its_message_is_gone(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    user = fake.user(732)
    await enqueue(bot, user.id, "Đề nghị #7: chờ phê duyệt")
    original = await fake.next_message(user.id)
    original.deleted = True  # the person deleted it from the chat
    decided = OutMessage("Đề nghị #7: đã phê duyệt", edit_ref=str(original.message_id))
    await enqueue_edit(bot, user.id, replace(decided, send_if_edit_fails=True))
    instead = await fake.next_message(user.id, timeout=10)
    assert instead.text == "Đề nghị #7: đã phê duyệt" and instead is not original
    await fake.wait_for(lambda: all(row[0] == "sent" for row in _rows(bot, user.id)))
    _, _, error = (await statuses(bot, user.id))[1]
    assert "message to edit not found" in (error or "").lower() and "new message" in (error or "")


async def test_an_edit_that_does_not_matter_is_given_up_once(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    user = fake.user(733)
    await enqueue_edit(bot, user.id, OutMessage("tiến độ: 40%", edit_ref="9999"))
    await fake.wait_for(lambda: _status_is(bot, user.id, "undeliverable"))
    await bot.services.sender.drain()
    edits = [p for m, p in fake.requests if m == "editMessageText" and p.get("chat_id") == user.id]
    assert len(edits) == 1 and fake.messages(user.id) == []
    [(_, _, error)] = await statuses(bot, user.id)
    assert (error or "").lower() == "message to edit not found"
