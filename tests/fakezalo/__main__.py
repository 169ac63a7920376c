"""Serve the fake Zalo OA in its own process.

    python -m tests.fakezalo --port 8082 --webhook-url http://127.0.0.1:8443/zalo/webhook
        [--host 127.0.0.1] [--signature-id app_id|oa_id] [--repeat-share 0.0]

Prints ``FAKEZALO_READY <base_url> <refresh_token>`` once listening (the base URL serves both the
OA API and the token endpoint; the refresh token seeds the bot); stops cleanly on SIGTERM or
SIGINT. Drive it through its control API under ``<base_url>/_zalo/control/``.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.sandbox.zalo_server import FakeZaloOA


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakezalo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082, help="0 picks a free port")
    parser.add_argument("--webhook-url", default="", help="where the signed events are posted")
    parser.add_argument("--signature-id", default="app_id", choices=("app_id", "oa_id"))
    parser.add_argument("--repeat-share", type=float, default=0.0)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    fake = FakeZaloOA(webhook_url=args.webhook_url, signature_id=args.signature_id,
                      repeat_share=args.repeat_share)  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await fake.start(args.host, args.port)
    _, refresh = fake.issue_tokens()
    print(f"FAKEZALO_READY {fake.base_url} {refresh}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
