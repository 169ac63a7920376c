"""The directory through the chat (issue 18 §2): a 100,000-person staff .xlsx sent to the bot by a
district admin, checked (dry run) and applied, against the CLI importing the same file.

Goal: the chat path within 2x the CLI's time and the bot under 400 MB peak RSS.

Both start from the same district (bench/import_directory.py's generator, imported by the CLI);
the sheet has 1% of the people changed and 500 removed. The CLI runs
`python -m bot directory import` in a fresh process (interpreter start included); the chat path
is `python -m bot run` against the sandbox: the admin sends the .xlsx (the bot fetches it with
getFile), waits for the dry run, taps «Áp dụng» and waits for «Đã cập nhật». Prints JSON lines.

    .venv/bin/python bench/directory_chat.py [--staff 100000] [--units 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import import_directory as gen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.sandbox.server import FakeBotApi, SentMessage  # noqa: E402
from tests.harness import BotProcess, make_settings, wait_polling  # noqa: E402

GOAL_RATIO = 2.0
GOAL_RSS_MB = 400.0
ADMIN_STAFF = "UB-VP-003"  # holds the admin role in the generated district
ADMIN_USER = 990_001
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def link_admin(db: Path) -> None:
    conn = sqlite3.connect(db)  # closed below: the write leaves the WAL before the file is copied
    with conn:
        conn.execute(
            "INSERT INTO accounts (channel, user_ref, chat_ref, staff_id, language) "
            "VALUES ('telegram', ?, ?, ?, 'vi')",
            (str(ADMIN_USER), str(ADMIN_USER), ADMIN_STAFF),
        )
    conn.close()


async def next_text(fake: FakeBotApi, chat: int, timeout: float) -> SentMessage:
    return await fake.next_message(chat, timeout=timeout)


async def chat_import(folder: Path, db: Path, sheet: Path) -> dict[str, object]:
    fake = FakeBotApi()
    await fake.start()
    # The production sweep interval (the tests' 0.2 s would wake the bot 5 times a second).
    process = BotProcess(make_settings(fake, db), folder / "bot.stderr", SWEEP_INTERVAL_SECONDS="2")
    try:
        process.start()
        await wait_polling(fake, timeout=60)
        assert process.process is not None
        pid = process.process.pid
        idle_rss = peak_rss_mb(pid)
        admin = fake.user(ADMIN_USER, ADMIN_STAFF)
        begin = time.perf_counter()
        fake.send_document(admin, sheet.read_bytes(), sheet.name, XLSX)
        dry = await next_text(fake, admin.id, 600)
        checked = time.perf_counter()
        fake.press(admin, dry, dry.callback_data("Áp dụng"))
        done = await next_text(fake, admin.id, 600)
        end = time.perf_counter()
        rss = peak_rss_mb(pid)
    finally:
        await process.stop()
        await fake.stop()
    return {
        "seconds": round(end - begin, 2),
        "dry_run_seconds": round(checked - begin, 2),
        "apply_seconds": round(end - checked, 2),
        "peak_rss_mb": round(rss, 1),
        "idle_rss_mb": round(idle_rss, 1),
        "dry_run": (dry.text or "").splitlines()[1][:200] if dry.text else "",
        "applied": "Đã cập nhật" in (done.text or ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=2, help="CLI and chat runs, in turn")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="khaibao-bench-chat-") as name:
        folder = Path(name)
        maker = gen.StaffMaker(random.Random(gen.SEED), args.staff)
        units = gen.make_units(args.units)
        staff = gen.make_staff(units, args.staff, maker)
        changed = gen.changed_copy(staff, maker)
        files = {n: folder / n for n in ("units.csv", "staff.csv", "routing.toml")}
        gen.write_units(files["units.csv"], units)
        gen.write_staff_csv(files["staff.csv"], staff)
        files["routing.toml"].write_text(gen.ROUTING_TOML, encoding="utf-8")
        sheet = folder / "can-bo.xlsx"
        gen.write_staff_xlsx(sheet, changed)
        base = folder / "base.db"
        first = gen.run_import(
            folder, base, files["units.csv"], files["staff.csv"], files["routing.toml"]
        )
        if first.code != 0:
            raise SystemExit(first.output[-2000:])
        link_admin(base)
        for attempt in range(1, args.rounds + 1):  # CLI then chat, in turn: the same machine load
            cli_db, chat_db = folder / f"cli{attempt}.db", folder / f"chat{attempt}.db"
            shutil.copy(base, cli_db)
            shutil.copy(base, chat_db)
            cli = gen.run_import(folder, cli_db, files["units.csv"], sheet, files["routing.toml"])
            cli_active, cli_ok = gen.check_db(cli_db, changed)
            chat = asyncio.run(chat_import(folder, chat_db, sheet))
            chat_active, chat_ok = gen.check_db(chat_db, changed)
            report(
                args, attempt, sheet, cli, chat, cli_ok and chat_ok and cli_active == chat_active
            )


def report(
    args: argparse.Namespace,
    attempt: int,
    sheet: Path,
    cli: gen.Run,
    chat: dict[str, object],
    matches: bool,
) -> None:
    ratio = float(chat["seconds"]) / cli.seconds  # type: ignore[arg-type]
    line = {
        "bench": "directory_chat",
        "round": attempt,
        "staff": args.staff,
        "units": args.units,
        "xlsx_mb": round(sheet.stat().st_size / 1024 / 1024, 2),
        "cli_seconds": round(cli.seconds, 2),
        "cli_peak_rss_mb": round(cli.peak_rss_mb, 1),
        "chat": chat,
        "ratio": round(ratio, 2),
        "goal_ratio": GOAL_RATIO,
        "goal_rss_mb": GOAL_RSS_MB,
        "db_matches_file": matches,
        "ok": ratio <= GOAL_RATIO
        and float(chat["peak_rss_mb"]) <= GOAL_RSS_MB  # type: ignore[arg-type]
        and bool(chat["applied"])
        and matches,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
