"""Issue 14, section E (items 17–24): search, registers, unread, digests, exports, /unit, routing.

Each test is named after its item and failed before the fix. End-to-end tests run the real bot
against the sandbox on a real SQLite file; the clock starts on Wednesday 26/05/2021 09:00.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from functools import cache
from io import BytesIO
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.domain.clock import VIETNAM, ManualClock
from bot.domain.directory import Directory, resolve_route
from bot.domain.directory_files import load_directory
from bot.domain.models import Staff, Unit, UnitKind
from bot.domain.text import fold
from bot.domain.work_calendar import public_holidays_during
from bot.services.registration.tabular import read_table
from storage.db import to_db_time
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import (
    RunningBot,
    database_env,
    db_connect,
    load_examples,
    make_settings,
    register,
)
from tests.paths import EXAMPLES, ROOT
from tests.test_e2e_broadcast import compose, latest
from tests.test_e2e_oversight import seed_trip
from tests.test_e2e_travel import submit


@cache
def examples() -> Directory:
    loaded = load_directory(
        read_table(EXAMPLES / "units.csv"),
        read_table(EXAMPLES / "staff.csv"),
        (EXAMPLES / "routing.toml").read_text(encoding="utf-8"),
    )
    assert loaded.directory is not None, loaded.problems
    return loaded.directory


async def say(fake: FakeBotApi, user: FakeUser, text: str) -> SentMessage:
    fake.send_text(user, text)
    return await fake.next_message(user.id)


# --------------------------------------------------------------------------- 17: name search


def _named(*names: str) -> Directory:
    unit = Unit("U", "Đơn vị", UnitKind.WARD)
    people = [
        Staff(f"s{i}", name, f"+8491200{i:04d}", "U", "staff") for i, name in enumerate(names)
    ]
    return Directory([unit], people, [])


def test_item17_search_ranks_whole_word_first() -> None:
    directory = _named("Nguyễn Thị Phương", "Lê Thị Hường", "Đinh Thị Thu Hương", "Hà Văn Nam")
    # whole words (file order between equals), then inside a word; no match left out
    assert [p.full_name for p in directory.search("huong")] == [
        "Lê Thị Hường",
        "Đinh Thị Thu Hương",
        "Nguyễn Thị Phương",
    ]
    # the start of a word before the inside of one
    assert [p.full_name for p in directory.search("huon")][-1] == "Nguyễn Thị Phương"
    assert [p.full_name for p in directory.search("na")] == ["Hà Văn Nam"]


def test_item17_search_puts_exact_diacritics_first_within_a_rank() -> None:
    directory = _named("Nguyễn Thị Phương", "Lê Thị Hường", "Đinh Thị Thu Hương")
    assert [p.full_name for p in directory.search("Hương")] == [
        "Đinh Thị Thu Hương",
        "Lê Thị Hường",
        "Nguyễn Thị Phương",
    ]
    assert [p.full_name for p in directory.search("hương", limit=1)] == ["Đinh Thị Thu Hương"]


@given(st.lists(st.sampled_from(["Hương", "Hường", "Phương", "Thu", "Hà", "Nam"]), min_size=1,
                max_size=4), st.text(max_size=6))  # fmt: skip
@settings(max_examples=200, deadline=None)
def test_item17_search_finds_every_folded_match_once(words: list[str], typed: str) -> None:
    names = [" ".join(words[i:] + words[:i]) for i in range(len(words))]
    directory = _named(*names)
    found = directory.search(typed, limit=100)
    expected = {f"s{i}" for i, n in enumerate(names) if fold(typed) and fold(typed) in fold(n)}
    assert sorted(p.staff_id for p in found) == sorted(expected)


def _staff_with_namesakes(tmp: Path) -> Path:
    """The sample staff, then eight «Nguyễn Thị Phương» and one «Đinh Thị Thu Hương» at the
    primary school: in file order she comes ninth."""
    rows = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").rstrip("\n").splitlines()
    for i in range(8):
        rows.append(f"TH-P{i};Nguyễn Thị Phương;0913 000 10{i};HB-TH;Giáo viên;staff;;")
    rows.append("TH-H;Đinh Thị Thu Hương;0913 000 200;HB-TH;Giáo viên;staff;;")
    path = tmp / "staff.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


async def test_item17_case_name_search_offers_her_first_and_more(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    outcome = await load_examples(db_path, clock, staff=_staff_with_namesakes(tmp_path))
    assert outcome.applied, outcome.problems
    async with RunningBot(make_settings(fake, db_path), clock):
        principal = await register(fake, 9301, "TH-001")
        await say(fake, principal, "/case")
        picker = await say(fake, principal, "huong")
        first = _picks(picker)
        assert first[0][0].startswith("Đinh Thị Thu Hương")  # a whole word, before eight «Phương»
        assert len(first) == 6
        fake.press(principal, picker, picker.callback_data("Xem thêm"))
        await fake.wait_for(lambda: bool(picker.edits))  # the same message shows its next page
        rest = _picks(picker)
        assert len(rest) == 3 and picker.callback_data("Quay lại")
        assert not any("Xem thêm" in text for text in picker.button_texts())
        offered = [data for _, data in first + rest]
        assert len(offered) == len(set(offered)) == 9  # everyone matching, each once
        fake.press(principal, picker, rest[0][1])
        level = await fake.next_message(principal.id)
        assert level.callback_data("F0")  # picking from the second page goes on as from the first


def _picks(message: SentMessage) -> list[tuple[str, str]]:
    """(text, data) of the person buttons of a name picker."""
    return [
        (str(b["text"]), str(b["callback_data"]))
        for row in message.buttons()
        for b in row
        if str(b.get("callback_data", "")).startswith("cs:p:")
    ]


# --------------------------------------------------------------------------- 18: the register


NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)


def seed_request(
    db: Path, request_id: int, staff_id: str, *, made: datetime, leaves: datetime, status: str
) -> None:
    seed_trip(db, request_id, staff_id, state=None, departed=leaves,
              back=leaves + timedelta(days=2), status=status)  # fmt: skip
    with db_connect(db) as conn:
        conn.execute(
            "UPDATE travel_requests SET created_at = ? WHERE id = ?", (to_db_time(made), request_id)
        )


async def export_last_30_days(fake: FakeBotApi, user: FakeUser, what: str) -> SentMessage:
    menu = await say(fake, user, "/export")
    before = len(fake.messages(user.id))
    fake.press(user, menu, f"ox:x:{what}")
    await fake.wait_for(lambda: any(m.kind == "document" for m in fake.messages(user.id)[before:]))
    return next(m for m in fake.messages(user.id)[before:] if m.kind == "document")


def sheet_rows(document: SentMessage) -> list[tuple[object, ...]]:
    assert document.document is not None
    sheet = load_workbook(BytesIO(document.document["data"])).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


async def test_item18_last_30_days_register_lists_requests_made_in_the_period(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    db = bot.settings.database_path
    day = timedelta(days=1)
    await asyncio.to_thread(seed_request, db, 1, "TH-003", made=NOW - 6 * day,
                            leaves=NOW + 10 * day, status="approved")  # fmt: skip
    await asyncio.to_thread(seed_request, db, 2, "TH-004", made=NOW - day,
                            leaves=NOW + 3 * day, status="pending")  # fmt: skip
    # denied: an approved trip back 18 days ago, never reported, would have the sweep tell the
    # head (while she registers) that it is not reported yet
    await asyncio.to_thread(seed_request, db, 3, "TH-006", made=NOW - 40 * day,
                            leaves=NOW - 20 * day, status="denied")  # fmt: skip
    principal = await register(fake, 9302, "TH-001")
    rows = sheet_rows(await export_last_30_days(fake, principal, "travel"))
    assert rows[0][4:6] == ("Số phiếu", "Ngày đề nghị")
    assert [r[4] for r in rows[1:]] == [1, 2]  # made in the period, whenever the trip is
    assert rows[1][5] == (NOW - 6 * day).strftime("%d/%m/%Y %H:%M")


# --------------------------------------------------------------------------- 19: unread


async def test_item19_unread_is_counted_the_same_in_who_has_not_read_unit_and_district(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, 9311, "DU-003")
    teacher = await register(fake, 9312, "TH-003")
    principal = await register(fake, 9313, "TH-001")
    preview = await compose(fake, admin, "Yêu cầu cán bộ không rời khỏi địa bàn.")
    fake.press(admin, preview[-1], preview[-1].callback_data("Gửi ngay"))
    await bot.services.sender.drain()

    def directive(user: FakeUser) -> list[SentMessage]:
        return [m for m in fake.messages(user.id) if "Đã đọc" in "".join(m.button_texts())]

    await fake.wait_for(lambda: bool(directive(principal) and directive(teacher)))
    copy = directive(principal)[-1]
    fake.press(principal, copy, copy.callback_data("Đã đọc"))
    await fake.wait_for(lambda: bool(copy.edits))  # the teacher got it and has not read it
    # HB-TH: the teacher has not read it; four colleagues never opened the bot.
    listing = await latest(fake, principal, "/directives", "Văn bản chỉ đạo gần đây")
    fake.press(principal, listing, listing.callback_data("Ai chưa đọc"))
    await fake.wait_for(lambda: "Chưa đọc" in (fake.messages(principal.id)[-1].text or ""))
    who = fake.messages(principal.id)[-1].text or ""
    assert "(1 người)" in who and "Lại Thị Diệu Linh" in who
    apart = next(line for line in who.splitlines() if "Chưa đăng ký" in line)
    assert "(4)" in apart and "Âu Văn Phúc" in apart and "Lại Thị Diệu Linh" not in apart

    unit = await latest(fake, principal, "/unit", "Trường Tiểu học")
    section = (unit.text or "").split("📄", 1)[1]
    assert section.splitlines()[0].endswith("(1):")
    assert "Lại Thị Diệu Linh" in section.splitlines()[1]
    assert "Chưa đăng ký dùng bot nên không nhận được (4)" in section

    district = await latest(fake, admin, "/district", "đơn vị")
    school = next(line for line in (district.text or "").splitlines() if "Tiểu học" in line)
    assert school.endswith("chưa đọc 1 (+4 người chưa đăng ký)")

    register_rows = sheet_rows(await export_last_30_days(fake, principal, "acks"))
    states = {r[2]: r[-1] for r in register_rows[1:]}
    assert states["Lại Thị Diệu Linh"] == "chưa đọc"
    assert states["Âu Văn Phúc"] == "chưa đăng ký với bot"  # apart, in the read-list's words


# --------------------------------------------------------------------------- 20: the digest


async def test_item20_digest_counts_unreported_returns_from_when_the_person_is_asked(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    db = bot.settings.database_path
    assert bot.settings.return_grace == timedelta(hours=6)
    digest_at = datetime(2021, 5, 27, 7, 30, tzinfo=VIETNAM)
    # Phúc was due back 11 h before the digest: asked again at 02:00, still silent. Linh was due
    # back at 05:00: she is asked again only at 11:00, so the digest does not count her yet.
    await asyncio.to_thread(seed_trip, db, 1, "TH-004", state="away", departed=NOW - timedelta(days=1),
                            back=digest_at - timedelta(hours=11))  # fmt: skip
    await asyncio.to_thread(seed_trip, db, 2, "TH-003", state="away", departed=NOW,
                            back=digest_at - timedelta(hours=2, minutes=30))  # fmt: skip
    principal = await register(fake, 9321, "TH-001")
    await bot.services.sweeper.tick()  # the schedule: tomorrow 07:30
    clock.set(digest_at)
    await bot.services.sweeper.tick()
    await fake.wait_for(lambda: bool(_digests(fake, principal)))
    assert "chưa báo đã về: 1 người" in _digests(fake, principal)[0]

    unit = (await latest(fake, principal, "/unit", "Trường Tiểu học")).text or ""
    not_back = unit.split("❓ Chưa báo đã về (1):", 1)[1].split("\n\n", 1)[0]
    assert "Âu Văn Phúc" in not_back and "Lại Thị Diệu Linh" not in not_back
    assert "Lại Thị Diệu Linh" in unit.split("✈️", 1)[1].split("\n\n", 1)[0]  # still away


def _digests(fake: FakeBotApi, user: FakeUser) -> list[str]:
    return [m.text or "" for m in fake.messages(user.id) if "Chào buổi sáng" in (m.text or "")]


# --------------------------------------------------------------------------- 21: exports


async def test_item21_directive_read_list_has_the_register_style_and_a_clerks_file_name(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, 9331, "DU-003")
    await register(fake, 9332, "TH-003")
    preview = await compose(fake, admin, "Yêu cầu cán bộ không rời khỏi địa bàn.")
    fake.press(admin, preview[-1], preview[-1].callback_data("Gửi ngay"))
    await bot.services.sender.drain()
    view = await latest(fake, admin, "/broadcast 1", "Văn bản #1:")
    before = len(fake.messages(admin.id))
    fake.press(admin, view, view.callback_data("Xuất"))
    await fake.wait_for(lambda: any(m.kind == "document" for m in fake.messages(admin.id)[before:]))
    export = next(m for m in fake.messages(admin.id)[before:] if m.kind == "document")
    assert export.document is not None
    assert export.document["file_name"] == "tinh-hinh-doc-van-ban-1061-ubnd-vp_26-05-2021.xlsx"
    book = load_workbook(BytesIO(export.document["data"]))
    assert book.sheetnames == ["#1", "Văn bản"]  # the directive itself (sign-off) last
    sheet = book["#1"]
    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert header[:4] == ("STT", "Đơn vị", "Họ và tên", "Chức vụ")  # as the other registers
    assert all(cell.font.bold for cell in sheet[1]) and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 30 and sheet.column_dimensions["C"].width == 26
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 40 and [r[0] for r in rows[:3]] == [1, 2, 3]


async def test_item21_register_file_names_say_what_and_when(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    principal = await register(fake, 9333, "TH-001")
    names = [
        await exported_name(fake, principal, f"/export {what} 01/05/2021 31/05/2021")
        for what in ("travel", "returns", "acks", "health")
    ]
    assert names == [
        "so-theo-doi-di-lai_01-05-2021_31-05-2021.xlsx",
        "so-theo-doi-tro-ve_01-05-2021_31-05-2021.xlsx",
        "theo-doi-doc-van-ban_01-05-2021_31-05-2021.xlsx",
        "bao-cao-y-te_01-05-2021_31-05-2021.xlsx",
    ]
    one_unit = await exported_name(fake, principal, "/export travel 01/05/2021 31/05/2021 HB-TH")
    assert one_unit == "so-theo-doi-di-lai_truong-tieu-hoc-hoa-binh-mau_01-05-2021_31-05-2021.xlsx"


async def exported_name(fake: FakeBotApi, user: FakeUser, command: str) -> str:
    before = len(fake.messages(user.id))
    fake.send_text(user, command)
    if command.startswith("/export health"):  # health data asks why it is exported first
        await fake.wait_for(lambda: len(fake.messages(user.id)) > before)
        assert "mục đích" in (fake.messages(user.id)[before].text or "")
        fake.send_text(user, "Báo cáo Trung tâm Y tế quận")
    await fake.wait_for(lambda: any(m.kind == "document" for m in fake.messages(user.id)[before:]))
    got = next(m for m in fake.messages(user.id)[before:] if m.kind == "document")
    assert got.document is not None
    return str(got.document["file_name"])


@given(st.text(max_size=120))
def test_item21_file_slugs_are_safe(text: str) -> None:
    from bot.domain.text import file_slug

    slug = file_slug(text)
    assert slug and len(slug) <= 60 and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert not slug.startswith(("-", ".")) or slug == "-"


# --------------------------------------------------------------------------- 22: /unit


async def test_item22_unit_lists_a_person_once_with_one_button(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    db = bot.settings.database_path
    day = timedelta(days=1)
    # Linh is away on two trips; Phúc never reported back from two.
    for request_id, back in ((1, NOW + day), (2, NOW + 2 * day)):
        await asyncio.to_thread(seed_trip, db, request_id, "TH-003", state=None,
                                departed=NOW - day, back=back)  # fmt: skip
    for request_id, back in ((3, NOW - 2 * day), (4, NOW - day)):
        await asyncio.to_thread(seed_trip, db, request_id, "TH-004", state="away",
                                departed=back - day, back=back)  # fmt: skip
    principal = await register(fake, 9341, "TH-001")
    unit = await latest(fake, principal, "/unit", "Trường Tiểu học")
    text = unit.text or ""
    assert text.count("Lại Thị Diệu Linh") == 1 and text.count("Âu Văn Phúc") == 1
    assert "✈️ Đang đi vắng (1):" in text and "❓ Chưa báo đã về (1):" in text
    assert "và 1 chuyến khác" in text
    asks = [b for b in unit.button_texts() if "Âu Văn Phúc" in b and "Hỏi" in b]
    assert len(asks) == 1
    violations = [b for b in unit.button_texts() if "Âu Văn Phúc" in b and "⚠️" in b]
    assert len(violations) == 1, "one violation button a person, however many trips"


# --------------------------------------------------------------------------- 23: leader above, holiday


def test_item23_leader_above_includes_the_head_of_a_role_approvers_unit() -> None:
    # A principal is decided by the vice-chair for education (HB-004), whose own unit is the
    # ward: its head, the Party secretary HB-001, is the leader above.
    route = resolve_route(examples(), "TH-001")
    assert route.deciders == ("HB-004",)
    assert route.above == ("HB-001",)


def test_item23_directory_show_prints_the_leader_above(db_path: Path) -> None:
    env = dict(os.environ, **database_env(db_path), TELEGRAM_BOT_TOKEN="")
    env.pop("DEFAULT_LANGUAGE", None)

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "directory", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return done.stdout

    cli("import", "--units", str(EXAMPLES / "units.csv"), "--staff", str(EXAMPLES / "staff.csv"),
        "--routing", str(EXAMPLES / "routing.toml"))  # fmt: skip
    shown = cli("show", "TH-001")
    above = next(line for line in shown.splitlines() if line.startswith("Lãnh đạo cấp trên"))
    assert "Nguyễn Văn Hùng" in above


async def test_item23_the_party_secretary_may_decide_a_principals_request(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    principal = await register(fake, 9353, "TH-001")
    secretary = await register(fake, 9354, "HB-001")  # heads the vice-chair's own unit
    await register(fake, 9355, "HB-004")
    await submit(fake, principal)  # a weekend trip: the vice-chair for education decides
    listed = await latest(fake, secretary, "/pending", "Châu Thị Bích Ngọc")
    fake.press(secretary, listed, listed.callback_data("Phê duyệt"))

    def approved() -> list[str]:
        return [
            m.text or "" for m in fake.messages(principal.id) if "Đã phê duyệt" in (m.text or "")
        ]

    await fake.wait_for(lambda: bool(approved()))
    assert "Nguyễn Văn Hùng" in approved()[0]


def test_item23_public_holidays_during_a_trip_are_named() -> None:
    leave = datetime(2021, 9, 1, 18, 0, tzinfo=VIETNAM)
    found = public_holidays_during(leave, datetime(2021, 9, 3, 0, 0, tzinfo=VIETNAM))
    assert found == [(date(2021, 9, 2), "Quốc khánh")]  # back at midnight: not on the 3rd
    english = public_holidays_during(leave, leave + timedelta(days=3), "en")
    assert [d.day for d, _ in english] == [2, 3] and "National" in english[0][1]
    assert public_holidays_during(leave, leave + timedelta(hours=2)) == []


async def test_item23_approver_is_told_which_holiday_needs_the_approval(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    clock.set(datetime(2021, 8, 30, 9, 0, tzinfo=VIETNAM))  # Monday; Thursday 02/09 is Quốc khánh
    teacher = await register(fake, 9351, "TH-003")
    principal = await register(fake, 9352, "TH-001")
    # Within working hours, but on a public holiday: approval needed because of the holiday.
    await submit(fake, teacher, leave="02/09/2021 08:00", back="02/09/2021 16:00")
    request = await fake.next_message(principal.id)
    reason = next(line for line in (request.text or "").splitlines() if "Cần phê duyệt vì" in line)
    assert "Quốc khánh 02/09/2021" in reason


# --------------------------------------------------------------------------- 24: the sample tree


def test_item24_last_rule_notifies_both_offices() -> None:
    directory = examples()
    route = resolve_route(directory, "TH-003")  # a teacher: the last rule
    assert route.notify == ("DU-001", "UB-001")  # Văn phòng Đảng ủy and Văn phòng HĐND-UBND


def test_item24_the_office_chief_is_not_a_leader_above_teachers() -> None:
    directory = examples()
    for unit_id in ("HB-TH", "HB-THCS", "HB-TYT"):
        assert [u.unit_id for u in directory.ancestors(unit_id)] == ["HB"]
    teacher = resolve_route(directory, "TH-003")
    assert teacher.deciders == ("TH-001",) and teacher.above == ("HB-001",)
    assert "UB-001" not in resolve_route(directory, "YT-004").above


async def test_item24_both_offices_are_told_of_a_teachers_approved_trip(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, 9361, "TH-003")
    principal = await register(fake, 9362, "TH-001")
    party_office = await register(fake, 9363, "DU-001")
    ubnd_office = await register(fake, 9364, "UB-001")
    await submit(fake, teacher)
    request = await fake.next_message(principal.id)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    for office in (party_office, ubnd_office):
        told = await fake.next_message(office.id)
        assert "Lại Thị Diệu Linh" in (told.text or "") and not told.buttons()
