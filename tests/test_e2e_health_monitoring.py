"""Monitoring check-ins, case reports with their contact tree, areas with published cases, end to
end over HTTP with a moved clock (Wednesday 26/05/2021 09:00, Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.domain.clock import VIETNAM, ManualClock
from storage.repos import AuditRepo
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import PHONES, RunningBot, load_examples, make_settings, register
from tests.test_e2e_health import answer, press, report

PHONES.setdefault("TH-004", "0912 000 027")  # Âu Văn Phúc, teacher
PHONES.setdefault("HB-003", "+84912000003")  # Lê Quang Vinh, chair of the ward UBND (ubnd_chair)


@pytest.fixture
def bot_settings() -> dict[str, object]:
    """The alerts in full (PRIVACY_MINIMAL_MESSAGES off); test_e2e_privacy covers the minimal ones."""
    return {"privacy_minimal_messages": False}


TEACHER, PRINCIPAL, COLLEAGUE, SECRETARY, CHAIR, NURSE, OTHER, ADMIN = (
    841,
    842,
    843,
    844,
    845,
    846,
    847,
    848,
)


async def checkin_at(
    bot: RunningBot, fake: FakeBotApi, user: FakeUser, when: datetime
) -> SentMessage:
    bot.clock.set(when)
    await bot.services.sweeper.tick()
    return await fake.next_message(user.id)


async def test_daily_checkin_reminds_once_then_tells_the_head_and_head_ends_early(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Ho"], "37,6")
    await fake.next_message(teacher.id)  # under monitoring until 08/06
    await fake.next_message(principal.id)  # the alert

    asked = await checkin_at(bot, fake, teacher, datetime(2021, 5, 27, 8, 0, tzinfo=VIETNAM))
    assert "Hôm nay anh/chị có triệu chứng không" in (asked.text or "")
    pressed = fake.press(teacher, asked, asked.callback_data("Không"))
    await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
    assert "Cảm ơn" in fake.answer_for(pressed)["text"]  # type: ignore[index]
    bot.clock.set(datetime(2021, 5, 27, 13, 0, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    assert not [m for m in fake.messages(teacher.id) if "Nhắc lại" in (m.text or "")], (
        "answered: no reminder"
    )

    await checkin_at(bot, fake, teacher, datetime(2021, 5, 28, 8, 0, tzinfo=VIETNAM))
    reminder = await checkin_at(bot, fake, teacher, datetime(2021, 5, 28, 12, 1, tzinfo=VIETNAM))
    assert "Nhắc lại" in (reminder.text or "")
    bot.clock.set(datetime(2021, 5, 28, 16, 2, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()  # the head also gets the morning digest: find the notice
    await fake.wait_for(
        lambda: any("không trả lời" in (m.text or "") for m in fake.messages(principal.id))
    )
    told = next(m for m in fake.messages(principal.id) if "không trả lời" in (m.text or ""))
    assert "Lại Thị Diệu Linh" in (told.text or "")
    await bot.services.sweeper.tick()
    assert len([m for m in fake.messages(teacher.id) if "Nhắc lại" in (m.text or "")]) == 1

    # what the ticks queued (the morning digest) is delivered first: the reply to /monitor does
    # not wait for the outbox, so the digest could otherwise come after it and be read as the
    # answer to the next press
    await bot.services.sender.drain()
    fake.send_text(principal, "/monitor")
    await fake.wait_for(
        lambda: any(
            "Lại Thị Diệu Linh" in (m.text or "") and m.buttons()
            for m in fake.messages(principal.id)[-1:]
        )
    )
    listing = fake.messages(principal.id)[-1]
    fake.mark_read(principal.id)  # the morning digest came in between
    assert "Lại Thị Diệu Linh" in (listing.text or "")
    reason_question = await press(fake, principal, listing, "Kết thúc sớm")
    assert "lý do" in (reason_question.text or "")
    ended = await answer(fake, principal, "Đã có kết quả xét nghiệm âm tính")
    assert "Đã kết thúc" in (ended.text or "")
    notice = await fake.next_message(teacher.id)
    assert "Châu Thị Bích Ngọc" in (notice.text or "") and "âm tính" in (notice.text or "")
    bot.clock.set(datetime(2021, 5, 29, 8, 0, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    assert not [m for m in fake.messages(teacher.id) if "29 tháng 5" in (m.text or "")]


async def test_checkin_yes_opens_the_symptom_report(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await report(fake, teacher, ["Sốt"], None)
    await fake.next_message(teacher.id)
    asked = await checkin_at(bot, fake, teacher, datetime(2021, 5, 27, 8, 0, tzinfo=VIETNAM))
    stale_no = asked.callback_data("Không")
    fake.press(teacher, asked, asked.callback_data("Có"))
    picker = await fake.next_message(teacher.id)
    assert "triệu chứng nào" in (picker.text or "")
    await fake.wait_for(lambda: "đã trả lời" in (asked.text or ""))
    again = fake.press(teacher, asked, stale_no)
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "đã trả lời" in fake.answer_for(again)["text"]  # type: ignore[index]


@pytest.fixture
async def short_bot(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    await load_examples(db_path, clock)
    async with RunningBot(make_settings(fake, db_path, monitor_days=2), clock) as running:
        yield running


async def test_monitoring_ends_by_itself(fake: FakeBotApi, short_bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await report(fake, teacher, ["Khó thở"], None)
    until = await fake.next_message(teacher.id)
    assert "27 tháng 5" in (until.text or "")
    asked = await checkin_at(short_bot, fake, teacher, datetime(2021, 5, 27, 8, 0, tzinfo=VIETNAM))
    fake.press(teacher, asked, asked.callback_data("Không"))
    ended = await checkin_at(short_bot, fake, teacher, datetime(2021, 5, 28, 8, 0, tzinfo=VIETNAM))
    assert "đã kết thúc" in (ended.text or "")
    short_bot.clock.set(datetime(2021, 5, 29, 8, 0, tzinfo=VIETNAM))
    await short_bot.services.sweeper.tick()
    assert fake.messages(teacher.id)[-1] is ended


async def test_case_report_alerts_the_chain_and_builds_the_contact_tree(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    colleague = await register(fake, COLLEAGUE, "TH-004")
    secretary = await register(fake, SECRETARY, "HB-001")
    chair = await register(fake, CHAIR, "HB-003")
    nurse = await register(fake, NURSE, "YT-003")
    other = await register(fake, OTHER, "DU-004")

    refused = await answer(fake, teacher, "/case")
    assert "Chỉ thủ trưởng" in (refused.text or "")
    await answer(fake, principal, "/case")
    pick = await answer(fake, principal, "linh")
    level = await press(fake, principal, pick, "Lại Thị Diệu Linh")
    scenario = await press(fake, principal, level, "F0")
    created = await press(fake, principal, scenario, "PA2")
    assert "#1" in (created.text or "")
    tree = await fake.next_message(principal.id)
    assert "F0 Lại Thị Diệu Linh" in (tree.text or "") and "PA2" in (tree.text or "")
    for leader in (secretary, chair, nurse):
        alert = await fake.next_message(leader.id)
        assert "BÁO CÁO CA BỆNH" in (alert.text or "") and alert.callback_data("Đã tiếp nhận")
    told = await fake.next_message(teacher.id)
    assert "F0" in (told.text or "")

    contact_question = await press(fake, principal, tree, "Lại Thị Diệu Linh")
    assert "Người tiếp xúc" in (contact_question.text or "")
    pick = await answer(fake, principal, "phuc")
    added = await press(fake, principal, pick, "Âu Văn Phúc")
    assert "F1" in (added.text or "")
    tree = await fake.next_message(principal.id)
    isolate = await fake.next_message(colleague.id)
    assert "F1" in (isolate.text or "") and "tự cách ly" in (isolate.text or "")

    await press(fake, principal, tree, "Âu Văn Phúc")
    pick = await answer(fake, principal, "Nguyễn Thị Bình")
    await press(fake, principal, pick, "Người ngoài danh bạ")
    final = await fake.next_message(principal.id)
    lines = (final.text or "").splitlines()
    assert "F0 Lại Thị Diệu Linh" in lines[2]
    assert lines[3].startswith("    └ F1 Âu Văn Phúc")
    assert lines[4].startswith("        └ F2 Nguyễn Thị Bình")

    shown = await answer(fake, nurse, "/case 1")
    assert "F2 Nguyễn Thị Bình" in (shown.text or "")
    denied = await answer(fake, other, "/case 1")
    assert "không được xem" in (denied.text or "") and "Linh" not in (denied.text or "")
    async with bot.services.db.reading() as tx:
        views = await AuditRepo(tx).recent(bot.clock.tz, "health.view")
    assert ("YT-003", "case:1") in [(v.actor, v.object) for v in views]


async def test_areas_with_cases_warn_the_travel_flow(fake: FakeBotApi, bot: RunningBot) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    refused = await answer(fake, teacher, "/areas")
    assert "Chỉ quản trị viên" in (refused.text or "")
    listed = await answer(
        fake, admin, "/areas add Đà Nẵng; quận Sơn Trà; 25/05/2021 - 08/06/2021; CDC Đà Nẵng 25/5"
    )
    assert "#1" in (listed.text or "") and "Sơn Trà" in (listed.text or "")

    await answer(fake, teacher, "/travel")
    warning = await answer(fake, teacher, "da nang")
    assert "quận Sơn Trà" in (warning.text or "") and "CDC Đà Nẵng 25/5" in (warning.text or "")
    address = await fake.next_message(teacher.id)
    assert "Địa chỉ" in (address.text or "")
    await answer(fake, teacher, "/cancel")

    listing = await answer(fake, admin, "/areas")
    assert "quận Sơn Trà" in (listing.text or "")
    await fake.next_message(admin.id)  # how to add
    ended = await press(fake, admin, listing, "Kết thúc")
    assert "Đã gỡ vùng #1" in (ended.text or "")
    await answer(fake, teacher, "/travel")
    question = await answer(fake, teacher, "da nang")
    assert "Địa chỉ" in (question.text or ""), "no warning once the area is ended"


async def test_after_an_outage_only_the_latest_checkin_is_asked(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await report(fake, teacher, ["Sốt"], None)
    await fake.next_message(teacher.id)
    asked = await checkin_at(bot, fake, teacher, datetime(2021, 5, 31, 9, 30, tzinfo=VIETNAM))
    assert "31 tháng 5" in (asked.text or "")
    for _ in range(3):
        await bot.services.sweeper.tick()
    assert [m for m in fake.messages(teacher.id) if "Theo dõi sức khỏe" in (m.text or "")] == [
        asked
    ]
