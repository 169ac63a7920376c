"""What Zalo cannot carry never costs the whole message, through the strict fake OA: button data
past its payload limit becomes a numbered choice in the text (a typed number presses it), a
label past its title limit is cut and numbered, and listed whole in the text.

The limits are the strict readings of ZALO.md's sources (bot/channels/zalo/render.py): titles
of at most 20 characters, payloads of at most 1,000 bytes."""

from __future__ import annotations

from bot.outgoing import Button, OutMessage
from bot.sandbox.zalo_model import MAX_BUTTON_TITLE, MAX_QUERY_PAYLOAD
from storage.outbox_repo import OutboxRepo, Recipient
from tests.fakezalo import FakeZaloOA, ZaloUser
from tests.harness import RunningBot
from tests.test_e2e_zalo import bot, next_with, oa, register_on_zalo

FIXTURES = (bot, oa)  # the bot with both channels on, and its fake Zalo OA

LONG_DATA = "dp:" + "x" * (MAX_QUERY_PAYLOAD - 3)  # with Zalo's "#kb:" prefix: past the limit


async def queue(bot: RunningBot, person: ZaloUser, message: OutMessage) -> None:
    """A message for the person, as any feature's would leave through the outbox."""
    async with bot.services.db.transaction() as tx:
        await OutboxRepo(tx).enqueue(Recipient("zalo", person.user_id), message, bot.clock.now())
    bot.services.sender.wake()


async def test_button_data_past_zalos_limit_is_a_numbered_choice_and_the_rest_goes(
    oa: FakeZaloOA, bot: RunningBot
) -> None:
    person = await register_on_zalo(oa, "Lại Thị Diệu Linh", "84912000026")
    buttons = ((Button("Xem chi tiết", LONG_DATA), Button("Bỏ qua", "bc:s:99")),)
    await queue(bot, person, OutMessage("Đơn #7 cần xem xét.", buttons=buttons))
    sent = await next_with(oa, person, "Đơn #7")
    assert "1. Xem chi tiết" in (sent.text or "")
    assert sent.button_titles() == ["Bỏ qua"]  # the button Zalo can carry stays a button
    assert oa.stats()["refused"] == {}, oa.stats()

    oa.mark_read(person.user_id)
    oa.send_text(person, "1")  # the typed number is the press of the long button
    answer = await next_with(oa, person, "không còn hiệu lực")  # an unknown press, refused
    assert answer.text


async def test_a_label_past_zalos_title_limit_is_cut_numbered_and_listed_whole(
    oa: FakeZaloOA, bot: RunningBot
) -> None:
    person = await register_on_zalo(oa, "Lại Thị Diệu Linh", "84912000026")
    label = "👥 Những người chưa đọc văn bản #12"
    buttons = ((Button(label, "bc:u:12"),), (Button("Đóng", "bc:s:99"),))
    await queue(bot, person, OutMessage("Văn bản #12", buttons=buttons))
    sent = await next_with(oa, person, "Văn bản #12")
    titles = sent.button_titles()
    assert all(len(title) <= MAX_BUTTON_TITLE for title in titles), titles
    assert titles[0].startswith("1. 👥") and titles[0].endswith("…")
    assert f"1. {label}" in (sent.text or "")
    assert oa.stats()["refused"] == {}, oa.stats()
    oa.tap(person, sent, "1. 👥")  # the cut button still carries its data
    await next_with(oa, person, "Chỉ thủ trưởng đơn vị")
