"""Issue 14, items 9–16 (a district's first week): buttons that stay alive after the fact, and
health alerts that reach the wrong people. End to end over HTTP against the sandbox, with a
moved clock (Wednesday 26/05/2021 09:00, Asia/Ho_Chi_Minh), plus the domain rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook

from bot.domain.clock import VIETNAM, ManualClock
from bot.domain.directory import Directory
from bot.domain.health_rules import duty_officers_for, heads_present
from bot.domain.models import RoutingRule, Staff, Target, TargetKind, Unit, UnitKind
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import PHONES, RunningBot, db_value, register
from tests.test_e2e_broadcast import compose
from tests.test_e2e_health import press, report
from tests.test_e2e_health_monitoring import checkin_at
from tests.test_e2e_oversight import ask
from tests.test_e2e_returns import (
    PLANNED_RETURN,
    approved_trip,
    declare_back,
    message_with,
    tick_at,
)
from tests.test_e2e_travel import PRINCIPAL, TEACHER, answer, submit

OTHER, DEPUTY, VICE_CHAIR, CLERK, OFFICE_HEAD, DUTY, NURSE, ADMIN = (
    1402,
    1404,
    1405,
    1406,
    1407,
    1408,
    1409,
    1410,
)
PHONES.setdefault("TH-002", "0912 000 025")  # Nghiêm Văn Hải, vice-principal
PHONES.setdefault("TH-006", "0912 000 029")  # Võ Thị Tuyết, school health worker

# A small tree: a ward, its UBND office (with a duty officer) and a school under it, and the
# Party office beside it (with its own duty officer).
UNITS = [
    Unit("W", "Phường", UnitKind.WARD),
    Unit("GOV", "Văn phòng UBND", UnitKind.GOVERNMENT, "W"),
    Unit("SCH", "Trường", UnitKind.SCHOOL, "GOV"),
    Unit("PTY", "Văn phòng Đảng ủy", UnitKind.PARTY, "W"),
]
PEOPLE = [
    Staff("VC", "Phó Chủ tịch", "+84900000001", "W", "lead", roles=frozenset({"vice_chair"})),
    Staff(
        "PRIN", "Hiệu trưởng", "+84900000002", "SCH", "school_head", roles=frozenset({"unit_head"})
    ),
    Staff("VP", "Hiệu phó", "+84900000003", "SCH", "school_head", roles=frozenset({"deputy_head"})),
    Staff("T", "Giáo viên", "+84900000004", "SCH", "staff"),
    Staff("GD", "Trực UBND", "+84900000005", "GOV", "staff", roles=frozenset({"duty_officer"})),
    Staff("PD", "Trực Đảng ủy", "+84900000006", "PTY", "staff", roles=frozenset({"duty_officer"})),
    Staff("ADM", "Quản trị", "+84900000007", "PTY", "staff", roles=frozenset({"admin"})),
]
RULES = [
    RoutingRule(
        "school heads", Target(TargetKind.ROLE, "vice_chair"), position_groups=("school_head",)
    ),
    RoutingRule("everyone else", Target(TargetKind.UNIT_HEAD)),
]


def sample_directory() -> Directory:
    return Directory(UNITS, PEOPLE, RULES)


def live(message: SentMessage) -> bool:
    return bool(message.buttons())


async def next_about(fake: FakeBotApi, user: FakeUser, count: int) -> list[SentMessage]:
    return [await fake.next_message(user.id) for _ in range(count)]


# --------------------------------------------------------------------------- item 9


async def test_item9_decided_request_edits_every_copy(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    other = await register(fake, OTHER, "TH-006")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    first_copy = await fake.next_message(principal.id)
    await submit(fake, other, dest="Huế")
    second_copy = await fake.next_message(principal.id)

    fake.send_text(principal, "/pending")
    listed_first, listed_second, waiting = await next_about(fake, principal, 3)
    assert "Lại Thị Diệu Linh" in (listed_first.text or "")
    assert "Võ Thị Tuyết" in (listed_second.text or "")
    fake.press(principal, waiting, waiting.callback_data("2"))
    confirm = await fake.next_message(principal.id)
    assert live(confirm)

    clock.advance(timedelta(hours=2, minutes=1))
    await bot.services.sweeper.tick()
    reminders = await next_about(fake, principal, 2)
    reminder_first = next(r for r in reminders if "Lại Thị Diệu Linh" in (r.text or ""))
    reminder_second = next(r for r in reminders if r is not reminder_first)

    fake.press(principal, reminder_first, reminder_first.callback_data("Phê duyệt"))
    assert "Đã phê duyệt" in ((await fake.next_message(teacher.id)).text or "")
    first_copies = [first_copy, listed_first, reminder_first]
    await fake.wait_for(
        lambda: all(not live(m) and "Đã phê duyệt" in (m.text or "") for m in first_copies)
    )
    await fake.wait_for(lambda: not live(waiting) and not live(confirm))
    assert "/pending" in (confirm.text or "") and "/pending" in (waiting.text or "")
    assert all(live(m) for m in (second_copy, listed_second, reminder_second))

    # The stale confirmation approves nothing: it named a list that has changed.
    stale = fake.press(principal, confirm, "apall:y")
    await fake.wait_for(lambda: fake.answer_for(stale) is not None)
    changed = await fake.next_message(principal.id)
    assert "/pending" in (changed.text or "")
    async with bot.services.db.reading() as tx:
        status = await tx.scalar("SELECT status FROM travel_requests WHERE id = 2")
    assert status == "pending"


async def test_item9_approve_all_approves_exactly_what_it_listed(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    other = await register(fake, OTHER, "TH-006")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    await submit(fake, other, dest="Huế")
    copies = await next_about(fake, principal, 2)
    fake.send_text(principal, "/pending")
    *listed, waiting = await next_about(fake, principal, 3)
    fake.press(principal, waiting, waiting.callback_data("2"))
    confirm = await fake.next_message(principal.id)
    fake.press(principal, confirm, confirm.callback_data("2"))
    done = await fake.next_message(principal.id)
    assert "2" in (done.text or "")
    everything = [*copies, *listed, waiting, confirm]
    await fake.wait_for(lambda: not any(live(m) for m in everything))
    assert all("Đã phê duyệt" in (m.text or "") for m in [*copies, *listed])


# --------------------------------------------------------------------------- item 10


async def test_item10_escalation_says_who_did_not_answer_and_tells_them(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    vice_chair = await register(fake, VICE_CHAIR, "HB-004")
    clock.set(clock.now().replace(day=28, hour=18))  # Friday evening
    await submit(fake, teacher, leave="29/05/2021 07:00", back="29/05/2021 20:00")
    await fake.next_message(principal.id)
    clock.set(clock.now().replace(day=29, hour=4, minute=1))  # 3 h before departure
    await bot.services.sweeper.tick()
    escalated = await fake.next_message(vice_chair.id)
    text = escalated.text or ""
    assert "Chuyển lên" in text and "Châu Thị Bích Ngọc" in text, text
    assert "28/05/2021 18:00" in text, text
    told_first = [m for m in fake.messages(principal.id) if "Phạm Thị Ngọc Ánh" in (m.text or "")]
    await fake.wait_for(
        lambda: any("Phạm Thị Ngọc Ánh" in (m.text or "") for m in fake.messages(principal.id))
    )
    told_teacher = await fake.next_message(teacher.id)
    assert "Phạm Thị Ngọc Ánh" in (told_teacher.text or "") and "#1" in (told_teacher.text or "")
    assert told_first is not None


async def test_item9_confirmed_declaration_edits_its_reminders_and_the_heads_notice(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    back = await fake.next_message(teacher.id)
    official = await declare_back(fake, teacher, back)
    await fake.wait_for(lambda: not live(back) and "Đã về" in (back.text or ""))
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=2))
    reminder = await fake.next_message(teacher.id)
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=24))
    overdue = await message_with(fake, principal.id, "chưa xác nhận khai báo y tế")
    assert live(official) and live(reminder) and live(overdue)

    fake.press(teacher, reminder, reminder.callback_data("✅"))
    done = await fake.next_message(teacher.id)
    assert "Đã ghi nhận" in (done.text or "")
    copies = [official, reminder, overdue]
    await fake.wait_for(lambda: not any(live(m) for m in copies))
    assert all("Đã xác nhận khai báo y tế chính thức" in (m.text or "") for m in copies)


async def test_item9_answered_checkin_edits_the_reminder_too(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Ho"], "37,6")
    await fake.next_message(teacher.id)  # under monitoring
    asked = await checkin_at(bot, fake, teacher, datetime(2021, 5, 27, 8, 0, tzinfo=VIETNAM))
    reminder = await checkin_at(bot, fake, teacher, datetime(2021, 5, 27, 12, 1, tzinfo=VIETNAM))
    assert "Nhắc lại" in (reminder.text or "")
    fake.press(teacher, reminder, reminder.callback_data("Không"))
    await fake.wait_for(lambda: not live(asked) and not live(reminder))
    assert all("đã trả lời" in (m.text or "") for m in (asked, reminder))


async def test_item9_registration_question_shows_the_answer_without_buttons(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    await register(fake, TEACHER, "TH-003")
    question = next(m for m in fake.messages(TEACHER) if "Đây có phải" in (m.text or ""))
    await fake.wait_for(lambda: not live(question))
    assert "Đã xác nhận" in (question.text or "")


async def test_item9_acknowledged_alert_edits_the_escalated_copies(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    vice_chair = await register(fake, VICE_CHAIR, "HB-004")
    await report(fake, teacher, ["Sốt"], "38,5")
    first = await fake.next_message(principal.id)
    clock.advance(bot.settings.alert_ack_minutes + timedelta(minutes=1))
    await bot.services.sweeper.tick()
    escalated = await fake.next_message(vice_chair.id)
    assert live(first) and live(escalated)
    fake.press(vice_chair, escalated, escalated.callback_data("Đã tiếp nhận"))
    await fake.wait_for(lambda: not live(first) and not live(escalated))
    assert all("Phạm Thị Ngọc Ánh đã tiếp nhận" in (m.text or "") for m in (first, escalated))


# --------------------------------------------------------------------------- item 11


async def test_item11_remind_again_within_the_hour_says_when_and_never_nags_twice(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=24))
    overdue = await message_with(fake, principal.id, "chưa xác nhận khai báo y tế")
    await bot.services.sender.drain()
    seen = len(fake.messages(teacher.id))
    first = fake.press(principal, overdue, overdue.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(first) is not None)
    assert "18:00" in (fake.answer_for(first) or {}).get("text", "")
    clock.advance(timedelta(minutes=12))
    again = fake.press(principal, overdue, overdue.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "Đã nhắc lúc 18:00" in (fake.answer_for(again) or {}).get("text", "")
    await bot.services.sender.drain()
    assert len(fake.messages(teacher.id)) == seen + 1
    clock.advance(timedelta(hours=1))
    later = fake.press(principal, overdue, overdue.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(later) is not None)
    await bot.services.sender.drain()
    assert len(fake.messages(teacher.id)) == seen + 2


# --------------------------------------------------------------------------- item 12


# the alert in full (PRIVACY_MINIMAL_MESSAGES off); test_e2e_privacy covers the minimal ones
@pytest.mark.parametrize("bot_settings", [{"privacy_minimal_messages": False}])
async def test_item12_dont_know_about_f0_contact_is_kept_in_storage_alerts_and_exports(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Sốt"], "38,5", contact="Không biết")
    alert = await fake.next_message(principal.id)
    assert "(F0): không biết" in (alert.text or ""), alert.text
    assert db_value(bot.settings.database_path, "SELECT case_contact FROM symptom_reports") == (
        "unknown"
    )
    why = await ask(fake, principal, "/export health")  # health data asks why it is exported
    assert "mục đích" in (why.text or ""), why.describe()
    export = await ask(fake, principal, "Báo cáo Trung tâm Y tế quận", kind="document")
    assert export.document is not None
    sheet = load_workbook(BytesIO(export.document["data"])).active
    assert sheet is not None
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    assert row[header.index("Tiếp xúc ca bệnh")] == "không biết", (header, row)


# --------------------------------------------------------------------------- item 15


async def test_item15_alert_for_an_away_head_goes_to_the_stand_in(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    deputy = await register(fake, DEPUTY, "TH-002")
    await answer(fake, principal, "/away 26/05/2021 28/05/2021")
    await report(fake, teacher, ["Sốt"], "38,5")
    alert = await fake.next_message(deputy.id)
    assert "KHẨN" in (alert.text or "") and alert.callback_data("Đã tiếp nhận")
    await bot.services.sender.drain()
    assert not any("KHẨN" in (m.text or "") for m in fake.messages(principal.id))


def test_item15_heads_present_replaces_an_absent_head_by_the_deputy() -> None:
    directory = sample_directory()
    assert heads_present(directory, "T", frozenset()) == ["PRIN"]
    assert heads_present(directory, "T", frozenset({"PRIN"})) == ["VP"]
    # Nobody of the school present: who decides for the teacher now (no leader above heads a
    # unit in this tree, so the district admins), as travel requests are routed.
    assert heads_present(directory, "T", frozenset({"PRIN", "VP"})) == ["ADM"]
    # Nobody present at all: the absent head after all, never nobody.
    assert heads_present(directory, "T", frozenset({"PRIN", "VP", "ADM"})) == ["PRIN"]


# --------------------------------------------------------------------------- item 16


async def test_item16_urgent_alert_reaches_only_the_duty_officers_above_the_person(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    clerk = await register(fake, CLERK, "DU-004")
    office_head = await register(fake, OFFICE_HEAD, "DU-001")
    duty = await register(fake, DUTY, "UB-003")  # duty officer of the HĐND-UBND office
    await report(fake, clerk, ["Sốt"], "38,5")
    alert = await fake.next_message(office_head.id)
    assert "KHẨN" in (alert.text or "")
    await bot.services.sender.drain()
    assert not any("KHẨN" in (m.text or "") for m in fake.messages(duty.id))


def test_item16_duty_officers_for_own_unit_and_above_only() -> None:
    directory = sample_directory()
    assert duty_officers_for(directory, "SCH") == ["GD"]  # the school is under the UBND office
    assert duty_officers_for(directory, "GOV") == ["GD"]
    assert duty_officers_for(directory, "PTY") == ["PD"]
    assert duty_officers_for(directory, "W") == []


# --------------------------------------------------------------------------- item 13


async def submit_visiting_cases(fake: FakeBotApi, user: FakeUser) -> SentMessage:
    """/travel answering «Có» to «will you visit a place with published cases?»."""
    await answer(fake, user, "/travel")
    await answer(fake, user, "da nang")
    await answer(fake, user, "12 Trần Phú, phường Hải Châu")
    await answer(fake, user, "29/05/2021 07:00")
    await answer(fake, user, "30/05/2021 18:00")
    question = await answer(fake, user, "Thăm gia đình")
    fake.press(user, question, question.callback_data("Có"))
    summary = await fake.next_message(user.id)
    fake.press(user, summary, summary.callback_data("Gửi"))
    return await fake.next_message(user.id)


async def test_item13_own_yes_to_published_cases_starts_monitoring_and_tells_the_head(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit_visiting_cases(fake, teacher)
    request = await fake.next_message(principal.id)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    await fake.next_message(teacher.id)
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    told = await message_with(fake, principal.id, "được theo dõi sức khỏe đến")
    assert "Lại Thị Diệu Linh" in (told.text or "") and "công bố ca bệnh" in (told.text or "")
    assert any("hỏi thăm sức khỏe hằng ngày" in (m.text or "") for m in fake.messages(teacher.id))
    assert db_value(bot.settings.database_path, "SELECT status FROM monitorings") == "open"


# --------------------------------------------------------------------------- item 14


async def test_item14_f1_is_warned_on_travel_and_the_approver_is_flagged(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    nurse = await register(fake, NURSE, "YT-003")
    await answer(fake, nurse, "/case")
    pick = await answer(fake, nurse, "linh")
    level = await press(fake, nurse, pick, "Lại Thị Diệu Linh")
    await press(fake, nurse, level, "F1")
    flag = await message_with(fake, principal.id, "tự cách ly")
    assert (
        "F1" in (flag.text or "")
        and "#1" in (flag.text or "")
        and "đã phê duyệt" in (flag.text or "")
    )

    assert "tự cách ly" in ((await fake.next_message(teacher.id)).text or "")  # told as F1
    fake.send_text(teacher, "/travel")
    warning = await fake.next_message(teacher.id)
    assert "F1" in (warning.text or "") and "cách ly" in (warning.text or ""), warning.text
    await fake.next_message(teacher.id)  # the first question follows: asking stays possible
    await answer(fake, teacher, "da nang")
    await answer(fake, teacher, "1 Lê Lợi")
    await answer(fake, teacher, "05/06/2021 07:00")
    await answer(fake, teacher, "06/06/2021 18:00")
    question = await answer(fake, teacher, "Thăm gia đình")
    summary = await press(fake, teacher, question, "Không")
    await press(fake, teacher, summary, "Gửi")
    request = await message_with(fake, principal.id, "#2")
    assert "F1" in (request.text or "") and "tự cách ly" in (request.text or "")


async def test_item9_directive_read_from_its_reminder_marks_the_directive_too(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    summary = (await compose(fake, admin, "Đề nghị các đơn vị thực hiện nghiêm.\n\nTrân trọng."))[
        -1
    ]
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))
    await fake.next_message(admin.id)  # the progress message: the directive is queued
    await bot.services.sender.drain()
    directive = next(m for m in fake.messages(teacher.id) if m.button_texts() == ["✅ Đã đọc"])
    bot.clock.advance(timedelta(hours=4, minutes=1))
    await bot.services.sweeper.tick()
    await bot.services.sender.drain()
    reminder = next(m for m in fake.messages(teacher.id) if "Nhắc nhở" in (m.text or ""))
    fake.press(teacher, reminder, reminder.callback_data("Đã đọc"))
    await fake.wait_for(
        lambda: all(m.button_texts() == ["✅ Đã đọc lúc 13:01"] for m in (directive, reminder))
    )


async def test_item11_ask_again_within_the_hour_says_when_and_never_asks_twice(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=24))
    not_back = await message_with(fake, principal.id, "chưa báo đã về")
    await bot.services.sender.drain()
    seen = len(fake.messages(teacher.id))
    first = fake.press(principal, not_back, not_back.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(first) is not None)
    again = fake.press(principal, not_back, not_back.callback_data("🔔"))
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "Đã nhắc lúc 18:00" in (fake.answer_for(again) or {}).get("text", "")
    await bot.services.sender.drain()
    assert len(fake.messages(teacher.id)) == seen + 1
