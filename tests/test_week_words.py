"""Issue 14 §F: the words a district reads in its first week, end to end over HTTP against the
sandbox (clock on Wednesday 26/05/2021 09:00 unless a test moves it)."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.__main__ import main
from bot.config import Settings
from bot.domain.clock import VIETNAM
from bot.domain.phones import display_phone
from bot.domain.provinces import province_label
from bot.domain.text import nfc
from bot.i18n import LOCALES_DIR, Translations, po_path
from bot.services.health.alerts import area_description
from storage.health_repo import Area
from tests.fakebot import FakeBotApi, FakeUser
from tests.harness import RunningBot, load_examples, register
from tests.paths import EXAMPLES, ROOT
from tests.test_e2e_broadcast import SEED, collect_preview, compose
from tests.test_e2e_health import answer, report
from tests.test_e2e_travel import submit

TEACHER, PRINCIPAL, NURSE, ADMIN = 861, 862, 863, 864


async def _to_departure(
    fake: FakeBotApi, user_id: int, dest: str = "da nang"
) -> tuple[FakeUser, str]:
    """/travel up to the departure question; the traveller and that question's text."""
    teacher = await register(fake, user_id, "TH-003")
    await answer(fake, teacher, "/travel")
    await answer(fake, teacher, dest)
    question = await answer(fake, teacher, "12 Trần Phú, phường Hải Châu")
    return teacher, question.text or ""


async def test_item25_decimal_comma_in_temperatures(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Sốt"], "38.5")
    alert = await fake.next_message(principal.id)
    text = alert.text or ""
    assert "38,5 °C" in text and "38.5" not in text, text
    assert "37,5 °C" in text, text  # the threshold in the reason, too


async def test_item25_phone_numbers_as_written_in_vietnam(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Sốt"], "38,5")
    alert = await fake.next_message(principal.id)
    assert "+84" not in (alert.text or "") and "Điện thoại: 0912 " in (alert.text or "")
    assert display_phone("+84912000027") == "0912 000 027"
    assert display_phone("+842438123456") == "024 3812 3456"
    assert display_phone("not a phone") == "not a phone"


async def test_item25_monitor_shows_reasons_in_words(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Ho"], "37,6")
    fake.send_text(principal, "/monitor")
    listed = "Lại Thị Diệu Linh: theo dõi sức khỏe từ"
    await fake.wait_for(lambda: any(listed in (m.text or "") for m in fake.messages(principal.id)))
    entry = next(m for m in fake.messages(principal.id) if listed in (m.text or ""))
    text = entry.text or ""
    assert "(symptoms)" not in text and "báo có triệu chứng" in text, text
    assert "ngày ngày" not in text


async def test_item25_examples_follow_todays_date(fake: FakeBotApi, bot: RunningBot) -> None:
    bot.clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM))
    _, question = await _to_departure(fake, TEACHER)
    assert "04/12/2026 07:00" in question and "2021" not in question, question


async def test_item25_unread_date_says_not_recognised(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher, _ = await _to_departure(fake, TEACHER)
    reply = await answer(fake, teacher, "hôm kia kìa")
    assert "Chưa nhận dạng được ngày anh/chị nhập" in (reply.text or ""), reply.text
    assert "Tôi chưa đọc được" not in (reply.text or "")


async def test_item25_time_step_asks_for_a_time(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher, _ = await _to_departure(fake, TEACHER)
    asked = await answer(fake, teacher, "29/05/2021")
    assert "mấy giờ" in (asked.text or ""), asked.text
    reply = await answer(fake, teacher, "sáng sớm")
    text = reply.text or ""
    assert "Chưa nhận dạng được giờ anh/chị nhập" in text and "«07:30»" in text, text
    assert "ngày anh/chị nhập" not in text


async def test_item25_ho_chi_minh_city_is_written_tp(fake: FakeBotApi, bot: RunningBot) -> None:
    teacher, _ = await _to_departure(fake, TEACHER, dest="hcm")
    assert province_label("Hồ Chí Minh") == "TP. Hồ Chí Minh"
    assert province_label("Đà Nẵng") == "Đà Nẵng"
    await answer(fake, teacher, "29/05/2021 07:00")
    await answer(fake, teacher, "30/05/2021 18:00")
    question = await answer(fake, teacher, "Thăm gia đình")
    fake.press(teacher, question, question.callback_data("Không"))
    summary = await fake.next_message(TEACHER)
    assert "TP. Hồ Chí Minh" in (summary.text or ""), summary.text


def test_item25_periods_read_from_and_to() -> None:
    t = Translations().for_language("vi")
    area = Area(1, "Đà Nẵng", "Sơn Trà", date(2021, 5, 1), date(2021, 5, 15), "CDC", None)
    text = area_description(t, area)
    assert "từ ngày 1 tháng 5 năm 2021 đến ngày 15 tháng 5 năm 2021" in text, text


async def test_item27_health_officer_help_lists_case_and_export(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    nurse = await register(fake, NURSE, "YT-003")  # Kiều Thị Ngân, health_officer only
    helped = await answer(fake, nurse, "/help")
    assert "/case" in (helped.text or "") and "/export" in (helped.text or ""), helped.text
    commands = {c["command"] for c in fake.chat_commands(NURSE)}
    assert {"case", "export", "symptoms"} <= commands and "pending" not in commands


async def test_item27_each_chat_gets_the_command_menu_of_its_roles(
    fake: FakeBotApi, bot: RunningBot, db_path: Path, tmp_path: Path
) -> None:
    await register(fake, TEACHER, "TH-003")  # a teacher: no role
    await register(fake, PRINCIPAL, "TH-001")  # the principal: unit_head
    teacher_menu = {c["command"]: c["description"] for c in fake.chat_commands(TEACHER)}
    principal_menu = {c["command"] for c in fake.chat_commands(PRINCIPAL)}
    assert {"travel", "status", "help"} <= set(teacher_menu)
    assert not {"pending", "unit", "away", "export"} & set(teacher_menu)
    assert {"pending", "unit", "away", "export", "case"} <= principal_menu
    assert teacher_menu["travel"] != "ask to leave the city"  # in the person's language

    staff = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig")
    promoted = staff.replace(
        "TH-003;Lại Thị Diệu Linh;0912 000 026;HB-TH;Giáo viên;staff;;",
        "TH-003;Lại Thị Diệu Linh;0912 000 026;HB-TH;Giáo viên;staff;deputy_head;",
    )
    assert promoted != staff
    (tmp_path / "staff.csv").write_text(promoted, encoding="utf-8")
    outcome = await load_examples(db_path, bot.clock, staff=tmp_path / "staff.csv")
    assert outcome.applied, outcome.problems
    told = await fake.next_message(TEACHER)
    assert "Vai trò của anh/chị đã thay đổi" in (told.text or ""), told.text
    assert {"pending", "unit", "away"} <= {c["command"] for c in fake.chat_commands(TEACHER)}
    assert any("Chờ tôi phê duyệt" in label for label in told.button_texts())


@pytest.fixture
def bot_settings() -> dict[str, object]:
    """The alerts in full (PRIVACY_MINIMAL_MESSAGES off): these tests read their wording."""
    return {"privacy_minimal_messages": False}


# --------------------------------------------------------------------------- the command line


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "k.db"))
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_BOT_USERNAME", "DEFAULT_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _import(*extra: str) -> int:
    files = ("--units", "units.csv", "--staff", "staff.csv", "--routing", "routing.toml")
    paths = [str(EXAMPLES / f) if f.endswith((".csv", ".toml")) else f for f in files]
    return main(["directory", "import", *paths, *extra])


def test_item26_help_and_settings_errors_follow_default_language(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "dùng thử bot không cần Telegram" in capsys.readouterr().out
    monkeypatch.setenv("SEND_RATE_PER_SECOND", "-3")
    assert main(["directory", "show", "TH-001"]) == 2
    assert "SEND_RATE_PER_SECOND không hợp lệ" in capsys.readouterr().err
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    assert main(["directory", "show", "TH-001"]) == 2
    assert "SEND_RATE_PER_SECOND is invalid" in capsys.readouterr().err


def test_item26_dry_run_creates_no_database_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import("--dry-run") == 0
    assert "Chạy thử" in capsys.readouterr().out
    assert not (workdir / "k.db").exists()


def test_item26_directory_show_ignores_case_and_names_the_group(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _import() == 0
    capsys.readouterr()
    assert main(["directory", "show", "th-001"]) == 0
    out = capsys.readouterr().out
    assert "Châu Thị Bích Ngọc" in out and "Hiệu trưởng (school_head)" in out, out


def test_item26_invites_need_only_the_bot_username(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _import() == 0
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "khaibao_demo_bot")
    assert main(["invites", "--out", str(workdir / "invites.csv")]) == 0
    links = (workdir / "invites.csv").read_text(encoding="utf-8-sig")
    assert "https://t.me/khaibao_demo_bot?start=" in links


async def test_item28_change_of_an_approved_trip_asks_at_once_and_tells_the_approver(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await submit(fake, teacher)
    request = await fake.next_message(PRINCIPAL)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    await fake.next_message(TEACHER)  # approved
    fake.mark_read(PRINCIPAL)

    status = await answer(fake, teacher, "/status")
    fake.press(teacher, status, status.callback_data("Thay đổi"))
    explained = await fake.next_message(TEACHER)
    assert "Đổi đề nghị #1" in (explained.text or "")
    question = await fake.next_message(TEACHER)  # no need to type something wrong first
    assert "Khi nào anh/chị đi?" in (question.text or ""), question.text

    await answer(fake, teacher, "29/05/2021 09:00")
    summary = await answer(fake, teacher, "30/05/2021 20:00")
    fake.press(teacher, summary, summary.callback_data("Gửi"))
    change = await fake.next_message(PRINCIPAL)
    text = change.text or ""
    assert "Đề nghị này thay cho đề nghị #1 đã được phê duyệt" in text, text


async def test_item29_toggle_edits_the_summary_instead_of_resending_the_preview(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    body = "\n\n".join(SEED.split("\n\n")[:12])
    preview = await compose(fake, admin, body)
    summary = preview[-1]
    assert len(preview) >= 3
    before = len(fake.messages(ADMIN))
    fake.press(admin, summary, summary.callback_data("tạm dừng"))
    await fake.wait_for(lambda: "☑️" in " ".join(summary.button_texts()))
    fake.press(admin, summary, summary.callback_data("tạm dừng"))
    await fake.wait_for(lambda: "☑️" not in " ".join(summary.button_texts()))
    assert len(fake.messages(ADMIN)) == before  # edited twice, nothing sent again
    assert any("⬜" in label for label in summary.button_texts())


async def test_item29_audience_by_part_of_a_unit_name_without_accents(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    assert "số và ngày" in ((await answer(fake, admin, "/broadcast")).text or "")
    await answer(fake, admin, "262-TB/QU, 09/05/2021")
    await answer(fake, admin, "Không rời khỏi Hà Nội")
    last = await answer(fake, admin, "100% cán bộ không rời khỏi địa bàn thành phố.")
    fake.press(admin, last, last.callback_data("Xong"))
    question = await fake.next_message(ADMIN)
    fake.press(admin, question, question.callback_data("Đơn vị được chọn"))
    await fake.next_message(ADMIN)
    several = await answer(fake, admin, "hoa binh")
    assert "khớp với nhiều mục" in (several.text or ""), several.text
    fake.send_text(admin, "tieu hoc hoa binh")
    summary = (await collect_preview(fake, admin))[-1]
    assert "Trường Tiểu học Hòa Bình (mẫu)" in (summary.text or ""), summary.text


# --------------------------------------------------------------------------- settings and README


def _vietnamese_labels() -> list[str]:
    """Every Vietnamese text, its placeholders shown as `3` (as a README example writes N),
    the home area as the sample district's «thành phố»."""
    with po_path(LOCALES_DIR, "vi").open("rb") as handle:
        catalog = read_po(handle)
    labels = []
    for message in catalog:
        strings = (message.string,) if isinstance(message.string, str) else message.string or ()
        labels += [
            re.sub(r"\{\w+\}", "3", nfc(text).replace("\ufe0f", "").replace("{area}", "thành phố"))
            for text in strings
            if message.id and text
        ]
    return labels


def test_item31_env_example_explains_settings_without_internal_references() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert not re.search(r"\bissue\b", text, re.IGNORECASE), "internal references left"
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.match(r"[A-Z_]+=", line):
            above = lines[index - 1] if index else ""
            assert above.startswith("#") or re.match(r"[A-Z_]+=", above), line
    named = {line.split("=")[0].lower() for line in lines if re.match(r"[A-Z_]+=", line)}
    assert set(Settings.model_fields) <= named, set(Settings.model_fields) - named


def test_item31_readme_quotes_the_buttons_as_the_bot_labels_them() -> None:
    readme = nfc((ROOT / "README.md").read_text(encoding="utf-8"))
    labels = _vietnamese_labels()
    wrong = []
    for quoted in re.findall(r"«([^»]+)»", readme):
        label = re.sub(r"\s+", " ", quoted).replace("\ufe0f", "")
        if label[0].isalnum() or label[0] == "…" or not re.search(r"\w", label) or "#id" in label:
            continue  # a sentence, a typed example, or a family of buttons
        written = re.sub(r"(?<=[ #])N\b", "3", label.replace("…", "").strip())
        if not any(
            re.sub(r"\d+(:\d+)?", "3", written) in (shown, shown[: len(written)])
            or shown.startswith(written)
            for shown in labels
        ):
            wrong.append(quoted)
    assert wrong == [], wrong
    assert "«✅ Phê duyệt tất cả N»" in readme
    vi = Translations().for_language("vi")
    assert vi._("✅ Approve all {n}", n=3) == "✅ Phê duyệt tất cả 3"


def test_item26_import_reasons_in_the_office_language(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staff = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig")
    broken = staff.replace(
        "TH-003;Lại Thị Diệu Linh;0912 000 026;", "TH-003;Lại Thị Diệu Linh;12345;"
    )
    assert broken != staff
    (workdir / "staff.csv").write_text(broken, encoding="utf-8")
    files = ["--units", str(EXAMPLES / "units.csv"), "--routing", str(EXAMPLES / "routing.toml")]
    assert main(["directory", "import", *files, "--staff", str(workdir / "staff.csv")]) == 1
    out = capsys.readouterr().out
    assert "staff.csv:" in out and "phone: không phải số điện thoại Việt Nam: «12345»" in out, out
    assert "not a Vietnamese phone number" not in out


def test_item25_one_style_of_check_boxes_and_quotes() -> None:
    odd_quotes = re.compile(r"[\"“”]|'[^'\s]+'")
    shell_argument = re.compile(r'(?:\b[a-z][a-z_-]* )+"[^"]*"')  # `breach open "…"`: a command
    quoted = [
        text for text in _vietnamese_labels() if odd_quotes.search(shell_argument.sub("", text))
    ]
    assert quoted == [], f"Vietnamese texts quote with «…»: {quoted}"
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").rglob("*.py"))
    assert sources.count('"☑️ " if ticked else "⬜ "') == 1  # check_box(), used by every toggle
    assert not re.search(r"\" if \w+ in chosen else \"", sources)  # no toggle of its own
    assert "✔" not in sources and "☐" not in sources and "▫️" not in sources
