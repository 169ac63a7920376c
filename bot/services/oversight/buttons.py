"""The oversight feature's buttons: `ox:x:<register>` exports that register for the last days."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.kernel.buttons import Choice, Codec
from bot.services.oversight.exports import KINDS


@dataclass(frozen=True)
class ExportRegister(Choice):
    PREFIX = "ox"
    VERB = "x"
    VALUES = tuple(KINDS)


EXPORTS = Codec("ox", (ExportRegister,))
