"""EXPORTS_DIR: the registers /export writes and the charts go to the folder it names, not
inside FILES_DIR beside the database (where they stay when it is unset, as the other
end-to-end tests see); the bot uploads them from there."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, load_examples, make_settings
from tests.test_e2e_oversight import ask, join, seed_school_story


async def test_registers_and_charts_go_to_exports_dir(
    fake: FakeBotApi, db_path: Path, clock: ManualClock, tmp_path: Path
) -> None:
    outcome = await load_examples(db_path, clock)
    assert outcome.applied, outcome.problems
    await asyncio.to_thread(seed_school_story, db_path)
    registers = tmp_path / "registers"
    settings = make_settings(fake, db_path, exports_dir=registers)
    async with RunningBot(settings, clock):
        principal = await join(fake, "TH-001")
        got = await ask(fake, principal, "/export travel 01/05/2021 31/05/2021", kind="document")
        admin = await join(fake, "DU-003")
        chart = await ask(fake, admin, "/district", kind="photo")
    assert got.document is not None and chart.photo is not None
    written = sorted(p.relative_to(registers).as_posix() for p in registers.rglob("*.*"))
    assert [p for p in written if p.endswith(".xlsx")] == [
        "TH-001-20210526090000/so-theo-doi-di-lai_01-05-2021_31-05-2021.xlsx"
    ]
    assert any(p.startswith("charts/district-") and p.endswith(".png") for p in written)
    assert not (db_path.parent / "exports").exists()
