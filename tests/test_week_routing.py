"""A district's first week (issue 14, items 1–8): requests always reach somebody who can decide
them, the requester is told the truth about who, bans set ahead judge every trip inside them.

End to end over HTTP against the sandbox, on the sample ward in examples/. The clock starts on
Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, db_value, load_examples, make_settings, register
from tests.test_e2e_travel import answer, submit

SECRETARY, STANDING, ADMIN, VICE_CHAIR = 901, 902, 903, 904
TEACHER, PRINCIPAL, DEPUTY, OFFICE_HEAD, OTHER_TEACHER = 905, 906, 907, 908, 909


async def messages_until(
    fake: FakeBotApi, user: FakeUser, text: str, timeout: float = 5.0
) -> SentMessage:
    """The next message to `user` containing `text` (others in between are skipped)."""
    while True:
        message = await fake.next_message(user.id, timeout=timeout)
        if text in (message.text or ""):
            return message


async def test_item1_no_approver_goes_to_the_district_admins(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    """HB-001 (party secretary, who decides HB-002) is away and HB-002 is their own stand-in:
    nobody in the chain is present, so the admins decide, and the requester is told so."""
    secretary = await register(fake, SECRETARY, "HB-001")
    standing = await register(fake, STANDING, "HB-002")
    admin = await register(fake, ADMIN, "DU-003")
    await answer(fake, secretary, "/away 26/05/2021 31/05/2021")
    sent = await submit(fake, standing)
    text = sent.text or ""
    assert "Ngô Thị Mai Phương" in text and "quản trị viên" in text, text
    assert "tới  để" not in text
    request = await fake.next_message(admin.id)
    assert "Trần Thị Thu Hương" in (request.text or "")
    assert "quản trị viên quyết định" in (request.text or ""), request.text  # why it is theirs
    fake.press(admin, request, request.callback_data("Phê duyệt"))
    assert "Đã phê duyệt" in ((await fake.next_message(standing.id)).text or "")


async def test_item1_absent_named_approver_goes_to_the_leader_above_them(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    """HB-004 (a named vice-chair, heads no unit) is away: the principal's request goes to the
    head of HB-004's own unit, the party secretary, not to the office head the school sits under."""
    principal = await register(fake, PRINCIPAL, "TH-001")
    vice_chair = await register(fake, VICE_CHAIR, "HB-004")
    secretary = await register(fake, SECRETARY, "HB-001")
    await register(fake, OFFICE_HEAD, "UB-001")
    await answer(fake, vice_chair, "/away 26/05/2021 31/05/2021")
    sent = await submit(fake, principal)
    assert "Nguyễn Văn Hùng" in (sent.text or ""), sent.text
    request = await fake.next_message(secretary.id)
    assert "Châu Thị Bích Ngọc" in (request.text or "") and request.buttons()


async def test_item2_away_names_who_will_really_decide(fake: FakeBotApi, bot: RunningBot) -> None:
    vice_chair = await register(fake, VICE_CHAIR, "HB-004")
    away = await answer(fake, vice_chair, "/away 01/06/2021 05/06/2021")
    text = away.text or ""
    # Not the ward's deputy head (she stands in for the head only): the leader above decides.
    assert "Trần Thị Thu Hương" not in text, text
    assert "Nguyễn Văn Hùng" in text, text

    secretary = await register(fake, SECRETARY, "HB-001")
    away = await answer(fake, secretary, "/away 01/06/2021 05/06/2021")
    text = away.text or ""
    # The deputy stands in for most; for the deputy's own requests only the admins remain.
    assert "Trần Thị Thu Hương" in text and "Ngô Thị Mai Phương" in text, text

    teacher = await register(fake, TEACHER, "TH-003")
    away = await answer(fake, teacher, "/away 01/06/2021 05/06/2021")
    assert "phê duyệt thay" not in (away.text or ""), away.text


async def test_item3_deciders_are_those_present_now(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    """The principal is away today and tomorrow; a trip for Saturday goes to the deputy now, and
    becomes the principal's too when she is back."""
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    deputy = await register(fake, DEPUTY, "TH-002")
    await answer(fake, principal, "/away 26/05/2021 27/05/2021")
    sent = await submit(fake, teacher)  # 29/05 → 30/05, after the absence
    assert "Nghiêm Văn Hải" in (sent.text or ""), sent.text
    request = await fake.next_message(deputy.id)
    assert "thay cho Châu Thị Bích Ngọc" in (request.text or "")
    assert not [m for m in fake.messages(principal.id) if "Lại Thị Diệu Linh" in (m.text or "")]

    clock.set(clock.now().replace(day=28, hour=7))
    await bot.services.sweeper.tick()
    back = await messages_until(fake, principal, "Lại Thị Diệu Linh")
    fake.press(principal, back, back.callback_data("Phê duyệt"))
    told = await messages_until(fake, teacher, "Đã phê duyệt")
    assert "Châu Thị Bích Ngọc" in (told.text or "")


async def test_item4_unregistered_decider_is_said_and_skipped(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    """The principal never opened the bot: the teacher is told so, the request goes to the
    nearest registered leader above who may decide, and /district lists the gap."""
    teacher = await register(fake, TEACHER, "TH-003")
    ward_head = await register(
        fake, OFFICE_HEAD, "HB-001"
    )  # the ward head: the school is under the ward
    admin = await register(fake, ADMIN, "DU-003")
    sent = await submit(fake, teacher)
    text = sent.text or ""
    assert "Châu Thị Bích Ngọc chưa mở bot" in text and "Nguyễn Văn Hùng" in text, text
    request = await fake.next_message(ward_head.id)
    assert "Châu Thị Bích Ngọc chưa mở bot" in (request.text or ""), request.text
    fake.press(ward_head, request, request.callback_data("Phê duyệt"))
    assert "Đã phê duyệt" in ((await fake.next_message(teacher.id)).text or "")

    work = await submit(fake, teacher, leave="01/06/2021 09:00", back="01/06/2021 16:00")
    assert "đã được báo" not in (work.text or "") and "chưa mở bot" in (work.text or "")

    district = await answer(fake, admin, "/district")
    while "chưa mở bot" not in (district.text or ""):
        district = await fake.next_message(admin.id)
    assert "Châu Thị Bích Ngọc" in (district.text or "")
    assert "Nguyễn Văn Hùng" not in (district.text or "").split("chưa mở bot")[1]


async def test_item5_unanswered_at_departure_is_told_and_tracked(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock, db_path: Path
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)  # 29/05 07:00 → 30/05 18:00, nobody answers
    await fake.next_message(principal.id)
    clock.set(clock.now().replace(day=29, hour=7, minute=1))
    await bot.services.sweeper.tick()
    told = await messages_until(fake, teacher, "chưa được quyết định trước giờ đi")
    assert "#1" in (told.text or "")
    await messages_until(fake, principal, "vẫn chưa được trả lời")
    assert db_value(db_path, "SELECT status FROM travel_requests WHERE id = 1") == "pending"

    clock.set(clock.now().replace(day=30, hour=18, minute=5))
    await bot.services.sweeper.tick()
    asked = await messages_until(fake, teacher, "đã về chưa")
    assert "#1" in (asked.text or "")
    fake.press(teacher, asked, asked.callback_data("Tôi đã về"))
    declaring = await fake.next_message(teacher.id)  # the return declaration goes on
    assert "14 ngày qua" in (declaring.text or ""), declaring.text
    assert db_value(db_path, "SELECT COUNT(*) FROM trip_returns WHERE request_id = 1") == 1


async def test_item6_ban_set_ahead_judges_every_trip_inside_it(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock, db_path: Path
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    other = await register(fake, OTHER_TEACHER, "TH-005")  # reads English
    principal = await register(fake, PRINCIPAL, "TH-001")
    admin = await register(fake, ADMIN, "DU-003")
    work = await submit(fake, teacher, leave="01/06/2021 09:00", back="01/06/2021 16:00")
    assert "công tác" in (work.text or "")  # #1 recorded, before any ban
    await submit(
        fake,
        other,
        dest="Huế",
        leave="05/06/2021 07:00",
        back="06/06/2021 18:00",
        no="No",
        send="Send",
    )
    await fake.next_message(principal.id)
    await fake.next_message(principal.id)  # the work trip's "for your information"

    scheduled = await answer(fake, admin, "/policy ban 01/06/2021 00:00")
    assert "Khi quy định bắt đầu" in (scheduled.text or ""), scheduled.text

    # Submitted before the ban starts, for a trip inside it: judged by the ban.
    await answer(fake, teacher, "/travel")
    await answer(fake, teacher, "da nang")
    await answer(fake, teacher, "12 Trần Phú")
    await answer(fake, teacher, "02/06/2021 09:00")
    purpose = await answer(fake, teacher, "02/06/2021 16:00")
    assert "ý do đặc biệt" in (purpose.text or ""), purpose.text
    question = await answer(fake, teacher, "Chăm người nhà ốm nặng")
    fake.press(teacher, question, question.callback_data("Không"))
    summary = await fake.next_message(teacher.id)
    fake.press(teacher, summary, summary.callback_data("Gửi"))
    sent = await fake.next_message(teacher.id)
    assert "Châu Thị Bích Ngọc" in (sent.text or ""), sent.text
    assert db_value(db_path, "SELECT trip_class FROM travel_requests WHERE id = 3") == (
        "exception_under_ban"
    )

    clock.set(clock.now().replace(day=1, month=6, hour=0, minute=1))
    await bot.services.sweeper.tick()
    asked = await messages_until(fake, teacher, "lý do đặc biệt")
    assert "#1" in (asked.text or "")
    asked_other = await messages_until(fake, other, "special reason")
    assert "#2" in (asked_other.text or "")
    assert db_value(db_path, "SELECT status FROM travel_requests WHERE id = 1") == "pending"
    listed = await answer(fake, teacher, "/status")
    while "#1" not in (listed.text or ""):
        listed = await fake.next_message(teacher.id)
    assert "chờ anh/chị nêu lý do đặc biệt" in (listed.text or ""), listed.text

    old = next(m for m in fake.messages(principal.id) if "#2" in (m.text or "") and m.buttons())
    refused = fake.press(principal, old, "ap:2:y")
    await fake.wait_for(lambda: fake.answer_for(refused) is not None)
    assert "lý do đặc biệt" in (fake.answer_for(refused) or {}).get("text", "")

    fake.press(teacher, asked, asked.callback_data("Nêu lý do"))
    await fake.next_message(teacher.id)
    routed = await answer(fake, teacher, "Họp khẩn tại Sở theo giấy mời")
    assert "Châu Thị Bích Ngọc" in (routed.text or ""), routed.text
    request = await messages_until(fake, principal, "Họp khẩn tại Sở")
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    assert "Đã phê duyệt" in ((await messages_until(fake, teacher, "Đã phê duyệt")).text or "")


async def test_item7_policy_shows_what_is_in_force_and_scheduled(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    done = await answer(fake, admin, "/policy ban 26/05/2021 09:00 - 27/05/2021 12:12")
    assert "được phê duyệt từ" not in (done.text or ""), done.text
    clock.set(clock.now().replace(day=28))
    await answer(fake, admin, "/policy ban 01/06/2021 00:00")
    shown = (await answer(fake, admin, "/policy")).text or ""
    assert "27/05/2021" not in shown and "ngày 27 tháng 5" not in shown, shown
    assert shown.count("cho đến khi có thông báo mới") == 1, shown
    assert "Đã lên lịch" in shown and "ngày 1 tháng 6 năm 2021" in shown, shown
    assert "phải xin phép" in shown.split("\n")[0], shown


def test_item8_home_province_and_working_hours_are_validated() -> None:
    from bot.config import SettingsError, load_settings

    for wrong in ("Atlantis", "Sông Công"):
        with pytest.raises(SettingsError, match="HOME_PROVINCE"):
            load_settings(_env_file=None, home_province=wrong)
    with pytest.raises(SettingsError, match="Bắc Ninh"):
        load_settings(_env_file=None, home_province="Bắc Giang")
    assert load_settings(_env_file=None, home_province="ha noi").home_province == "Hà Nội"
    assert load_settings(_env_file=None, home_province="Thái Nguyên").home_is_province
    assert not load_settings(_env_file=None, home_province="HCM").home_is_province
    with pytest.raises(SettingsError, match="WORK_END"):
        load_settings(_env_file=None, work_start="17:00", work_end="08:00")


@pytest.fixture
async def province_bot(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    outcome = await load_examples(db_path, clock)
    assert outcome.applied, outcome.problems
    settings = make_settings(fake, db_path, home_province="Thái Nguyên")
    async with RunningBot(settings, clock) as running:
        yield running


async def test_item8_a_province_home_says_leave_the_province(
    fake: FakeBotApi, province_bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    assert any("ra khỏi tỉnh" in (m.text or "") for m in fake.messages(teacher.id))
    await answer(fake, teacher, "/travel")
    inside = await answer(fake, teacher, "thai nguyen")
    assert "Thái Nguyên thuộc Thái Nguyên" not in (inside.text or ""), inside.text
    assert "không cần xin phép" in (inside.text or "")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    assert "xin phép ra khỏi tỉnh" in (request.text or ""), request.text
    assert "thành phố" not in (request.text or "")


async def test_item8_home_city_is_no_tautology(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await answer(fake, teacher, "/travel")
    inside = await answer(fake, teacher, "ha noi")
    assert "Hà Nội thuộc Hà Nội" not in (inside.text or ""), inside.text
    assert "không cần xin phép" in (inside.text or "")


async def test_item4_return_report_says_nobody_could_be_told(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    """The principal and the party office never opened the bot: the returning teacher is not
    told «thủ trưởng đã được báo»."""
    from tests.test_e2e_returns import PLANNED_RETURN, declare_back

    teacher = await register(fake, TEACHER, "TH-003")
    ward_head = await register(
        fake, OFFICE_HEAD, "HB-001"
    )  # the ward head: the school is under the ward
    await submit(fake, teacher)
    request = await fake.next_message(ward_head.id)
    fake.press(ward_head, request, request.callback_data("Phê duyệt"))
    await messages_until(fake, teacher, "Đã phê duyệt")
    clock.set(PLANNED_RETURN)
    await bot.services.sweeper.tick()
    question = await messages_until(fake, teacher, "đã về chưa")
    await declare_back(fake, teacher, question)
    thanks = next(m for m in fake.messages(teacher.id) if "đã được ghi nhận" in (m.text or ""))
    assert "đã được báo" not in (thanks.text or "") and "Chưa báo được" in (thanks.text or "")


async def test_item1_escalation_reaches_someone_who_can_be_told(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    """The principal does not answer and the leaders above her never opened the bot: the
    escalation goes to the admins instead of nobody."""
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    admin = await register(fake, ADMIN, "DU-003")
    clock.set(clock.now().replace(day=28, hour=18))
    await submit(fake, teacher, leave="29/05/2021 07:00", back="29/05/2021 20:00")
    await fake.next_message(principal.id)
    clock.set(clock.now().replace(day=29, hour=4, minute=1))
    await bot.services.sweeper.tick()
    escalated = await messages_until(fake, admin, "Lại Thị Diệu Linh")
    fake.press(admin, escalated, escalated.callback_data("Phê duyệt"))
    assert "Ngô Thị Mai Phương" in (
        (await messages_until(fake, teacher, "Đã phê duyệt")).text or ""
    )


async def test_item6_changed_dates_inside_a_ban_set_ahead_ask_for_the_special_reason(
    fake: FakeBotApi, bot: RunningBot, db_path: Path
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    admin = await register(fake, ADMIN, "DU-003")
    await submit(fake, teacher)  # #1, Saturday 29/05: pending, before any ban
    await fake.next_message(principal.id)
    await answer(fake, admin, "/policy ban 01/06/2021 00:00")
    status = await answer(fake, teacher, "/status")
    fake.press(teacher, status, status.callback_data("Đổi ngày"))
    await fake.next_message(teacher.id)
    changed = await answer(fake, teacher, "02/06/2021 09:00 - 02/06/2021 16:00")
    assert "lý do đặc biệt" in (changed.text or ""), changed.text
    assert db_value(db_path, "SELECT ban_check FROM travel_requests WHERE id = 1") == "reason"
    fake.press(teacher, changed, changed.callback_data("Nêu lý do"))
    await fake.next_message(teacher.id)
    routed = await answer(fake, teacher, "Họp khẩn tại Sở")
    assert "Châu Thị Bích Ngọc" in (routed.text or ""), routed.text
    await messages_until(fake, principal, "Họp khẩn tại Sở")


async def test_item4_trip_not_taken_says_nobody_could_be_told(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    await submit(fake, teacher, leave="01/06/2021 09:00", back="01/06/2021 16:00")  # recorded
    clock.set(clock.now().replace(day=1, month=6, hour=16, minute=1))
    await bot.services.sweeper.tick()
    question = await messages_until(fake, teacher, "đã về chưa")
    fake.press(teacher, question, question.callback_data("không diễn ra"))
    noted = await messages_until(fake, teacher, "không diễn ra")
    assert "đã được báo" not in (noted.text or "") and "Chưa báo được" in (noted.text or "")


async def test_item4_hand_over_to_an_unregistered_deputy_goes_to_the_leader_above(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    ward_head = await register(
        fake, OFFICE_HEAD, "HB-001"
    )  # the ward head: the school is under the ward
    await answer(fake, principal, "/away 28/05/2021 31/05/2021")
    await submit(fake, teacher)  # the principal's today
    await messages_until(fake, principal, "Lại Thị Diệu Linh")
    clock.set(clock.now().replace(day=28, hour=7))
    await bot.services.sweeper.tick()
    request = await messages_until(fake, ward_head, "Lại Thị Diệu Linh")
    assert "Nghiêm Văn Hải chưa mở bot" in (request.text or ""), request.text
    fake.press(ward_head, request, request.callback_data("Phê duyệt"))
    assert "Nguyễn Văn Hùng" in ((await messages_until(fake, teacher, "Đã phê duyệt")).text or "")


async def test_item6_the_top_of_the_directory_is_not_asked_for_a_reason_nobody_decides(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock, db_path: Path
) -> None:
    secretary = await register(fake, SECRETARY, "HB-001")
    teacher = await register(fake, TEACHER, "TH-003")
    admin = await register(fake, ADMIN, "DU-003")
    await submit(fake, secretary, leave="01/06/2021 09:00", back="01/06/2021 16:00")  # #1
    await submit(fake, teacher, leave="01/06/2021 09:00", back="01/06/2021 16:00")  # #2
    await answer(fake, admin, "/policy ban 01/06/2021 00:00")
    clock.set(clock.now().replace(day=1, month=6, hour=0, minute=1))
    await bot.services.sweeper.tick()
    await messages_until(fake, teacher, "lý do đặc biệt")
    assert db_value(db_path, "SELECT status FROM travel_requests WHERE id = 1") == "recorded"
    assert not [m for m in fake.messages(secretary.id) if "lý do đặc biệt" in (m.text or "")]


async def test_item6_a_ban_set_ahead_is_applied_at_its_minute(
    fake: FakeBotApi, db_path: Path
) -> None:
    """With an hourly sweep, the ban's start still wakes it: the recorded work trip inside the
    ban is asked for its special reason at the minute the ban starts."""
    from datetime import datetime, timedelta

    from bot.clock import OffsetClock
    from bot.domain.clock import VIETNAM

    clock = OffsetClock()
    clock.jump_to(datetime(2021, 5, 26, 9, 0))
    assert (await load_examples(db_path, clock)).applied  # type: ignore[arg-type]
    async with RunningBot(make_settings(fake, db_path), clock):  # type: ignore[arg-type]
        teacher = await register(fake, TEACHER, "TH-003")
        admin = await register(fake, ADMIN, "DU-003")
        await submit(fake, teacher, leave="01/06/2021 09:00", back="01/06/2021 16:00")
        await answer(fake, admin, "/policy ban 26/05/2021 09:30")

    starts = datetime(2021, 5, 26, 9, 30, tzinfo=VIETNAM)
    clock.jump_to(starts - timedelta(seconds=4))
    hourly = make_settings(fake, db_path, sweep_interval_seconds=3600)  # one tick, at the start
    async with RunningBot(hourly, clock):  # type: ignore[arg-type]
        asked = await messages_until(fake, teacher, "lý do đặc biệt", timeout=15)
        arrived = clock.now()
    assert "#1" in (asked.text or "")
    assert starts <= arrived < starts + timedelta(seconds=3)
