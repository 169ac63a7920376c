"""A user's day on both messengers, one script each (tests/channel_chats): coming back (the
return question and declaration), a declaration reminder, symptoms and the alert acknowledged,
a directive read; then one day across them (a Zalo requester, a Telegram approver), and what
the person who caused a message is told when it cannot reach its person.

The clock starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh); the sample trip leaves on
Saturday 29/05 07:00 and is planned back on Sunday 30/05 18:00. The fake Zalo OA's clock is the
bot's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.clock import ManualClock
from storage.engine import to_db_time
from storage.repos import AuditRepo
from tests.channel_chats import Chat, Shown, TelegramChat, ZaloChat, with_button
from tests.fakebot import FakeBotApi, SentMessage
from tests.fakezalo import FakeZaloOA
from tests.harness import RunningBot, db_change, db_value
from tests.test_e2e_broadcast import SEED, compose
from tests.test_e2e_returns import PLANNED_RETURN, tick_at
from tests.test_e2e_zalo import bot, oa

FIXTURES = (bot, oa)  # the bot with both channels on, and its fake Zalo OA

CHANNELS = pytest.mark.parametrize("channel", ["telegram", "zalo"])
PEOPLE = {  # staff id: (Telegram user id, name, Zalo phone) from examples/staff.csv
    "TH-003": (861, "Lại Thị Diệu Linh", "84912000026"),
    "TH-001": (862, "Châu Thị Bích Ngọc", "84912000024"),
    "YT-003": (863, "Kiều Thị Ngân", "84912000021"),
    "DU-003": (864, "Ngô Thị Mai Phương", "84912000010"),
    "TH-004": (865, "Âu Văn Phúc", "84912000027"),
    "TH-006": (866, "Võ Thị Tuyết", "84912000029"),
}


async def join(fake: FakeBotApi, oa: FakeZaloOA, channel: str, staff_id: str) -> Chat:
    """The person registered on `channel` through its own registration."""
    user_id, name, phone = PEOPLE[staff_id]
    if channel == "zalo":
        return await ZaloChat.register(oa, name, phone)
    return await TelegramChat.register(fake, user_id, staff_id)


async def request_travel(
    chat: Chat, leave: str = "29/05/2021 07:00", back: str = "30/05/2021 18:00"
) -> Shown:
    """/travel to Đà Nẵng, sent; the answer naming the approver."""
    for typed in ("/travel", "da nang", "12 Trần Phú, phường Hải Châu", leave, back):
        await chat.say(typed)
    await chat.tap(with_button(await chat.say("Thăm gia đình"), "Không"), "Không")
    summary = await chat.next_with("Đà Nẵng")
    await chat.tap(summary, "Gửi")
    return await chat.next_with("Châu Thị Bích Ngọc")


async def approve(principal: Chat) -> None:
    request = await principal.next_with("Lại Thị Diệu Linh")
    await principal.tap(request, "✅")


async def approved_trip(fake: FakeBotApi, oa: FakeZaloOA, channel: str) -> tuple[Chat, Chat]:
    """The teacher on `channel` asks for the sample trip; the principal (Telegram) approves."""
    teacher = await join(fake, oa, channel, "TH-003")
    principal = await join(fake, oa, "telegram", "TH-001")
    await request_travel(teacher)
    await approve(principal)
    await teacher.next_with("Đã phê duyệt")
    return teacher, principal


async def declare_back(chat: Chat, question: Shown, symptoms: tuple[str, ...] = ()) -> Shown:
    """From the return question to the official-declaration question; returns that question."""
    await chat.tap(question, "✅ Tôi đã về")
    provinces = await chat.next_with("14 ngày")
    assert "Đà Nẵng" in provinces.text
    more = await chat.say("hue")
    assert any("Huế" in shown.text for shown in more), more
    await chat.tap(with_button(more, "➡️"), "➡️")
    asked = await chat.answers()
    for name in symptoms:
        asked = await chat.tap_toggle(with_button(asked, f"⬜ {name}"), f"⬜ {name}")
    await chat.tap(with_button(asked, "➡️"), "➡️")
    await chat.tap(with_button(await chat.answers(), "➡️"), "➡️")  # no contacts
    await chat.next_with("đã được ghi nhận")
    return await chat.next_with("tokhaiyte.vn")


@CHANNELS
async def test_return_declared_and_confirmed(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock, channel: str
) -> None:
    teacher, principal = await approved_trip(fake, oa, channel)
    await tick_at(bot, clock, PLANNED_RETURN)
    question = await teacher.next_with("đã về chưa")
    assert "Đà Nẵng" in question.text
    official = await declare_back(teacher, question)
    assert any("Tờ khai" in label or "tokhaiyte" in label for label in official.labels), official
    told = await principal.next_with("đã về từ")
    assert "Lại Thị Diệu Linh" in told.text and "Huế" in told.text
    await teacher.tap(official, "✅")
    await teacher.next_with("Đã ghi nhận")
    assert bot_state(bot) == "declared"


@CHANNELS
async def test_return_by_command_and_the_declaration_reminder(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock, channel: str
) -> None:
    teacher, _ = await approved_trip(fake, oa, channel)
    clock.set(PLANNED_RETURN)
    question = with_button(await teacher.say("/return"), "Tôi đã về")
    await declare_back(teacher, question)  # arrived 30/05 18:00: window to 31/05 18:00
    seen = len(teacher.texts())
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=2))
    reminder = await teacher.next_with("Nhắc")
    await teacher.tap(reminder, "✅")
    await teacher.next_with("Đã ghi nhận")
    count = len(teacher.texts())
    assert count > seen
    for hours in (12, 20, 24, 48):
        await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=hours))
    assert not any("Nhắc" in text for text in teacher.texts()[count:])  # declared: no more


def bot_state(bot: RunningBot) -> str:
    return str(db_value(bot.settings.database_path, "SELECT state FROM trip_returns"))


async def report_symptoms(chat: Chat, symptoms: tuple[str, ...], temperature: str) -> Shown:
    """Walk through /symptoms; the bot's final answer."""
    picker = await chat.say("/symptoms")
    for label in symptoms:
        picker = await chat.tap_toggle(with_button(picker, label), label)
    await chat.tap(with_button(picker, "Tiếp"), "Tiếp")
    await chat.next_with("°C")
    since = with_button(await chat.say(temperature), "Hôm qua")
    await chat.tap(since, "Hôm qua")
    contact = await chat.next_with("F0")
    await chat.tap(contact, "Không")
    return await chat.next_with("cách ly")


@CHANNELS
async def test_symptoms_alert_the_health_officer_who_acknowledges(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, channel: str
) -> None:
    teacher = await join(fake, oa, channel, "TH-003")
    nurse = await join(fake, oa, channel, "YT-003")
    done = await report_symptoms(teacher, ("Sốt", "Ho"), "38,2")
    assert "024 3000 0100" in done.text, done
    alert = await nurse.next_with("KHẨN")
    assert "Lại Thị Diệu Linh" in alert.text
    await nurse.tap(alert, "Đã tiếp nhận")
    told = await teacher.next_with("Kiều Thị Ngân")
    assert "tiếp nhận" in told.text
    async with bot.services.db.reading() as tx:
        acks = await AuditRepo(tx).recent(bot.clock.tz, "health.ack")
    assert [a.actor for a in acks] == ["YT-003"]


async def send_directive(admin: TelegramChat, body: str = "Đề nghị tăng cường phòng dịch.") -> None:
    """The admin's /broadcast to everyone, sent now."""
    admin.fake.mark_read(admin.user.id)
    preview = await compose(admin.fake, admin.user, body)
    admin.fake.press(admin.user, preview[-1], preview[-1].callback_data("Gửi ngay"))
    await admin.next_with("#1")


@CHANNELS
async def test_a_directive_is_read_with_its_button(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock, channel: str
) -> None:
    admin = await join(fake, oa, "telegram", "DU-003")
    teacher = await join(fake, oa, channel, "TH-003")
    assert isinstance(admin, TelegramChat)
    await send_directive(admin)
    directive = await teacher.next_with("tăng cường phòng dịch")
    assert any("Đã đọc" in label for label in directive.labels), directive
    clock.advance(timedelta(minutes=75))
    await teacher.tap(directive, "Đã đọc")
    await fake.wait_for(lambda: read_count(bot) == 1, timeout=10)
    listing = await teacher.say("/directives")
    assert any("10:15" in shown.text for shown in listing), listing


def held_from(bot: RunningBot, origin: str) -> int:
    query = "SELECT COUNT(*) FROM outbox WHERE origin_staff_id = ? AND error LIKE 'held:%'"
    return int(str(db_value(bot.settings.database_path, query, (origin,))))


def read_count(bot: RunningBot) -> int:
    query = "SELECT COUNT(*) FROM broadcast_recipients WHERE read_at IS NOT NULL"
    return int(str(db_value(bot.settings.database_path, query)))


async def test_a_zalo_request_decided_on_telegram_shows_on_both(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot
) -> None:
    teacher = await join(fake, oa, "zalo", "TH-003")
    principal = await join(fake, oa, "telegram", "TH-001")
    await request_travel(teacher)
    request = await principal.next_with("Lại Thị Diệu Linh")
    assert isinstance(request.raw, SentMessage)
    await principal.tap(request, "Phê duyệt")
    told = await teacher.next_with("Đã phê duyệt")
    assert "Châu Thị Bích Ngọc" in told.text
    shown = request.raw
    await fake.wait_for(lambda: "Đã phê duyệt" in (shown.text or "") and not shown.buttons())
    status = await teacher.say("/status")
    assert any("Đà Nẵng" in s.text and "phê duyệt" in s.text.lower() for s in status), status
    assert oa.stats()["refused"] == {}


async def test_registration_help_follows_how_the_channel_shares_a_phone(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot
) -> None:
    stranger = oa.user("Người Lạ")
    oa.follow(stranger)
    zalo = ZaloChat(oa, stranger)
    welcome = await zalo.next_with("Chào mừng")
    assert "gửi biểu mẫu" in welcome.text
    help_on_zalo = await zalo.say("xin chào")
    assert any("gửi biểu mẫu" in s.text and "mã mời" in s.text for s in help_on_zalo)
    assert not any("đường dẫn mời" in s.text for s in help_on_zalo)
    telegram = TelegramChat(fake, fake.user(869))
    help_on_telegram = await telegram.say("xin chào")
    assert any("bên dưới, hoặc mở đường dẫn mời" in s.text for s in help_on_telegram)
    assert not any("biểu mẫu" in s.text for s in help_on_telegram)


UNREACHED = "chưa đến được qua Zalo"  # what the sender of a held message is told


async def test_past_seven_days_the_sender_of_a_directive_is_told_once(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    admin = await join(fake, oa, "telegram", "DU-003")
    teacher = await join(fake, oa, "zalo", "TH-003")
    assert isinstance(admin, TelegramChat) and isinstance(teacher, ZaloChat)
    clock.advance(timedelta(days=8))
    await admin.next_with("Báo cáo tuần")  # the week's digest first (Monday has passed)
    await send_directive(admin, SEED)  # three messages on Telegram, more on Zalo: all held
    await fake.wait_for(lambda: any(UNREACHED in text for text in admin.texts()), timeout=10)
    await bot.services.sender.drain()
    assert any(UNREACHED in text and "Lại Thị Diệu Linh" in text for text in admin.texts())
    assert sum(UNREACHED in text for text in admin.texts()) == 1  # once per person
    assert held_from(bot, "DU-003") >= 2  # though more than one of her messages waits
    assert oa.window(teacher.user) == "closed"
    assert not any("1061/UBND-VP" in text for text in teacher.texts())
    oa.send_text(teacher.user, "xin chào")
    directive = await teacher.next_with("1061/UBND-VP")
    assert directive.text


async def test_past_seven_days_a_directive_to_many_tells_its_sender_in_one_notice(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    admin = await join(fake, oa, "telegram", "DU-003")
    teachers = ("TH-003", "TH-004", "TH-006")  # staff the bot sends nothing of itself to
    away = [await join(fake, oa, "zalo", staff_id) for staff_id in teachers]
    clock.advance(timedelta(days=8))
    await admin.next_with("Báo cáo tuần")
    await send_directive(admin)
    await admin.next_with(UNREACHED)
    names = [PEOPLE[staff_id][1] for staff_id in teachers]

    def notices() -> list[str]:
        return [text for text in admin.texts() if UNREACHED in text]

    for _ in range(5):  # who was held after a notice is told a minute later, gathered
        if all(any(name in text for text in notices()) for name in names):
            break
        await bot.services.sender.drain()
        clock.advance(timedelta(minutes=1))
        await bot.services.sweeper.tick()
        await bot.services.sender.drain()
    assert all(sum(name in text for text in notices()) == 1 for name in names), notices()
    assert any(sum(name in text for name in names) >= 2 for text in notices())  # not one each
    assert not any("Hiện không gửi được tin tới" in text for text in admin.texts())  # not twice
    assert all(isinstance(chat, ZaloChat) and oa.window(chat.user) == "closed" for chat in away)


async def decided_past_seven_days(
    fake: FakeBotApi, oa: FakeZaloOA, clock: ManualClock
) -> tuple[ZaloChat, Chat]:
    """A Zalo teacher's request, approved on Telegram after she has been silent for 8 days."""
    teacher = await join(fake, oa, "zalo", "TH-003")
    principal = await join(fake, oa, "telegram", "TH-001")
    assert isinstance(teacher, ZaloChat)
    await request_travel(teacher, leave="12/06/2021 07:00", back="13/06/2021 18:00")
    request = await principal.next_with("Lại Thị Diệu Linh")
    clock.advance(timedelta(days=8))
    await principal.tap(request, "Phê duyệt")
    return teacher, principal


async def test_past_seven_days_the_decider_is_told_and_the_decision_waits(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await decided_past_seven_days(fake, oa, clock)
    told = await principal.next_with(UNREACHED)
    assert "Lại Thị Diệu Linh" in told.text and "nhắn lại" in told.text
    assert not any("Đã phê duyệt" in text for text in teacher.texts())
    oa.send_text(teacher.user, "xin chào")
    decided = await teacher.next_with("Đã phê duyệt")
    assert "Châu Thị Bích Ngọc" in decided.text
    assert sum(UNREACHED in text for text in principal.texts()) == 1


async def test_a_hold_recorded_just_after_the_person_wrote_goes_without_another_message(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await decided_past_seven_days(fake, oa, clock)
    await principal.next_with(UNREACHED)
    # She writes as the decision is being held: the write is recorded, but its release ran
    # before the hold was (the race), so nothing was released by her message.
    oa._interacted(teacher.user)  # the fake's window opens as Zalo's would
    await db_change(
        bot.settings.database_path,
        "UPDATE zalo_users SET last_interaction_at = ? WHERE user_id = ?",
        (to_db_time(clock.now()), teacher.user.user_id),
    )
    decided = await teacher.next_with("Đã phê duyệt", timeout=10)
    assert "Châu Thị Bích Ngọc" in decided.text


async def test_past_seven_days_what_the_bot_sends_of_itself_tells_only_the_admins(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    principal = await join(fake, oa, "zalo", "TH-001")
    admin = await join(fake, oa, "telegram", "DU-003")
    clock.advance(timedelta(days=8))
    teacher = await join(fake, oa, "telegram", "TH-003")
    await request_travel(teacher, leave="12/06/2021 07:00", back="13/06/2021 18:00")
    await admin.next_with("Hiện không gửi được tin tới Châu Thị Bích Ngọc")  # the admins
    await bot.services.sender.drain()
    assert isinstance(principal, ZaloChat) and oa.window(principal.user) == "closed"
    assert not any(UNREACHED in text for text in teacher.texts())  # the request is the bot's
    assert not any(UNREACHED in text for text in admin.texts())
