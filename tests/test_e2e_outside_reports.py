"""A case report prepared for a body outside the bot (contacts.csv: the city health department),
handed to the duty officer with the file, and «📤 Đã gửi» recorded once; end to end over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.clock import ManualClock
from bot.services.duty.roster import import_roster
from storage.engine import open_database
from storage.repos import AuditRepo
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import (
    PHONES,
    RunningBot,
    database_target,
    db_value,
    load_examples,
    make_settings,
    register,
)
from tests.paths import EXAMPLES
from tests.test_e2e_health import answer, press

PHONES.setdefault("HB-005", "(+84) 912 000 005")  # Hoàng Minh Đức, vice chair
PHONES.setdefault("HB-004", "84 912 000 004")  # Phạm Thị Ngọc Ánh, vice chair
PHONES.setdefault("UB-004", "0912 000 016")  # Đinh Thị Thu Hà

PRINCIPAL, DUTY, TEACHER, NURSE, ON_DUTY = 861, 862, 863, 864, 865


@pytest.fixture
async def contacts_bot(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    outcome = await load_examples(db_path, clock, contacts=EXAMPLES / "contacts.csv")
    assert outcome.applied and outcome.contacts == 2, outcome.problems
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        yield running


async def message_of(fake: FakeBotApi, user: FakeUser, kind: str, contains: str) -> SentMessage:
    """The first message of that kind whose text or caption has `contains`, once it is there."""

    def found() -> SentMessage | None:
        for message in fake.messages(user.id):
            body = (message.text or "") + (message.caption or "")
            if message.kind == kind and contains in body:
                return message
        return None

    await fake.wait_for(lambda: found() is not None)
    message = found()
    assert message is not None
    return message


def sheet_rows(data: bytes) -> list[tuple[object, ...]]:
    return list(load_workbook(BytesIO(data)).worksheets[0].iter_rows(values_only=True))


async def open_case(fake: FakeBotApi, principal: FakeUser, name: str, outside: bool) -> None:
    await answer(fake, principal, "/case")
    pick = await answer(fake, principal, name)
    label = "Người ngoài danh bạ" if outside else name
    level = await press(fake, principal, pick, label)
    scenario = await press(fake, principal, level, "F0")
    created = await press(fake, principal, scenario, "PA2")
    assert "#1" in (created.text or "")


async def test_a_case_goes_to_the_health_department_through_the_duty_officer(
    fake: FakeBotApi, contacts_bot: RunningBot
) -> None:
    office_head = await register(fake, PRINCIPAL, "UB-001")
    duty = await register(fake, DUTY, "UB-003")
    nurse = await register(fake, NURSE, "YT-003")
    await register(fake, TEACHER, "UB-004")
    await open_case(fake, office_head, "Đinh Thị Thu Hà", outside=False)

    report = await message_of(fake, duty, "text", "Sở Y tế")
    text = report.text or ""
    assert "Phòng Nghiệp vụ Y - Sở Y tế (mẫu)" in text and "02430000900" in text, text
    assert "F0 Đinh Thị Thu Hà" in text and "CDC" not in text, "only those told of F0"
    sheet = await message_of(fake, duty, "document", "Sở Y tế")
    assert sheet.document is not None and sheet.document["file_name"].endswith(".xlsx")
    rows = sheet_rows(sheet.document["data"])
    assert rows[1][1:4] == ("F0", "Đinh Thị Thu Hà", None), rows
    assert rows[1][5] == "0912000016"

    refused = fake.press(nurse, report, report.callback_data("Đã gửi Sở Y tế"))
    await fake.wait_for(lambda: fake.answer_for(refused) is not None)
    assert "trực" in fake.answer_for(refused)["text"]  # type: ignore[index]

    pressed = fake.press(duty, report, report.callback_data("Đã gửi Sở Y tế"))
    await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
    answered = fake.answer_for(pressed)["text"]  # type: ignore[index]
    assert "Đã ghi nhận" in answered and "26/05/2021 09:00" in answered, answered
    await fake.wait_for(lambda: "lúc 26/05/2021 09:00" in " ".join(report.button_texts()))

    contacts_bot.clock.advance(timedelta(minutes=7))
    again = fake.press(duty, report, report.callback_data("Sở Y tế"))
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    repeated = fake.answer_for(again)["text"]  # type: ignore[index]
    assert "đã ghi nhận" in repeated.lower() and "26/05/2021 09:00" in repeated, repeated
    assert "Trịnh Văn Khánh" in repeated
    db = contacts_bot.settings.database_path
    assert db_value(db, "SELECT sent_by FROM outside_reports WHERE id = 1") == "UB-003"
    assert db_value(db, "SELECT COUNT(*) FROM outside_reports") == 1
    async with contacts_bot.services.db.reading() as tx:
        sent = await AuditRepo(tx).recent(contacts_bot.clock.tz, "case.outside.sent")
    assert [(a.actor, a.object) for a in sent] == [("UB-003", "outside:1")]


async def test_a_typed_name_stays_text_in_the_file(
    fake: FakeBotApi, contacts_bot: RunningBot
) -> None:
    office_head = await register(fake, PRINCIPAL, "UB-001")
    duty = await register(fake, DUTY, "UB-003")
    await open_case(fake, office_head, "=HYPERLINK(1)", outside=True)
    sheet = await message_of(fake, duty, "document", "Sở Y tế")
    assert sheet.document is not None
    rows = sheet_rows(sheet.document["data"])
    assert rows[1][2] == "'=HYPERLINK(1)"


async def test_without_contacts_no_outside_report(fake: FakeBotApi, bot: RunningBot) -> None:
    principal = await register(fake, PRINCIPAL, "TH-001")
    duty = await register(fake, DUTY, "UB-003")
    await open_case(fake, principal, "Lại Thị Diệu Linh", outside=False)
    await fake.next_message(principal.id)  # the tree
    assert not any("Sở Y tế" in (m.text or "") for m in fake.messages(duty.id))
    assert db_value(bot.settings.database_path, "SELECT COUNT(*) FROM outside_reports") == 0


async def test_with_a_roster_the_report_goes_to_whoever_is_on_duty_now(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    outcome = await load_examples(db_path, clock, contacts=EXAMPLES / "contacts.csv")
    assert outcome.applied, outcome.problems
    roster = tmp_path / "duty.csv"
    roster.write_text(
        "unit_id,date,from,to,staff_id,phone\nHB,26/05/2021,06:00,14:00,HB-005,\n",
        encoding="utf-8",
    )
    db = await open_database(database_target(db_path))
    try:
        assert (await import_roster(db, clock, roster, dry_run=False)).applied
    finally:
        await db.close()
    async with RunningBot(make_settings(fake, db_path), clock):
        principal = await register(fake, PRINCIPAL, "TH-001")
        on_duty = await register(fake, ON_DUTY, "HB-005")
        role_holder = await register(fake, DUTY, "UB-003")
        await open_case(fake, principal, "Lại Thị Diệu Linh", outside=False)
        report = await message_of(fake, on_duty, "text", "Sở Y tế")
        await message_of(fake, on_duty, "document", "Sở Y tế")
        refused = fake.press(role_holder, report, report.callback_data("Đã gửi Sở Y tế"))
        await fake.wait_for(lambda: fake.answer_for(refused) is not None)
        assert "trực" in fake.answer_for(refused)["text"]  # type: ignore[index]
        assert not any("Sở Y tế" in (m.text or "") for m in fake.messages(role_holder.id))


async def test_a_school_case_without_a_roster_skips_the_duty_officer_of_another_office(
    fake: FakeBotApi, contacts_bot: RunningBot
) -> None:
    """The ward office's duty officer is not on the school's side of the tree: without a roster
    the report goes to the duty officers of the school and the units above, here nobody, so to
    the reporter."""
    principal = await register(fake, PRINCIPAL, "TH-001")
    duty = await register(fake, DUTY, "UB-003")
    await register(fake, TEACHER, "TH-003")
    await open_case(fake, principal, "Lại Thị Diệu Linh", outside=False)
    await message_of(fake, principal, "text", "Sở Y tế")
    assert not any("Sở Y tế" in (m.text or "") for m in fake.messages(duty.id))


async def test_sent_is_shown_on_every_copy_handed_out(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    outcome = await load_examples(db_path, clock, contacts=EXAMPLES / "contacts.csv")
    assert outcome.applied, outcome.problems
    roster = tmp_path / "duty.csv"
    roster.write_text(
        "unit_id,date,from,to,staff_id,phone\n"
        "HB,26/05/2021,06:00,14:00,HB-005,\nHB,26/05/2021,06:00,14:00,HB-004,\n",
        encoding="utf-8",
    )
    db = await open_database(database_target(db_path))
    try:
        assert (await import_roster(db, clock, roster, dry_run=False)).applied
    finally:
        await db.close()
    async with RunningBot(make_settings(fake, db_path), clock):
        principal = await register(fake, PRINCIPAL, "TH-001")
        first = await register(fake, ON_DUTY, "HB-005")
        second = await register(fake, DUTY, "HB-004")
        await open_case(fake, principal, "Lại Thị Diệu Linh", outside=False)
        mine = await message_of(fake, first, "text", "Sở Y tế")
        theirs = await message_of(fake, second, "text", "Sở Y tế")
        pressed = fake.press(first, mine, mine.callback_data("Đã gửi Sở Y tế"))
        await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
        await fake.wait_for(
            lambda: all(
                "lúc 26/05/2021 09:00" in " ".join(c.button_texts()) for c in (mine, theirs)
            )
        )
        again = fake.press(second, theirs, theirs.callback_data("Sở Y tế"))
        await fake.wait_for(lambda: fake.answer_for(again) is not None)
        repeated = fake.answer_for(again)["text"]  # type: ignore[index]
        assert "Hoàng Minh Đức" in repeated and "26/05/2021 09:00" in repeated, repeated
