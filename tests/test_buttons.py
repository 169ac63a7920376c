"""Every feature's button codec, fuzzed (bot/services/kernel/buttons.py and */buttons.py).

Round trip: what a kind encodes decodes back to the same button, within 64 bytes. Arbitrary
text never raises and never decodes to a button that would encode differently. The codecs are
taken from the real composition root, so a feature's new kind is fuzzed without being listed."""

from __future__ import annotations

import ast
import asyncio
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.app import build_application, open_services
from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.ids import MAX_ID_DIGITS
from bot.services.duty.buttons import TIME_FIELDS, AddShift, DutyDay, DutyMonth, DutyTime
from bot.services.health.buttons import Acknowledge, CasePerson, Checkin
from bot.services.kernel.buttons import (
    MAX_PAYLOAD_BYTES,
    ActionOn,
    ButtonData,
    ButtonRegistry,
    Choice,
    Codec,
    Numbered,
    OnPerson,
    PayloadTooLong,
    Signal,
    byte_size,
)
from bot.services.kernel.menu import LANGUAGE_CHOICES
from bot.services.kernel.reach import ChannelPick
from bot.services.privacy.buttons import ConsentAnswer, Purpose
from bot.services.registration.buttons import CONFIRMATIONS
from bot.services.travel.buttons import (
    DATE_FIELDS,
    ApproveAll,
    CalendarDay,
    CalendarMonth,
    Decide,
    QuickTime,
)
from tests.fakebot import DEFAULT_TOKEN
from tests.paths import ROOT

SHAPES = (Signal, Choice, Numbered, ActionOn, OnPerson)


async def _registered_codecs(folder: str) -> list[Codec[ButtonData]]:
    """The codecs the composition root hands the dispatcher (no Bot API call is made)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token=SecretStr(DEFAULT_TOKEN),
        telegram_api_base_url="http://127.0.0.1:9/bot",
        database_path=Path(folder) / "codecs.db",
    )
    clock = ManualClock(datetime(2021, 5, 26, 9, 0, tzinfo=settings.tz))
    services = await open_services(build_application(settings), settings, clock)
    await services.db.close()
    return list(services.dispatcher.button_codecs.codecs.values())


with tempfile.TemporaryDirectory() as _folder:
    CODECS = [*asyncio.run(_registered_codecs(_folder)), CONFIRMATIONS, LANGUAGE_CHOICES]
REGISTRY = ButtonRegistry(CODECS)
KINDS = [kind for codec in CODECS for kind in codec.kinds]

ids = st.integers(min_value=0, max_value=10**MAX_ID_DIGITS - 1)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
BESPOKE: dict[type[ButtonData], st.SearchStrategy[ButtonData]] = {
    Decide: st.builds(Decide, ids, st.booleans()),
    ApproveAll: st.builds(ApproveAll, st.booleans()),
    CalendarMonth: st.builds(
        CalendarMonth, st.sampled_from(DATE_FIELDS), days.map(lambda d: d.replace(day=1))
    ),
    CalendarDay: st.builds(CalendarDay, st.sampled_from(DATE_FIELDS), days),
    QuickTime: st.builds(
        QuickTime, st.sampled_from(DATE_FIELDS), st.times().map(lambda t: time(t.hour, t.minute))
    ),
    Acknowledge: st.builds(Acknowledge, ids),
    Checkin: st.builds(Checkin, ids, days, st.booleans()),
    ConsentAnswer: st.builds(ConsentAnswer, st.booleans(), st.sampled_from(Purpose), ids),
    AddShift: st.builds(AddShift, st.text(min_size=1, max_size=40).filter(str.strip)),
    DutyMonth: st.builds(DutyMonth, days.map(lambda d: d.replace(day=1))),
    DutyDay: st.builds(DutyDay, days),
    DutyTime: st.builds(
        DutyTime, st.sampled_from(TIME_FIELDS), st.times().map(lambda t: time(t.hour, t.minute))
    ),
    ChannelPick: st.builds(ChannelPick, st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)),
}


def strategy_for(kind: type[ButtonData]) -> st.SearchStrategy[ButtonData]:
    if kind in BESPOKE:
        return BESPOKE[kind]
    if issubclass(kind, Signal):
        return st.sampled_from(kind.WORDS).map(kind)
    if issubclass(kind, Choice):
        return st.sampled_from(kind.VALUES).map(kind)
    if issubclass(kind, Numbered):
        return st.integers(min_value=0, max_value=kind.BELOW - 1).map(kind)
    if issubclass(kind, ActionOn):
        return st.builds(kind, st.sampled_from(kind.ACTIONS), ids)
    if issubclass(kind, OnPerson):
        return st.builds(kind, st.text(min_size=1, max_size=80).filter(str.strip))
    raise AssertionError(f"{kind.__name__}: give it a strategy in BESPOKE")


buttons = st.one_of([strategy_for(kind) for kind in KINDS])


def _all_kinds(base: type[ButtonData]) -> Iterator[type[ButtonData]]:
    for kind in base.__subclasses__():
        yield kind
        yield from _all_kinds(kind)


def test_every_kind_is_in_a_codec_of_its_own_prefix_and_has_a_strategy() -> None:
    for codec in CODECS:
        assert all(codec.prefix == kind.PREFIX for kind in codec.kinds), codec.prefix
    defined = {kind for kind in _all_kinds(ButtonData) if kind not in SHAPES}
    assert defined <= set(KINDS), defined - set(KINDS)
    for kind in KINDS:
        strategy_for(kind)


def test_one_prefix_belongs_to_one_codec() -> None:
    with pytest.raises(ValueError, match="two codecs"):
        ButtonRegistry([CODECS[0], CODECS[0]])


@given(buttons)
def test_a_button_round_trips_within_64_bytes(button: ButtonData) -> None:
    try:
        data = button.encode()
    except PayloadTooLong:
        return  # only CasePerson's free text can be too long; it is refused where it is made
    assert byte_size(data) <= MAX_PAYLOAD_BYTES
    assert REGISTRY.decode(data) == button


def test_a_payload_that_would_not_fit_is_refused_where_it_is_made() -> None:
    with pytest.raises(PayloadTooLong):
        CasePerson("x" * 70).encode()
    assert len(CasePerson("x" * 59).encode()) == MAX_PAYLOAD_BYTES


def _check_decoded(data: str) -> None:
    button = REGISTRY.decode(data)
    if button is not None:
        assert button.encode() == data
        assert byte_size(data) <= MAX_PAYLOAD_BYTES


@given(st.text(max_size=100))
def test_arbitrary_text_never_raises_nor_decodes_to_another_payload(data: str) -> None:
    _check_decoded(data)


@given(
    st.sampled_from([codec.prefix for codec in CODECS]),
    st.lists(
        st.one_of(st.text(max_size=12), ids.map(str), st.sampled_from(["y", "n", "end", "p"])),
        max_size=4,
    ),
)
def test_payloads_with_a_known_prefix_never_raise(prefix: str, parts: list[str]) -> None:
    _check_decoded(":".join([prefix, *parts]))


@given(buttons, st.text(min_size=1, max_size=3))
def test_a_changed_real_payload_never_raises(button: ButtonData, extra: str) -> None:
    try:
        data = button.encode()
    except PayloadTooLong:
        return
    for forged in (data + extra, extra + data, data[:-1], data.replace(":", extra, 1)):
        _check_decoded(forged)


@pytest.mark.parametrize(
    "data",
    ["ap:99999999999999999999:y", "ap:²:y", "ap:012:y", "ap:-1:y", "ap:1:y:", "ap:1", "ap:#1:y",
     "ap:" + "1" * 62, "zz:1", "", ":", "apall:n", "tv:cal:dep:202613", "tv:day:ret:20210230",
     "tv:t:dep:2400", "tv:p:9999", "mc:1:20210601:x", "cs:p:", "bc:r:", "rt:nag:1.5",
     "dy:add:", "dy:add: ", "dy:d:20210230", "dy:t:x:0600", "dy:t:f:2400", "dy:m:202113",
     "dy:sw:-1", "dy:pg:999", "du:ok:1.5"],
)  # fmt: skip
def test_known_forgeries_are_refused(data: str) -> None:
    assert REGISTRY.decode(data) is None


@pytest.mark.parametrize(
    "data",
    ["ap:12:y", "ap:12:n", "apall", "apall:y", "rq:keep:3", "tv:noop", "tv:cal:dep:202106",
     "tv:day:ret:20210530", "tv:t:dep:0730", "tv:ef:case_area", "rt:b:5", "rt:sd", "rt:s:fever",
     "sy:onset:2", "sy:t:fever", "ha:4", "mc:3:20210601:y", "mo:end:3", "cs:p:TH-003", "cs:ext",
     "cs:add:9", "ar:end:2", "ox:x:travel", "bc:r:1", "bc:aud:all", "bc:pol:ban", "bc:noop",
     "reg:y", "lang:en", "dy:add:HB-TH", "dy:sw:12", "dy:p:TH-004", "dy:pg:1", "dy:_", "dy:x",
     "dy:m:202105", "dy:d:20210527", "dy:t:f:2200", "du:ok:3", "du:x:3", "dr:dtpl"],
)  # fmt: skip
def test_existing_payloads_keep_their_wire_format(data: str) -> None:
    button = REGISTRY.decode(data)
    assert button is not None and button.encode() == data


def test_a_codec_owns_only_its_own_buttons() -> None:
    assert CONFIRMATIONS.owns("reg:y") and LANGUAGE_CHOICES.owns("lang:en")
    for data in ("reg:x", "reg:y:", "lang:fr", "ap:1:y", "", None, b"reg:y"):
        assert not CONFIRMATIONS.owns(data) and not LANGUAGE_CHOICES.owns(data)


def _hand_written_payloads() -> Iterator[str]:
    """`Button(label, "xx:…")` with literal data anywhere in the services: data must come from a
    kind's encode(), where its size is checked."""
    for path in sorted((ROOT / "bot" / "services").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Button"):
                continue
            data = node.args[1] if len(node.args) > 1 else None
            data = next((k.value for k in node.keywords if k.arg == "callback"), data)
            if isinstance(data, ast.Constant | ast.JoinedStr):
                yield f"{path.relative_to(ROOT)}:{node.lineno}"


def test_every_button_s_data_is_made_by_a_codec() -> None:
    assert list(_hand_written_payloads()) == []
