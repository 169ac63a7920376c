"""Typed button data: each feature's button kinds, their codecs, and the registry by prefix.

A button's data is `prefix:part:part…`, at most 64 bytes (the Bot API's limit). Each kind is a
frozen dataclass that writes its own parts and reads them back; a `Codec` groups the kinds of one
prefix.
The dispatcher keeps a `ButtonRegistry` of every feature's codecs, so anything malformed,
oversized or foreign is refused in one place before any feature sees it. A decoded button only
names an object: the feature still checks in the database that the presser may act on it now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from typing import ClassVar, Generic, Self, TypeVar

from bot.domain.ids import parse_id

MAX_PAYLOAD_BYTES = 64
SEPARATOR = ":"


class PayloadTooLong(ValueError):
    """A button's data would not fit in 64 bytes: a bug to catch in tests, never to send."""


def payload(*parts: str | int) -> str:
    """Joins the parts into button data, refusing anything past the 64-byte limit."""
    data = SEPARATOR.join(str(part) for part in parts)
    if byte_size(data) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLong(f"{byte_size(data)} bytes: {data[:80]!r}")
    return data


def byte_size(data: str) -> int:
    """Its length in UTF-8 (a lone surrogate, which no messenger sends, counts and never raises)."""
    return len(data.encode("utf-8", "surrogatepass"))


class ButtonData:
    """Base of every button kind. A subclass is a frozen dataclass that sets PREFIX and writes
    its parts after the prefix (`parts`) and reads them back (`from_parts`, None when they are
    not its own)."""

    PREFIX: ClassVar[str]

    def parts(self) -> tuple[str | int, ...]:
        raise NotImplementedError

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        raise NotImplementedError

    def encode(self) -> str:
        return payload(self.PREFIX, *self.parts())


B_co = TypeVar("B_co", bound=ButtonData, covariant=True)


@dataclass(frozen=True)
class Codec(Generic[B_co]):
    """The button kinds behind one prefix."""

    prefix: str
    kinds: tuple[type[B_co], ...]

    def decode(self, data: str) -> B_co | None:
        """The button `data` names, or None. Only the exact text its kind would write is
        accepted («ap:012:y» is not «ap:12:y»), so what decodes always encodes back the same."""
        if byte_size(data) > MAX_PAYLOAD_BYTES:
            return None
        prefix, *rest = data.split(SEPARATOR)
        if prefix != self.prefix:
            return None
        for kind in self.kinds:
            button = kind.from_parts(tuple(rest))
            if button is not None and _encodes_to(button, data):
                return button
        return None

    def owns(self, data: object) -> bool:
        """Whether `data` is one of this codec's buttons (a filter for a messenger's handler)."""
        return isinstance(data, str) and self.decode(data) is not None


def _encodes_to(button: ButtonData, data: str) -> bool:
    try:
        return button.encode() == data
    except PayloadTooLong:
        return False


class ButtonRegistry:
    """Every feature's codecs by prefix; one prefix belongs to one codec."""

    def __init__(self, codecs: Iterable[Codec[ButtonData]]) -> None:
        self.codecs: dict[str, Codec[ButtonData]] = {}
        for codec in codecs:
            if codec.prefix in self.codecs:
                raise ValueError(f"two codecs for the button prefix {codec.prefix!r}")
            self.codecs[codec.prefix] = codec

    def decode(self, data: str) -> ButtonData | None:
        codec = self.codecs.get(data.partition(SEPARATOR)[0])
        return None if codec is None else codec.decode(data)


# --- reading parts: shared by the features' kinds ------------------------------------------------


def ref_part(text: str) -> int | None:
    """A record's number inside button data (never «#12»: the codec writes bare digits)."""
    return None if text.startswith("#") else parse_id(text)


def small_part(text: str, below: int) -> int | None:
    """A small index or count (a page, a province), 0 ≤ n < below."""
    number = ref_part(text)
    return number if number is not None and number < below else None


def date_part(text: str) -> date | None:
    """A day written as yyyymmdd."""
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def time_part(text: str) -> time | None:
    """A time of day written as hhmm."""
    if len(text) != 4 or not (text.isascii() and text.isdigit()):
        return None
    hour, minute = int(text[:2]), int(text[2:])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def month_part(text: str) -> date | None:
    """A month written as yyyymm, as its first day."""
    return date_part(text + "01") if len(text) == 6 else None


# --- the common shapes: a feature's kind subclasses one and names its words ----------------------


@dataclass(frozen=True)
class Signal(ButtonData):
    """`prefix:word`, one of WORDS (`tv:ok`, `bc:now`)."""

    WORDS: ClassVar[tuple[str, ...]]
    word: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.word,)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        return cls(parts[0]) if len(parts) == 1 and parts[0] in cls.WORDS else None


@dataclass(frozen=True)
class Choice(ButtonData):
    """`prefix:VERB:value`, the value one of VALUES (`tv:ca:yes`, `ox:x:travel`)."""

    VERB: ClassVar[str]
    VALUES: ClassVar[tuple[str, ...]]
    value: str

    def parts(self) -> tuple[str | int, ...]:
        return (self.VERB, self.value)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case (cls.VERB, value) if value in cls.VALUES:
                return cls(value)
        return None


@dataclass(frozen=True)
class Numbered(ButtonData):
    """`prefix:VERB:n` for a small number below BELOW (a page, a province's index)."""

    VERB: ClassVar[str]
    BELOW: ClassVar[int]
    number: int

    def parts(self) -> tuple[str | int, ...]:
        return (self.VERB, self.number)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case (cls.VERB, text) if (number := small_part(text, cls.BELOW)) is not None:
                return cls(number)
        return None


@dataclass(frozen=True)
class ActionOn(ButtonData):
    """`prefix:action:id`, an action of ACTIONS on one record (`rq:x:12`, `rt:nag:7`)."""

    ACTIONS: ClassVar[tuple[str, ...]]
    action: str
    ref: int

    def parts(self) -> tuple[str | int, ...]:
        return (self.action, self.ref)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case (action, text) if action in cls.ACTIONS and (ref := ref_part(text)) is not None:
                return cls(action, ref)
        return None


@dataclass(frozen=True)
class OnPerson(ButtonData):
    """`prefix:p:<staff id>`: one person of the directory (a staff id may hold `:`)."""

    staff_id: str

    def parts(self) -> tuple[str | int, ...]:
        return ("p", self.staff_id)

    @classmethod
    def from_parts(cls, parts: tuple[str, ...]) -> Self | None:
        match parts:
            case ("p", *rest) if rest and (staff_id := SEPARATOR.join(rest)).strip():
                return cls(staff_id)
        return None
