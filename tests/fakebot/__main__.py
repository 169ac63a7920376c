"""Serve the fake Bot API in its own process.

    python -m tests.fakebot --port 8081 [--host 127.0.0.1] [--rate-cap C] [--token T]

Prints ``FAKEBOT_READY <base_url>`` once listening; stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.sandbox.server import DEFAULT_TOKEN, FakeBotApi


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakebot", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--rate-cap", type=float, default=None, help="sends per rolling second")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    fake = FakeBotApi(token=args.token, rate_cap=args.rate_cap)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await fake.start(args.host, args.port)
    print(f"FAKEBOT_READY {fake.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
