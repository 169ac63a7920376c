"""A long directive's parts as each messenger gets them, and what they cost per recipient.

    .venv/bin/python bench/directive_parts.py [--copies 2000]

The seeds' long directive (about 11,700 characters) is cut once per channel and language, as
`Broadcasts.queue` does (bot/services/broadcast/audience.py `directive_parts`): the outbox rows
of one recipient. Then the sender's per-copy work on each channel is timed: every row rendered
by the channel as it leaves (`Channel.render`), `--copies` times. Measured: rows and messages a
copy makes on Telegram and on Zalo, the microseconds of rendering per copy, and the time to cut
the directive once (per channel and language, not per person). Prints JSON lines.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime

from _common import ROOT, emit, load_note

from bot.channels.telegram import capabilities as telegram_capabilities
from bot.channels.zalo.render import capabilities as zalo_capabilities
from bot.channels.zalo.render import render as zalo_render
from bot.i18n import Translations
from bot.outgoing import OutMessage
from bot.services.broadcast.audience import directive_messages, directive_parts
from bot.services.outbox.render import render_for
from storage.broadcast_repo import Broadcast

SEED = ROOT / "tests" / "data" / "seeds" / "000_81cd1f4fe88ebc1c.txt"


def directive() -> Broadcast:
    now = datetime(2021, 5, 26, 2, 0, tzinfo=UTC)
    return Broadcast(1, "1061/UBND-VP", date(2021, 5, 26), "V/v tăng cường phòng, chống dịch",
                     SEED.read_text(encoding="utf-8"), None, None, {"kind": "all"}, "sending",
                     "DU-003", now, now, None, None, "telegram", "1", None, None, None, None)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=2000)
    copies = parser.parse_args().copies
    t = Translations().for_language("vi")
    b = directive()
    channels = {
        "telegram": (telegram_capabilities(), render_for),
        "zalo": (zalo_capabilities(4000), zalo_render),
    }
    for name, (caps, render) in channels.items():
        start = time.perf_counter()
        rows = directive_parts(directive_messages(t, b), caps)
        cut_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        messages = 0
        for _ in range(copies):
            for row in rows:
                parts: list[OutMessage] = render(row, caps)
                messages += len(parts)
        per_copy = (time.perf_counter() - start) / copies * 1e6
        emit({"bench": "directive_parts", "channel": name, "chars": len(b.body),
              "rows_per_copy": len(rows), "messages_per_copy": messages // copies,
              "render_us_per_copy": round(per_copy, 1), "cut_once_ms": round(cut_ms, 2),
              "copies": copies, "load": load_note()})  # fmt: skip


if __name__ == "__main__":
    main()
