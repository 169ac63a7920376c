"""A deactivated person's button press is answered as their typed command is (issue 19.13):
"your access has been removed …", not "please register first"."""

from __future__ import annotations

from pathlib import Path

from bot.domain.clock import ManualClock
from tests.fakebot import FakeBotApi
from tests.harness import RunningBot, load_examples, register
from tests.paths import EXAMPLES

STAFF = 1971


async def test_a_press_after_deactivation_says_the_access_was_removed(
    fake: FakeBotApi, bot: RunningBot, tmp_path: Path, clock: ManualClock
) -> None:
    user = await register(fake, STAFF, "DU-004")
    fake.send_text(user, "/symptoms")
    picker = await fake.next_message(user.id)
    assert picker.buttons()
    lines = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()
    reduced = tmp_path / "staff.csv"
    reduced.write_text("\n".join(x for x in lines if not x.startswith("DU-004")), encoding="utf-8")
    outcome = await load_examples(bot.settings.database_path, clock, staff=reduced)
    assert outcome.summary is not None and outcome.summary.staff_deactivated == ["DU-004"]

    before = len(fake.messages(user.id))
    pressed = fake.press(user, picker, picker.buttons()[0][0]["callback_data"])
    await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
    toast = (fake.answer_for(pressed) or {}).get("text") or ""
    assert "đăng ký" not in toast.lower(), toast
    await fake.wait_for(lambda: len(fake.messages(user.id)) > before)
    told = fake.messages(user.id)[-1]
    assert "không còn trong danh sách" in (told.text or ""), told.text
    assert not picker.edits  # the press changed nothing

    fake.send_text(user, "/me")  # the same answer as a typed command
    assert (await fake.next_message(user.id)).text == told.text
