"""The real bot with Zalo on beside Telegram: signed webhooks posted to its inbound server,
its sends read from a minimal OA API stand-in (tests/zalo_stub.py). Registration by the shared
phone, a travel request from Zalo decided on Telegram, and one decided from Zalo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import start_zalo_only, stop_zalo_only
from bot.config import Settings
from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import ENGINE_URLS, RunningBot, free_port, load_examples, make_settings, register
from tests.zalo_stub import (
    APP_ID,
    APP_SECRET,
    FIRST_REFRESH,
    OA_ID,
    ZaloPerson,
    ZaloStub,
    buttons_of,
)

KEY = "oa-secret-key-e2e"
TEACHER_ZALO, PRINCIPAL_ZALO = "1001001001001001001", "2002002002002002002"
PRINCIPAL_TG, TEACHER_TG = 802, 801


@pytest.fixture
async def zalo() -> AsyncIterator[ZaloStub]:
    stub = ZaloStub()
    await stub.start()
    yield stub
    await stub.stop()


@pytest.fixture
async def both(
    fake: FakeBotApi, zalo: ZaloStub, db_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[RunningBot, str]]:
    outcome = await load_examples(db_path, clock)
    assert outcome.applied, outcome.problems
    port = free_port()
    settings = make_settings(
        fake,
        db_path,
        zalo_app_id=APP_ID,
        zalo_oa_id=OA_ID,
        zalo_app_secret=APP_SECRET,
        zalo_oa_secret_key=KEY,
        zalo_refresh_token=FIRST_REFRESH,
        zalo_api_base_url=zalo.base_url,
        zalo_oauth_base_url=zalo.base_url,
        webhook_port=port,
    )
    async with RunningBot(settings, clock) as running:
        yield running, f"http://127.0.0.1:{port}/zalo/webhook"


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text", ""))


async def register_on_zalo(person: ZaloPerson, phone: str) -> dict[str, Any]:
    """Follow, share the phone with the form, confirm, consent: the welcome."""
    await person.follow()
    await person.next_with("Chào mừng")
    form = await person.next_message()
    assert form["attachment"]["payload"]["template_type"] == "request_user_info"
    await person.share_phone(phone)
    question = await person.next_with("có phải")
    await person.tap(question, "✅")
    await person.next_with("🔒")
    directory = await person.next_message()
    await person.tap(directory, "Đồng ý")
    sensitive = await person.next_with("(b)")
    await person.tap(sensitive, "Đồng ý")
    return await person.next_with("Đăng ký thành công")


async def travel_from_zalo(person: ZaloPerson) -> list[dict[str, Any]]:
    """/travel typed, each answer typed, the buttons tapped: the answers to «Gửi»."""
    for typed in (
        "/travel",
        "da nang",
        "12 Trần Phú, phường Hải Châu",
        "29/05/2021 07:00",
        "30/05/2021 18:00",
    ):
        await person.say(typed)
        await person.answers()
    await person.say("Thăm gia đình")
    question = next(m for m in await person.answers() if buttons_of(m))
    await person.tap(question, "Không")
    shown = await person.answers()
    assert any("Đà Nẵng" in text_of(m) for m in shown)
    await person.tap(next(m for m in shown if buttons_of(m)), "Gửi")
    return await person.answers()


async def test_a_zalo_requester_and_a_telegram_approver(
    fake: FakeBotApi, zalo: ZaloStub, both: tuple[RunningBot, str]
) -> None:
    _, url = both
    teacher = ZaloPerson(zalo, url, KEY, TEACHER_ZALO)
    welcome = await register_on_zalo(teacher, "84912000026")
    assert "Lại Thị Diệu Linh" in text_of(welcome)
    principal = await register(fake, PRINCIPAL_TG, "TH-001")
    sent = await travel_from_zalo(teacher)
    assert any("Châu Thị Bích Ngọc" in text_of(m) for m in sent)
    request = await fake.next_message(principal.id)
    assert "Lại Thị Diệu Linh" in (request.text or "")
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    told = await teacher.next_with("Đã phê duyệt")
    assert "Châu Thị Bích Ngọc" in text_of(told)
    assert all(len(text_of(m)) <= 2000 for m in teacher.messages())
    assert all(len(buttons_of(m)) <= 5 for m in teacher.messages())


async def test_a_telegram_requester_and_a_zalo_approver(
    fake: FakeBotApi, zalo: ZaloStub, both: tuple[RunningBot, str]
) -> None:
    _, url = both
    principal = ZaloPerson(zalo, url, KEY, PRINCIPAL_ZALO)
    await register_on_zalo(principal, "84912000024")
    teacher = await register(fake, TEACHER_TG, "TH-003")
    from tests.test_e2e_travel import submit

    await submit(fake, teacher)
    request = await principal.next_with("Lại Thị Diệu Linh")
    await principal.tap(request, "✅")
    told = await fake.next_message(teacher.id)
    assert "Đã phê duyệt" in (told.text or "")
    toast, follow_up = await principal.answers()  # no toasts, no edits on Zalo
    assert text_of(toast) == "Đã phê duyệt."
    assert "✅ Đã phê duyệt bởi Châu Thị Bích Ngọc" in text_of(follow_up)
    assert "Lại Thị Diệu Linh" in text_of(follow_up)  # the whole request again, decided
    assert not buttons_of(follow_up)


async def test_a_person_on_telegram_who_registers_on_zalo_is_the_same_person(
    fake: FakeBotApi, zalo: ZaloStub, both: tuple[RunningBot, str], clock: ManualClock
) -> None:
    bot, url = both
    await register(fake, TEACHER_TG, "TH-003")
    teacher = ZaloPerson(zalo, url, KEY, TEACHER_ZALO)
    await teacher.follow()
    await teacher.next_with("Chào mừng")
    await teacher.next_message()
    await teacher.share_phone("84912000026")
    question = await teacher.next_with("có phải")
    await teacher.tap(question, "✅")
    await teacher.next_message()
    async with bot.services.db.reading() as tx:
        rows = await tx.all(
            "SELECT channel, staff_id FROM accounts WHERE staff_id = 'TH-003' ORDER BY channel"
        )
    assert [tuple(r) for r in rows] == [("telegram", "TH-003"), ("zalo", "TH-003")]
    clock.advance(timedelta(minutes=1))


ADMIN_TG = 805


async def test_past_seven_days_a_request_waits_the_admins_are_told_it_goes_when_they_write(
    fake: FakeBotApi, zalo: ZaloStub, both: tuple[RunningBot, str], clock: ManualClock
) -> None:
    _, url = both
    principal = ZaloPerson(zalo, url, KEY, PRINCIPAL_ZALO)
    await register_on_zalo(principal, "84912000024")
    admin = await register(fake, ADMIN_TG, "DU-003")
    clock.advance(timedelta(days=8))  # the principal has not written for 8 days
    teacher = await register(fake, TEACHER_TG, "TH-003")
    from tests.test_e2e_travel import submit

    await submit(fake, teacher, leave="05/06/2021 07:00", back="06/06/2021 18:00")
    told = await fake.next_message(admin.id)
    while "Zalo" not in (told.text or ""):  # the weekly report came first (a Monday passed)
        told = await fake.next_message(admin.id)
    assert "Châu Thị Bích Ngọc" in (told.text or "") and "7 ngày" in (told.text or "")
    assert not any("Lại Thị Diệu Linh" in text_of(m) for m in principal.messages())
    await principal.say("xin chào")  # the window opens again: what waited goes out
    request = await principal.next_with("Lại Thị Diệu Linh", timeout=10)
    assert buttons_of(request)
    async with both[0].services.db.reading() as tx:
        row = await tx.one(
            "SELECT billable, held FROM channel_sends WHERE channel = 'zalo' AND held > 0"
        )
        queued = await tx.scalar("SELECT COUNT(*) FROM outbox WHERE channel = 'zalo'")
    assert row is not None and row[1] == queued  # each held (a morning digest may have joined)


async def test_past_seven_days_a_person_on_both_gets_it_on_telegram(
    fake: FakeBotApi, zalo: ZaloStub, both: tuple[RunningBot, str], clock: ManualClock
) -> None:
    _, url = both
    await register(fake, PRINCIPAL_TG, "TH-001")
    principal = ZaloPerson(zalo, url, KEY, PRINCIPAL_ZALO)
    await principal.follow()
    await principal.next_with("Chào mừng")
    await principal.next_message()
    await principal.share_phone("84912000024")
    question = await principal.next_with("có phải")
    await principal.tap(question, "✅")  # linked on Zalo too, which is now the one used last
    await principal.answers()
    clock.advance(timedelta(days=8))
    teacher = await register(fake, TEACHER_TG, "TH-003")
    from tests.test_e2e_travel import submit

    await submit(fake, teacher, leave="05/06/2021 07:00", back="06/06/2021 18:00")
    request = await fake.next_message(PRINCIPAL_TG)
    assert "Lại Thị Diệu Linh" in (request.text or "")
    assert not any("Lại Thị Diệu Linh" in text_of(m) for m in principal.messages())


async def test_zalo_alone_without_telegram(
    zalo: ZaloStub, db_path: Path, clock: ManualClock
) -> None:
    outcome = await load_examples(db_path, clock)
    assert outcome.applied, outcome.problems
    port = free_port()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=db_path,
        database_url=SecretStr(ENGINE_URLS.get(db_path, "")),
        per_chat_interval_seconds=0,
        sweep_interval_seconds=0.2,
        zalo_app_id=APP_ID,
        zalo_oa_id=OA_ID,
        zalo_app_secret=SecretStr(APP_SECRET),
        zalo_oa_secret_key=SecretStr(KEY),
        zalo_refresh_token=SecretStr(FIRST_REFRESH),
        zalo_api_base_url=zalo.base_url,
        zalo_oauth_base_url=zalo.base_url,
        webhook_port=port,
    )
    assert settings.messengers == ("zalo",)
    running = await start_zalo_only(settings, clock)
    try:
        teacher = ZaloPerson(zalo, f"http://127.0.0.1:{port}/zalo/webhook", KEY, TEACHER_ZALO)
        await register_on_zalo(teacher, "84912000026")
        await teacher.say("/me")
        me = await teacher.next_with("Lại Thị Diệu Linh")
        assert "Châu Thị Bích Ngọc" in text_of(me)  # who decides her requests
    finally:
        await stop_zalo_only(running)
