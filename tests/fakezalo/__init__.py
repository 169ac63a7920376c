"""The fake Zalo Official Account of the end-to-end tests: the same sandbox `python -m bot demo`
runs (bot/sandbox/zalo_server.py), re-exported here."""

from bot.sandbox.zalo_server import (
    APP_ID,
    APP_SECRET,
    OA_ID,
    OA_SECRET_KEY,
    FakeZaloOA,
    ZaloEvent,
    ZaloSent,
    ZaloUser,
)

__all__ = ["APP_ID", "APP_SECRET", "OA_ID", "OA_SECRET_KEY", "FakeZaloOA", "ZaloEvent",
           "ZaloSent", "ZaloUser"]  # fmt: skip
