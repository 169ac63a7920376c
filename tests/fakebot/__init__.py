"""The fake Telegram Bot API of the end-to-end tests: the same sandbox `python -m bot demo` runs
(bot/sandbox/server.py), re-exported here."""

from bot.sandbox.server import DEFAULT_TOKEN, TINY_PNG, FakeBotApi, FakeUser, SentMessage

__all__ = ["DEFAULT_TOKEN", "TINY_PNG", "FakeBotApi", "FakeUser", "SentMessage"]
