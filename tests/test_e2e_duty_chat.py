"""The duty roster kept from the chat (issue 18 §1), end to end over HTTP: an admin sends the
roster sheet (told from a staff file by its headers), gets the dry run with every problem as
«dòng N: …», applies it all or nothing; a unit admin only for their units; the template."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from openpyxl import Workbook, load_workbook

from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, register
from tests.test_e2e_directory_chat import answer, bot, db_all, press, send

__all__ = ["bot"]  # the fixture, shared with the directory's tests

ADMIN, SCHOOL_ADMIN = 881, 882
HEADER = ("Mã đơn vị", "Ngày", "Từ giờ", "Đến giờ", "Mã cán bộ", "Số điện thoại")


def roster_xlsx(rows: Sequence[tuple[str, ...]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(list(row))
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


GOOD = [
    ("HB", "25/05/2021", "22:00", "06:00", "HB-005", ""),
    ("HB-TH", "26/05/2021", "06:00", "14:00", "TH-004", "0912 999 004"),
]


def shifts(bot: RunningBot) -> list[tuple[object, ...]]:
    return db_all(bot, "SELECT unit_id, staff_id, phone FROM duty_shifts ORDER BY id")


async def test_a_bad_roster_is_refused_whole_then_the_fixed_one_is_applied(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    bad = [*GOOD, ("HB", "31/02/2021", "25:00", "06:00", "TH-004", "")]
    refused = await send(fake, admin, roster_xlsx(bad), "lich-truc.xlsx")
    text = refused.text or ""
    assert "Không nhập" in text and "dòng 4: ngày: «31/02/2021»" in text, text
    assert "dòng 4: từ giờ:" in text and "dòng 4: mã cán bộ: TH-004" in text, text
    assert not refused.buttons() and shifts(bot) == []
    kept = db_all(bot, "SELECT kind, closed FROM directory_uploads")
    assert kept == [("duty", 1)], "a refused file is closed: the sweep deletes it"

    dry = await send(fake, admin, roster_xlsx(GOOD), "lich-truc.xlsx")
    text = dry.text or ""
    assert "Chạy thử" in text and "2 ca cho 2 đơn vị" in text, text
    assert shifts(bot) == []
    apply = dry.callback_data("Áp dụng")
    done = await press(fake, admin, dry, "Áp dụng")
    assert "Đã nạp lịch trực: 2 ca" in (done.text or ""), done.text
    assert shifts(bot) == [("HB", "HB-005", None), ("HB-TH", "TH-004", "+84912999004")]
    audit = db_all(bot, "SELECT actor, details FROM audit_log WHERE action = 'duty.import'")
    assert len(audit) == 1 and audit[0][0] == "DU-003" and '"via":"chat"' in str(audit[0][1])
    tap = fake.press(admin, dry, apply)  # a second tap: applied once
    await fake.wait_for(lambda: fake.answer_for(tap) is not None, timeout=15)
    assert "không còn mở" in str(fake.answer_for(tap))
    assert len(db_all(bot, "SELECT id FROM audit_log WHERE action = 'duty.import'")) == 1

    again = await send(fake, admin, roster_xlsx(GOOD[:1]), "lich-truc.xlsx")
    assert "thay 1 ca" in (again.text or ""), again.text
    cancelled = await press(fake, admin, again, "Hủy")
    assert "lịch trực không thay đổi" in (cancelled.text or ""), cancelled.text
    assert len(shifts(bot)) == 2


async def test_a_unit_admin_sets_only_their_units_roster(fake: FakeBotApi, bot: RunningBot) -> None:
    school = await register(fake, SCHOOL_ADMIN, "TH-001")
    refused = await send(fake, school, roster_xlsx(GOOD), "lich-truc.xlsx")
    assert "dòng 2: đơn vị: đơn vị «HB» không thuộc" in (refused.text or ""), refused.text
    assert shifts(bot) == []
    dry = await send(fake, school, roster_xlsx(GOOD[1:]), "lich-truc.xlsx")
    await press(fake, school, dry, "Áp dụng")
    assert shifts(bot) == [("HB-TH", "TH-004", "+84912999004")]


async def test_the_roster_template_is_read_back_as_a_roster(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    menu = await answer(fake, admin, "/directory")
    template = await press(fake, admin, menu, "Mẫu lịch trực")
    assert template.kind == "document" and template.document is not None
    sheet = load_workbook(BytesIO(template.document["data"])).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == HEADER and len(values) == 2
    refused = await send(fake, admin, template.document["data"], "mau.xlsx")
    assert "dòng 2: đơn vị: không có đơn vị «VD»" in (refused.text or ""), refused.text
