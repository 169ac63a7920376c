"""The 24/7 duty roster (issue 18 §1) end to end: duty.csv loaded, an urgent alert at 02:00
reaching the officer of the night shift (not the morning's), /duty showing who is on duty now
with the phone, and `python -m bot duty import` refusing a bad file whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.domain.clock import VIETNAM, ManualClock
from bot.services.duty.roster import import_roster
from storage.engine import open_database
from tests.fakebot import FakeBotApi
from tests.harness import (
    PHONES,
    RunningBot,
    database_env,
    database_target,
    db_connect,
    db_rows,
    load_examples,
    make_settings,
    register,
)
from tests.paths import EXAMPLES
from tests.test_e2e_health import answer, press, report

PHONES.setdefault("HB-004", "84 912 000 004")  # Phạm Thị Ngọc Ánh, vice chair
PHONES.setdefault("TH-004", "0912 000 027")  # Âu Văn Phúc, teacher
PHONES.setdefault("HB-005", "(+84) 912 000 005")  # Hoàng Minh Đức, vice chair
PHONES.setdefault("UB-004", "0912 000 016")  # Đinh Thị Thu Hà, office clerk
PHONES.setdefault("UB-005", "0912 000 017")  # Mai Xuân Trường, office clerk

TEACHER, NIGHT, MORNING, DUTY_ROLE, PRINCIPAL, SCHOOL_DUTY, WARD_HEAD = (
    871,
    872,
    873,
    874,
    875,
    876,
    877,
)
DEPUTY = 878
ROSTER = """unit_id,date,from,to,staff_id,phone
HB,25/05/2021,22:00,06:00,HB-005,
HB,26/05/2021,06:00,14:00,HB-004,0912 999 004
"""


def roster_file(folder: Path, text: str = ROSTER) -> Path:
    path = folder / "duty.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def night_bot(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    assert (await load_examples(db_path, clock)).applied
    db = await open_database(database_target(db_path))
    try:
        loaded = await import_roster(db, clock, roster_file(tmp_path), dry_run=False)
    finally:
        await db.close()
    assert loaded.applied and loaded.shifts == 2, loaded.problems
    clock.set(datetime(2021, 5, 26, 2, 0, tzinfo=VIETNAM))
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        yield running


async def test_an_alert_at_two_reaches_the_night_shift_not_the_morning_one(
    fake: FakeBotApi, night_bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    night = await register(fake, NIGHT, "HB-005")
    morning = await register(fake, MORNING, "HB-004")
    role_holder = await register(fake, DUTY_ROLE, "UB-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Sốt"], "38,5")
    await fake.next_message(teacher.id)  # under monitoring until …
    alert = await fake.next_message(night.id)
    assert "KHẨN" in (alert.text or "") and alert.callback_data("Đã tiếp nhận")
    head_alert = await fake.next_message(principal.id)
    assert "KHẨN" in (head_alert.text or "")
    await night_bot.services.sender.drain()  # every message of the alert has left
    # checked before the clock moves: an alert left unacknowledged for 15 minutes goes on to
    # others (the next test), and the sweep runs every 0.2 s
    for absent in (morning, role_holder):
        told = [m.text for m in fake.messages(absent.id) if "KHẨN" in (m.text or "")]
        assert not told, told

    shown = await answer(fake, teacher, "/duty")
    text = shown.text or ""
    assert "Hoàng Minh Đức" in text and "0912000005" in text and "26/05/2021 06:00" in text, text
    assert "Phạm Thị Ngọc Ánh" not in text

    night_bot.clock.advance(timedelta(hours=5))  # 07:00: the morning shift, its duty phone
    shown = await answer(fake, teacher, "/duty")
    assert "Phạm Thị Ngọc Ánh" in (shown.text or "") and "0912999004" in (shown.text or "")
    night_bot.clock.advance(timedelta(hours=8))  # 15:00: nobody
    shown = await answer(fake, teacher, "/duty")
    assert "không có ai" in (shown.text or "")


async def test_an_unacknowledged_alert_goes_to_the_duty_of_the_unit_above(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    assert (await load_examples(db_path, clock)).applied
    school_and_ward = ROSTER + "HB-TH,25/05/2021,22:00,06:00,TH-004,\n"
    db = await open_database(database_target(db_path))
    try:
        loaded = await import_roster(
            db, clock, roster_file(tmp_path, school_and_ward), dry_run=False
        )
    finally:
        await db.close()
    assert loaded.applied, loaded.problems
    clock.set(datetime(2021, 5, 26, 2, 0, tzinfo=VIETNAM))
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        teacher = await register(fake, TEACHER, "TH-003")
        school_duty = await register(fake, SCHOOL_DUTY, "TH-004")
        ward_duty = await register(fake, NIGHT, "HB-005")
        await report(fake, teacher, ["Sốt"], "38,5")
        first = await fake.next_message(school_duty.id)
        assert "KHẨN" in (first.text or ""), "the school's own duty first"
        clock.advance(timedelta(minutes=16))
        await running.services.sweeper.tick()
        escalated = await fake.next_message(ward_duty.id)
        assert "15 phút" in (escalated.text or "") and escalated.callback_data("Đã tiếp nhận")
        assert sum("KHẨN" in (m.text or "") for m in fake.messages(ward_duty.id)) == 1


async def test_the_head_is_told_the_day_before_of_hours_nobody_is_on_duty(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    assert (await load_examples(db_path, clock)).applied
    partial = ROSTER + "HB,27/05/2021,06:00,22:00,HB-004,\n"
    db = await open_database(database_target(db_path))
    try:
        assert (
            await import_roster(db, clock, roster_file(tmp_path, partial), dry_run=False)
        ).applied
    finally:
        await db.close()
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        head = await register(fake, WARD_HEAD, "HB-001")
        await running.services.sweeper.tick()
        assert not any("Lịch trực" in (m.text or "") for m in fake.messages(head.id)), "not yet"
        clock.set(datetime(2021, 5, 26, 16, 0, tzinfo=VIETNAM))
        await running.services.sweeper.tick()
        told = await fake.next_message(head.id)
        text = told.text or ""
        assert "Lịch trực của Phường Hòa Bình (mẫu)" in text and "27 tháng 5" in text, text
        assert "00:00–06:00, 22:00–24:00" in text, text
        clock.advance(timedelta(hours=2))
        await running.services.sweeper.tick()
        assert sum("Lịch trực" in (m.text or "") for m in fake.messages(head.id)) == 1, "once"


def test_the_cli_loads_a_roster_and_refuses_a_bad_one_whole(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = db_path.parent
    monkeypatch.chdir(tmp_path)
    for name, value in database_env(db_path).items():
        monkeypatch.setenv(name, value)
    files = ["--units", str(EXAMPLES / "units.csv"), "--staff", str(EXAMPLES / "staff.csv")]
    assert main(["directory", "import", *files, "--routing", str(EXAMPLES / "routing.toml")]) == 0
    assert main(["duty", "import", str(roster_file(tmp_path))]) == 0
    assert "Đã nạp lịch trực: 2 ca" in capsys.readouterr().out
    bad = ROSTER + "HB-TH,26/05/2021,25:00,06:00,UB-003,\nNOPE,31/02/2021,08:00,12:00,HB-004,\n"
    assert main(["duty", "import", str(roster_file(tmp_path, bad))]) == 1
    out = capsys.readouterr().out
    assert "duty.csv:4: from" in out and "duty.csv:4: staff_id" in out, out
    assert "duty.csv:5: date" in out and "duty.csv:5: unit_id" in out, out
    assert db_rows(db_path, "SELECT COUNT(*) FROM duty_shifts") == [(2,)]
    assert main(["duty", "import", str(roster_file(tmp_path))]) == 0, "a reload replaces the days"
    assert "thay 2 ca cũ" in capsys.readouterr().out
    assert db_rows(db_path, "SELECT COUNT(*) FROM duty_shifts") == [(2,)]


async def test_past_the_roster_an_escalation_falls_back_to_the_duty_officers_of_the_unit(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    """On the roster at 02:00 (until 02:10), nobody on it at 02:16: the escalation goes to the
    duty officers of the person's unit and the units above, not to nobody."""
    assert (await load_examples(db_path, clock)).applied
    short = "unit_id,date,from,to,staff_id,phone\nHB-UBND,26/05/2021,01:00,02:10,UB-005,\n"
    db = await open_database(database_target(db_path))
    try:
        loaded = await import_roster(db, clock, roster_file(tmp_path, short), dry_run=False)
    finally:
        await db.close()
    assert loaded.applied, loaded.problems
    clock.set(datetime(2021, 5, 26, 2, 0, tzinfo=VIETNAM))
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        clerk = await register(fake, TEACHER, "UB-004")
        on_roster = await register(fake, NIGHT, "UB-005")
        role_holder = await register(fake, DUTY_ROLE, "UB-003")
        await report(fake, clerk, ["Sốt"], "38,5")
        first = await fake.next_message(on_roster.id)
        assert "KHẨN" in (first.text or "")
        assert not any("KHẨN" in (m.text or "") for m in fake.messages(role_holder.id))
        clock.advance(timedelta(minutes=16))
        await running.services.sweeper.tick()
        escalated = await fake.next_message(role_holder.id)
        assert "15 phút" in (escalated.text or "") and escalated.callback_data("Đã tiếp nhận")


async def test_an_alert_in_a_gap_of_the_roster_goes_up_to_the_district_leaders_at_once(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    """The school keeps a roster, but nobody is on duty at 02:00 for it or the ward: the alert
    reaches the ward's leaders then, not after the acknowledgement wait."""
    assert (await load_examples(db_path, clock)).applied
    day_only = "unit_id,date,from,to,staff_id,phone\nHB-TH,26/05/2021,06:00,14:00,TH-004,\n"
    db = await open_database(database_target(db_path))
    try:
        assert (
            await import_roster(db, clock, roster_file(tmp_path, day_only), dry_run=False)
        ).applied
    finally:
        await db.close()
    clock.set(datetime(2021, 5, 26, 2, 0, tzinfo=VIETNAM))
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        teacher = await register(fake, TEACHER, "TH-003")
        leader = await register(fake, WARD_HEAD, "HB-001")
        day_duty = await register(fake, SCHOOL_DUTY, "TH-004")
        await report(fake, teacher, ["Sốt"], "38,5")
        alert = await fake.next_message(leader.id)
        assert "KHẨN" in (alert.text or "") and alert.callback_data("Đã tiếp nhận")
        assert not any("KHẨN" in (m.text or "") for m in fake.messages(day_duty.id))
        db_file = running.settings.database_path
        with db_connect(db_file) as conn:
            rows = conn.execute("SELECT details FROM audit_log WHERE action = 'duty.gap.alert'")
            assert "HB-001" in str(rows.fetchall())


async def test_the_gap_notice_waits_out_the_quiet_hours(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    assert (await load_examples(db_path, clock)).applied
    partial = ROSTER + "HB,27/05/2021,06:00,22:00,HB-004,\n"
    db = await open_database(database_target(db_path))
    try:
        assert (
            await import_roster(db, clock, roster_file(tmp_path, partial), dry_run=False)
        ).applied
    finally:
        await db.close()
    clock.set(datetime(2021, 5, 26, 22, 30, tzinfo=VIETNAM))  # the bot was down from 16:00
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        head = await register(fake, WARD_HEAD, "HB-001")
        await running.services.sweeper.tick()
        assert not any("Lịch trực" in (m.text or "") for m in fake.messages(head.id))
        with db_connect(running.settings.database_path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM duty_gap_checks").fetchone() == (0,)


async def test_the_night_duty_passes_an_alert_up_and_the_leader_who_takes_it_is_shown(
    fake: FakeBotApi, night_bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    night = await register(fake, NIGHT, "HB-005")
    secretary = await register(fake, WARD_HEAD, "HB-001")
    deputy = await register(fake, DEPUTY, "HB-002")
    await report(fake, teacher, ["Sốt"], "38,5")
    alert = await fake.next_message(night.id)
    own = fake.messages(teacher.id)[-1]  # a forged button, on a message of their own chat
    forged = fake.press(teacher, own, f"vt:up:{alert.callback_data('Đã tiếp nhận')[3:]}")
    await fake.wait_for(lambda: fake.answer_for(forged) is not None)
    assert "trực" in str(fake.answer_for(forged)), "only a duty officer passes it up"

    fake.press(night, alert, alert.callback_data("Đã tiếp nhận"))
    offer = await fake.next_message(night.id)
    question = await press(fake, night, offer, "Vượt thẩm quyền")
    assert "500" in (question.text or ""), question.text
    too_long = await answer(fake, night, "x" * 501)
    assert "500" in (too_long.text or ""), too_long.text
    passed = await answer(fake, night, "Cần huy động xe cứu thương của quận")
    assert "Nguyễn Văn Hùng" in (passed.text or "") and "Trần Thị Thu Hương" in (passed.text or "")

    copies = [await fake.next_message(leader.id) for leader in (secretary, deputy)]
    for copy in copies:
        text = copy.text or ""
        assert "Vượt thẩm quyền" in text and "xe cứu thương" in text, text
        assert "Hoàng Minh Đức" in text and copy.callback_data("Tôi nhận xử lý")
    taken_ref = copies[1].callback_data("Tôi nhận xử lý").rpartition(":")[2]
    taken = fake.press(deputy, copies[1], copies[1].callback_data("Tôi nhận xử lý"))
    await fake.wait_for(lambda: fake.answer_for(taken) is not None)
    await fake.wait_for(
        lambda: all("Trần Thị Thu Hương nhận xử lý" in (c.text or "") for c in copies)
    )
    assert not any(copy.buttons() for copy in copies)
    late = fake.press(secretary, copies[0], f"vt:take:{taken_ref}")
    await fake.wait_for(lambda: fake.answer_for(late) is not None)
    assert "Trần Thị Thu Hương" in str(fake.answer_for(late))
    told = await fake.next_message(night.id)
    assert "Trần Thị Thu Hương" in (told.text or ""), told.text
    with db_connect(night_bot.settings.database_path) as conn:
        row = conn.execute("SELECT referred_by, note, taken_by FROM duty_referrals").fetchall()
        actions = conn.execute(
            "SELECT action, actor FROM audit_log WHERE action LIKE 'duty.refer%' ORDER BY id"
        ).fetchall()
    assert row == [("HB-005", "Cần huy động xe cứu thương của quận", "HB-002")]
    assert actions == [
        ("duty.refer.refused", "TH-003"),
        ("duty.refer", "HB-005"),
        ("duty.refer.take", "HB-002"),
    ]
