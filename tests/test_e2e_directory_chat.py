"""The directory kept from the chat (issue 18 §2), end to end over HTTP: an admin sends the staff
.xlsx, gets the dry run and applies it; the template; the export sent back unchanged; one person
at a time with /staff; a unit admin limited to their units.

The sample ward's admin is DU-003; in these tests TH-001 (head of the primary school) is also a
unit admin (role `unit_admin`) of the school.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import RunningBot, db_rows, load_examples, make_settings, register
from tests.paths import ROOT

ADMIN, TEACHER, SCHOOL_ADMIN = 861, 862, 863
EXAMPLES = ROOT / "examples"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def example_rows() -> list[dict[str, str]]:
    with (EXAMPLES / "staff.csv").open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def staff_xlsx(rows: list[dict[str, str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    columns = list(rows[0])
    sheet.append(columns)
    for row in rows:
        sheet.append([row[c] or None for c in columns])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def with_school_admin(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    for row in rows:
        if row["staff_id"] == "TH-001":
            row["roles"] = "unit_head;unit_admin"
    return rows


@pytest.fixture
async def bot(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    staff = tmp_path / "staff.xlsx"
    staff.write_bytes(staff_xlsx(with_school_admin(example_rows())))
    outcome = await load_examples(db_path, clock, staff=staff)
    assert outcome.applied, outcome.problems
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        yield running


def db_all(bot: RunningBot, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    return db_rows(bot.settings.database_path, sql, params)


def staff_state(bot: RunningBot) -> list[tuple[object, ...]]:
    return db_all(bot, "SELECT staff_id, phone, unit_id, active FROM staff ORDER BY staff_id")


async def send(fake: FakeBotApi, user: FakeUser, data: bytes, name: str) -> SentMessage:
    fake.send_document(user, data, name, XLSX if name.endswith(".xlsx") else "text/csv")
    return await fake.next_message(user.id, timeout=15)


async def answer(fake: FakeBotApi, user: FakeUser, text: str) -> SentMessage:
    fake.send_text(user, text)
    return await fake.next_message(user.id, timeout=15)


async def press(fake: FakeBotApi, user: FakeUser, message: SentMessage, label: str) -> SentMessage:
    fake.press(user, message, message.callback_data(label))
    return await fake.next_message(user.id, timeout=15)


async def test_a_bad_row_is_refused_then_the_fixed_file_is_applied(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    before = staff_state(bot)
    rows = with_school_admin(example_rows())
    bad = [dict(r) for r in rows]
    bad[10]["phone"] = "12345"  # the 11th person: row 12 of the sheet
    refused = await send(fake, admin, staff_xlsx(bad), "can-bo.xlsx")
    text = refused.text or ""
    assert "Không nhập" in text and "dòng 12: số điện thoại:" in text, text
    assert "12345" in text and not refused.buttons()
    assert staff_state(bot) == before

    fixed = [dict(r) for r in rows]
    fixed[10]["phone"] = "0912 000 999"  # row 12's person gets a new number
    fixed = [r for r in fixed if r["staff_id"] != "UB-007"]  # UB-007 leaves
    fixed.append(dict(rows[-1], staff_id="UB-008", full_name="Lý Văn Mới", phone="0912 000 998"))
    dry = await send(fake, admin, staff_xlsx(fixed), "can-bo.xlsx")
    assert "Chạy thử" in (dry.text or ""), dry.text
    assert "cán bộ: 1 mới, 1 thay đổi, 1 ngừng kích hoạt" in (dry.text or ""), dry.text
    assert staff_state(bot) == before  # a dry run changes nothing
    apply = dry.callback_data("Áp dụng")
    done = await press(fake, admin, dry, "Áp dụng")
    assert "Đã cập nhật danh sách" in (done.text or ""), done.text
    state = {row[0]: row for row in staff_state(bot)}
    assert state["UB-007"][3] == 0 and state["UB-008"][3] == 1
    assert state[fixed[10]["staff_id"]][1] == "+84912000999"
    audit = db_all(bot, "SELECT actor, details FROM audit_log WHERE action = 'directory.import'")
    assert audit[-1][0] == "DU-003" and '"via":"chat"' in str(audit[-1][1])
    tap = fake.press(admin, dry, apply)  # a second tap (before the buttons went): nothing twice
    await fake.wait_for(lambda: fake.answer_for(tap) is not None, timeout=15)
    assert "không còn mở" in str(fake.answer_for(tap)), fake.answer_for(tap)
    assert len(db_all(bot, "SELECT id FROM audit_log WHERE action = 'directory.import'")) == len(
        audit
    )


async def test_cancel_changes_nothing(fake: FakeBotApi, bot: RunningBot) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    before = staff_state(bot)
    rows = [r for r in with_school_admin(example_rows()) if r["staff_id"] != "UB-007"]
    dry = await send(fake, admin, staff_xlsx(rows), "staff.xlsx")
    assert "cán bộ: 0 mới, 0 thay đổi, 1 ngừng" in (dry.text or ""), dry.text
    cancelled = await press(fake, admin, dry, "Hủy")
    assert "Đã hủy" in (cancelled.text or ""), cancelled.text
    shown = next(m for m in fake.messages(admin.id) if m.message_id == dry.message_id)
    assert not shown.buttons()  # «Áp dụng» and «Hủy» are gone from the dry run
    assert staff_state(bot) == before
    assert db_all(bot, "SELECT COUNT(*) FROM directory_uploads WHERE closed = 0") == [(0,)]


async def test_a_non_admin_document_is_refused(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    before = staff_state(bot)
    refused = await send(fake, teacher, staff_xlsx(example_rows()), "staff.xlsx")
    assert "Chỉ quản trị viên" in (refused.text or ""), refused.text
    assert staff_state(bot) == before
    assert db_all(bot, "SELECT COUNT(*) FROM directory_uploads") == [(0,)]


async def test_a_unit_admin_changes_only_their_units(fake: FakeBotApi, bot: RunningBot) -> None:
    school = await register(fake, SCHOOL_ADMIN, "TH-001")
    before = staff_state(bot)
    rows = with_school_admin(example_rows())
    other = [dict(r, phone="0912 000 997") if r["staff_id"] == "UB-004" else r for r in rows]
    mine = [r for r in other if r["unit_id"] == "HB-TH" or r["staff_id"] == "UB-004"]
    refused = await send(fake, school, staff_xlsx(mine), "truong.xlsx")
    assert "dòng 2: đơn vị: đơn vị «HB-UBND» không thuộc" in (refused.text or ""), refused.text
    assert not refused.buttons()
    off = await answer(fake, school, "/staff off UB-004")
    assert "chỉ được thay đổi" in (off.text or "").lower(), off.text
    move = await answer(fake, school, "/staff move TH-003 HB-THCS")
    assert "chỉ được thay đổi" in (move.text or "").lower(), move.text
    assert staff_state(bot) == before

    # Their own school's list without TH-004: only TH-004 leaves, the rest of the ward stays.
    school_only = [r for r in rows if r["unit_id"] == "HB-TH" and r["staff_id"] != "TH-004"]
    dry = await send(fake, school, staff_xlsx(school_only), "truong.xlsx")
    assert "cán bộ: 0 mới, 0 thay đổi, 1 ngừng" in (dry.text or ""), dry.text
    await press(fake, school, dry, "Áp dụng")
    after = {row[0]: row for row in staff_state(bot)}
    assert after["TH-004"][3] == 0
    assert [r for r in before if r[0] != "TH-004"] == [
        r for r in staff_state(bot) if r[0] != "TH-004"
    ]


async def test_template_and_export_round_trip(fake: FakeBotApi, bot: RunningBot) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    menu = await answer(fake, admin, "/directory")
    template = await press(fake, admin, menu, "Tải mẫu")
    assert template.kind == "document" and template.document is not None
    sheet = load_workbook(BytesIO(template.document["data"])).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Mã cán bộ", "Họ và tên", "Số điện thoại") and len(values) == 2

    exported = await answer(fake, admin, "/directory export")
    assert exported.kind == "document" and exported.document is not None
    data = exported.document["data"]
    people = load_workbook(BytesIO(data)).active
    assert people is not None and people.max_row == 1 + len(example_rows())
    before = staff_state(bot)
    dry = await send(fake, admin, data, "danh-sach.xlsx")
    text = dry.text or ""
    assert "cán bộ: 0 mới, 0 thay đổi, 0 ngừng" in text, text
    await press(fake, admin, dry, "Áp dụng")
    assert staff_state(bot) == before


async def test_staff_move_and_off_with_the_approver_check(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    move = await answer(fake, admin, "/staff move UB-004 HB-TYT")
    assert "cán bộ: 0 mới, 1 thay đổi, 0 ngừng" in (move.text or ""), move.text
    await press(fake, admin, move, "Áp dụng")
    assert db_all(bot, "SELECT unit_id FROM staff WHERE staff_id = 'UB-004'") == [("HB-TYT",)]

    # HB-003 alone holds ubnd_chair, the approver of every dept_head: refused, nothing changed.
    before = staff_state(bot)
    refused = await answer(fake, admin, "/staff off HB-003")
    assert "Không nhập" in (refused.text or "") and "ubnd_chair" in (refused.text or ""), (
        refused.text
    )
    assert not refused.buttons()
    assert staff_state(bot) == before

    off = await answer(fake, admin, "/staff off UB-005")
    assert "cán bộ: 0 mới, 0 thay đổi, 1 ngừng" in (off.text or ""), off.text
    done = await press(fake, admin, off, "Áp dụng")
    assert "Đã cập nhật" in (done.text or "")
    assert db_all(bot, "SELECT active FROM staff WHERE staff_id = 'UB-005'") == [(0,)]


async def test_staff_add_in_a_short_conversation(fake: FakeBotApi, bot: RunningBot) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    question = await answer(fake, admin, "/staff add")
    assert "«;»" in (question.text or "")
    again = await answer(fake, admin, "UB-050; Nguyễn Văn An")  # too few parts: asked again
    assert "5 đến 7 phần" in (again.text or ""), again.text
    dry = await answer(
        fake, admin, "UB-050; Nguyễn Văn An; 0912 000 050; HB-UBND; staff; Chuyên viên"
    )
    assert "cán bộ: 1 mới, 0 thay đổi, 0 ngừng" in (dry.text or ""), dry.text
    await press(fake, admin, dry, "Áp dụng")
    assert db_all(bot, "SELECT full_name, phone, active FROM staff WHERE staff_id = 'UB-050'") == [
        ("Nguyễn Văn An", "+84912000050", 1)
    ]


async def test_a_file_over_the_limit_is_refused_before_it_is_fetched(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    """IMPORT_MAX_BYTES is checked on getFile's size: the file is never downloaded."""
    assert (await load_examples(db_path, clock)).applied
    async with RunningBot(make_settings(fake, db_path, import_max_bytes=2_000), clock):
        admin = await register(fake, ADMIN, "DU-003")
        data = staff_xlsx(example_rows())
        assert len(data) > 2_000
        refused = await send(fake, admin, data, "staff.xlsx")
        assert "IMPORT_MAX_BYTES" in (refused.text or ""), refused.text
        assert not list((db_path.parent / "files").rglob("*.xlsx"))  # never downloaded
        old = await send(fake, admin, b"\xd0\xcf\x11\xe0 old excel", "staff.xls")
        assert ".xls" in (old.text or "") and "xlsx" in (old.text or ""), old.text
        assert db_rows(db_path, "SELECT COUNT(*) FROM directory_uploads") == [(0,)]


async def test_sent_files_are_deleted_once_applied_cancelled_or_expired(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    uploads = bot.settings.files_folder / "uploads"
    rows = [r for r in with_school_admin(example_rows()) if r["staff_id"] != "UB-007"]
    dry = await send(fake, admin, staff_xlsx(rows), "a.xlsx")
    assert [p.name.endswith("-a.xlsx") for p in uploads.rglob("*.xlsx")] == [True]
    await send(fake, admin, staff_xlsx(rows[:-1]), "b.xlsx")  # a newer staff file: a.xlsx goes
    await fake.wait_for(lambda: len(list(uploads.rglob("*.xlsx"))) == 1, timeout=10)
    assert [p.name.endswith("-b.xlsx") for p in uploads.rglob("*.xlsx")] == [True]
    assert dry.buttons()
    clock.advance(timedelta(minutes=31))  # nobody tapped «Áp dụng»: the batch expires
    await fake.wait_for(lambda: not list(uploads.rglob("*.xlsx")), timeout=10)
    # the row is marked removed after its file is gone, in a commit of its own
    await fake.wait_for(
        lambda: db_all(bot, "SELECT COUNT(*) FROM directory_uploads WHERE removed = 0") == [(0,)]
    )


async def test_a_units_file_alone_keeps_the_people_and_unit_admins_may_not_send_one(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    school = await register(fake, SCHOOL_ADMIN, "TH-001")
    text = (EXAMPLES / "units.csv").read_text(encoding="utf-8")
    renamed = text.replace("Tổ dân phố số 1,", "Tổ dân phố số 1 (mới),").encode()
    before = staff_state(bot)
    refused = await send(fake, school, renamed, "units.csv")
    assert (
        "units.csv, dòng 1: tệp: chỉ quản trị viên cấp quận" in (refused.text or "")
        and not refused.buttons()
    ), refused.text
    dry = await send(fake, admin, renamed, "units.csv")
    text = dry.text or ""
    assert "đơn vị: 0 mới, 1 thay đổi; cán bộ: 0 mới, 0 thay đổi, 0 ngừng" in text, text
    await press(fake, admin, dry, "Áp dụng")
    assert db_all(bot, "SELECT name FROM units WHERE unit_id = 'HB-TDP1'") == [
        ("Tổ dân phố số 1 (mới)",)
    ]
    assert staff_state(bot) == before


async def test_a_routing_file_naming_a_role_nobody_holds_is_refused(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    rules = (EXAMPLES / "routing.toml").read_text(encoding="utf-8")
    broken = rules.replace('approver = "role:ubnd_chair"', 'approver = "role:chu_tich_moi"')
    assert broken != rules
    before = db_all(bot, "SELECT * FROM routing_rules ORDER BY position")
    refused = await send(fake, admin, broken.encode(), "routing.toml")
    text = refused.text or ""
    assert "routing.toml, dòng" in text and "chu_tich_moi" in text, text
    assert db_all(bot, "SELECT * FROM routing_rules ORDER BY position") == before
