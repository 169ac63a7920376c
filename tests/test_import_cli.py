"""`python -m bot directory import | show` and settings errors, with a real SQLite file."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from bot.__main__ import main
from tests.paths import EXAMPLES, ROOT


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "k.db"))
    return tmp_path


def run_import(
    *extra: str,
    units: Path = EXAMPLES / "units.csv",
    staff: Path = EXAMPLES / "staff.csv",
    routing: Path = EXAMPLES / "routing.toml",
) -> int:
    return main(
        [
            "directory",
            "import",
            "--units",
            str(units),
            "--staff",
            str(staff),
            "--routing",
            str(routing),
            *extra,
        ]
    )


def db_rows(workdir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(workdir / "k.db") as conn:
        return conn.execute(sql).fetchall()


def write_staff(path: Path, rows: list[str]) -> Path:
    header = "staff_id,full_name,phone,unit_id,position,position_group,roles,language"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_import_keeps_vietnamese_names_and_reads_bom_semicolons(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (EXAMPLES / "staff.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert run_import() == 0
    assert "Đã nạp danh bạ" in capsys.readouterr().out
    names = dict(db_rows(workdir, "SELECT staff_id, full_name FROM staff"))
    assert names["TH-003"] == "Lại Thị Diệu Linh"
    assert names["DU-002"] == "Đỗ Văn Đức"
    phones = dict(db_rows(workdir, "SELECT staff_id, phone FROM staff"))
    assert phones["HB-004"] == "+84912000004"
    assert len(names) == 40


def test_dry_run_changes_nothing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import("--dry-run") == 0
    out = capsys.readouterr().out
    assert "Chạy thử" in out and "40 mới" in out
    assert not (workdir / "k.db").exists()  # issue 14 item 26: no database file is created


def test_reimport_updates_and_deactivates(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import() == 0
    lines = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()
    changed = [
        line.replace("Cán sự", "Chuyên viên chính") if line.startswith("DU-005") else line
        for line in lines
        if not line.startswith("CS-006")
    ]
    staff = workdir / "staff2.csv"
    staff.write_text("\n".join(changed), encoding="utf-8")
    capsys.readouterr()
    assert run_import(staff=staff) == 0
    out = capsys.readouterr().out
    assert "1 thay đổi" in out and "1 ngừng kích hoạt" in out
    assert db_rows(workdir, "SELECT active FROM staff WHERE staff_id = 'CS-006'") == [(0,)]
    assert db_rows(workdir, "SELECT position FROM staff WHERE staff_id = 'DU-005'") == [
        ("Chuyên viên chính",)
    ]
    assert run_import() == 0  # back in the file: reactivated
    assert db_rows(workdir, "SELECT active FROM staff WHERE staff_id = 'CS-006'") == [(1,)]


def test_problems_are_all_listed_and_nothing_changes(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staff = write_staff(
        workdir / "staff.csv",
        [
            "A1,Nguyễn Văn A,0912 111 001,HB-DU,,staff,,",
            "A1,Nguyễn Văn B,0912 111 002,HB-DU,,staff,,",
            "A3,Nguyễn Văn C,0912 111 003,NO-SUCH-UNIT,,staff,,",
            "A4,Nguyễn Văn D,12345,HB-DU,,staff,,",
        ],
    )
    assert run_import(staff=staff) == 1
    out = capsys.readouterr().out
    assert "staff.csv:3: staff_id:" in out  # duplicate id
    assert "staff.csv:4: unit_id:" in out  # unknown unit
    assert "staff.csv:5: phone:" in out  # bad phone
    assert "routing.toml" in out  # roles the routing names are held by nobody now
    assert db_rows(workdir, "SELECT COUNT(*) FROM staff") == [(0,)]


def test_missing_column_and_unknown_role(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    units = workdir / "units.csv"
    units.write_text("unit_id,name\nX,Đơn vị X\n", encoding="utf-8")
    routing = workdir / "routing.toml"
    routing.write_text(
        '[[rule]]\nname = "Tất cả"\napprover = "role:no_such_role"\n', encoding="utf-8"
    )
    assert run_import(units=units, routing=routing) == 1
    out = capsys.readouterr().out
    assert "units.csv:1: kind:" in out
    assert "no_such_role" in out


def test_xlsx_import(workdir: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    with (EXAMPLES / "staff.csv").open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle, delimiter=";"):
            sheet.append(row)
    path = workdir / "staff.xlsx"
    book.save(path)
    assert run_import(staff=path) == 0
    assert db_rows(workdir, "SELECT full_name FROM staff WHERE staff_id = 'CS-002'") == [
        ("Huỳnh Thị Ngọc Diệp",)
    ]


def test_show_prints_the_route(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import() == 0
    capsys.readouterr()
    assert main(["directory", "show", "TH-003"]) == 0
    out = capsys.readouterr().out
    assert "Lại Thị Diệu Linh" in out
    assert "Người phê duyệt: Châu Thị Bích Ngọc (Hiệu trưởng)" in out
    assert "Bùi Thị Hồng Nhung" in out  # role district_office is told
    assert main(["directory", "show", "NOBODY"]) == 1


def test_head_asking_goes_up(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_import() == 0
    capsys.readouterr()
    assert main(["directory", "show", "TDP-001"]) == 0  # head of a ward group, rule "unit_head"
    out = capsys.readouterr().out
    assert "Người phê duyệt: Nguyễn Văn Hùng" in out


def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_PATH": str(tmp_path / "k.db")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "TELEGRAM_BOT_TOKEN" in done.stderr and "Traceback" not in done.stderr


def test_invalid_setting_is_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SEND_RATE_PER_SECOND": "fast", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "directory", "show", "X"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SEND_RATE_PER_SECOND" in done.stderr and "Traceback" not in done.stderr


def test_main_is_not_called_inside_a_loop() -> None:
    # The CLI owns its event loop; make sure none leaks from other tests into it.
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
