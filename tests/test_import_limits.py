"""A huge directory file is refused before it fills the memory (issue 19.9): IMPORT_MAX_BYTES
is checked before reading, IMPORT_MAX_ROWS stops reading at the first row over it, and an
.xlsx that would unpack past the limit (a zip bomb) is refused by its members' sizes."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.services.registration.tabular import ImportLimits, TooLarge, read_table
from tests.paths import EXAMPLES

HEADER = "staff_id,full_name,phone,unit_id,position,position_group,roles,language"


def staff_file(path: Path, rows: int) -> Path:
    lines = [HEADER] + [
        f"S-{n:06d},Người Thứ {n},0912 {n // 1000:03d} {n % 1000:03d},HB-DU,,staff,,"
        for n in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = staff_file(tmp_path / "staff.csv", 50)
    size = path.stat().st_size
    with pytest.raises(TooLarge) as refused:
        read_table(path, limits=ImportLimits(max_bytes=size - 1))
    assert (refused.value.measure, refused.value.found) == ("bytes", size)
    assert len(read_table(path, limits=ImportLimits(max_bytes=size)).rows) == 50


def test_reading_stops_at_the_first_row_over_the_row_limit(tmp_path: Path) -> None:
    path = staff_file(tmp_path / "staff.csv", 11)
    with pytest.raises(TooLarge) as refused:
        read_table(path, limits=ImportLimits(max_rows=10))
    assert (refused.value.measure, refused.value.limit) == ("rows", 10)
    assert len(read_table(path, limits=ImportLimits(max_rows=11)).rows) == 11


def test_empty_lines_do_not_count_as_rows(tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_text(HEADER + "\n\n\n" + "A,B,0912 000 001,HB,,staff,,\n\n", encoding="utf-8")
    assert len(read_table(path, limits=ImportLimits(max_rows=1)).rows) == 1


def test_an_xlsx_that_unpacks_past_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<x>" + "A" * 2_000_000 + "</x>")
    assert path.stat().st_size < 10_000  # small on the disk
    with pytest.raises(TooLarge) as refused:
        read_table(path, limits=ImportLimits(max_bytes=100_000))
    assert refused.value.measure == "bytes"


def run_import(staff: Path) -> int:
    return main(["directory", "import", "--units", str(EXAMPLES / "units.csv"), "--staff",
                 str(staff), "--routing", str(EXAMPLES / "routing.toml")])  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "k.db"))
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    return tmp_path


def staff_count(workdir: Path) -> int:
    with sqlite3.connect(workdir / "k.db") as conn:
        return int(conn.execute("SELECT COUNT(*) FROM staff").fetchone()[0])


def test_the_cli_names_the_row_limit_in_vietnamese_and_changes_nothing(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMPORT_MAX_ROWS", "1500")
    assert run_import(staff_file(workdir / "staff.csv", 1501)) == 1
    out = capsys.readouterr().out
    assert "staff.csv: quá 1.500 dòng (IMPORT_MAX_ROWS)" in out, out
    assert staff_count(workdir) == 0


def test_the_cli_names_the_byte_limit_in_english(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    monkeypatch.setenv("IMPORT_MAX_BYTES", str(1024 * 1024))
    big = staff_file(workdir / "staff.csv", 25_000)
    assert run_import(big) == 1
    out = capsys.readouterr().out
    size = f"{big.stat().st_size / 1024 / 1024:.1f}"
    assert f"staff.csv: {size} MB, more than the 1.0 MB allowed (IMPORT_MAX_BYTES)" in out, out
    assert staff_count(workdir) == 0


def test_the_limits_are_settings_with_sane_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import SettingsError, load_settings

    settings = load_settings(_env_file=None)
    assert settings.import_max_rows >= 100_000 and settings.import_max_bytes >= 20 * 1024 * 1024
    monkeypatch.setenv("IMPORT_MAX_ROWS", "0")
    with pytest.raises(SettingsError, match="IMPORT_MAX_ROWS"):
        load_settings(_env_file=None)
