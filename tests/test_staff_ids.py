"""Staff ids are safe by construction (issue 19.3): validated on import, file names built from
safe parts only, button data too long for Telegram's 64 bytes shown there as a numbered choice
(and data past every messenger's limit refused where the button is made)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.__main__ import main
from bot.channels.telegram import capabilities as telegram_capabilities
from bot.domain.directory_files import STAFF_ID_MAX, staff_id_problem
from bot.domain.text import export_subfolder, safe_file_part
from bot.i18n import Translations
from bot.outgoing import CALLBACK_MAX_BYTES, Button, OutMessage
from bot.services.outbox.render import render_for
from bot.services.oversight.exports import ExportRequest, file_name
from tests.paths import EXAMPLES
from tests.test_directory_files import STAFF, load, messages

SAFE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def with_id(staff_id: str) -> list[list[str]]:
    """The sample staff with the second person's id replaced (routing names nobody by id)."""
    rows = [list(row) for row in STAFF]
    rows[1][0] = staff_id
    return rows


@pytest.mark.parametrize(
    ("staff_id", "reason"),
    [
        ("../../../tmp/x", "must not start with '.'"),
        ("x/../../y", "not '/'"),
        (".hidden", "must not start with '.'"),
        ("a" * 70, "longer than 32 characters (70)"),
        ("Nguyễn-01", "not 'ễ'"),
        ("TH 003", "not ' '"),
        ("TH-003\\x", "not '\\\\'"),
        ("²³", "not '²' '³'"),
    ],
)
def test_unsafe_staff_ids_are_listed_as_file_row_column_reason(staff_id: str, reason: str) -> None:
    result = load(staff=with_id(staff_id))
    assert result.directory is None
    lines = [line for line in messages(result) if ": staff_id: " in line]
    assert len(lines) == 1 and lines[0].startswith("staff.csv:3: staff_id: '"), lines
    assert reason in lines[0], lines[0]


@pytest.mark.parametrize("staff_id", ["TH-003", "a", "vp_h", "A.B-c_9", "x" * STAFF_ID_MAX])
def test_safe_staff_ids_are_accepted(staff_id: str) -> None:
    result = load(staff=with_id(staff_id))
    assert result.problems == [] and result.directory is not None
    assert staff_id in result.directory.staff


def test_every_sample_id_is_safe() -> None:
    ids = [
        line.split(";")[0]
        for line in (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    ]
    assert ids and all(staff_id_problem(i) is None for i in ids)


@given(st.text(max_size=80))
def test_an_accepted_id_is_short_and_safe(staff_id: str) -> None:
    if staff_id and staff_id_problem(staff_id) is None:
        assert len(staff_id) <= STAFF_ID_MAX and set(staff_id) <= SAFE
        assert not staff_id.startswith(".") and "/" not in staff_id


@given(st.text(max_size=200))
def test_file_parts_never_leave_the_folder(text: str) -> None:
    part = safe_file_part(text)
    assert part and len(part) <= 32 and "/" not in part and "\\" not in part
    assert not part.startswith(".") and set(part) <= SAFE - {"."}


def test_export_file_names_are_built_from_safe_parts() -> None:
    request = ExportRequest("travel", date(2021, 5, 1), date(2021, 5, 31), "HB")
    name = file_name(Translations().for_language("vi"), request, "../../../etc/cron.d")
    assert "/" not in name and ".." not in name
    assert name == "so-theo-doi-di-lai_etc-cron-d_01-05-2021_31-05-2021.xlsx"
    assert export_subfolder("../x", datetime(2021, 5, 26, 9, 0)) == "x-20210526090000"


def test_button_data_over_telegrams_64_bytes_goes_there_as_a_numbered_choice() -> None:
    """Telegram refuses data over 64 bytes, and the whole message with it: the renderer shows
    such a button as a numbered choice in the text instead (a typed number presses it)."""
    fits, too_long = Button("ok", "x" * 64), Button("too long", "rt:nag:" + "ư" * 33)
    [part] = render_for(OutMessage("Chọn", buttons=((fits, too_long),)), telegram_capabilities())
    assert part.buttons == ((fits,),)
    assert part.text == "Chọn\n\n1. too long"


def test_button_data_past_every_messengers_limit_is_refused_where_the_button_is_made() -> None:
    Button("ok", "x" * CALLBACK_MAX_BYTES)
    with pytest.raises(ValueError, match=f"{CALLBACK_MAX_BYTES} bytes"):
        Button("too long", "rt:nag:" + "a" * CALLBACK_MAX_BYTES)
    with pytest.raises(ValueError):
        Button("multi-byte", "ư" * (CALLBACK_MAX_BYTES // 2 + 1))


def test_a_stored_over_long_button_still_loads() -> None:
    data = {"text": "x", "buttons": [[{"text": "b", "callback": "ov:" + "é" * 600}]]}
    button = OutMessage.from_json(data).buttons[0][0]
    assert button.callback is not None and len(button.callback.encode()) <= CALLBACK_MAX_BYTES


def test_the_import_command_refuses_the_file_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "k.db"))
    lines = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()
    bad = [line.replace("TH-003;", "../../TH-003;", 1) for line in lines]
    long = [line.replace("TH-004;", "T" * 70 + ";", 1) for line in bad]
    staff = tmp_path / "staff.csv"
    staff.write_text("\n".join(long) + "\n", encoding="utf-8")
    argv = ["directory", "import", "--units", str(EXAMPLES / "units.csv"), "--staff", str(staff),
            "--routing", str(EXAMPLES / "routing.toml")]  # fmt: skip
    assert main(argv) == 1
    out = capsys.readouterr().out
    row = next(i for i, line in enumerate(lines, start=1) if line.startswith("TH-003;"))
    assert f"staff.csv:{row}: staff_id: '../../TH-003': must not start with '.'" in out
    assert f"staff.csv:{row + 1}: staff_id: '{'T' * 40}': longer than 32 characters (70)" in out
    with sqlite3.connect(tmp_path / "k.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM staff").fetchone() == (0,)
