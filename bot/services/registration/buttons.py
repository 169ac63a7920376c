"""Registration's buttons, pressed before a person is linked (so read by their own handler, not
the dispatcher): `reg:y` / `reg:n` confirm the directory's match. The language choice
(`lang:vi`) lives with its picker in bot/services/kernel/menu.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.kernel.buttons import Codec, Signal


@dataclass(frozen=True)
class ConfirmMatch(Signal):
    PREFIX = "reg"
    WORDS = ("y", "n")


CONFIRMATIONS = Codec("reg", (ConfirmMatch,))
