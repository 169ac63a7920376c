"""A directive's 10,000 copies on Zalo through the sandbox OA: the pace stays under Zalo's 4,000
requests a minute per app, and none is lost.

    .venv/bin/python bench/zalo_broadcast.py [--people 10000]

The staff are registered on Zalo beforehand (through the storage repos) and have all followed
the sandbox OA (`bot/sandbox/zalo_server.py`, which refuses with -32 past 4,000 calls a minute);
10,000 copies of a directive with its «Đã đọc» button are queued in the outbox, then the real bot
(`python -m bot run`, Zalo alone) starts in a child process and sends them. Measured: the time
to send all, the busiest minute's API calls at the OA, the refusals, and the outbox rows not
sent. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import FIRST_USER, emit, load_note, prepare_db
from aiohttp import web

from bot.outgoing import Button, ChannelFile, OutMessage
from bot.sandbox.zalo_server import APP_ID, APP_SECRET, OA_ID, OA_SECRET_KEY, FakeZaloOA
from storage.db import dumps

CAP_PER_MINUTE = 4000
TEXT = "📢 Chỉ đạo: từ ngày mai, cán bộ đi khỏi địa bàn khai báo trước khi đi."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def nowhere(port: int) -> web.AppRunner:
    """Takes the follow events of the setup (the bot is not running yet)."""
    app = web.Application()
    app.router.add_post("/{tail:.*}", lambda request: web.Response(status=200))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def on_zalo_with_copies(db_path: Path, people: int, document: ChannelFile | None = None) -> None:
    """The people prepare_db linked are on Zalo instead; one copy of the directive each (with
    `document`, the PDF an admin sent with it, as the directive's last message)."""
    read = ((Button("✅ Đã đọc", "bc:1:r"),),)
    note = "⚠️ Không gửi được tệp đính kèm qua ứng dụng nhắn tin này."
    message = OutMessage(TEXT, buttons=read, bulk=True, document=document, file_note=note)
    payload = dumps(message.to_json())
    now = "2021-05-26T02:00:00.000000Z"
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE accounts SET channel = 'zalo'")
        rows = conn.execute("SELECT chat_ref, staff_id FROM accounts").fetchall()
        conn.executemany(
            "INSERT INTO outbox (channel, chat_ref, payload, priority, next_attempt_at, "
            "created_at, purpose, staff_id) VALUES ('zalo', ?, ?, 6, ?, ?, 'broadcast:1', ?)",
            [(chat, payload, now, now, staff) for chat, staff in rows],
        )
    assert len(rows) == people


def admins_pdf(oa: FakeZaloOA, size_kb: int) -> ChannelFile:
    """A PDF an admin sent to the OA: Zalo holds it, the event gives its link."""
    admin = oa.user("Quản trị viên", user_id=str(FIRST_USER - 1))
    data = b"%PDF-1.4\n" + b"x" * (size_kb * 1024)
    oa.send_file(admin, data, "48-CV-DU.pdf", "application/pdf")
    stored = next(iter(oa.user_files.values()))
    return ChannelFile("zalo", oa.file_url(stored.upload_id), "48-CV-DU.pdf")


def outbox_statuses(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        return dict(conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())


def start_bot(db_path: Path, oa: FakeZaloOA, refresh: str, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATABASE_PATH=str(db_path), TELEGRAM_BOT_TOKEN="",
               SEND_RATE_PER_SECOND="1000", PER_CHAT_INTERVAL_SECONDS="0", WEBHOOK_PORT=str(port),
               ZALO_APP_ID=APP_ID, ZALO_OA_ID=OA_ID, ZALO_APP_SECRET=APP_SECRET,
               ZALO_OA_SECRET_KEY=OA_SECRET_KEY, ZALO_REFRESH_TOKEN=refresh,
               ZALO_API_BASE_URL=oa.base_url, ZALO_OAUTH_BASE_URL=oa.base_url)  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=db_path.parent, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument(
        "--file-kb", type=int, default=0, help="with a PDF of this size an admin sent on Zalo"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "zalo.db"
        await prepare_db(db_path, Path(folder), args.people, max(2, args.people // 100))
        sink_port, port = free_port(), free_port()
        sink = await nowhere(sink_port)
        oa = FakeZaloOA(webhook_url=f"http://127.0.0.1:{sink_port}/zalo/webhook")
        await oa.start()
        for n in range(args.people):
            oa.follow(oa.user(f"Cán bộ {n}", user_id=str(FIRST_USER + n)))
        document = admins_pdf(oa, args.file_kb) if args.file_kb else None
        on_zalo_with_copies(db_path, args.people, document)
        await oa.webhooks.wait_idle()
        oa.webhooks.configure(url=f"http://127.0.0.1:{port}/zalo/webhook")
        _, refresh = oa.issue_tokens()
        began = time.perf_counter()
        bot = start_bot(db_path, oa, refresh, port)
        try:
            wanted = args.people * (2 if args.file_kb else 1)  # the text, then the file
            while oa.stats()["sent"] < wanted and time.perf_counter() - began < args.timeout:
                await asyncio.sleep(0.5)
            seconds = time.perf_counter() - began
        finally:
            bot.terminate()
            bot.wait(timeout=60)
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            await oa.stop()
            await sink.cleanup()
        statuses = outbox_statuses(db_path)
    stats = oa.stats()
    peak = oa.peak_calls(60.0)
    lost = args.people - statuses.get("sent", 0)
    files = {"file_kb": args.file_kb, "downloads": stats["downloads"], "uploads": stats["uploads"],
             "files_sent": sum(m.kind == "file" for sent in oa.sent.values() for m in sent)}  # fmt: skip
    files_ok = not args.file_kb or (
        files["downloads"] == 1 and files["uploads"] == 1 and files["files_sent"] == args.people
    )
    emit({"bench": "zalo_broadcast", "people": args.people, "sent": stats["sent"],
          **files, "bot_cpu_seconds": round(cpu.ru_utime + cpu.ru_stime, 1),
          "seconds": round(seconds, 1), "average_per_minute": round(stats["sent"] / seconds * 60),
          "busiest_minute_calls": peak, "refused": stats["refused"], "outbox": statuses,
          "lost": lost, "goal_per_minute_below": CAP_PER_MINUTE,
          "ok": lost == 0 and peak < CAP_PER_MINUTE and not stats["refused"] and files_ok,
          "load": load_note()})  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
