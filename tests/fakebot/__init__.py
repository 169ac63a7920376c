"""A fake Telegram Bot API server for end-to-end tests and benchmarks (see server.py)."""

from tests.fakebot.server import DEFAULT_TOKEN, TINY_PNG, FakeBotApi, FakeUser, SentMessage

__all__ = ["DEFAULT_TOKEN", "TINY_PNG", "FakeBotApi", "FakeUser", "SentMessage"]
