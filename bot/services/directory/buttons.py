"""The directory feature's buttons (`dr:`): apply or cancel a checked batch of files, download
the template, export the directory."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.kernel.buttons import ActionOn, Codec, Signal


@dataclass(frozen=True)
class BatchAction(ActionOn):
    """On the admin's batch N: `ok` apply it, `x` cancel it."""

    PREFIX = "dr"
    ACTIONS = ("ok", "x")


@dataclass(frozen=True)
class DirectorySignal(Signal):
    """`dr:tpl` the empty template, `dr:dtpl` the duty roster's, `dr:exp` the current directory
    as .xlsx."""

    PREFIX = "dr"
    WORDS = ("tpl", "dtpl", "exp")


DirectoryButton = BatchAction | DirectorySignal
DIRECTORY_BUTTONS = Codec[DirectoryButton]("dr", (BatchAction, DirectorySignal))
