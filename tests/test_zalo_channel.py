"""The Zalo channel against a minimal OA API stand-in (tests/zalo_stub.py): tokens, errors,
rendering, uploads, the 48 h / 7-day window and its fallback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.channels.port import RetryLater, Transient, Undeliverable, WindowClosed
from bot.channels.zalo import wiring
from bot.channels.zalo.api import ZaloApi, ZaloConfig
from bot.channels.zalo.channel import Template, WindowFallback, ZaloChannel
from bot.channels.zalo.errors import ZaloApiError, send_error, until_morning
from bot.channels.zalo.files import ZaloFiles
from bot.channels.zalo.render import capabilities, render
from bot.domain.clock import VIETNAM, ManualClock
from bot.outgoing import Button, LocalFile, OutMessage
from bot.services.directory.fetch import FetchRefused
from storage.channel_usage_repo import ChannelUsageRepo, SendCounts
from storage.db import Database
from storage.outbox_repo import OutboxRepo, Recipient
from storage.repos import AccountsRepo
from storage.zalo_repo import ZaloRepo
from tests.zalo_stub import APP_ID, APP_SECRET, FIRST_REFRESH, ZaloStub

USER = "2468458835296197922"
START = datetime(2026, 12, 1, 9, 0, tzinfo=VIETNAM)


@dataclass
class Rig:
    db: Database
    clock: ManualClock
    stub: ZaloStub
    api: ZaloApi
    channel: ZaloChannel
    files: Path
    told: list[tuple[str, object]] = field(default_factory=list)

    async def touch(self, user: str = USER, ago: timedelta = timedelta(0)) -> None:
        async with self.db.transaction() as tx:
            await ZaloRepo(tx).touch_user(user, self.clock.now() - ago)

    async def counts(self) -> tuple[int, int, int, int]:
        async with self.db.reading() as tx:
            found = (await ChannelUsageRepo(tx).since(START.date())).get("zalo", SendCounts())
        return found.free, found.billable, found.templates, found.held


async def make_rig(tmp_path: Path, template: Template | None = None) -> Rig:
    stub = ZaloStub()
    await stub.start()
    db = await Database.open(tmp_path / "zalo.db")
    clock = ManualClock(START)
    config = ZaloConfig(APP_ID, APP_SECRET, FIRST_REFRESH, stub.base_url, stub.base_url, 3600)
    files = tmp_path / "files"
    files.mkdir()
    told: list[tuple[str, object]] = []

    async def refused(reason: str) -> None:
        told.append(("refused", reason))

    async def unreached(staff: str | None, user: str, waiting: int) -> None:
        told.append(("unreached", (staff, user)))

    async def admin(reason: str) -> None:
        told.append(("admin", reason))

    api = ZaloApi(config, db, clock, on_token_refused=refused)
    fallback = WindowFallback(db, clock, api, template, unreached)
    channel = ZaloChannel(api, db, clock, [files], fallback, 3600, on_admin_needed=admin)
    return Rig(db, clock, stub, api, channel, files, told)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    found = await make_rig(tmp_path)
    yield found
    await found.api.close()
    await found.db.close()
    await found.stub.stop()


async def send_all(rig: Rig, message: OutMessage, user: str = USER) -> list[str | None]:
    """As the outbox does: render, then each part."""
    return [await rig.channel.send(user, part) for part in rig.channel.render(message)]


# --- tokens -------------------------------------------------------------------------------


async def test_the_first_send_refreshes_and_keeps_the_new_pair_before_using_it(rig: Rig) -> None:
    await rig.touch()
    await send_all(rig, OutMessage("xin chào"))
    assert rig.stub.refreshes == 1 and len(rig.stub.sent) == 1
    async with rig.db.reading() as tx:
        pair = await ZaloRepo(tx).tokens(VIETNAM)
    assert pair is not None and pair.refresh_token in rig.stub.refresh  # the one still valid
    assert FIRST_REFRESH not in rig.stub.refresh  # spent
    assert pair.expires_at == START + timedelta(seconds=90_000)


async def test_concurrent_sends_share_one_refresh(rig: Rig) -> None:
    await rig.touch()
    await asyncio.gather(*(send_all(rig, OutMessage(f"m{i}")) for i in range(8)))
    assert rig.stub.refreshes == 1 and len(rig.stub.sent) == 8


async def test_refreshed_ahead_of_expiry_and_on_216(rig: Rig) -> None:
    await rig.touch()
    await send_all(rig, OutMessage("one"))
    rig.clock.advance(timedelta(hours=21))  # less than 5 h left of the 25
    await rig.touch()
    await send_all(rig, OutMessage("two"))
    assert rig.stub.refreshes == 2
    rig.stub.access.clear()  # Zalo forgets the token early: -216, refresh once, retry
    await send_all(rig, OutMessage("three"))
    assert rig.stub.refreshes == 3 and [b["message"]["text"] for b in rig.stub.sent][-1] == "three"


async def test_a_restart_uses_the_saved_pair_not_the_spent_first_token(
    rig: Rig, tmp_path: Path
) -> None:
    await rig.touch()
    await send_all(rig, OutMessage("before"))
    config = rig.api.config
    again = ZaloApi(config, rig.db, rig.clock)
    fallback = WindowFallback(rig.db, rig.clock, again, None)
    channel = ZaloChannel(again, rig.db, rig.clock, [rig.files], fallback, 3600)
    await channel.send(USER, OutMessage("after"))
    await again.close()
    assert rig.stub.refreshes == 1 and len(rig.stub.sent) == 2


async def test_a_refused_refresh_waits_and_tells_the_admins_once(rig: Rig) -> None:
    rig.stub.refuse_refresh = True
    await rig.touch()
    for _ in range(2):
        with pytest.raises(RetryLater):
            await send_all(rig, OutMessage("x"))
    assert [kind for kind, _ in rig.told] == ["refused"]
    assert not rig.stub.sent


# --- error classes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (-32, RetryLater),
        (-211, RetryLater),
        (-234, RetryLater),
        (-213, WindowClosed),
        (-217, WindowClosed),
        (-227, WindowClosed),
        (-230, WindowClosed),
        (-232, WindowClosed),
        (-244, WindowClosed),
        (-201, Undeliverable),
        (-233, Undeliverable),
        (-240, Undeliverable),
        (-248, Undeliverable),
        (-204, RetryLater),
        (-221, RetryLater),
        (-242, RetryLater),
        (-999, Transient),
    ],
)
def test_error_codes_map_to_outbox_outcomes(code: int, outcome: type[Exception]) -> None:
    found = send_error(ZaloApiError(code, "x"), START)
    assert type(found) is outcome


def test_the_night_ban_waits_until_six() -> None:
    night = datetime(2026, 12, 1, 23, 0, tzinfo=VIETNAM)
    assert until_morning(night) == 7 * 3600
    assert until_morning(datetime(2026, 12, 1, 5, 30, tzinfo=VIETNAM)) == 1800


async def test_an_error_only_an_admin_can_fix_is_told_once_and_the_message_waits(
    rig: Rig,
) -> None:
    await rig.touch()
    rig.stub.fail_next("cs", -221, -221)
    for _ in range(2):
        with pytest.raises(RetryLater):
            await send_all(rig, OutMessage("x"))
    assert [kind for kind, _ in rig.told] == ["admin"]


async def test_a_rate_limit_is_retried_later(rig: Rig) -> None:
    await rig.touch()
    rig.stub.fail_next("cs", -32)
    with pytest.raises(RetryLater) as caught:
        await send_all(rig, OutMessage("x"))
    assert caught.value.seconds == 60


# --- rendering ----------------------------------------------------------------------------


async def test_long_text_goes_in_numbered_parts_of_at_most_2000(rig: Rig) -> None:
    await rig.touch()
    text = " ".join(f"từ{i}" for i in range(900))  # about 5,000 characters
    await send_all(rig, OutMessage(text))
    texts = [b["message"]["text"] for b in rig.stub.sent]
    assert len(texts) == 3 and all(len(t) <= 2000 for t in texts)
    assert [t[:6] for t in texts] == ["(1/3) ", "(2/3) ", "(3/3) "]


async def test_more_than_five_buttons_follow_in_further_messages(rig: Rig) -> None:
    await rig.touch()
    buttons = tuple((Button(f"Chọn {i}", f"x:{i}"),) for i in range(7))
    await send_all(rig, OutMessage("Chọn một", buttons=buttons))
    shown = [b["message"]["attachment"]["payload"]["buttons"] for b in rig.stub.sent]
    assert [len(group) for group in shown] == [5, 2]
    assert shown[0][0] == {"title": "Chọn 0", "type": "oa.query.hide", "payload": "#kb:x:0"}
    assert rig.stub.sent[0]["message"]["text"] == "Chọn một"


async def test_an_edit_becomes_a_follow_up_message(rig: Rig) -> None:
    await rig.touch()
    await send_all(rig, OutMessage("✅ Đã duyệt bởi Nguyễn Văn A", edit_ref="mid1"))
    assert rig.stub.sent[0]["message"]["text"] == "✅ Đã duyệt bởi Nguyễn Văn A"
    assert "quote_message_id" not in rig.stub.sent[0]["message"]


async def test_asking_for_the_phone_sends_the_request_user_info_form(rig: Rig) -> None:
    await rig.touch()
    await send_all(rig, OutMessage("Để đăng ký…", ask_phone="📱 Chia sẻ số điện thoại"))
    first, form = (b["message"] for b in rig.stub.sent)
    assert first == {"text": "Để đăng ký…"}
    payload = form["attachment"]["payload"]
    assert payload["template_type"] == "request_user_info"
    (element,) = payload["elements"]
    assert element["title"] == element["subtitle"] == "📱 Chia sẻ số điện thoại"
    assert element["image_url"].startswith("https://")


# --- files --------------------------------------------------------------------------------


async def test_a_pdf_is_uploaded_once_and_uploaded_again_after_seven_days(rig: Rig) -> None:
    await rig.touch()
    pdf = rig.files / "cong-van.pdf"
    pdf.write_bytes(b"%PDF-1.4 test")
    message = OutMessage("Công văn số 12", document=LocalFile(str(pdf)))
    await send_all(rig, message)
    await send_all(rig, message)
    assert len(rig.stub.uploads) == 1
    files = [b for b in rig.stub.sent if b["message"].get("attachment", {}).get("type") == "file"]
    assert len(files) == 2 and files[0]["message"]["attachment"]["payload"]["token"]
    assert rig.stub.sent[0]["message"] == {"text": "Công văn số 12"}  # the text before the file
    rig.clock.advance(timedelta(days=7))
    await rig.touch()
    await send_all(rig, message)
    assert len(rig.stub.uploads) == 2


async def test_copies_sent_at_once_share_one_upload_also_when_it_is_renewed(rig: Rig) -> None:
    """The outbox sends many copies of a directive at once: the first uploads, the others wait
    for its id (also the upload again after 7 days)."""
    people = [f"58{n:016d}" for n in range(8)]
    for person in people:
        await rig.touch(person)
    pdf = rig.files / "chi-thi.pdf"
    pdf.write_bytes(b"%PDF-1.4 chi thi")
    (file_part,) = rig.channel.render(OutMessage("", document=LocalFile(str(pdf))))
    await asyncio.gather(*(rig.channel.send(person, file_part) for person in people))
    assert len(rig.stub.uploads) == 1
    rig.clock.advance(timedelta(days=7))
    for person in people:
        await rig.touch(person)
    await asyncio.gather(*(rig.channel.send(person, file_part) for person in people))
    assert len(rig.stub.uploads) == 2 and len(rig.stub.sent) == 16


async def test_an_expired_upload_is_uploaded_again_and_sent(rig: Rig) -> None:
    await rig.touch()
    png = rig.files / "chart.png"
    png.write_bytes(b"\x89PNG fake")
    message = OutMessage("Biểu đồ", photo=LocalFile(str(png)))
    await send_all(rig, message)
    rig.stub.fail_next("cs", -100)
    await send_all(rig, message)
    assert len(rig.stub.uploads) == 2 and len(rig.stub.sent) == 2
    media = rig.stub.sent[1]["message"]["attachment"]["payload"]
    assert media["template_type"] == "media" and media["elements"][0]["attachment_id"]


async def test_an_xlsx_export_goes_as_csv(rig: Rig) -> None:
    await rig.touch()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Họ tên", "Ghi chú"])
    sheet.append(["Nguyễn Thị B", "=HYPERLINK(1)"])
    path = rig.files / "export.xlsx"
    book.save(path)
    await send_all(rig, OutMessage("", document=LocalFile(str(path))))
    ((kind, name, content),) = rig.stub.uploads
    assert (kind, name) == ("file", "export.csv")
    text = content.decode("utf-8-sig")
    assert "Nguyễn Thị B" in text and "'=HYPERLINK(1)" in text


async def test_a_file_outside_the_bots_folders_is_refused(rig: Rig, tmp_path: Path) -> None:
    await rig.touch()
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(b"%PDF")
    with pytest.raises(Undeliverable):
        await send_all(rig, OutMessage("", document=LocalFile(str(outside))))
    assert not rig.stub.uploads


# --- the window ---------------------------------------------------------------------------


async def test_within_48_hours_free_then_billable_until_seven_days(rig: Rig) -> None:
    await rig.touch(ago=timedelta(hours=47))
    await send_all(rig, OutMessage("free"))
    await rig.touch(ago=timedelta(days=3))
    await send_all(rig, OutMessage("billable"))
    assert await rig.counts() == (1, 1, 0, 0)


async def test_past_seven_days_the_outbox_is_told_to_use_the_other_channel(rig: Rig) -> None:
    async with rig.db.transaction() as tx:
        accounts = AccountsRepo(tx)
        await accounts.touch("zalo", USER, USER)
        await accounts.link("zalo", USER, "S1", START)
        await accounts.touch("telegram", "111", "111")
        await accounts.link("telegram", "111", "S1", START)
    await rig.touch(ago=timedelta(days=8))
    with pytest.raises(WindowClosed):
        await send_all(rig, OutMessage("Chỉ đạo mới"))
    rig.stub.fail_next("cs", -230)
    await rig.touch(ago=timedelta(days=1))  # Zalo knows better: refused all the same
    with pytest.raises(WindowClosed):
        await send_all(rig, OutMessage("Chỉ đạo mới"))
    assert not rig.stub.sent and not rig.told


async def test_refused_by_zalo_with_230_falls_back_too(rig: Rig) -> None:
    await rig.touch(ago=timedelta(days=2))
    rig.stub.fail_next("cs", -230)
    with pytest.raises(Undeliverable, match=r"^held:"):
        await send_all(rig, OutMessage("x"))
    assert [kind for kind, _ in rig.told] == ["unreached"]


async def test_without_another_channel_it_is_held_and_goes_when_they_write(rig: Rig) -> None:
    async with rig.db.transaction() as tx:
        await AccountsRepo(tx).touch("zalo", USER, USER)
        await AccountsRepo(tx).link("zalo", USER, "S1", START)
        row = await OutboxRepo(tx).enqueue(
            Recipient("zalo", USER, "S1"),
            OutMessage("Nhắc khai báo"),
            START,
        )
    await rig.touch(ago=timedelta(days=10))
    with pytest.raises(Undeliverable) as held:
        await send_all(rig, OutMessage("Nhắc khai báo"))
    assert str(held.value).startswith("held:")
    assert rig.told == [("unreached", ("S1", USER))]
    async with rig.db.transaction() as tx:
        await OutboxRepo(tx).mark_final(row, "undeliverable", str(held.value))
    with pytest.raises(Undeliverable):  # a second one held: the admins were told already
        await send_all(rig, OutMessage("Nhắc lần hai"))
    assert len(rig.told) == 1
    async with rig.db.transaction() as tx:
        repo = ZaloRepo(tx)
        assert await repo.held_rows("zalo", USER) == 1
        await repo.touch_user(USER, rig.clock.now())
        assert await repo.release_held("zalo", USER, rig.clock.now()) == 1
    async with rig.db.reading() as tx:
        due = await OutboxRepo(tx).due(rig.clock.now(), 10, set())
    assert [r.id for r in due] == [row]
    assert (await rig.counts())[3] == 2


async def test_a_configured_template_reaches_them_past_the_window(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, Template("tpl-1", "message", "", 50))
    try:
        await rig.touch(ago=timedelta(days=9))
        refs = await send_all(rig, OutMessage("Chỉ đạo: " + "x" * 100))
        assert refs[0] is not None and refs[0].startswith("template:")
        (sent,) = rig.stub.templates
        assert sent["template_id"] == "tpl-1" and sent["user_id"] == USER
        assert len(sent["template_data"]["message"]) == 50
        assert await rig.counts() == (0, 0, 1, 0)
    finally:
        await rig.api.close()
        await rig.db.close()
        await rig.stub.stop()


async def test_a_file_a_person_sent_is_fetched_with_its_size_checked(
    rig: Rig, tmp_path: Path
) -> None:
    rig.stub.files["staff.csv"] = b"staff_id;full_name\n" * 10
    url = f"{rig.stub.base_url}/files/staff.csv"
    fetch = ZaloFiles()
    await fetch("zalo", url, tmp_path / "got.csv", 1000)
    assert (tmp_path / "got.csv").read_bytes() == rig.stub.files["staff.csv"]
    with pytest.raises(FetchRefused) as big:
        await fetch("zalo", url, tmp_path / "big.csv", 50)
    assert big.value.too_big and not (tmp_path / "big.csv").exists()
    for channel, file_id in (("telegram", url), ("zalo", "/etc/hostname")):
        with pytest.raises(FetchRefused):
            await fetch(channel, file_id, tmp_path / "x", 1000)


async def test_a_new_first_token_is_used_when_the_saved_one_is_refused(rig: Rig) -> None:
    await rig.touch()
    await send_all(rig, OutMessage("one"))
    rig.stub.refresh.clear()  # the saved refresh token expired (3 months unused)
    rig.stub.refresh.add("a-new-token-from-the-admin")
    rig.stub.access.clear()
    config = replace(rig.api.config, first_refresh_token="a-new-token-from-the-admin")
    again = ZaloApi(config, rig.db, rig.clock)  # the bot restarted with the new setting
    channel = ZaloChannel(again, rig.db, rig.clock, [rig.files], WindowFallback(
        rig.db, rig.clock, again, None), 3600)  # fmt: skip
    await channel.send(USER, OutMessage("two"))
    await again.close()
    assert [b["message"]["text"] for b in rig.stub.sent] == ["one", "two"]


async def test_the_token_is_kept_fresh_while_nothing_is_sent(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wiring, "KEEPER_PAUSE", 0.01)
    keeper = asyncio.create_task(wiring.keep_tokens_fresh(rig.api))
    try:
        for _ in range(200):
            if rig.stub.refreshes:
                break
            await asyncio.sleep(0.01)
        assert rig.stub.refreshes == 1  # at start
        await asyncio.sleep(0.05)
        assert rig.stub.refreshes == 1  # not again while 5 h or more are left
        rig.clock.advance(timedelta(hours=21))
        for _ in range(200):
            if rig.stub.refreshes == 2:
                break
            await asyncio.sleep(0.01)
        assert rig.stub.refreshes == 2 and not rig.stub.sent
    finally:
        keeper.cancel()


def test_a_file_goes_after_its_text_and_buttons() -> None:
    caps = capabilities(3600)
    file = LocalFile("/srv/files/a.pdf")
    parts = render(OutMessage("", buttons=((Button("Đã đọc", "bc:1:r"),),), document=file), caps)
    assert [(p.text, bool(p.buttons), p.document) for p in parts] == [
        ("…", True, None),
        ("", False, file),
    ]


async def test_two_instances_share_the_pair_and_never_spend_a_token_twice(rig: Rig) -> None:
    await rig.touch()
    other = ZaloApi(rig.api.config, rig.db, rig.clock)  # a second instance, same database
    try:
        await send_all(rig, OutMessage("one"))  # the first instance refreshes
        assert await other.tokens.current() == next(iter(rig.stub.access))  # read, not renewed
        rig.clock.advance(timedelta(hours=21))
        await send_all(rig, OutMessage("two"))  # renewed again by the first
        stale = await other.tokens.refresh(None)  # the second finds the renewed pair
        assert rig.stub.refreshes == 2 and stale.access_token in rig.stub.access
        rig.stub.access.clear()  # both are told their token is invalid at once
        await asyncio.gather(send_all(rig, OutMessage("three")), other.tokens.refresh(
            stale.access_token))  # fmt: skip
        assert rig.stub.refreshes == 3 and not rig.told  # the loser took the winner's pair
    finally:
        await other.close()


async def test_someone_who_unfollowed_is_not_sent_to_and_it_is_held(rig: Rig) -> None:
    await rig.touch()
    async with rig.db.transaction() as tx:
        await ZaloRepo(tx).set_following(USER, False)
    with pytest.raises(Undeliverable, match=r"^held: no longer follows"):
        await send_all(rig, OutMessage("Nhắc khai báo"))
    assert not rig.stub.sent and rig.told == [("unreached", (None, USER))]
    await rig.touch()  # they follow again (an interaction): sent
    await send_all(rig, OutMessage("Nhắc khai báo"))
    assert len(rig.stub.sent) == 1
