"""The unit head sets the duty roster in the chat (issue 18 §1), end to end over HTTP: `/duty`
shows today's and tomorrow's shifts, «➕ Thêm ca» (a person, a day, from, to) adds one and tells
the person, «🔁» hands a shift to another person and tells both; a teacher's forged button and
another unit's head are refused, server side."""

from __future__ import annotations

from pathlib import Path

from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import PHONES, RunningBot, db_connect, register
from tests.test_e2e_health import answer

PHONES.setdefault("TH-004", "0912 000 027")  # Âu Văn Phúc, teacher
PHONES.setdefault("YT-001", "0912 000 019")  # Lương Thị Minh Nguyệt, head of the health station

PRINCIPAL, TEACHER, OTHER_TEACHER, NURSE_HEAD = 891, 892, 893, 894


def shifts(db: Path) -> list[tuple[object, ...]]:
    with db_connect(db) as conn:
        sql = "SELECT unit_id, starts_at, ends_at, staff_id FROM duty_shifts ORDER BY id"
        return conn.execute(sql).fetchall()


async def press(fake: FakeBotApi, user: FakeUser, message: SentMessage, label: str) -> SentMessage:
    fake.press(user, message, message.callback_data(label))
    return await fake.next_message(user.id)


async def roster_view(fake: FakeBotApi, head: FakeUser) -> SentMessage:
    fake.send_text(head, "/duty")
    await fake.next_message(head.id)  # who is on duty now
    return await fake.next_message(head.id)


async def test_the_head_adds_a_shift_then_swaps_it_and_both_are_told(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    principal = await register(fake, PRINCIPAL, "TH-001")
    teacher = await register(fake, TEACHER, "TH-004")
    other = await register(fake, OTHER_TEACHER, "TH-003")
    view = await roster_view(fake, principal)
    text = view.text or ""
    assert "Lịch trực của Trường Tiểu học Hòa Bình (mẫu)" in text, text
    assert "Hôm nay" in text and "Ngày mai" in text and "không có ai trực" in text, text

    people = await press(fake, principal, view, "Thêm ca")
    calendar = await press(fake, principal, people, "Âu Văn Phúc")
    assert calendar.callback_data("27") == "dy:d:20210527"
    times = await press(fake, principal, calendar, "27")
    assert times.callback_data("06:00") == "dy:t:f:0600"
    wrong = await answer(fake, principal, "25h")
    assert "HH:MM" in (wrong.text or ""), wrong.text
    await fake.next_message(principal.id)  # the question again
    until = await answer(fake, principal, "22:00")
    added = await press(fake, principal, until, "06:00")
    assert "Đã thêm ca" in (added.text or "") and "Âu Văn Phúc" in (added.text or ""), added.text
    db = bot.settings.database_path
    assert shifts(db) == [
        ("HB-TH", "2021-05-27T15:00:00.000000Z", "2021-05-27T23:00:00.000000Z", "TH-004")
    ], "22:00 to 06:00 the next morning, local time"
    told = await fake.next_message(teacher.id)
    assert "Anh/chị trực" in (told.text or "") and "27/05/2021 22:00–06:00" in (told.text or "")

    view = await fake.next_message(principal.id)  # the roster again, with the new shift
    assert "Ngày mai" in (view.text or "") and "Âu Văn Phúc" in (view.text or ""), view.text
    people = await press(fake, principal, view, "🔁")
    assert not any("Âu Văn Phúc" in b.get("text", "") for row in people.buttons() for b in row)
    found = await answer(fake, principal, "linh")  # a typed name, searched in the unit
    labels = [b.get("text", "") for row in found.buttons() for b in row]
    assert any("Lại Thị Diệu Linh" in label for label in labels), labels
    assert not any("Châu Thị Bích Ngọc" in label for label in labels), labels
    done = await press(fake, principal, found, "Lại Thị Diệu Linh")
    assert "Đã đổi ca" in (done.text or ""), done.text
    assert shifts(db)[0][3] == "TH-003"
    assert "Lại Thị Diệu Linh" in ((await fake.next_message(teacher.id)).text or "")
    assert "Âu Văn Phúc" in ((await fake.next_message(other.id)).text or "")
    with db_connect(db) as conn:
        actions = conn.execute(
            "SELECT action, actor FROM audit_log WHERE action LIKE 'duty.shift.%' ORDER BY id"
        ).fetchall()
    assert actions == [("duty.shift.add", "TH-001"), ("duty.shift.swap", "TH-001")]


async def test_a_forged_button_and_another_units_head_are_refused(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    nurse_head = await register(fake, NURSE_HEAD, "YT-001")
    shown = await answer(fake, teacher, "/duty")
    assert not shown.buttons(), "a teacher sees who is on duty, nothing to change"
    forged = fake.press(teacher, shown, "dy:add:HB-TH")
    await fake.wait_for(lambda: fake.answer_for(forged) is not None)
    assert "thủ trưởng" in str(fake.answer_for(forged)), fake.answer_for(forged)
    refused = await answer(fake, nurse_head, "/duty HB-TH")
    assert "thủ trưởng" in (refused.text or ""), refused.text
    assert shifts(bot.settings.database_path) == []
    with db_connect(bot.settings.database_path) as conn:
        found = conn.execute("SELECT actor FROM audit_log WHERE action = 'duty.refused'")
        assert found.fetchall() == [("TH-003",)]
