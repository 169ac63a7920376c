"""Issue 14, section E (items 17–24): search, registers, unread, digests, exports, /unit, routing.

Each test is named after its item and failed before the fix. End-to-end tests run the real bot
against the sandbox on a real SQLite file; the clock starts on Wednesday 26/05/2021 09:00.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from bot.domain.directory import Directory, resolve_route
from bot.domain.directory_files import load_directory
from bot.services.registration.tabular import read_table
from tests.paths import EXAMPLES, ROOT


@cache
def examples() -> Directory:
    loaded = load_directory(
        read_table(EXAMPLES / "units.csv"),
        read_table(EXAMPLES / "staff.csv"),
        (EXAMPLES / "routing.toml").read_text(encoding="utf-8"),
    )
    assert loaded.directory is not None, loaded.problems
    return loaded.directory


# --------------------------------------------------------------------------- 23, 24: routing


def test_item23_leader_above_includes_the_head_of_a_role_approvers_unit() -> None:
    # A principal is decided by the vice-chair for education (HB-004), whose own unit is the
    # ward: its head, the Party secretary HB-001, is the leader above.
    route = resolve_route(examples(), "TH-001")
    assert route.deciders == ("HB-004",)
    assert route.above == ("HB-001",)


def test_item23_directory_show_prints_the_leader_above(tmp_path: Path) -> None:
    env = dict(os.environ, DATABASE_PATH=str(tmp_path / "k.db"), TELEGRAM_BOT_TOKEN="")
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
