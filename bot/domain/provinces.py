"""The 34 provincial-level units (since 1 July 2025) and a forgiving search over them.

People type `ha noi`, `HN`, `tp. Hồ Chí Minh`, `Sài Gòn`, or a former province by habit
(`Bắc Giang` is part of Bắc Ninh today). Search ignores case, diacritics, punctuation, extra
spaces and the prefixes `tp`, `thành phố`, `tỉnh`, and also matches with the spaces left out
(`hanoi`). Pure: the packaged CSV is read once and cached.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

from bot.domain.text import fold, nfc

Via = Literal["name", "alias", "absorbed"]

_MAX_QUERY = 100
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_PREFIXES = ("thanh pho ", "tp ", "tinh ")
_VIA_ORDER: dict[str, int] = {"name": 0, "alias": 1, "absorbed": 2}
_EXACT, _PREFIX, _SUBSTRING = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Province:
    name: str
    kind: str  # "city" or "province"
    absorbed: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    display: str = ""  # how it is written in a sentence when that differs from the name

    @property
    def label(self) -> str:
        """`TP. Hồ Chí Minh`: the name as offices write it (the name itself for most units)."""
        return self.display or self.name


@dataclass(frozen=True, slots=True)
class ProvinceMatch:
    province: Province
    matched: str  # the name, alias or former name that matched, as written in the data
    via: Via
    exact: bool = False  # the query equals `matched` once normalised


@dataclass(frozen=True, slots=True)
class _Key:
    province: Province
    text: str
    via: Via
    folded: str
    compact: str


def normalize_place(text: str) -> str:
    """`  TP. Hồ  Chí-Minh ` → `ho chi minh`: folded, punctuation to spaces, prefix dropped."""
    spaced = _NOT_ALNUM.sub(" ", fold(text)).strip()
    for prefix in _PREFIXES:
        if spaced.startswith(prefix):
            return spaced[len(prefix) :].strip()
    return spaced


@cache
def all_provinces() -> tuple[Province, ...]:
    """The 34 units in file order (cities first, as the CSV lists them)."""
    raw = files("bot").joinpath("data", "provinces.csv").read_text(encoding="utf-8")
    return tuple(_province(row) for row in csv.DictReader(io.StringIO(raw)))


def _province(row: dict[str, str]) -> Province:
    return Province(
        name=row["name"].strip(),
        kind=row["kind"].strip(),
        absorbed=_split(row.get("absorbed") or ""),
        aliases=_split(row.get("aliases") or ""),
        display=(row.get("display") or "").strip(),
    )


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


@cache
def _keys() -> tuple[_Key, ...]:
    keys: list[_Key] = []
    for province in all_provinces():
        entries: list[tuple[str, Via]] = [(province.name, "name")]
        entries += [(alias, "alias") for alias in province.aliases]
        entries += [(former, "absorbed") for former in province.absorbed]
        for text, via in entries:
            keys.append(
                _Key(province, text, via, fold(text), normalize_place(text).replace(" ", ""))
            )
    return tuple(keys)


def _level(key: _Key, compact: str) -> int | None:
    """Compared without spaces, so `hanoi` equals `ha noi` and `chi minh` is inside `ho chi minh`."""
    if compact == key.compact:
        return _EXACT
    if key.compact.startswith(compact):
        return _PREFIX
    if compact in key.compact:
        return _SUBSTRING
    return None


def search_provinces(query: str, limit: int = 8) -> list[ProvinceMatch]:
    """Best match per province: exact first, then prefix, then substring; never raises."""
    if not isinstance(query, str) or limit <= 0 or len(query) > _MAX_QUERY:
        return []
    compact = normalize_place(query).replace(" ", "")
    if not compact:
        return []
    typed = fold(query)
    best: dict[str, tuple[tuple[int, ...], _Key]] = {}
    for index, key in enumerate(_keys()):
        level = _level(key, compact)
        if level is None:
            continue
        # `HCM` reports the alias `HCM`, not `TP HCM`: what was typed literally wins a tie.
        rank = (level, _VIA_ORDER[key.via], int(key.folded != typed), index)
        current = best.get(key.province.name)
        if current is None or rank < current[0]:
            best[key.province.name] = (rank, key)
    ordered = sorted(best.values(), key=lambda item: item[0])
    return [
        ProvinceMatch(key.province, key.text, key.via, exact=rank[0] == _EXACT)
        for rank, key in ordered[:limit]
    ]


def province_label(name: str) -> str:
    """A stored place name as offices write it: `Hồ Chí Minh` → `TP. Hồ Chí Minh`; other text
    (a unit already shown with its label, a free place) unchanged."""
    found = province_by_name(name)
    return found.label if found is not None else name


def province_by_name(name: str) -> Province | None:
    """The unit with exactly this official name or label (NFC/NFD and outer spaces forgiven)."""
    if not isinstance(name, str):
        return None
    wanted = nfc(name).strip()
    return next((p for p in all_provinces() if wanted in (p.name, p.label)), None)


def resolve_province(text: str) -> Province | None:
    """The unit that `text` names exactly (official name, alias or former province), else None."""
    found = search_provinces(text, limit=1)
    return found[0].province if found and found[0].exact else None


def same_province(a: str, b: str) -> bool:
    """True when both texts name the same unit today: `Thủ đô` and `Hà Nội`, `Bắc Giang` and `Bắc Ninh`.

    Texts that name no unit compare by their normalised form (so an unusual configured home
    still equals itself).
    """
    first, second = resolve_province(a), resolve_province(b)
    if first is not None or second is not None:
        return first == second
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    left = normalize_place(a)
    return bool(left) and left == normalize_place(b)
