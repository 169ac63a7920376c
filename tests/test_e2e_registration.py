"""Registration, /me, /language and update de-duplication, end to end over HTTP."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.domain.clock import ManualClock
from bot.services.registration.directory_import import write_invites
from storage.db import Database
from storage.repos import AuditRepo
from tests.fakebot import FakeBotApi, FakeUser
from tests.harness import EXAMPLES, RunningBot, give_consents, load_examples

BAO_PHONE = "0912 000 011"  # DU-004 Dương Quốc Bảo, party office; head DU-001
ADMIN_PHONE = "+84 912 000 010"  # DU-003 Ngô Thị Mai Phương, role admin


async def register(fake: FakeBotApi, user: FakeUser, phone: str) -> None:
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, phone)
    question = await fake.next_message(user.id)
    fake.press(user, question, question.callback_data("✅"))
    welcome = await give_consents(fake, user)
    assert "Đăng ký thành công" in (welcome.text or "")


async def test_register_by_contact_then_me(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(501, "Bảo")
    fake.send_text(user, "/start")
    first = await fake.next_message(user.id)
    assert first.reply_markup is not None
    assert first.reply_markup["keyboard"][0][0]["request_contact"] is True

    fake.send_contact(user, BAO_PHONE)
    question = await fake.next_message(user.id)
    assert "Dương Quốc Bảo" in (question.text or "")
    assert "Văn phòng Đảng ủy phường" in (question.text or "")

    fake.press(user, question, question.callback_data("✅"))
    welcome = await give_consents(fake, user)
    assert "Dương Quốc Bảo" in (welcome.text or "")
    assert welcome.reply_markup is not None and "keyboard" in welcome.reply_markup

    fake.send_text(user, "/me")
    me = await fake.next_message(user.id)
    text = me.text or ""
    assert "Bùi Thị Hồng Nhung" in text  # the head of the party office decides
    assert "Trần Thị Thu Hương" in text  # the standing deputy secretary is told
    assert "Công chức cơ quan Dân, Đảng" in text  # the rule that routed it


async def test_someone_elses_contact_is_refused(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(502)
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, BAO_PHONE, contact_user_id=999)
    refusal = await fake.next_message(user.id)
    assert "của chính anh/chị" in (refusal.text or "")
    fake.send_text(user, "/me")
    help_again = await fake.next_message(user.id)
    assert help_again.reply_markup is not None and "keyboard" in help_again.reply_markup
    assert "đăng ký" in (help_again.text or "").lower()


async def test_unknown_phone_answers_politely_and_tells_admins(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    admin = fake.user(600, "Phương")
    await register(fake, admin, ADMIN_PHONE)
    stranger = fake.user(503)
    fake.send_text(stranger, "/start")
    await fake.next_message(stranger.id)
    fake.send_contact(stranger, "0987 654 321")
    answer = await fake.next_message(stranger.id)
    assert "Văn phòng" in (answer.text or "") and "0987 654 321" in (answer.text or "")
    alert = await fake.next_message(admin.id)
    assert "0987 654 321" in (alert.text or "")
    assert "(tài khoản Telegram 503)" in (alert.text or "")  # the messenger named by its channel


async def test_a_person_linked_to_another_account_is_told_so(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    await register(fake, fake.user(507, "Bảo"), BAO_PHONE)
    other = fake.user(508)
    fake.send_text(other, "/start")
    await fake.next_message(other.id)
    fake.send_contact(other, BAO_PHONE)
    refusal = await fake.next_message(other.id)
    assert refusal.text == (
        "Người này đã đăng ký trên một tài khoản Telegram khác. Nếu đó là anh/chị, "
        "vui lòng liên hệ Văn phòng."
    )


async def test_invite_link_works_once(
    fake: FakeBotApi, bot: RunningBot, tmp_path: Path, clock: ManualClock
) -> None:
    out = tmp_path / "invites.csv"
    count = await write_invites(bot.services.db, clock, "khaibao_test_bot", out)
    assert count == 40
    with out.open(encoding="utf-8-sig") as handle:
        rows = {row["staff_id"]: row for row in csv.DictReader(handle)}
    link = rows["TH-003"]["invite_link"]
    assert rows["TH-003"]["full_name"] == "Lại Thị Diệu Linh"
    assert link.startswith("https://t.me/khaibao_test_bot?start=")
    code = link.rsplit("=", 1)[1]

    teacher = fake.user(504)
    fake.send_text(teacher, f"/start {code}")
    welcome = await give_consents(fake, teacher)
    assert "Lại Thị Diệu Linh" in (welcome.text or "")

    other = fake.user(505)
    fake.send_text(other, f"/start {code}")
    refused = await fake.next_message(other.id)
    assert "đã được sử dụng" in (refused.text or "")
    fake.send_text(other, "/me")
    assert "đăng ký" in ((await fake.next_message(other.id)).text or "").lower()


async def test_deactivated_after_reimport_loses_access(
    fake: FakeBotApi, bot: RunningBot, tmp_path: Path, clock: ManualClock
) -> None:
    user = fake.user(506)
    await register(fake, user, BAO_PHONE)
    lines = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()
    reduced = tmp_path / "staff.csv"
    reduced.write_text(
        "\n".join(line for line in lines if not line.startswith("DU-004")), encoding="utf-8"
    )
    outcome = await load_examples(bot.settings.database_path, clock, staff=reduced)
    assert outcome.summary is not None and outcome.summary.staff_deactivated == ["DU-004"]
    fake.send_text(user, "/me")
    answer = await fake.next_message(user.id)
    assert "không còn trong danh sách" in (answer.text or "")


async def test_language_choice_is_saved(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(507)
    await register(fake, user, BAO_PHONE)
    fake.send_text(user, "/language")
    picker = await fake.next_message(user.id)
    fake.press(user, picker, picker.callback_data("English"))
    done = await fake.next_message(user.id)
    assert done.text == "Language set to English."
    fake.send_text(user, "/me")
    me = await fake.next_message(user.id)
    assert "Approved by: Bùi Thị Hồng Nhung" in (me.text or "")


async def test_english_telegram_client_gets_english(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(508, language_code="en-US")
    fake.send_text(user, "/start")
    first = await fake.next_message(user.id)
    assert "Share my phone number" in str(first.reply_markup)


async def test_unregistered_long_message_gets_help(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(510)
    fake.send_text(user, "x" * 10_000)
    answer = await fake.next_message(user.id)
    assert "đăng ký" in (answer.text or "").lower()


async def test_commands_are_set_in_both_languages(fake: FakeBotApi, bot: RunningBot) -> None:
    assert {"vi", "en", ""} <= set(fake.my_commands)
    english = {c["command"]: c["description"] for c in fake.my_commands["en"]}
    vietnamese = {c["command"]: c["description"] for c in fake.my_commands["vi"]}
    assert {"start", "me", "help", "language", "travel", "status", "cancel"} <= set(english)
    assert "pending" not in english  # the default menu is everyone's; a leader's chat gets theirs
    assert english["me"] != vietnamese["me"]


async def test_forged_button_is_refused(fake: FakeBotApi, bot: RunningBot) -> None:
    user = fake.user(511)
    fake.send_text(user, "/start")
    first = await fake.next_message(user.id)
    update_id = fake.press(user, first, "ap:999:y")
    await fake.wait_for(lambda: fake.answer_for(update_id) is not None)
    answer = fake.answer_for(update_id)
    assert answer is not None and "đăng ký" in answer.get("text", "")
    confirm_id = fake.press(user, first, "reg:y")  # not at the confirmation step
    stale = await fake.next_message(user.id)
    assert "không còn hiệu lực" in (stale.text or "")
    assert fake.answer_for(confirm_id) is not None


async def test_audit_log_is_append_only(bot: RunningBot, clock: ManualClock) -> None:
    db: Database = bot.services.db
    async with db.transaction() as tx:
        await AuditRepo(tx).append(clock.now(), "test", "probe")
    try:
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM audit_log")
    except Exception as exc:
        assert "append-only" in str(exc)
    else:
        raise AssertionError("audit rows could be deleted")
