"""contacts.csv (bodies outside the bot): parsing with every problem listed, fuzzed, and the
CLI import that loads it with the directory, all or nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.__main__ import main
from bot.domain.directory_files import Table
from bot.domain.outside_contacts import (
    CONTACT_OPTIONAL,
    CONTACT_REQUIRED,
    OutsideContact,
    load_contacts,
)
from bot.domain.phones import national_form
from tests.paths import EXAMPLES

HEADER = [*CONTACT_REQUIRED, *CONTACT_OPTIONAL]  # contact_id name notify_on phone email body
F0_F1 = frozenset({"case_f0", "case_f1"})


def table(rows: list[list[str]], header: list[str] = HEADER) -> Table:
    numbered: list[tuple[int, Mapping[str, str]]] = [
        (n, dict(zip(header, row, strict=False))) for n, row in enumerate(rows, 2)
    ]
    return Table("contacts.csv", header, numbered)


def test_contacts_are_read_with_their_events_and_the_body_defaults_to_the_name() -> None:
    loaded = load_contacts(
        table(
            [
                [
                    "SYT",
                    " Sở Y tế Hà Nội ",
                    "case_f0; CASE_F1",
                    "024 3000 0900",
                    "a@x.org",
                    "Sở Y tế",
                ],
                ["CDC", "CDC Hà Nội", "symptom_urgent", "", "", ""],
            ]
        )
    )
    assert loaded.problems == []
    assert loaded.contacts == [
        OutsideContact("SYT", "Sở Y tế Hà Nội", "Sở Y tế", "+842430000900", "a@x.org", F0_F1),
        OutsideContact(
            "CDC", "CDC Hà Nội", "CDC Hà Nội", None, None, frozenset({"symptom_urgent"})
        ),
    ]


def test_every_problem_is_listed_and_no_contact_is_kept() -> None:
    loaded = load_contacts(
        table(
            [
                ["SYT", "A", "case_f0", "12345", "", ""],
                ["SYT", "B", "case_f0", "", "not-an-address", ""],
                ["X/1", "", "case_f0;outbreak", "", "", ""],
                ["OK", "D", "case_f1", "0912 000 001", "", ""],
            ]
        )
    )
    shown = [str(p) for p in loaded.problems]
    assert loaded.contacts == []
    assert any("contacts.csv:2: phone" in p for p in shown), shown
    assert any("contacts.csv:3: contact_id" in p and "duplicate" in p for p in shown), shown
    assert any("contacts.csv:3: email" in p for p in shown), shown
    assert any("contacts.csv:4: contact_id" in p for p in shown), shown
    assert any("contacts.csv:4: name" in p for p in shown), shown
    assert any("contacts.csv:4: notify_on" in p and "'outbreak'" in p for p in shown), shown
    assert len(shown) == 6, shown


def test_a_missing_column_is_reported_at_row_1() -> None:
    loaded = load_contacts(table([["SYT", "A"]], header=["contact_id", "name"]))
    assert [str(p) for p in loaded.problems] == [
        "contacts.csv:1: notify_on: missing required column"
    ]


@given(st.lists(st.lists(st.text(max_size=30), min_size=6, max_size=6), max_size=5))
def test_any_text_never_raises(rows: list[list[str]]) -> None:
    loaded = load_contacts(table(rows))
    assert not (loaded.contacts and loaded.problems)
    for contact in loaded.contacts:
        assert contact.notify_on <= {"case_f0", "case_f1", "symptom_urgent"} and contact.body


def test_national_form() -> None:
    assert national_form("+84912000026") == "0912000026"


# --- the CLI ------------------------------------------------------------------------------------


def run_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contacts: Path | None) -> int:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "k.db"))
    files = ["--units", str(EXAMPLES / "units.csv"), "--staff", str(EXAMPLES / "staff.csv")]
    files += ["--routing", str(EXAMPLES / "routing.toml")]
    extra = ["--contacts", str(contacts)] if contacts else []
    return main(["directory", "import", *files, *extra])


def db_rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "k.db") as conn:
        return conn.execute(sql).fetchall()


def test_cli_imports_contacts_keeps_them_without_the_file_and_refuses_a_bad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(tmp_path, monkeypatch, EXAMPLES / "contacts.csv") == 0
    assert "liên hệ bên ngoài: 2" in capsys.readouterr().out
    assert run_import(tmp_path, monkeypatch, None) == 0
    assert db_rows(tmp_path, "SELECT contact_id, notify_on FROM outside_contacts ORDER BY 1") == [
        ("CDC", ";symptom_urgent;"),
        ("SYT", ";case_f0;case_f1;"),
    ]
    bad = tmp_path / "contacts.csv"
    bad.write_text("contact_id,name,notify_on,phone\nSYT,A,case_f0,123\n", encoding="utf-8")
    staff_before = db_rows(tmp_path, "SELECT COUNT(*) FROM staff")
    capsys.readouterr()
    assert run_import(tmp_path, monkeypatch, bad) == 1
    out = capsys.readouterr().out
    assert "contacts.csv:2: phone" in out and "chưa bị thay đổi" in out, out
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM outside_contacts") == [(2,)]
    assert db_rows(tmp_path, "SELECT COUNT(*) FROM staff") == staff_before
