"""Personal data end to end over HTTP (Wednesday 26/05/2021 09:00, Asia/Ho_Chi_Minh): consent per
purpose at registration and its ledger, the person's copy of their data, a request through the
admins' queue, minimal health alerts with «See details», and the state-duty notice."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from bot.__main__ import main
from bot.domain.clock import ManualClock
from storage.privacy_repo import ConsentsRepo, PrivacyRequestsRepo
from storage.repos import AuditRepo
from tests.fakebot import FakeBotApi, FakeUser, SentMessage
from tests.harness import (
    PHONES,
    RunningBot,
    database_env,
    give_consents,
    load_examples,
    make_settings,
    register,
)
from tests.test_e2e_health import answer, press, report
from tests.test_e2e_returns import PLANNED_RETURN, approved_trip, declare_back, texts, tick_at
from tests.test_e2e_travel import PRINCIPAL as TRAVEL_PRINCIPAL
from tests.test_e2e_travel import TEACHER as TRAVEL_TEACHER
from tests.test_e2e_travel import VICE_CHAIR, submit

TEACHER, PRINCIPAL, COLLEAGUE, ADMIN, OUTSIDER = 861, 862, 863, 864, 865


async def register_refusing_health(fake: FakeBotApi, user_id: int, staff_id: str) -> FakeUser:
    user = fake.user(user_id, staff_id)
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, PHONES[staff_id])
    question = await fake.next_message(user.id)
    fake.press(user, question, question.callback_data("✅"))
    welcome = await give_consents(fake, user, health=False)
    assert "Đăng ký thành công" in (welcome.text or ""), welcome.describe()
    return user


async def message_with(fake: FakeBotApi, user: FakeUser, text: str) -> SentMessage:
    def found() -> list[SentMessage]:
        return [m for m in fake.messages(user.id) if text in (m.text or "")]

    await fake.wait_for(lambda: bool(found()))
    fake.mark_read(user.id)  # what came before it is read too
    return found()[-1]


def decidable(message: SentMessage) -> bool:
    return any("Phê duyệt" in label for label in message.button_texts())


async def ledger(bot: RunningBot, staff_id: str) -> list[tuple[str, str, str | None]]:
    async with bot.services.db.reading() as tx:
        entries = await ConsentsRepo(tx, bot.clock.tz).ledger(staff_id)
    return [(e.purpose, e.decision, e.message_ref) for e in entries]


async def test_refused_health_consent_asks_nothing_of_health_until_given(
    fake: FakeBotApi,
    bot: RunningBot,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    principal = await register(fake, PRINCIPAL, "TH-001")
    teacher = await register_refusing_health(fake, TEACHER, "TH-003")
    entries = await ledger(bot, "TH-003")
    assert [(p, d) for p, d, _ in entries] == [("directory", "granted"), ("health", "refused")]
    assert all(ref for _, _, ref in entries)  # each names the question it answered
    told = await fake.next_message(principal.id)
    assert "khai báo sức khỏe ngoài bot" in (told.text or "")
    assert "sốt" not in (told.text or "").lower()

    instead = await answer(fake, teacher, "/symptoms")
    assert "024 3000 0100" in (instead.text or ""), instead.describe()
    assert not instead.buttons()  # no symptom picker: no health question at all
    travel = await answer(fake, teacher, "/travel")
    assert "chưa đồng ý" not in (travel.text or "")  # travel requests still work

    overview = await answer(fake, teacher, "/privacy")
    assert "Dữ liệu của tôi" in (overview.text or "") and "không đồng ý" in (overview.text or "")
    again = await fake.next_message(teacher.id)
    assert "(b)" in (again.text or "")
    fake.press(teacher, again, again.callback_data("Đồng ý"))
    await fake.wait_for(lambda: len(again.edits) > 0)
    picker = await answer(fake, teacher, "/symptoms")
    assert picker.callback_data("Tiếp")
    decisions = [(p, d) for p, d, _ in await ledger(bot, "TH-003")]
    assert decisions[-1] == ("health", "granted") and len(decisions) == 3

    for name, value in database_env(db_path).items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["privacy", "consents", "XX-999"]) == 1
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["privacy", "consents", "TH-003"]) == 0
    printed = capsys.readouterr().out
    assert "Lại Thị Diệu Linh" in printed
    assert [line.split()[3:5] for line in printed.splitlines()[2:]] == [
        ["directory", "granted"],
        ["health", "refused"],
        ["health", "granted"],
    ]


def _document(message: SentMessage) -> bytes:
    assert message.kind == "document" and message.document is not None, message.describe()
    data: bytes = message.document["data"]
    return data


async def test_my_data_copy_holds_exactly_my_records(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    colleague = await register(fake, COLLEAGUE, "TH-002")
    for user in (teacher, colleague, teacher):
        done = await report(fake, user, [], None)
        assert "không có triệu chứng" in (done.text or ""), done.describe()
    overview = await answer(fake, teacher, "/privacy")
    fake.press(teacher, overview, overview.callback_data("📄"))
    workbook = _document(await fake.next_message(teacher.id))
    copy = json.loads(_document(await fake.next_message(teacher.id)).decode("utf-8"))

    records = copy["records"]
    assert copy["staff_id"] == "TH-003"
    assert [r["staff_id"] for r in records["profile"]] == ["TH-003"]
    assert [r["staff_id"] for r in records["symptom_reports"]] == ["TH-003", "TH-003"]
    assert {r["staff_id"] for r in records["consents"]} == {"TH-003"} and len(
        records["consents"]
    ) == 2
    assert [r["staff_id"] for r in records["accounts"]] == ["TH-003"]
    assert records["accounts"][0]["last_inbound_at"] and records["channel_choice"] == []
    text = json.dumps(copy, ensure_ascii=False)
    assert "TH-002" not in text and "Nghiêm Văn Hải" not in text
    sheets = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    rows = list(sheets["symptom_reports"].iter_rows(values_only=True))
    assert len(rows) == 3  # the header and my two reports
    async with bot.services.db.reading() as tx:
        audited = await AuditRepo(tx).recent(clock.tz, action="privacy.copy")
    assert [(e.actor, e.details["rows"]) for e in audited] == [
        ("TH-003", sum(len(rows) for rows in records.values()))
    ]


async def my_copy(fake: FakeBotApi, user: FakeUser) -> dict[str, list[dict[str, object]]]:
    fake.send_text(user, "/privacy")
    overview = await message_with(fake, user, "🔒 Dữ liệu của tôi")
    fake.press(user, overview, overview.callback_data("📄"))

    def documents() -> list[SentMessage]:
        return [m for m in fake.messages(user.id) if m.kind == "document"]

    await fake.wait_for(lambda: len(documents()) == 2)
    workbook, saved = (_document(m) for m in documents())
    copy = json.loads(saved.decode("utf-8"))
    sheets = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    audit_rows = list(sheets["audit"].iter_rows(values_only=True))
    assert len(audit_rows) == len(copy["records"]["audit"]) + 1  # the header
    records: dict[str, list[dict[str, object]]] = copy["records"]
    return records


async def escalated(bot: RunningBot, alert: str) -> None:
    """Waits for the sweep's escalation entry: on PostgreSQL an id taken before the copy's
    can commit after it, so the test lets the sweep finish before it compares ids."""
    for _ in range(300):
        async with bot.services.db.reading() as tx:
            found = await tx.scalar(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'health.escalate' AND object = ?",
                (alert,),
            )
        if found:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{alert} was never escalated")


async def test_my_copy_tells_who_viewed_my_health_data_and_nothing_about_others(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    colleague = await register(fake, COLLEAGUE, "TH-002")
    for user, name in ((teacher, "Lại Thị Diệu Linh"), (colleague, "Nghiêm Văn Hải")):
        await report(fake, user, ["Sốt"], "38,2")
        alert = await message_with(fake, principal, f"KHẨN của {name}")
        clock.set(clock.now() + timedelta(minutes=30))
        fake.press(principal, alert, alert.callback_data("Xem chi tiết"))
        await message_with(fake, principal, "38,2 °C")
    await escalated(bot, "alert:1")  # the sweep's entry about her, committed before the copy
    records = await my_copy(fake, teacher)
    async with bot.services.db.reading() as tx:
        copied = await tx.scalar("SELECT MIN(id) FROM audit_log WHERE action = 'privacy.copy'")
        everything = await tx.all(  # as the copy saw it (the sweep may add entries since)
            "SELECT id, actor, action, object, details FROM audit_log WHERE id < ?", (copied,)
        )
        reports = dict(await tx.all("SELECT staff_id, id FROM symptom_reports"))
        alerts = dict(await tx.all("SELECT staff_id, id FROM health_alerts"))
        watches = dict(await tx.all("SELECT staff_id, id FROM monitorings"))
    mine = records["audit"]
    view = next(e for e in mine if e["action"] == "health.view")
    assert (view["actor"], view["object"]) == ("TH-001", f"alert:{alerts['TH-003']}")
    assert str(view["who"]).startswith("Châu Thị Bích Ngọc (Hiệu trưởng")
    assert json.loads(str(view["details"])) == {"subject": "TH-003", "via": "details"}
    assert str(view["at"]).startswith("2021-05-26")  # when
    about_me = {
        f"symptoms:{reports['TH-003']}",
        f"alert:{alerts['TH-003']}",
        f"monitoring:{watches['TH-003']}",
        "staff:TH-003",
    }
    expected = [
        entry_id
        for entry_id, actor, action, target, details in everything
        if target in about_me
        or json.loads(details).get("subject") == "TH-003"
        or (actor == "TH-003" and action in ("privacy.consent", "privacy.notice"))
    ]
    assert sorted(int(str(e["id"])) for e in mine) == sorted(expected)
    assert {e["action"] for e in mine} >= {"privacy.consent", "health.report", "health.view"}
    text = json.dumps(records, ensure_ascii=False)
    assert "TH-002" not in text and "Nghiêm Văn Hải" not in text
    assert f"alert:{alerts['TH-002']}" not in text

    heads = json.dumps(await my_copy(fake, principal), ensure_ascii=False)
    assert "TH-003" not in heads and "TH-002" not in heads  # whom she viewed is theirs, not hers
    theirs = await my_copy(fake, colleague)
    assert [e["object"] for e in theirs["audit"] if e["action"] == "health.view"] == [
        f"alert:{alerts['TH-002']}"
    ]
    assert "TH-003" not in json.dumps(theirs, ensure_ascii=False)


async def test_a_deletion_request_reaches_the_admin_is_reminded_and_closed(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    overview = await answer(fake, teacher, "/privacy")
    asked = await press(fake, teacher, overview, "🗑")
    assert "xóa" in (asked.text or "")
    recorded = await answer(fake, teacher, "tất cả báo cáo sức khỏe của tôi")
    text = recorded.text or ""
    assert "#1" in text and "28 tháng 5" in text and "15 tháng 6" in text, (
        text
    )  # 2 working days, 20 days
    queued = await fake.next_message(admin.id)
    assert "#1" in (queued.text or "") and "tất cả báo cáo sức khỏe" in (queued.text or "")

    fake.press(admin, queued, queued.callback_data("Tiếp nhận"))
    acknowledged = await fake.next_message(teacher.id)
    assert "Ngô Thị Mai Phương" in (acknowledged.text or "")

    clock.set(clock.now() + timedelta(days=17))
    assert await bot.services.sweeper.tick() >= 0
    assert not [m for m in fake.messages(admin.id) if "⏰" in (m.text or "")]  # not yet due
    clock.set(clock.now() + timedelta(days=1, hours=1))
    await bot.services.sweeper.tick()
    reminder = await message_with(fake, admin, "⏰")  # among the weekly digests of the 18 days
    assert "#1" in (reminder.text or ""), reminder.describe()
    await bot.services.sweeper.tick()  # reminded once only
    fake.press(admin, reminder, reminder.callback_data("Đã xử lý"))
    closed = await fake.next_message(teacher.id)
    assert "#1" in (closed.text or "") and "xử lý xong" in (closed.text or "")
    async with bot.services.db.reading() as tx:
        request = await PrivacyRequestsRepo(tx, clock.tz).get(1)
    assert request is not None and (request.status, request.closed_by) == ("done", "DU-003")
    assert request.kind == "delete" and request.reminded_at is not None
    assert not [m for m in fake.messages(admin.id) if "⏫" in (m.text or "")]


async def test_a_minimal_alert_shows_symptoms_only_on_details_and_the_view_is_audited(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TEACHER, "TH-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    await report(fake, teacher, ["Sốt"], "38,2")
    alert = await fake.next_message(principal.id)
    body = alert.text or ""
    assert "Lại Thị Diệu Linh" in body and "KHẨN" in body, body
    assert "38" not in body and "sốt" not in body.lower()
    pressed = fake.press(principal, alert, alert.callback_data("Xem chi tiết"))
    await fake.wait_for(lambda: fake.answer_for(pressed) is not None)
    detail = await fake.next_message(principal.id)
    assert "38,2 °C" in (detail.text or "") and "sốt" in (detail.text or ""), detail.describe()
    async with bot.services.db.reading() as tx:
        views = await AuditRepo(tx).recent(clock.tz, action="health.view")
    assert [(v.actor, v.object, v.details.get("via")) for v in views] == [
        ("TH-001", "alert:1", "details")
    ]

    outsider = await register(fake, OUTSIDER, "TH-005", language_code="en")
    own = await answer(fake, outsider, "/symptoms")  # any message of theirs to press on
    forged = fake.press(outsider, own, "hx:a:1")  # a teacher: neither told nor above her
    await fake.wait_for(lambda: fake.answer_for(forged) is not None)
    assert "may not see" in fake.answer_for(forged)["text"]  # type: ignore[index]
    async with bot.services.db.reading() as tx:
        refused = await AuditRepo(tx).recent(clock.tz, action="health.view.refused")
    assert [(v.actor, v.object) for v in refused] == [("TH-005", "alert:1")]

    colleague = await register(fake, COLLEAGUE, "TH-002")

    mild = await report(fake, colleague, ["Đau họng"], None)
    assert "#2" in (mild.text or ""), mild.describe()
    note = await message_with(fake, principal, "triệu chứng nhẹ")
    assert "Nghiêm Văn Hải" in (note.text or "") and "họng" not in (note.text or "")
    fake.press(principal, note, note.callback_data("Xem chi tiết"))
    shown = await message_with(fake, principal, "Báo cáo triệu chứng #2")
    assert "đau họng" in (shown.text or ""), shown.describe()

    clock.set(clock.now() + timedelta(hours=23))
    await bot.services.sender.drain()
    assert not detail.deleted
    clock.set(clock.now() + timedelta(hours=2))
    bot.services.sender.wake()
    await fake.wait_for(lambda: detail.deleted, timeout=10)
    assert not alert.deleted


async def test_under_state_duty_the_notice_is_shown_and_recorded(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    await load_examples(db_path, clock)
    settings = make_settings(fake, db_path, privacy_basis="state_duty")
    async with RunningBot(settings, clock) as bot:
        user = fake.user(TEACHER, "TH-003")
        fake.send_text(user, "/start")
        await fake.next_message(user.id)
        fake.send_contact(user, PHONES["TH-003"])
        question = await fake.next_message(user.id)
        fake.press(user, question, question.callback_data("✅"))
        shown = await fake.next_message(user.id)
        assert "🔒" in (shown.text or "") and not shown.buttons()  # a notice, nothing asked
        welcome = await fake.next_message(user.id)
        assert "Đăng ký thành công" in (welcome.text or "")
        picker = await answer(fake, user, "/symptoms")
        assert picker.callback_data("Tiếp")
        overview = await answer(fake, user, "/privacy")
        assert "thông báo" in (overview.text or "").lower()
        labels = overview.button_texts()
        assert "⛔ Rút lại đồng ý" not in labels and "🚫 Phản đối / hạn chế xử lý" in labels
        entries = await ledger(bot, "TH-003")
    assert [(p, d) for p, d, _ in entries] == [("directory", "notified"), ("health", "notified")]


async def test_withdrawing_health_consent_stops_monitoring_and_tells_the_head_only_that(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    principal = await register(fake, PRINCIPAL, "TH-001")
    teacher = await register(fake, TEACHER, "TH-003")
    await report(fake, teacher, ["Ho"], "37,6")
    monitored = await fake.next_message(teacher.id)
    assert "theo dõi" in (monitored.text or "")
    overview = await answer(fake, teacher, "/privacy")
    picker = await press(fake, teacher, overview, "⛔")
    fake.press(teacher, picker, picker.callback_data("sức khỏe"))
    withdrawn = await message_with(fake, teacher, "Đã rút lại")
    assert "dữ liệu sức khỏe" in (withdrawn.text or "")
    # its second reply, sent after the first: awaited, or it would be read as /symptoms' answer
    recorded = await message_with(fake, teacher, "Đã ghi nhận yêu cầu #1")
    assert "rút lại đồng ý" in (recorded.text or ""), recorded.text
    queued = await message_with(fake, admin, "Yêu cầu về dữ liệu #1")
    assert "rút lại đồng ý" in (queued.text or "")
    assert "Lại Thị Diệu Linh" in (queued.text or "")
    told = await message_with(fake, principal, "ngoài bot")
    assert "Lại Thị Diệu Linh" in (told.text or "") and "37" not in (told.text or "")
    instead = await answer(fake, teacher, "/symptoms")
    assert "024 3000 0100" in (instead.text or "") and not instead.buttons()
    decisions = [(p, d) for p, d, _ in await ledger(bot, "TH-003")]
    assert decisions[-1] == ("health", "withdrawn")
    async with bot.services.db.reading() as tx:
        status = await tx.scalar("SELECT status FROM monitorings WHERE staff_id = 'TH-003'")
    assert status == "ended"
    fake.press(teacher, picker, picker.callback_data("sức khỏe"))  # a second tap changes nothing
    await answer(fake, teacher, "/help")
    assert [(p, d) for p, d, _ in await ledger(bot, "TH-003")] == [*[(p, d) for p, d in decisions]]


async def test_a_request_escalates_unacknowledged_extends_once_and_a_refusal_gives_its_reason(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    admin = await register(fake, ADMIN, "DU-003")
    teacher = await register(fake, TEACHER, "TH-003")
    overview = await answer(fake, teacher, "/privacy")
    await press(fake, teacher, overview, "✏️")
    too_long = await answer(fake, teacher, "x" * 1001)
    assert "1000" in (too_long.text or "")
    recorded = await answer(fake, teacher, "Số điện thoại sai: đúng là 0912 000 999")
    # ten days on is Saturday 05/06: the deadline ends on the next working day, Monday 07/06
    assert "#1" in (recorded.text or "") and "7 tháng 6" in (recorded.text or ""), recorded.text
    queued = await message_with(fake, admin, "#1")

    clock.set(clock.now() + timedelta(days=2, hours=1))  # Friday 28/05 10:00: 2 working days
    await bot.services.sweeper.tick()
    late = await message_with(fake, admin, "chưa được tiếp nhận đúng hạn")
    assert "#1" in (late.text or "")
    await bot.services.sweeper.tick()
    assert len([m for m in fake.messages(admin.id) if "đúng hạn" in (m.text or "")]) == 1

    fake.press(admin, queued, queued.callback_data("Gia hạn"))
    extended = await message_with(fake, teacher, "cần thêm thời gian")
    assert "17 tháng 6" in (extended.text or ""), extended.text  # 07/06 + 10 days
    again = fake.press(admin, queued, queued.callback_data("Gia hạn"))
    await fake.wait_for(lambda: fake.answer_for(again) is not None)
    assert "một lần" in fake.answer_for(again)["text"]  # type: ignore[index]

    asked = await press(fake, admin, queued, "Từ chối")
    assert "căn cứ pháp lý" in (asked.text or "")
    done = await answer(fake, admin, "Số điện thoại đúng theo hồ sơ nhân sự (Điều 16)")
    assert "lý do" in (done.text or "")
    refused = await message_with(fake, teacher, "bị từ chối")
    assert "Điều 16" in (refused.text or "")
    async with bot.services.db.reading() as tx:
        request = await PrivacyRequestsRepo(tx, clock.tz).get(1)
    assert request is not None and request.status == "refused"
    assert request.outcome == "Số điện thoại đúng theo hồ sơ nhân sự (Điều 16)"
    late_tap = fake.press(admin, queued, queued.callback_data("Đã xử lý"))
    await fake.wait_for(lambda: fake.answer_for(late_tap) is not None)
    assert "Ngô Thị Mai Phương" in fake.answer_for(late_tap)["text"]  # type: ignore[index]


async def test_a_new_notice_version_asks_again(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    await load_examples(db_path, clock)
    async with RunningBot(make_settings(fake, db_path), clock):
        teacher = await register(fake, TEACHER, "TH-003")
    async with RunningBot(make_settings(fake, db_path, privacy_notice_version=2), clock) as bot:
        notice = await answer(fake, teacher, "/travel")
        assert "phiên bản 2" in (notice.text or ""), notice.describe()
        question = await fake.next_message(teacher.id)
        assert "(a)" in (question.text or "")
        stale = fake.press(teacher, question, question.callback_data("Đồng ý").replace(":2", ":1"))
        await fake.wait_for(lambda: fake.answer_for(stale) is not None)
        fake.press(teacher, question, question.callback_data("Đồng ý"))
        health = await fake.next_message(teacher.id)
        assert "(b)" in (health.text or "")
        fake.press(teacher, health, health.callback_data("Đồng ý"))
        thanks = await fake.next_message(teacher.id)
        assert "/privacy" in (thanks.text or "")
        async with bot.services.db.reading() as tx:
            rows = await tx.all("SELECT notice_version, decision FROM consents ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (1, "granted"),
        (1, "granted"),
        (2, "granted"),
        (2, "granted"),
    ]


async def test_back_from_a_trip_without_health_consent_no_health_question_is_asked(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    principal = await register(fake, TRAVEL_PRINCIPAL, "TH-001")
    teacher = await register_refusing_health(fake, TRAVEL_TEACHER, "TH-003")
    await submit(fake, teacher)
    await fake.wait_for(lambda: any(decidable(m) for m in fake.messages(principal.id)))
    request = next(m for m in fake.messages(principal.id) if decidable(m))
    fake.mark_read(principal.id)
    fake.press(principal, request, request.callback_data("Phê duyệt"))
    await fake.next_message(teacher.id)
    clock.set(PLANNED_RETURN)
    await bot.services.sweeper.tick()
    question = await message_with(fake, teacher, "đã về chưa")
    fake.press(teacher, question, question.callback_data("✅ Tôi đã về"))
    instead = await fake.next_message(teacher.id)
    assert "024 3000 0100" in (instead.text or ""), instead.describe()
    recorded = await fake.next_message(teacher.id)
    assert "đã được ghi nhận" in (recorded.text or ""), recorded.describe()
    assert not [m for m in fake.messages(teacher.id) if "14 ngày" in (m.text or "")]
    told = await message_with(fake, principal, "đã về từ")
    assert "ngoài bot" in (told.text or "") and "Triệu chứng" not in (told.text or ""), told.text


async def test_typing_instead_of_answering_the_consent_records_nothing(
    fake: FakeBotApi, bot: RunningBot
) -> None:
    user = fake.user(TEACHER, "TH-003")
    fake.send_text(user, "/start")
    await fake.next_message(user.id)
    fake.send_contact(user, PHONES["TH-003"])
    question = await fake.next_message(user.id)
    fake.press(user, question, question.callback_data("✅"))
    await fake.next_message(user.id)  # the notice
    consent = await fake.next_message(user.id)
    typed = await answer(fake, user, "ok")
    assert "«Đồng ý» hoặc «Không đồng ý»" in (typed.text or ""), typed.describe()
    symptoms = await answer(fake, user, "/symptoms")  # silence is not consent: asked again
    assert "🔒" in (symptoms.text or "")
    again = await fake.next_message(user.id)
    assert "(a)" in (again.text or "") and again.callback_data("Đồng ý")
    assert await ledger(bot, "TH-003") == []
    fake.press(user, consent, consent.callback_data("Không đồng ý"))
    health = await fake.next_message(user.id)
    assert "(b)" in (health.text or "")
    assert [(p, d) for p, d, _ in await ledger(bot, "TH-003")] == [("directory", "refused")]


async def test_no_checkin_is_asked_while_a_new_notice_is_unanswered(
    fake: FakeBotApi, db_path: Path, clock: ManualClock
) -> None:
    await load_examples(db_path, clock)
    async with RunningBot(make_settings(fake, db_path), clock):
        teacher = await register(fake, TEACHER, "TH-003")
        await report(fake, teacher, ["Ho"], "37,6")
        await fake.next_message(teacher.id)  # under monitoring
    async with RunningBot(make_settings(fake, db_path, privacy_notice_version=2), clock) as bot:
        clock.set(datetime(2021, 5, 27, 8, 0, tzinfo=clock.tz))
        await bot.services.sweeper.tick()
        await bot.services.sender.drain()
        assert not [m for m in fake.messages(teacher.id) if "Hôm nay" in (m.text or "")]
        await answer(fake, teacher, "/privacy")  # the consents are open from /privacy too
        for label in ("(a) Anh/chị có đồng ý", "(b) Anh/chị có đồng ý"):
            question = await message_with(fake, teacher, label)
            fake.press(teacher, question, question.callback_data("Đồng ý"))
            await fake.wait_for(lambda q=question: bool(q.edits))
        clock.set(datetime(2021, 5, 28, 8, 0, tzinfo=clock.tz))
        await bot.services.sweeper.tick()
        checkin = await message_with(fake, teacher, "Hôm nay")
        assert checkin.callback_data("Không")


async def withdraw_directory_consent(fake: FakeBotApi, user: FakeUser) -> None:
    fake.send_text(user, "/privacy")
    overview = await message_with(fake, user, "🔒 Dữ liệu của tôi")
    fake.press(user, overview, overview.callback_data("⛔"))
    picker = await message_with(fake, user, "Anh/chị rút lại đồng ý nào")
    fake.press(user, picker, picker.callback_data("danh sách cán bộ"))
    done = await message_with(fake, user, "Đã rút lại")
    assert "danh sách cán bộ" in (done.text or ""), done.describe()
    await message_with(fake, user, "Đã ghi nhận yêu cầu")  # the reply's second message


def withdrawal_notices(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [text for text in texts(fake, chat_id) if "đã rút lại đồng ý" in text]


async def audited(bot: RunningBot, action: str) -> list[tuple[str | None, dict[str, object]]]:
    async with bot.services.db.reading() as tx:
        entries = await AuditRepo(tx).recent(bot.clock.tz, action=action)
    return [(e.object, e.details) for e in entries]


async def test_after_withdrawing_consent_a_trip_already_made_is_asked_about_no_more(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)  # back on Sunday 30/05 18:00
    clock.set(datetime(2021, 5, 29, 12, 0, tzinfo=clock.tz))  # away since 07:00
    await bot.services.sender.drain()
    unit = await answer(fake, principal, "/unit")
    assert "Lại Thị Diệu Linh" in (unit.text or ""), unit.describe()  # away now
    await withdraw_directory_consent(fake, teacher)
    told = await message_with(fake, principal, "đã rút lại đồng ý")
    assert "Lại Thị Diệu Linh" in (told.text or "") and "Đà Nẵng" not in (told.text or "")
    assert [d["to"] for _, d in await audited(bot, "privacy.heads_told")] == [["TH-001"]]
    await bot.services.sender.drain()
    fake.mark_read(principal.id)
    unit = await answer(fake, principal, "/unit")
    assert "Lại Thị Diệu Linh" not in (unit.text or ""), unit.describe()  # nor shown away

    for moment in (
        PLANNED_RETURN,  # the question, its reminder next morning, the head a day later
        PLANNED_RETURN + timedelta(hours=6),
        datetime(2021, 5, 31, 6, 0, tzinfo=clock.tz),
        PLANNED_RETURN + timedelta(hours=24),
        PLANNED_RETURN + timedelta(days=3),
    ):
        await tick_at(bot, clock, moment)
    await bot.services.sender.drain()
    assert not [t for t in texts(fake, teacher.id) if "đã về chưa" in t]
    assert not [t for t in texts(fake, principal.id) if "chưa báo đã về" in t]
    assert len(withdrawal_notices(fake, principal.id)) == 1  # told once, and only that
    assert await audited(bot, "privacy.stopped") == [("travel:1", {})]
    assert [(p, d) for p, d, _ in await ledger(bot, "TH-003")][-1] == ("directory", "withdrawn")


async def test_after_withdrawing_consent_no_declaration_reminder_or_overdue_notice_follows(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=24))  # before: the head is told
    overdue = await message_with(fake, principal, "chưa xác nhận khai báo y tế")
    await withdraw_directory_consent(fake, teacher)
    await message_with(fake, principal, "đã rút lại đồng ý")
    await bot.services.sender.drain()
    seen = len(fake.messages(teacher.id))

    nag = fake.press(principal, overdue, overdue.callback_data("🔔"))  # «remind again»
    await fake.wait_for(lambda: fake.answer_for(nag) is not None)
    assert "rút lại đồng ý" in fake.answer_for(nag)["text"]  # type: ignore[index]
    for days in (2, 3, 4):  # the daily «overdue» reminder to the person
        await tick_at(bot, clock, PLANNED_RETURN + timedelta(days=days))
    await bot.services.sender.drain()
    assert len(fake.messages(teacher.id)) == seen, texts(fake, teacher.id)[seen:]
    notices = [t for t in texts(fake, principal.id) if "chưa xác nhận khai báo y tế" in t]
    assert len(notices) == 1 and len(withdrawal_notices(fake, principal.id)) == 1
    assert ("travel:1", {}) in await audited(bot, "privacy.stopped")
    async with bot.services.db.reading() as tx:
        state = await tx.one("SELECT state, remind_at FROM trip_returns WHERE request_id = 1")
    assert state is not None and tuple(state) == ("stopped", None)  # kept, followed no more


async def test_only_the_latest_decision_under_any_notice_stops_a_follow_up(
    bot: RunningBot, clock: ManualClock
) -> None:
    history = {
        "TH-001": [(1, "granted"), (1, "withdrawn")],  # withdrawn: stopped
        "TH-002": [(1, "granted"), (1, "withdrawn"), (2, "granted")],  # agreed again: followed
        "TH-003": [(1, "granted")],  # a new notice not answered yet: the old consent holds
        "TH-004": [(1, "refused")],
        "TH-005": [],  # nothing recorded (made before the ledger): not stopped by it
    }
    async with bot.services.db.transaction() as tx:
        consents = ConsentsRepo(tx, clock.tz)
        for staff_id, decisions in history.items():
            for version, decision in decisions:
                await consents.record(
                    staff_id, "directory", version, decision, "telegram", None, clock.now()
                )
        await consents.record("TH-002", "health", 2, "withdrawn", "telegram", None, clock.now())
        stopped = await consents.stopped(list(history), "directory")
    assert stopped == {"TH-001", "TH-004"}


async def test_withdrawing_consent_closes_a_request_still_pending_and_a_late_approve_changes_nothing(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher = await register(fake, TRAVEL_TEACHER, "TH-003")
    principal = await register(fake, TRAVEL_PRINCIPAL, "TH-001")
    vice_chair = await register(fake, VICE_CHAIR, "HB-004")
    clock.set(clock.now().replace(day=28, hour=18))  # Friday evening: reminded at 20:00
    await submit(fake, teacher, leave="29/05/2021 07:00", back="29/05/2021 20:00")
    await fake.wait_for(lambda: any(decidable(m) for m in fake.messages(principal.id)))
    copy = next(m for m in fake.messages(principal.id) if decidable(m))
    approve = copy.callback_data("Phê duyệt")
    await withdraw_directory_consent(fake, teacher)
    closed = await message_with(fake, teacher, "đã được đóng")
    assert "#1" in (closed.text or ""), closed.describe()
    await fake.wait_for(lambda: bool(copy.edits))
    assert not decidable(copy) and "rút lại đồng ý" in (copy.text or ""), copy.describe()

    tap = fake.press(principal, copy, approve)  # a stale keyboard: tapped anyway
    await fake.wait_for(lambda: fake.answer_for(tap) is not None)
    assert "đã đóng" in fake.answer_for(tap)["text"]  # type: ignore[index]
    for moment in (  # the reminder's time, then the escalation's before departure
        clock.now() + timedelta(hours=2, minutes=1),
        clock.now().replace(day=29, hour=4, minute=1),
        clock.now().replace(day=29, hour=7, minute=1),
    ):
        await tick_at(bot, clock, moment)
    await bot.services.sender.drain()
    assert not [t for t in texts(fake, principal.id) if "Nhắc" in t], texts(fake, principal.id)
    assert not [t for t in texts(fake, vice_chair.id) if "⏫" in t or "Lại Thị" in t]
    assert not [t for t in texts(fake, teacher.id) if "Phê duyệt" in t or "⏫" in t]
    async with bot.services.db.reading() as tx:
        row = await tx.one("SELECT status, decided_by, remind_at, escalate_at FROM travel_requests")
    assert row is not None and tuple(row) == ("withdrawn", None, None, None)
    assert ("travel:1", {}) in await audited(bot, "travel.withdrawn")
    assert not await audited(bot, "travel.approved")


async def withdraw_health_consent(fake: FakeBotApi, user: FakeUser) -> None:
    fake.send_text(user, "/privacy")
    overview = await message_with(fake, user, "🔒 Dữ liệu của tôi")
    fake.press(user, overview, overview.callback_data("⛔"))
    picker = await message_with(fake, user, "Anh/chị rút lại đồng ý nào")
    fake.press(user, picker, picker.callback_data("sức khỏe"))
    done = await message_with(fake, user, "Đã rút lại")
    assert "dữ liệu sức khỏe" in (done.text or ""), done.describe()


def declaration_reminders(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [t for t in texts(fake, chat_id) if "⏰" in t or "khai báo ngay" in t]


async def test_withdrawing_health_consent_stops_the_official_declaration_reminders(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    official = await declare_back(fake, teacher, await fake.next_message(teacher.id))
    await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=24))  # the head is told
    overdue = await message_with(fake, principal, "chưa xác nhận khai báo y tế")
    nag_data = overdue.callback_data("🔔")
    await withdraw_health_consent(fake, teacher)
    await fake.wait_for(lambda: bool(official.edits) and bool(overdue.edits))
    for copy in (official, overdue):  # both say why, and keep no button
        assert "không còn nhắc" in (copy.text or "") and not copy.buttons(), copy.describe()
    await bot.services.sender.drain()
    seen = declaration_reminders(fake, teacher.id)

    nag = fake.press(principal, overdue, nag_data)  # a stale «remind again»
    await fake.wait_for(lambda: fake.answer_for(nag) is not None)
    assert "dữ liệu sức khỏe" in fake.answer_for(nag)["text"]  # type: ignore[index]
    for days in (2, 3, 4):  # the daily «overdue» reminder to the person
        await tick_at(bot, clock, PLANNED_RETURN + timedelta(days=days))
    await bot.services.sender.drain()
    assert declaration_reminders(fake, teacher.id) == seen
    notices = [t for t in texts(fake, principal.id) if "chưa xác nhận khai báo y tế" in t]
    assert len(notices) == 1
    assert ("declaration:1", {}) in await audited(bot, "privacy.stopped")
    assert ("travel:1", {}) not in await audited(bot, "privacy.stopped")  # (a) still holds
    async with bot.services.db.reading() as tx:
        state = await tx.one("SELECT state, remind_at FROM trip_returns WHERE request_id = 1")
    assert state is not None and tuple(state) == ("back", None)  # the return stays recorded


async def test_without_health_consent_the_trip_is_still_followed_but_no_declaration_reminded(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    teacher, principal = await approved_trip(fake, bot)
    clock.set(datetime(2021, 5, 29, 12, 0, tzinfo=clock.tz))  # away since 07:00
    await withdraw_health_consent(fake, teacher)
    await tick_at(bot, clock, PLANNED_RETURN)
    question = await message_with(fake, teacher, "đã về chưa")  # (a) still holds: asked
    fake.press(teacher, question, question.callback_data("✅ Tôi đã về"))
    instead = await message_with(fake, teacher, "024 3000 0100")
    assert "sức khỏe" in (instead.text or ""), instead.describe()
    await message_with(fake, teacher, "đã được ghi nhận")
    for moment in (  # the declaration's reminders, the head's notice, the daily overdue ones
        PLANNED_RETURN + timedelta(hours=2),
        PLANNED_RETURN + timedelta(hours=12),
        PLANNED_RETURN + timedelta(hours=20),
        PLANNED_RETURN + timedelta(hours=24),
        PLANNED_RETURN + timedelta(days=2),
    ):
        await tick_at(bot, clock, moment)
    await bot.services.sender.drain()
    assert declaration_reminders(fake, teacher.id) == [], texts(fake, teacher.id)
    assert not [t for t in texts(fake, principal.id) if "chưa xác nhận khai báo y tế" in t]
    async with bot.services.db.reading() as tx:
        state = await tx.one("SELECT state, remind_at FROM trip_returns WHERE request_id = 1")
    assert state is not None and tuple(state) == ("back", None)


async def test_the_sweep_itself_reminds_no_declaration_once_health_consent_is_gone(
    fake: FakeBotApi, bot: RunningBot, clock: ManualClock
) -> None:
    """A withdrawal the step did not act on (recorded by another instance mid-sweep, say): the
    sweep reads the ledger before each reminder."""
    teacher, principal = await approved_trip(fake, bot)
    await tick_at(bot, clock, PLANNED_RETURN)
    await declare_back(fake, teacher, await fake.next_message(teacher.id))
    await bot.services.sender.drain()
    async with bot.services.db.transaction() as tx:
        version = bot.services.settings.privacy_notice_version
        await ConsentsRepo(tx, clock.tz).record(
            "TH-003", "health", version, "withdrawn", "telegram", None, clock.now()
        )
    seen = declaration_reminders(fake, teacher.id)
    for hours in (2, 12, 20, 24, 48):
        await tick_at(bot, clock, PLANNED_RETURN + timedelta(hours=hours))
    await bot.services.sender.drain()
    assert declaration_reminders(fake, teacher.id) == seen
    assert not [t for t in texts(fake, principal.id) if "chưa xác nhận khai báo y tế" in t]
    assert await audited(bot, "privacy.stopped") == [("declaration:1", {})]
    async with bot.services.db.reading() as tx:
        state = await tx.one("SELECT state, remind_at FROM trip_returns WHERE request_id = 1")
    assert state is not None and tuple(state) == ("back", None)
