"""The personal-data buttons: a consent answer (`pc:y:h:1`: yes, health, notice version 1), the
/privacy menu (`pv:copy`, `pv:fix`, `pv:del`, `pv:obj`, `pv:wd`), which consent to withdraw (`pv:w:health`)
and an admin's action on a request (`pq:ack:12`, `pq:done:12`, `pq:ext:12`, `pq:no:12`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from bot.domain.privacy import PURPOSES, Purpose
from bot.services.kernel.buttons import ActionOn, ButtonData, Choice, Codec, Signal, ref_part

_PURPOSE_CODES = {Purpose.DIRECTORY: "d", Purpose.HEALTH: "h"}
_CODE_PURPOSES = {code: purpose for purpose, code in _PURPOSE_CODES.items()}


@dataclass(frozen=True)
class ConsentAnswer(ButtonData):
    """`pc:y:h:1`: «Đồng ý» (y) or «Không đồng ý» (n) to a purpose under notice version 1."""

    PREFIX = "pc"
    agree: bool
    purpose: Purpose
    version: int

    def parts(self) -> tuple[str | int, ...]:
        return ("y" if self.agree else "n", _PURPOSE_CODES[self.purpose], self.version)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case (("y" | "n") as answer, code, text) if (
                code in _CODE_PURPOSES and (version := ref_part(text)) is not None
            ):
                return cls(answer == "y", _CODE_PURPOSES[code], version)
        return None


CONSENTS = Codec("pc", (ConsentAnswer,))


@dataclass(frozen=True)
class RightsMenu(Signal):
    PREFIX = "pv"
    WORDS = ("copy", "fix", "del", "obj", "wd")


@dataclass(frozen=True)
class WithdrawPurpose(Choice):
    PREFIX = "pv"
    VERB = "w"
    VALUES = tuple(p.value for p in PURPOSES)


RightsButton = RightsMenu | WithdrawPurpose
RIGHTS = Codec[RightsButton]("pv", (RightsMenu, WithdrawPurpose))


@dataclass(frozen=True)
class RequestAction(ActionOn):
    """An admin's action on request 12: acknowledge, done, extend once, refuse (asks why)."""

    PREFIX = "pq"
    ACTIONS = ("ack", "done", "ext", "no")


REQUESTS = Codec("pq", (RequestAction,))
