"""The real bot on Zalo against the sandbox's strict Zalo OA (tests/fakezalo), built from
ZALO.md apart from the channel: registration by the shared phone, a travel request, its
decision from either messenger, and the 7-day window. The fake's clock is the bot's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi
from tests.fakezalo import APP_ID, APP_SECRET, OA_ID, OA_SECRET_KEY, FakeZaloOA, ZaloSent, ZaloUser
from tests.harness import RunningBot, free_port, load_examples, make_settings, register
from tests.test_e2e_travel import submit

PRINCIPAL_TG, TEACHER_TG, ADMIN_TG = 802, 801, 805


@pytest.fixture
async def oa(clock: ManualClock) -> AsyncIterator[FakeZaloOA]:
    port = free_port()
    fake = FakeZaloOA(
        webhook_url=f"http://127.0.0.1:{port}/zalo/webhook",
        clock=lambda: clock.now().timestamp(),
    )
    fake.webhook_port = port  # type: ignore[attr-defined]  # where the bot must listen
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(
    fake: FakeBotApi, oa: FakeZaloOA, db_path: Path, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    outcome = await load_examples(db_path, clock)
    assert outcome.applied, outcome.problems
    _, refresh = oa.issue_tokens()
    settings = make_settings(
        fake,
        db_path,
        zalo_app_id=APP_ID,
        zalo_oa_id=OA_ID,
        zalo_app_secret=SecretStr(APP_SECRET),
        zalo_oa_secret_key=SecretStr(OA_SECRET_KEY),
        zalo_refresh_token=SecretStr(refresh),
        zalo_api_base_url=oa.base_url,
        zalo_oauth_base_url=oa.base_url,
        webhook_port=oa.webhook_port,  # type: ignore[attr-defined]
    )
    async with RunningBot(settings, clock) as running:
        yield running


async def next_with(oa: FakeZaloOA, user: ZaloUser, fragment: str) -> ZaloSent:
    """The next message to `user` whose text has `fragment` (those before it are skipped)."""
    while True:
        sent = await oa.next_message(user.user_id, timeout=10)
        if fragment in (sent.text or ""):
            return sent


async def next_kind(oa: FakeZaloOA, user: ZaloUser, kind: str) -> ZaloSent:
    while True:
        sent = await oa.next_message(user.user_id, timeout=10)
        if sent.kind == kind:
            return sent


async def register_on_zalo(oa: FakeZaloOA, name: str, phone: str) -> ZaloUser:
    """Follow, share the phone with Zalo's form, confirm, consent: registered."""
    person = oa.user(name, phone=phone)
    oa.follow(person)
    await next_with(oa, person, "Chào mừng")
    await next_kind(oa, person, "request_user_info")
    oa.submit_info(person, phone=phone)
    question = await next_with(oa, person, "có phải")
    oa.tap(person, question, "✅")
    await next_with(oa, person, "🔒")
    oa.tap(person, await next_kind(oa, person, "buttons"), "Đồng ý")
    sensitive = await next_with(oa, person, "(b)")
    oa.tap(person, sensitive, "Đồng ý")
    welcome = await next_with(oa, person, "Đăng ký thành công")
    assert name in (welcome.text or "")
    return person


async def say(oa: FakeZaloOA, person: ZaloUser, text: str) -> list[ZaloSent]:
    """Type `text`; the messages that answer it (until none comes for a moment)."""
    oa.mark_read(person.user_id)
    oa.send_text(person, text)
    found = [await oa.next_message(person.user_id, timeout=10)]
    while True:
        try:
            found.append(await oa.next_message(person.user_id, timeout=0.4))
        except (AssertionError, TimeoutError):
            return found


async def travel_on_zalo(oa: FakeZaloOA, person: ZaloUser) -> list[ZaloSent]:
    for typed in ("/travel", "da nang", "12 Trần Phú, phường Hải Châu", "29/05/2021 07:00"):
        await say(oa, person, typed)
    await say(oa, person, "30/05/2021 18:00")
    question = next(m for m in await say(oa, person, "Thăm gia đình") if m.buttons)
    oa.tap(person, question, "Không")
    summary = await next_kind(oa, person, "buttons")
    assert "Đà Nẵng" in (summary.text or "")
    oa.tap(person, summary, "Gửi")
    return [await next_with(oa, person, "Châu Thị Bích Ngọc")]


async def test_register_travel_and_decide_from_telegram(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot
) -> None:
    teacher = await register_on_zalo(oa, "Lại Thị Diệu Linh", "84912000026")
    principal = await register(fake, PRINCIPAL_TG, "TH-001")
    await travel_on_zalo(oa, teacher)
    request = await fake.next_message(principal.id)
    assert "Lại Thị Diệu Linh" in (request.text or "")
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    told = await next_with(oa, teacher, "Đã phê duyệt")
    assert "Châu Thị Bích Ngọc" in (told.text or "")
    stats = oa.stats()
    assert stats["refused"] == {}, stats  # the strict fake refused nothing the bot sent
    assert stats["refreshes"] >= 1 and stats["refresh_reuses"] == 0  # single-use, used once


async def test_a_request_decided_on_zalo(fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot) -> None:
    principal = await register_on_zalo(oa, "Châu Thị Bích Ngọc", "84912000024")
    teacher = await register(fake, TEACHER_TG, "TH-003")
    await submit(fake, teacher)
    request = await next_with(oa, principal, "Lại Thị Diệu Linh")
    assert len(request.buttons) <= 5
    oa.tap(principal, request, "✅")
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "")
    decided = await next_with(oa, principal, "Đã phê duyệt bởi")  # a follow-up: no edits
    assert not decided.buttons
    oa.tap(principal, request, "✅")  # the old buttons stay on Zalo: checked on the server
    answer = await next_with(oa, principal, "Đã có quyết định")
    assert answer.kind == "text"


async def test_past_seven_days_a_request_waits_until_the_approver_writes(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    principal = await register_on_zalo(oa, "Châu Thị Bích Ngọc", "84912000024")
    admin = await register(fake, ADMIN_TG, "DU-003")
    clock.advance(timedelta(days=8))
    teacher = await register(fake, TEACHER_TG, "TH-003")
    await submit(fake, teacher, leave="05/06/2021 07:00", back="06/06/2021 18:00")
    told = await fake.next_message(admin.id)
    while "Zalo" not in (told.text or ""):
        told = await fake.next_message(admin.id)
    assert "Châu Thị Bích Ngọc" in (told.text or "")
    assert oa.window(principal) == "closed"
    assert not any("Lại Thị Diệu Linh" in (m.text or "") for m in oa.messages(principal.user_id))
    oa.send_text(principal, "xin chào")
    request = await next_with(oa, principal, "Lại Thị Diệu Linh")
    assert request.buttons and not request.billable
    assert oa.stats()["refused"] == {}  # known closed: the bot did not even try


async def test_an_export_goes_as_csv_through_the_strict_upload(
    oa: FakeZaloOA, bot: RunningBot
) -> None:
    admin = await register_on_zalo(oa, "Ngô Thị Mai Phương", "84912000010")
    answers = await say(oa, admin, "/export travel 01/05/2021 31/05/2021")
    files = [m for m in answers if m.kind == "file"]
    assert files, [(m.kind, m.text) for m in answers]
    assert files[0].upload is not None and ".csv" in str(files[0].upload.to_json())
    assert oa.stats()["refused"] == {} and oa.stats()["uploads"] == 1


async def test_repeated_deliveries_echoes_and_an_expired_token(
    oa: FakeZaloOA, bot: RunningBot
) -> None:
    teacher = await register_on_zalo(oa, "Lại Thị Diệu Linh", "84912000026")
    refreshes = oa.stats()["refreshes"]
    oa.echoes = True  # Zalo reports the OA's own sends back as oa_send_* events
    oa.expire_access_tokens()  # the next call is refused -216: refreshed once, then sent
    oa.webhooks.repeat_next(1)  # the next event comes twice
    answers = await say(oa, teacher, "/me")
    assert [m for m in answers if "Lại Thị Diệu Linh" in (m.text or "")] == answers[:1]
    assert len(answers) == 1, [m.text for m in answers]  # once, though delivered twice
    stats = oa.stats()
    assert stats["refreshes"] == refreshes + 1 and stats["refresh_reuses"] == 0
    assert set(stats["refused"]) == {"-216"}  # the one refusal that caused the refresh


async def test_two_to_seven_days_later_a_message_is_billable_and_counted(
    fake: FakeBotApi, oa: FakeZaloOA, bot: RunningBot, clock: ManualClock
) -> None:
    principal = await register_on_zalo(oa, "Châu Thị Bích Ngọc", "84912000024")
    admin = await register(fake, ADMIN_TG, "DU-003")
    clock.advance(timedelta(days=3))
    teacher = await register(fake, TEACHER_TG, "TH-003")
    await submit(fake, teacher, leave="05/06/2021 07:00", back="06/06/2021 18:00")
    request = await next_with(oa, principal, "Lại Thị Diệu Linh")
    assert request.billable and oa.window(principal) == "billable"
    await bot.services.sender.drain()  # counted once Zalo has answered the send, not before
    fake.send_text(admin, "/district")
    shown = await fake.next_message(admin.id)
    while "Zalo" not in (shown.text or ""):
        shown = await fake.next_message(admin.id)
    assert "1 tin tính phí" in (shown.text or "")
