"""A message rendered per channel from its Capabilities alone (bot/services/outbox/render.py).

Three channels: Telegram's own capabilities (rendering changes nothing it can show), a
Zalo-like one (2,000 characters, 5 buttons, no edits, no menu) and one without buttons at all
(numbered choices in the text, answered by a typed number or label).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.port import Capabilities, LengthUnit, PhoneSharing, ProactivePolicy
from bot.channels.telegram import capabilities as telegram_capabilities
from bot.channels.zalo.render import capabilities as zalo_capabilities
from bot.domain.splitting import utf16_len
from bot.outgoing import Button, ChannelFile, MenuItem, OutMessage
from bot.services.outbox.render import (
    MORE_BUTTONS,
    numbered_choices,
    render_for,
    resolve_choice,
    text_choices,
)

ZALO_LIKE = Capabilities(
    max_text=2000,
    max_caption=2000,
    max_buttons=5,
    max_buttons_per_row=1,
    max_payload_bytes=1000,
    max_button_text=100,
    can_edit=False,
    can_delete=False,
    can_acknowledge=False,
    max_acknowledgement=0,
    persistent_menu=False,
    command_menu=False,
    can_quote=True,
    phone_sharing=PhoneSharing.FORM,
    proactive=ProactivePolicy(timedelta(hours=48), timedelta(days=7)),
    send_rate=60.0,
    length_unit=LengthUnit.CHARACTERS,
)
NO_BUTTONS = replace(ZALO_LIKE, max_buttons=0, can_quote=False, phone_sharing=PhoneSharing.TYPED)
TELEGRAM = telegram_capabilities()

PART_NUMBER = re.compile(r"^\(\d+/\d+\) ")


def _buttons(count: int, per_row: int = 2) -> tuple[tuple[Button, ...], ...]:
    labels = [Button(f"Choice {i}", f"x:{i}") for i in range(count)]
    return tuple(tuple(labels[i : i + per_row]) for i in range(0, count, per_row))


def _all_buttons(parts: list[OutMessage]) -> list[Button]:
    return [b for part in parts for row in part.buttons for b in row]


def _words(texts: list[str]) -> list[str]:
    """The words of the parts, part numbers and the «more buttons» filler left out."""
    kept = [PART_NUMBER.sub("", text) for text in texts if text != MORE_BUTTONS]
    return " ".join(kept).split()


# --- Telegram: what it can show goes out as it is ---------------------------------------------


def test_telegram_renders_an_ordinary_message_unchanged() -> None:
    message = OutMessage(
        "Xin chào",
        buttons=_buttons(6),
        menu=((MenuItem("travel", "✈️ Đi"), MenuItem("help", "❓")),),
        commands=(("help", "help"),),
        edit_ref="12",
        reply_to="11",
    )
    assert render_for(message, TELEGRAM) == [message]


def test_telegram_keeps_a_markup_only_edit_and_a_deletion() -> None:
    markup = OutMessage("", buttons=_buttons(2), edit_ref="5", markup_only=True)
    delete = OutMessage("", delete_ref="5")
    assert render_for(markup, TELEGRAM) == [markup]
    assert render_for(delete, TELEGRAM) == [delete]


def test_telegram_splits_instead_of_cutting_a_text_over_4096() -> None:
    text = ("Một câu dài. " * 500).strip()
    parts = render_for(OutMessage(text, buttons=_buttons(1)), TELEGRAM)
    assert len(parts) == 2 and all(utf16_len(p.text) <= 4096 for p in parts)
    assert _words([p.text for p in parts]) == text.split()
    assert parts[-1].buttons and not parts[0].buttons


# --- a Zalo-like channel ------------------------------------------------------------------------


def test_zalo_like_splits_at_2000_in_numbered_parts() -> None:
    text = ("Chỉ thị số 15. " * 300).strip()
    parts = render_for(OutMessage(text), ZALO_LIKE)
    assert len(parts) == 3
    assert [p.text[:6] for p in parts] == ["(1/3) ", "(2/3) ", "(3/3) "]
    assert all(len(p.text) <= 2000 for p in parts)


def test_zalo_like_puts_more_than_five_buttons_in_further_messages() -> None:
    message = OutMessage("Chọn đơn vị", buttons=_buttons(12, per_row=3))
    parts = render_for(message, ZALO_LIKE)
    assert [len(_all_buttons([p])) for p in parts] == [5, 5, 2]
    assert parts[0].text == "Chọn đơn vị" and parts[1].text == MORE_BUTTONS
    assert _all_buttons(parts) == [b for row in message.buttons for b in row]


def test_zalo_like_follows_up_instead_of_editing() -> None:
    edit = OutMessage("✅ Đã phê duyệt", edit_ref="m-77", send_if_edit_fails=True)
    [follow_up] = render_for(edit, ZALO_LIKE)
    assert follow_up.edit_ref is None and follow_up.reply_to == "m-77"
    assert follow_up.text == "✅ Đã phê duyệt" and not follow_up.send_if_edit_fails


def test_zalo_like_drops_a_buttons_only_edit_that_takes_buttons_away() -> None:
    assert render_for(OutMessage("", edit_ref="m-1", markup_only=True), ZALO_LIKE) == []


def test_zalo_like_shows_new_buttons_of_a_buttons_only_edit_in_a_new_message() -> None:
    [part] = render_for(
        OutMessage("", buttons=_buttons(2), edit_ref="m-1", markup_only=True), ZALO_LIKE
    )
    assert part.edit_ref is None and not part.markup_only and len(_all_buttons([part])) == 2


def test_zalo_like_cannot_delete_so_only_an_edit_that_matters_goes_as_a_new_message() -> None:
    assert render_for(OutMessage("x", delete_ref="m-1"), ZALO_LIKE) == []
    [instead] = render_for(OutMessage("x", delete_ref="m-1", send_if_edit_fails=True), ZALO_LIKE)
    assert instead.delete_ref is None and instead.text == "x"


def test_zalo_like_leaves_out_the_menu_and_the_command_list_but_asks_for_the_phone() -> None:
    message = OutMessage(
        "Chào",
        menu=((MenuItem("help", "❓ Trợ giúp"),),),
        commands=(("help", "trợ giúp"),),
        ask_phone="📱 Chia sẻ số điện thoại",
        remove_keyboard=True,
    )
    [part] = render_for(message, ZALO_LIKE)
    assert part.menu == () and part.commands == () and not part.remove_keyboard
    assert part.ask_phone == "📱 Chia sẻ số điện thoại"


def test_a_caption_too_long_for_the_file_goes_as_text_before_it() -> None:
    caps = replace(ZALO_LIKE, max_caption=20)
    message = OutMessage("Văn bản chỉ đạo về phòng dịch", document=ChannelFile("zalo", "f1"))
    parts = render_for(message, caps)
    assert [p.text for p in parts] == ["Văn bản chỉ đạo về phòng dịch", ""]
    assert parts[-1].document == ChannelFile("zalo", "f1") and parts[0].document is None


# --- a channel without buttons: numbered choices -------------------------------------------


def test_without_buttons_the_choices_are_numbered_in_the_text() -> None:
    message = OutMessage(
        "Duyệt đơn?",
        buttons=((Button("Phê duyệt", "ap:1:y"), Button("Từ chối", "ap:1:n")),
                 (Button("Xem", url="https://example.org/1"),)),
    )  # fmt: skip
    [part] = render_for(message, NO_BUTTONS)
    assert part.buttons == ()
    assert part.text == "Duyệt đơn?\n\n1. Phê duyệt\n2. Từ chối\nXem: https://example.org/1"
    choices = numbered_choices(message.buttons)
    assert resolve_choice("1", choices) == "ap:1:y"
    assert resolve_choice(" 2. ", choices) == "ap:1:n"
    assert resolve_choice("từ chối", choices) == "ap:1:n"
    assert resolve_choice("3", choices) is None
    assert resolve_choice("0", choices) is None
    assert resolve_choice("Phê duyệt luôn", choices) is None
    assert resolve_choice("1", []) is None


# --- properties --------------------------------------------------------------------------------

WORD = st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạ😀.,!?", min_size=1, max_size=12)
TEXTS = st.lists(st.tuples(WORD, st.sampled_from([" ", "\n", "\n\n", ". "])), max_size=700).map(
    lambda pairs: "".join(w + sep for w, sep in pairs).strip()
)
LABELS = st.text(alphabet="abcdeghiklmnopqrstuvxy ", min_size=1, max_size=20).map(
    lambda s: s.strip() or "x"
)
ROWS = st.lists(
    st.lists(
        st.builds(lambda label, n: Button(label, f"p:{n}"), LABELS, st.integers(0, 10**6)),
        min_size=1,
        max_size=9,
    ).map(tuple),
    max_size=8,
).map(tuple)
CHANNELS = st.sampled_from([TELEGRAM, ZALO_LIKE, NO_BUTTONS, replace(ZALO_LIKE, max_text=50)])


@settings(max_examples=150, deadline=None)
@given(TEXTS, ROWS, CHANNELS)
def test_rendering_loses_no_text_keeps_order_and_reaches_every_button(
    text: str, rows: tuple[tuple[Button, ...], ...], caps: Capabilities
) -> None:
    message = OutMessage(text or "x", buttons=rows)
    parts = render_for(message, caps)
    pressable = [b for row in rows for b in row]
    assert parts, "something always goes out"
    for part in parts:
        assert utf16_len(part.text) <= caps.max_text
        assert len(_all_buttons([part])) <= caps.max_buttons
        assert all(len(row) <= caps.max_buttons_per_row for row in part.buttons)
        assert part.edit_ref is None or caps.can_edit
    if caps.max_buttons:
        assert _all_buttons(parts) == pressable  # every button, in order
        assert _words([p.text for p in parts]) == (text or "x").split()
    else:
        shown = " ".join(p.text for p in parts)
        choices = numbered_choices(rows)
        assert [data for _, data in choices] == [b.callback for b in pressable]
        for number, (label, data) in enumerate(choices, start=1):
            assert f"{number}. {label}" in shown or len(parts) > 1
            assert resolve_choice(str(number), choices) == data
        assert _words([p.text for p in parts])[: len(text.split())] == text.split()


@settings(max_examples=100, deadline=None)
@given(TEXTS, CHANNELS)
def test_an_edit_is_one_edit_or_follow_ups_never_lost(text: str, caps: Capabilities) -> None:
    edit = OutMessage(text or "x", edit_ref="41")
    parts = render_for(edit, caps)
    assert _words([p.text for p in parts]) == (text or "x").split()
    assert [p.edit_ref for p in parts][:1] == (["41"] if caps.can_edit else [None])


# --- what a channel cannot carry: data past its payload limit, labels past its title limit ----

ZALO = zalo_capabilities(4000)


def test_button_data_past_the_channels_limit_is_a_numbered_choice_beside_the_other_buttons() -> (
    None
):
    long_data = "dp:" + "x" * ZALO.max_payload_bytes
    message = OutMessage(
        "Đơn #7", buttons=((Button("Xem", long_data), Button("Bỏ qua", "bc:s:1")),)
    )
    [part] = render_for(message, ZALO)
    assert part.text == "Đơn #7\n\n1. Xem"
    assert _all_buttons([part]) == [Button("Bỏ qua", "bc:s:1")]
    assert numbered_choices(text_choices(message.buttons, ZALO)) == [("Xem", long_data)]
    assert render_for(message, TELEGRAM)[0].text == "Đơn #7\n\n1. Xem"  # 64 bytes there
    assert text_choices(((Button("Bỏ qua", "bc:s:1"),),), ZALO) == ()


def test_a_label_past_the_title_limit_is_cut_numbered_and_listed_in_the_text() -> None:
    label = "👥 Những người chưa đọc văn bản #12"
    message = OutMessage("Văn bản #12", buttons=((Button(label, "bc:u:12"), Button("Đóng", "x")),))
    [part] = render_for(message, ZALO)
    assert part.text == f"Văn bản #12\n\n1. {label}\n2. Đóng"
    titles = [b.text for b in _all_buttons([part])]
    assert titles == ["1. 👥 Những người ch…", "2. Đóng"]
    assert all(len(title) <= ZALO.max_button_text for title in titles)
    assert [b.callback for b in _all_buttons([part])] == ["bc:u:12", "x"]


def test_labels_past_the_limit_in_further_messages_are_listed_there() -> None:
    buttons = tuple((Button(f"Đơn vị trường tiểu học số {i}", f"u:{i}"),) for i in range(7))
    parts = render_for(OutMessage("Chọn đơn vị", buttons=buttons), ZALO)
    assert len(parts) == 2
    assert parts[1].text.splitlines()[0] == "1. Đơn vị trường tiểu học số 5"
    assert [b.text[:3] for b in _all_buttons(parts)] == ["1. ", "2. ", "3. ", "4. ", "5. "] + [
        "1. ",
        "2. ",
    ]


DATA = st.integers(0, 498).map(lambda n: "d:" + "é" * n)  # up to 998 bytes


@settings(max_examples=100, deadline=None)
@given(st.lists(DATA, min_size=1, max_size=8), st.sampled_from([TELEGRAM, ZALO]))
def test_no_button_goes_with_data_past_the_channels_limit_and_none_is_lost(
    data: list[str], caps: Capabilities
) -> None:
    rows = tuple((Button(f"Lựa chọn {i}", d),) for i, d in enumerate(data))
    parts = render_for(OutMessage("Chọn", buttons=rows), caps)
    shown = [b.callback for b in _all_buttons(parts)]
    assert all(len((d or "").encode()) <= caps.max_payload_bytes for d in shown)
    as_text = [d for _, d in numbered_choices(text_choices(rows, caps))]
    assert sorted(shown + as_text) == sorted(data)
