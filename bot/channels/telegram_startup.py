"""Reaching the Bot API at start and while polling: one clear line per fault, never a traceback.

An unreachable API (no network, a closed port, a 502 from Telegram or a proxy, a time-out) is
waited out with backoff, however long it lasts: a restart during an outage must not leave the
bot down. A token Telegram refuses (401, or 404 for a malformed one) cannot get better by
waiting: `TokenRefused`, and `python -m bot run` exits with code 2.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from bot.i18n import Translator

log = logging.getLogger("khaibao")

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
DETAIL_LIMIT = 160


class TokenRefused(Exception):
    """Telegram refused the bot token; the message is the one line to show."""


def fault_reason(t: Translator, exc: TelegramError) -> str:
    """What went wrong, in a few words: no connection, no answer in time, or what was answered."""
    if isinstance(exc, TimedOut):
        return t._("no answer in time")
    text = _first_line(str(exc))
    if isinstance(exc, NetworkError) and text.startswith("aiohttp."):
        return t._("no connection ({detail})", detail=text.partition(": ")[2] or text)
    return t._("the server answered: {detail}", detail=text)


def token_refused_line(t: Translator, said: str = "401 Unauthorized") -> str:
    """`said`: the server's words ("Unauthorized", "Not Found"), never the token."""
    return t._(
        "Telegram refused the bot token ({detail}): it is wrong or was revoked. Get the token "
        "from @BotFather and set TELEGRAM_BOT_TOKEN in .env.",
        detail=said,
    )


def _server_words(exc: TelegramError) -> str:
    """What the server said ("Unauthorized", "Not Found"): PTB's own message quotes the token."""
    said = exc.__cause__ if isinstance(exc.__cause__, TelegramError) else exc
    text = _first_line(str(said))
    return "Unauthorized" if "token" in text.lower() else text


async def connect(
    initialize: Callable[[], Awaitable[None]],
    t: Translator,
    api_url: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run `initialize` (it asks the Bot API who the bot is) until it succeeds."""
    wait = FIRST_RETRY_SECONDS
    while True:
        try:
            await initialize()
            return
        except InvalidToken as exc:
            raise TokenRefused(token_refused_line(t, _server_words(exc))) from None
        except TelegramError as exc:
            log.warning(
                t._(
                    "Cannot reach the Telegram Bot API at {url}: {reason}. Trying again in {n} s.",
                    url=api_url,
                    reason=fault_reason(t, exc),
                    n=round(wait),
                )
            )
        await sleep(wait)
        wait = min(MAX_RETRY_SECONDS, wait * 2)


def polling_fault_logger(t: Translator, api_url: str) -> Callable[[TelegramError], None]:
    """For PTB's polling loop, which retries by itself: one line per fault, not a traceback."""

    def report(exc: TelegramError) -> None:
        log.warning(
            t._(
                "Polling the Telegram Bot API at {url} failed: {reason}. Polling again shortly.",
                url=api_url,
                reason=fault_reason(t, exc),
            )
        )

    return report


class _NoTokenTraceback(logging.Filter):
    """PTB logs a refused token with a traceback; khaibao says it in one line of its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InvalidToken))


def quiet_ptb_token_tracebacks() -> None:
    logger = logging.getLogger("telegram.ext")
    if not any(isinstance(f, _NoTokenTraceback) for f in logger.filters):
        logger.addFilter(_NoTokenTraceback())


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "?"
    line = line.split(". Parsing the server response")[0]  # PTB appends the raw HTML body
    return line if len(line) <= DETAIL_LIMIT else line[: DETAIL_LIMIT - 1] + "…"
