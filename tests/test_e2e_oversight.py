"""Oversight end to end: /unit sees exactly the head's subtree, the daily digest, /district,
/export in the chat and on the command line, and refusals.

History rows are written straight into SQLite (as the flows would have left them); the clock
starts on Wednesday 26/05/2021 09:00 (Asia/Ho_Chi_Minh).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from bot.domain.clock import VIETNAM, ManualClock
from storage.db import to_db_time
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, database_env, db_connect, give_consents

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)
PHONES = {
    "TH-001": "0912 000 024",  # Châu Thị Bích Ngọc, principal of HB-TH
    "TH-003": "0912 000 026",  # Lại Thị Diệu Linh, teacher at HB-TH
    "CS-001": "0912 000 030",  # Từ Văn Thành, principal of HB-THCS (sibling school)
    "UB-001": "0912 000 013",  # Hồ Văn Toàn, head of HB-UBND (the office: no school below it)
    "DU-003": "+84 912 000 010",  # Ngô Thị Mai Phương, admin
    "DU-004": "0912 000 011",  # Dương Quốc Bảo, staff, no role
    "HB-001": "0912 000 001",  # Nguyễn Văn Hùng, head of the ward HB (both schools are below it)
}
USER_IDS = {staff_id: 9100 + i for i, staff_id in enumerate(PHONES)}


async def join(fake: FakeBotApi, staff_id: str) -> FakeUser:
    user = fake.user(USER_IDS[staff_id], staff_id, language_code="vi")
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, PHONES[staff_id])
    question = await fake.next_message(user.id)
    fake.press(user, question, question.callback_data("✅"))
    await give_consents(fake, user)
    return user


async def ask(fake: FakeBotApi, user: FakeUser, text: str, kind: str = "text") -> SentMessage:
    before = len(fake.messages(user.id))
    fake.send_text(user, text)
    await fake.wait_for(lambda: any(m.kind == kind for m in fake.messages(user.id)[before:]))
    return next(m for m in fake.messages(user.id)[before:] if m.kind == kind)


def seed_trip(
    db: Path,
    request_id: int,
    staff_id: str,
    *,
    state: str | None,
    departed: datetime,
    back: datetime,
    arrived: datetime | None = None,
    declared: datetime | None = None,
    status: str = "approved",
) -> None:
    with db_connect(db) as conn:
        conn.execute(
            "INSERT INTO travel_requests (id, staff_id, status, destination, address, departure_at, return_at, purpose, "
            "case_area, policy_mode, trip_class, rule_name, created_at, decided_at, decided_by, return_tracked) "
            "VALUES (?, ?, ?, 'Đà Nẵng', 'Hải Châu', ?, ?, 'Thăm gia đình', 'no', 'normal', 'needs_approval', 'test', ?, ?, 'TH-001', ?)",
            (request_id, staff_id, status, to_db_time(departed), to_db_time(back), to_db_time(departed - timedelta(days=2)),
             to_db_time(departed - timedelta(days=1)) if status != "pending" else None, int(state is not None)),
        )  # fmt: skip
        if state is not None:
            deadline = arrived + timedelta(hours=24) if arrived else None
            conn.execute(
                "INSERT INTO trip_returns (request_id, staff_id, state, planned_return_at, arrived_at, deadline_at, "
                "declared_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (request_id, staff_id, state, to_db_time(back), to_db_time(arrived) if arrived else None,
                 to_db_time(deadline) if deadline else None, to_db_time(declared) if declared else None,
                 to_db_time(back), to_db_time(back)),
            )  # fmt: skip


def seed_school_story(db: Path) -> None:
    """HB-TH: Linh overdue, Phúc away; HB-THCS (sibling): Tùng overdue, Dung pending."""
    seed_trip(
        db,
        1,
        "TH-003",
        state="back",
        departed=NOW - timedelta(days=4),
        back=NOW - timedelta(days=2),
        arrived=NOW - timedelta(days=2),
    )
    seed_trip(
        db, 2, "TH-004", state=None, departed=NOW - timedelta(days=1), back=NOW + timedelta(hours=5)
    )
    seed_trip(
        db,
        3,
        "CS-003",
        state="back",
        departed=NOW - timedelta(days=4),
        back=NOW - timedelta(days=2),
        arrived=NOW - timedelta(days=2),
    )
    seed_trip(
        db,
        4,
        "CS-004",
        state=None,
        departed=NOW + timedelta(days=3),
        back=NOW + timedelta(days=4),
        status="pending",
    )
    seed_trip(db, 5, "TH-006", state="declared", departed=NOW - timedelta(days=6), back=NOW - timedelta(days=4),
              arrived=NOW - timedelta(days=4), declared=NOW - timedelta(days=3, hours=12))  # fmt: skip


async def test_head_sees_exactly_their_subtree_and_reminds_with_the_returns_button(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    db = bot.settings.database_path
    await asyncio.to_thread(seed_school_story, db)
    teacher = await join(fake, "TH-003")
    principal = await join(fake, "TH-001")
    answer = await ask(fake, principal, "/unit")
    text = answer.text or ""
    assert "Trường Tiểu học Hòa Bình" in text
    assert "Lại Thị Diệu Linh" in text and "Âu Văn Phúc" in text
    assert "Giang Văn Tùng" not in text and "Khúc Thị Thùy Dung" not in text  # the sibling school
    assert "Võ Thị Tuyết" not in text  # declared in time: nothing to do
    data = [b.get("callback_data") for row in answer.buttons() for b in row]
    assert "rt:nag:1" in data and "rt:nag:3" not in data

    fake.press(principal, answer, "rt:nag:1")
    reminder = await fake.next_message(teacher.id)
    assert "Đà Nẵng" in (reminder.text or "")

    above = await join(fake, "HB-001")
    wide = (await ask(fake, above, "/unit")).text or ""
    assert "Lại Thị Diệu Linh" in wide and "Giang Văn Tùng" in wide and "Khúc Thị Thùy Dung" in wide
    office = await join(fake, "UB-001")  # the HĐND-UBND office has no school below it
    assert "Lại Thị Diệu Linh" not in ((await ask(fake, office, "/unit")).text or "")

    sibling = await join(fake, "CS-001")
    other = (await ask(fake, sibling, "/unit")).text or ""
    assert (
        "Giang Văn Tùng" in other
        and "Lại Thị Diệu Linh" not in other
        and "Âu Văn Phúc" not in other
    )


async def test_staff_without_a_role_is_refused_district_unit_and_health_export(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    staff = await join(fake, "DU-004")
    assert "quản trị" in ((await ask(fake, staff, "/district")).text or "")
    assert "thủ trưởng" in ((await ask(fake, staff, "/unit")).text or "")
    refusal = (await ask(fake, staff, "/export health")).text or ""
    assert "y tế" in refusal and not any(m.kind == "document" for m in fake.messages(staff.id))
    with db_connect(bot.settings.database_path) as conn:
        actions = [
            r[0] for r in conn.execute("SELECT action FROM audit_log WHERE actor = 'DU-004'")
        ]
    assert "health.export.refused" in actions


async def test_daily_digest_once_a_day_and_only_with_something_to_say(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    db = bot.settings.database_path
    principal = await join(fake, "TH-001")
    sibling = await join(fake, "CS-001")
    await bot.services.sweeper.tick()  # the schedule: tomorrow 07:30
    clock.set(datetime(2021, 5, 27, 7, 30, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    assert not _digests(fake, principal) and not _digests(
        fake, sibling
    )  # nothing to say: nothing sent
    with db_connect(db) as conn:
        assert conn.execute(
            "SELECT next_at FROM oversight_digests WHERE kind = 'daily'"
        ).fetchone()[0] == to_db_time(datetime(2021, 5, 28, 7, 30, tzinfo=VIETNAM))

    await asyncio.to_thread(
        seed_trip,
        db,
        1,
        "TH-003",
        state="back",
        departed=NOW - timedelta(days=4),
        back=NOW - timedelta(days=2),
        arrived=NOW - timedelta(days=2),
    )
    clock.set(datetime(2021, 5, 28, 7, 29, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    assert not _digests(fake, principal)
    clock.set(datetime(2021, 5, 28, 7, 30, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    await fake.wait_for(lambda: bool(_digests(fake, principal)))
    digest = _digests(fake, principal)[0]
    assert "quá hạn khai báo y tế: 1 người" in digest and "/unit" in digest
    for minutes in (1, 60, 600):
        clock.set(datetime(2021, 5, 28, 7, 30, tzinfo=VIETNAM) + timedelta(minutes=minutes))
        await bot.services.sweeper.tick()
    await asyncio.sleep(0.5)  # anything queued would be sent by now
    assert len(_digests(fake, principal)) == 1 and not _digests(fake, sibling)
    clock.set(datetime(2021, 5, 29, 7, 31, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    await fake.wait_for(lambda: len(_digests(fake, principal)) == 2)
    assert not _digests(fake, sibling)


def _digests(fake: FakeBotApi, user: FakeUser) -> list[str]:
    return [m.text or "" for m in fake.messages(user.id) if "Chào buổi sáng" in (m.text or "")]


async def test_district_lines_worst_first_with_a_chart(fake: FakeBotApi, bot: RunningBot) -> None:
    await asyncio.to_thread(seed_school_story, bot.settings.database_path)
    admin = await join(fake, "DU-003")
    before = len(fake.messages(admin.id))
    fake.send_text(admin, "/district")
    await fake.wait_for(lambda: any(m.kind == "photo" for m in fake.messages(admin.id)[before:]))
    got = fake.messages(admin.id)[before:]
    text = "\n".join(m.text or "" for m in got if m.kind == "text")
    lines = [line for line in text.splitlines() if line[:2].rstrip(".").isdigit()]
    assert (
        "Trường" in lines[0] and "quá hạn 1" in lines[0]
    )  # a school with an overdue declaration first
    assert len(lines) == 7  # one line per unit of the sample district
    photo = next(m for m in got if m.kind == "photo")
    assert photo.photo is not None and photo.photo["data"][:8] == b"\x89PNG\r\n\x1a\n"


async def test_export_in_chat_opens_with_openpyxl_and_covers_the_subtree(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    db = bot.settings.database_path
    await asyncio.to_thread(seed_school_story, db)
    principal = await join(fake, "TH-001")
    got = await ask(fake, principal, "/export travel 01/05/2021 31/05/2021", kind="document")
    assert got.document is not None and "3" in (got.caption or "")
    book = load_workbook(BytesIO(got.document["data"]))
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("STT", "Đơn vị", "Họ và tên", "Chức vụ")
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold
    names = sorted(r[2] for r in rows[1:])
    assert names == ["Lại Thị Diệu Linh", "Võ Thị Tuyết", "Âu Văn Phúc"]
    linh = next(r for r in rows[1:] if r[2] == "Lại Thị Diệu Linh")
    assert linh[5] == (NOW - timedelta(days=6)).strftime("%d/%m/%Y %H:%M")  # requested at
    assert (
        linh[9] == (NOW - timedelta(days=4)).strftime("%d/%m/%Y %H:%M")
        and linh[11] == "đã phê duyệt"
    )

    why = await ask(fake, principal, "/export health")
    assert "mục đích" in (why.text or ""), why.describe()
    health = await ask(fake, principal, "Báo cáo Trung tâm Y tế quận", kind="document")
    assert health.document is not None
    footer = [r[0] for r in load_workbook(BytesIO(health.document["data"])).active.iter_rows(values_only=True)][-2:]  # type: ignore[union-attr]  # fmt: skip
    assert "Châu Thị Bích Ngọc (TH-001)" in footer[0] and "Báo cáo Trung tâm Y tế quận" in footer[0]
    assert "26/05/2021" in footer[0] or "26 tháng 5" in footer[0], footer
    with db_connect(db) as conn:
        audit = conn.execute(
            "SELECT details FROM audit_log WHERE action = 'health.export' AND actor = 'TH-001'"
        ).fetchall()
    assert len(audit) == 1 and json.loads(audit[0][0])["what"] == "health"
    assert json.loads(audit[0][0])["purpose"] == "Báo cáo Trung tâm Y tế quận"


async def test_export_on_the_command_line_per_unit_sheets_and_health_audited(
    bot: RunningBot, tmp_path: Path
) -> None:
    db = bot.settings.database_path
    await asyncio.to_thread(seed_school_story, db)
    env = dict(os.environ, **database_env(db), TELEGRAM_BOT_TOKEN="")
    out = tmp_path / "so-theo-doi.xlsx"
    args = [sys.executable, "-m", "bot", "export", "--what", "returns", "--from", "01/05/2021", "--to", "31/05/2021",
            "--unit", "HB", "--per-unit-sheets", "--out", str(out)]  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, args, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    book = load_workbook(out)
    assert sorted(book.sheetnames) == [
        "Trường THCS Hòa Bình (mẫu)",
        "Trường Tiểu học Hòa Bình (mẫu)",
    ]
    primary = [r for r in book["Trường Tiểu học Hòa Bình (mẫu)"].iter_rows(values_only=True)]
    assert (
        "Hạn khai báo" in primary[0] and len(primary) == 3
    )  # header + Linh + Tuyết (Phúc not back yet)
    assert any(
        r[2] == "Lại Thị Diệu Linh" and r[10] == "đã về, chưa khai báo y tế" for r in primary[1:]
    )

    refused = await asyncio.to_thread(
        subprocess.run,
        [*args[:5], "health", *args[6:10], "--out", str(tmp_path / "h.xlsx")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and not (tmp_path / "h.xlsx").exists()
    no_purpose = await asyncio.to_thread(
        subprocess.run,
        [*args[:5], "health", *args[6:10], "--as", "YT-003", "--out", str(tmp_path / "h.xlsx")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert no_purpose.returncode == 1 and "--purpose" in no_purpose.stdout
    assert not (tmp_path / "h.xlsx").exists()
    allowed = await asyncio.to_thread(
        subprocess.run,
        [
            *args[:5],
            "health",
            *args[6:10],
            "--as",
            "YT-003",
            "--purpose",
            "Giám sát dịch",
            "--out",
            str(tmp_path / "h.xlsx"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert allowed.returncode == 0, allowed.stderr
    sheet = load_workbook(tmp_path / "h.xlsx").active
    assert sheet["D1"].value == "Chức vụ"
    last = [r[0] for r in sheet.iter_rows(values_only=True)][-2]
    assert "Kiều Thị Ngân (YT-003)" in last and "Giám sát dịch" in last, last
    with db_connect(db) as conn:
        assert conn.execute(
            "SELECT actor FROM audit_log WHERE action = 'health.export'"
        ).fetchall() == [("YT-003",)]


async def test_weekly_digest_to_admins_on_monday(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    await asyncio.to_thread(seed_school_story, bot.settings.database_path)
    admin = await join(fake, "DU-003")
    await (
        bot.services.sweeper.tick()
    )  # Wednesday: the first weekly digest is due Monday 31/05 07:30
    clock.set(datetime(2021, 5, 31, 7, 29, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    assert not [m for m in fake.messages(admin.id) if "Báo cáo tuần" in (m.text or "")]
    clock.set(datetime(2021, 5, 31, 7, 30, tzinfo=VIETNAM))
    await bot.services.sweeper.tick()
    await fake.wait_for(
        lambda: any("Báo cáo tuần" in (m.text or "") for m in fake.messages(admin.id))
    )
    weekly = next(m.text or "" for m in fake.messages(admin.id) if "Báo cáo tuần" in (m.text or ""))
    assert "1. Trường" in weekly and "/district" in weekly


async def test_case_also_comes_as_a_picture_of_the_tree(fake: FakeBotApi, bot: RunningBot) -> None:
    def seed_case(db: Path) -> None:
        with db_connect(db) as conn:
            conn.execute(
                "INSERT INTO case_reports (id, unit_id, scenario, reported_by, created_at) VALUES (1, 'HB-TH', 'PA2', 'TH-001', ?)",
                (to_db_time(NOW),),
            )
            conn.executemany(
                "INSERT INTO case_nodes (id, case_id, parent_id, staff_id, name, level, added_by, created_at) VALUES (?, 1, ?, ?, ?, ?, 'TH-001', ?)",
                [(1, None, "TH-003", "Lại Thị Diệu Linh", "F0", to_db_time(NOW)), (2, 1, "TH-004", "Âu Văn Phúc", "F1", to_db_time(NOW)),
                 (3, 2, None, "Đinh Thị Thu Hương", "F2", to_db_time(NOW))],
            )  # fmt: skip

    await asyncio.to_thread(seed_case, bot.settings.database_path)
    principal = await join(fake, "TH-001")
    picture = await ask(fake, principal, "/case 1", kind="photo")
    assert (
        picture.photo is not None
        and picture.photo["data"][:4] == b"\x89PNG"
        and "#1" in (picture.caption or "")
    )
    assert any(
        "Đinh Thị Thu Hương" in (m.text or "") for m in fake.messages(principal.id)
    )  # the text tree too
    outsider = await join(fake, "DU-004")
    refused = await ask(fake, outsider, "/case 1")
    assert (
        not any(m.kind == "photo" for m in fake.messages(outsider.id))
        and "không" in (refused.text or "").lower()
    )
