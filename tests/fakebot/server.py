"""The fake Telegram Bot API is the product's sandbox now: bot/sandbox/server.py."""

from bot.sandbox.server import *  # noqa: F403
from bot.sandbox.server import DEFAULT_TOKEN, TINY_PNG, FakeBotApi, FakeUser, SentMessage

__all__ = ["DEFAULT_TOKEN", "TINY_PNG", "FakeBotApi", "FakeUser", "SentMessage"]
