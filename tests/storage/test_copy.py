"""`python -m bot db copy --from sqlite:///… --to postgresql://…`: a district's data moved into
a city's database: every table's count checked, nothing lost, a rerun copies only what is new,
a target holding another district's rows refused."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.domain.clock import VIETNAM, ManualClock
from storage.engine import open_database
from storage.inbox_repo import InboxRepo
from storage.repos import AuditRepo
from tests.harness import load_examples
from tests.postgres import PostgresServer

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)


async def _district(path: Path, updates: int) -> None:
    assert (await load_examples(path, ManualClock(NOW))).applied
    db = await open_database(path)
    try:
        async with db.transaction() as tx:
            await AuditRepo(tx).append_many(NOW, "test", [("probe", f"n:{i}") for i in range(50)])
            await InboxRepo(tx).store(
                "telegram", [(str(i), f'{{"update_id": {i}}}') for i in range(updates)], NOW
            )
    finally:
        await db.close()


def _counts(target: Path | str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        db = await open_database(target)
        try:
            async with db.reading() as tx:
                tables = [r[0] for r in await tx.all(tx.dialect.tables_sql)]
                return {t: int(await tx.scalar(f"SELECT COUNT(*) FROM {t}")) for t in tables}
        finally:
            await db.close()

    return asyncio.run(read())


@pytest.fixture
def city(postgres_server: PostgresServer) -> str:
    return asyncio.run(postgres_server.new_database())


def test_a_district_copied_into_postgresql_counts_checked_and_rerun_safe(
    tmp_path: Path, city: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    district = tmp_path / "district.db"
    asyncio.run(_district(district, updates=30))
    command = ["db", "copy", "--from", f"sqlite:///{district}", "--to", city]

    assert main(command) == 0
    out = capsys.readouterr().out
    source = _counts(district)
    assert _counts(city) == source and source["staff"] > 0 and source["inbox"] == 30
    assert "staff: " in out and "mới trong đích" in out and "đã kiểm tra từng bảng" in out

    assert main(command) == 0, "a rerun changes nothing"
    assert "mới trong đích: 0)" in capsys.readouterr().out
    assert _counts(city) == source

    # the district went on working: a rerun copies what is new, the ids go on after the copied
    asyncio.run(_more_updates(district))
    assert main(command) == 0
    assert _counts(city) == _counts(district)
    assert asyncio.run(_new_audit_id(city)) == _counts(district)["audit_log"] + 1


def test_a_city_holding_another_districts_rows_is_refused(
    tmp_path: Path, city: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    asyncio.run(_district(first, updates=3))
    asyncio.run(_district(second, updates=5))
    assert main(["db", "copy", "--from", f"sqlite:///{first}", "--to", city]) == 0
    capsys.readouterr()
    before = _counts(city)
    assert main(["db", "copy", "--from", f"sqlite:///{second}", "--to", city]) == 1
    assert "Không sao chép" in capsys.readouterr().out
    assert _counts(city) == before, "nothing of the second district written"


def test_copying_a_database_onto_itself_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "vi")
    same = f"sqlite:///{tmp_path / 'a.db'}"
    assert main(["db", "copy", "--from", same, "--to", same]) == 2
    assert "cùng một cơ sở dữ liệu" in capsys.readouterr().out
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    assert main(["db", "copy", "--from", missing, "--to", same]) == 2
    assert "không tồn tại" in capsys.readouterr().out
    assert not (tmp_path / "none.db").exists()


async def _more_updates(path: Path) -> None:
    db = await open_database(path)
    try:
        async with db.transaction() as tx:
            await InboxRepo(tx).store("telegram", [("1000", "{}"), ("1001", "{}")], NOW)
            await AuditRepo(tx).append(NOW, "test", "later")
            await AuditRepo(tx).append(NOW, "test", "later")
    finally:
        await db.close()


async def _new_audit_id(url: str) -> int:
    db = await open_database(url)
    try:
        async with db.transaction() as tx:
            return await tx.insert(
                "INSERT INTO audit_log (at, actor, action, details) VALUES (?, 'test', 'x', '{}')",
                ("2021-05-26T02:00:00.000000Z",),
            )
    finally:
        await db.close()


def test_a_database_is_named_without_its_password() -> None:
    from bot.db_cli import shown

    assert shown("postgresql://khaibao:s3cret@db.example:5432/city") == (
        "postgresql://khaibao@db.example:5432/city"
    )
    assert shown("sqlite:///data/khaibao.db") == "sqlite:///data/khaibao.db"
