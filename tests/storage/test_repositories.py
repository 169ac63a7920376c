"""Repository contract tests: each repository's main behaviours, on SQLite and on PostgreSQL
(the `database` fixture runs every test on both engines)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from bot.domain.clock import VIETNAM, ManualClock
from bot.domain.duty_roster import Shift
from bot.domain.outside_contacts import OutsideContact
from bot.domain.retention import Kept
from bot.outgoing import OutMessage
from storage.breaches_repo import BreachesRepo
from storage.broadcast_repo import BroadcastRepo, NewBroadcast
from storage.buttons_repo import ButtonsRepo
from storage.directory_repo import DirectoryRepo
from storage.duty_repo import DutyRepo
from storage.engine import Database, to_db_time
from storage.health_repo import HealthRepo, NewReport
from storage.measures_repo import MeasuresRepo
from storage.outbox_repo import OutboxRepo, Recipient
from storage.outside_repo import OutsideRepo
from storage.oversight_repo import OversightRepo
from storage.privacy_repo import ConsentsRepo, PrivacyRequestsRepo, own_records
from storage.repos import (
    AccountsRepo,
    AuditRepo,
    Conversation,
    ConversationsRepo,
    InvitesRepo,
    open_step,
)
from storage.retention_repo import RetentionRepo
from storage.returns_repo import ReturnsRepo
from storage.travel_repo import NewRequest, TravelRepo
from storage.uploads_repo import UploadsRepo
from tests.harness import load_examples

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)
HOUR = timedelta(hours=1)


@pytest.fixture
async def db(database: Database, db_path) -> AsyncIterator[Database]:  # type: ignore[no-untyped-def]
    """The database with the sample district's directory loaded."""
    assert (await load_examples(db_path, ManualClock(NOW))).applied
    yield database


# --- accounts, invites, steps, conversations, audit -------------------------------------------


async def test_an_account_is_touched_once_linked_and_found_by_its_person(db: Database) -> None:
    async with db.transaction() as tx:
        accounts = AccountsRepo(tx)
        await accounts.touch("telegram", "801", "801")
        await accounts.touch("telegram", "801", "802")  # the chat moved: the same account
        await accounts.link("telegram", "801", "TH-003", NOW)
        await accounts.set_language("telegram", "801", "en")
    async with db.reading() as tx:
        account = await AccountsRepo(tx).of_staff("TH-003")
        many = await AccountsRepo(tx).of_staff_many(["TH-003", "TH-001"])
    assert account is not None and (account.chat_ref, account.language) == ("802", "en")
    assert [a.staff_id for a in many] == ["TH-003"]


async def test_an_invite_is_used_once(db: Database) -> None:
    async with db.transaction() as tx:
        await InvitesRepo(tx).create_many([("code-1", "TH-003")], NOW)
        first = await InvitesRepo(tx).use("code-1", "telegram:801", NOW)
        second = await InvitesRepo(tx).use("code-1", "telegram:802", NOW)
        invite = await InvitesRepo(tx).get("code-1", VIETNAM)
    assert (first, second) == (True, False)
    assert invite is not None and invite.used_by == "telegram:801" and invite.used_at == NOW


async def test_a_step_claims_its_update_once_and_reads_what_it_needs(db: Database) -> None:
    async with db.transaction() as tx:
        await AccountsRepo(tx).touch("telegram", "801", "801")
        await ConversationsRepo(tx).set(
            "telegram", "801", Conversation("travel", "dest", {"a": 1}), NOW
        )
    async with db.transaction() as tx:
        first = await open_step(tx, "telegram", "801", 55, NOW)
    async with db.transaction() as tx:
        again = await open_step(tx, "telegram", "801", 55, NOW)
    assert first.claimed and first.account is not None and first.directory_version == 1
    assert first.conversation == Conversation("travel", "dest", {"a": 1})
    assert not again.claimed


async def test_a_conversation_written_in_a_step_is_read_back_and_cleared(db: Database) -> None:
    async with db.transaction() as tx:
        conversations = ConversationsRepo(tx)
        await conversations.set("telegram", "9", Conversation("f", "s", {"k": "v"}), NOW)
        assert await conversations.get("telegram", "9") == Conversation("f", "s", {"k": "v"})
    async with db.transaction() as tx:
        assert await ConversationsRepo(tx).get("telegram", "9") == Conversation(
            "f", "s", {"k": "v"}
        )
        await ConversationsRepo(tx).clear("telegram", "9")
    async with db.reading() as tx:
        assert await ConversationsRepo(tx).get("telegram", "9") is None


async def test_the_audit_log_keeps_entries_and_refuses_to_lose_them(db: Database) -> None:
    async with db.transaction() as tx:
        await AuditRepo(tx).append(NOW, "TH-001", "probe", "travel:1", {"n": 1})
        await AuditRepo(tx).append_many(NOW, "system", [("a", "x:1"), ("b", "x:2")])
    async with db.reading() as tx:
        recent = await AuditRepo(tx).recent(VIETNAM)
    assert {"probe", "a", "b"} <= {e.action for e in recent}
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as tx:
            await tx.execute("UPDATE audit_log SET actor = 'someone else'")


# --- the directory -------------------------------------------------------------------------------


async def test_the_directory_is_loaded_and_people_found_by_id_phone_and_role(db: Database) -> None:
    async with db.reading() as tx:
        directory = await DirectoryRepo(tx).load()
        person = await DirectoryRepo(tx).person("TH-003")
        by_phone = await DirectoryRepo(tx).active_by_phone(person.phone if person else "")
        heads = await DirectoryRepo(tx).staff_ids_with_role("unit_head")
        version = await DirectoryRepo(tx).version()
    assert "TH-003" in directory.staff and "HB-TH" in directory.units
    assert person is not None and by_phone is not None and by_phone.staff_id == "TH-003"
    assert "TH-001" in heads and version == 1
    async with db.transaction() as tx:
        again = await DirectoryRepo(tx).apply(directory, NOW)  # the same files: nothing changes
    assert again.staff_added == [] and again.staff_deactivated == []
    async with db.reading() as tx:
        assert await DirectoryRepo(tx).version() == 2


# --- the outbox and its buttons --------------------------------------------------------------


async def test_the_outbox_gives_due_rows_in_priority_order_and_records_outcomes(
    db: Database,
) -> None:
    to = Recipient("telegram", "801", "TH-003")
    async with db.transaction() as tx:
        outbox = OutboxRepo(tx)
        low = await outbox.enqueue(to, OutMessage("later"), NOW, priority=9)
        high = await outbox.enqueue(to, OutMessage("first"), NOW, priority=1)
        await outbox.enqueue(to, OutMessage("tomorrow"), NOW, not_before=NOW + 24 * HOUR)
        due = await outbox.due(NOW, 10, set())
        await outbox.mark_sent_many([(high, NOW, "m1")])
        await outbox.mark_final(low, "undeliverable", "blocked")
    assert [r.id for r in due] == [high, low]
    assert isinstance(due[0].message, OutMessage) and due[0].message.text == "first"
    async with db.reading() as tx:
        assert await OutboxRepo(tx).counts() == {"sent": 1, "undeliverable": 1, "pending": 1}
        assert await OutboxRepo(tx).delivery_of(high) == ("sent", "m1")


async def test_button_copies_are_remembered_once_and_closed(db: Database) -> None:
    to = Recipient("telegram", "801", "TH-003")
    async with db.transaction() as tx:
        row = await OutboxRepo(tx).enqueue(to, OutMessage("choose"), NOW, purpose="travel:7")
        await ButtonsRepo(tx).remember(["travel:7"], row)
        await ButtonsRepo(tx).remember(["travel:7"], row)  # twice: one copy
        await OutboxRepo(tx).mark_sent_many([(row, NOW, "55")])
    async with db.reading() as tx:
        copies = await ButtonsRepo(tx).open_copies("travel:7")
    assert [c.outbox_id for c in copies] == [row]
    async with db.transaction() as tx:
        await ButtonsRepo(tx).close([row])
    async with db.reading() as tx:
        assert await ButtonsRepo(tx).open_copies("travel:7") == []


# --- breaches, privacy, retention --------------------------------------------------------------


async def test_a_breach_is_reminded_once_per_moment_and_recorded_once(db: Database) -> None:
    async with db.transaction() as tx:
        breaches = BreachesRepo(tx, VIETNAM)
        number = await breaches.open("USB lost", NOW, "DU-003", NOW, NOW + 72 * HOUR, NOW)
        assert [b.id for b in await breaches.due(NOW)] == [number]
        assert await breaches.reminded(number, NOW, NOW + 48 * HOUR)
        assert not await breaches.reminded(number, NOW, NOW + 48 * HOUR)  # the other instance
        assert await breaches.notified_authority(number, NOW + HOUR)
        assert not await breaches.notified_authority(number, NOW + 2 * HOUR)
        breach = await breaches.get(number)
    assert breach is not None and breach.authority_at == NOW + HOUR


async def test_consents_are_a_ledger_and_requests_move_on_once(db: Database) -> None:
    async with db.transaction() as tx:
        consents = ConsentsRepo(tx, VIETNAM)
        await consents.record("TH-003", "health", 1, "granted", "telegram", None, NOW)
        await consents.record("TH-003", "health", 1, "withdrawn", "telegram", None, NOW + HOUR)
        requests = PrivacyRequestsRepo(tx, VIETNAM)
        number = await requests.add("TH-003", "view", "", NOW, NOW + HOUR, NOW + 9 * HOUR, NOW)
        assert await requests.acknowledge(number, "DU-003", NOW)
        assert not await requests.acknowledge(number, "DU-003", NOW)
        assert await consents.current("TH-003", 1) == {"health": "withdrawn"}
        assert len(await consents.ledger("TH-003")) == 2
        records = await own_records(tx, "TH-003")
    assert [r["decision"] for r in records["consents"]] == ["granted", "withdrawn"]
    assert records["privacy_requests"][0]["kind"] == "view"


async def test_the_purge_is_claimed_by_one_and_deletes_in_batches(db: Database) -> None:
    async with db.transaction() as tx:
        retention = RetentionRepo(tx)
        await retention.plan_purge(NOW)
        await retention.plan_purge(NOW + HOUR)  # a plan stays as it is
        assert await retention.purge_due(VIETNAM) == NOW
        assert await retention.claim_purge(NOW, NOW, NOW + 24 * HOUR)
        assert not await retention.claim_purge(NOW, NOW, NOW + 24 * HOUR)
        to = Recipient("telegram", "801", "TH-003")
        for n in range(5):
            row = await OutboxRepo(tx).enqueue(to, OutMessage(f"old {n}"), NOW - 90 * 24 * HOUR)
            await OutboxRepo(tx).mark_sent_many([(row, NOW - 90 * 24 * HOUR, None)])
    limits = dict.fromkeys(Kept, NOW - 30 * 24 * HOUR)
    async with db.transaction() as tx:
        assert await RetentionRepo(tx).count_expired(Kept.OUTBOX, limits) == 5
        first = await RetentionRepo(tx).delete_batch(Kept.OUTBOX, limits, NOW, 3)
        second = await RetentionRepo(tx).delete_batch(Kept.OUTBOX, limits, NOW, 3)
    assert (first.deleted, first.more, second.deleted, second.more) == (3, True, 2, False)


async def test_every_kind_of_record_is_found_and_deleted_on_this_engine(db: Database) -> None:
    """Each kind's query and deletes run on both engines: a row of each new kind, old enough."""
    old = NOW - 3 * 365 * 24 * HOUR
    async with db.transaction() as tx:
        await open_step(tx, "telegram", "801", 55, old)  # a handled update id
        await tx.batch(
            [
                (
                    "INSERT INTO inbox (channel, update_id, body, received_at, done_at, outcome) "
                    "VALUES ('telegram', '56', '{}', ?, ?, 'failed')",
                    (to_db_time(old), to_db_time(old)),
                ),
                (
                    "INSERT INTO pending_choices (channel, chat_ref, choices, sent_at) "
                    "VALUES ('zalo', 'z1', '[]', ?)",
                    (to_db_time(old),),
                ),
                (
                    "INSERT INTO violations (staff_id, unit_id, kind, note, recorded_by, "
                    "created_at) VALUES ('TH-003', 'HB-TH', 'travel', 'x', 'TH-001', ?)",
                    (to_db_time(old),),
                ),
            ]
        )
        row = await OutboxRepo(tx).enqueue(
            Recipient("telegram", "801", "TH-003"), OutMessage("x"), old
        )
        await ButtonsRepo(tx).remember(["back:1"], row)
        await ButtonsRepo(tx).close([row])
    limits = dict.fromkeys(Kept, NOW - 24 * HOUR)
    found: dict[Kept, int] = {}
    async with db.transaction() as tx:
        retention = RetentionRepo(tx)
        for kind in Kept:
            if kind is not Kept.EXPORTS:
                found[kind] = await retention.count_expired(kind, limits)
                assert (await retention.delete_batch(kind, limits, NOW, 1000)).deleted == found[
                    kind
                ]
                assert await retention.count_expired(kind, limits) == 0, kind
    for kind in (Kept.UPDATES, Kept.FAILED_UPDATES, Kept.PENDING_CHOICES, Kept.VIOLATIONS,
                 Kept.BUTTON_LINKS):  # fmt: skip
        assert found[kind] >= 1, kind


# --- duty roster, outside contacts, uploads ---------------------------------------------------


async def test_the_duty_roster_names_who_is_on_duty_at_a_moment(db: Database) -> None:
    night = Shift("HB-TH", NOW.replace(hour=22), NOW.replace(hour=22) + 10 * HOUR, "TH-001", None)
    day = Shift("HB-TH", NOW.replace(hour=8), NOW.replace(hour=22), "TH-002", "0912 000 099")
    async with db.transaction() as tx:
        assert await DutyRepo(tx, VIETNAM).replace_days([("HB-TH", NOW.date())], [night, day]) == 0
    async with db.reading() as tx:
        duty = DutyRepo(tx, VIETNAM)
        at_two = await duty.on_duty(["HB-TH"], NOW.replace(hour=22) + 4 * HOUR)
        at_nine = await duty.on_duty(["HB-TH"], NOW)
    assert [s.staff_id for s in at_two] == ["TH-001"]
    assert [(s.staff_id, s.phone) for s in at_nine] == [("TH-002", "0912 000 099")]


async def test_outside_contacts_replaced_and_one_report_per_case_and_contact(db: Database) -> None:
    health = OutsideContact("SYT", "Sở Y tế", "Sở Y tế", "0243", None, frozenset({"case"}))
    async with db.transaction() as tx:
        outside = OutsideRepo(tx, VIETNAM)
        await outside.replace_contacts([health])
        told = await outside.told_of("case")
        case = await HealthRepo(tx, VIETNAM).add_case("HB-TH", "PA2", "TH-001", NOW)
        first = await outside.add_report(case, health, ["UB-003"], NOW)
        again = await outside.add_report(case, health, ["UB-003"], NOW)
        assert first is not None and await outside.mark_sent(first, "UB-003", NOW)
        assert not await outside.mark_sent(first, "UB-003", NOW)
    assert [c.contact_id for c in told] == ["SYT"] and again is None


async def test_an_upload_batch_keeps_the_latest_file_of_each_kind(db: Database) -> None:
    async with db.transaction() as tx:
        uploads = UploadsRepo(tx)
        batch = await uploads.add("DU-003", None, "staff", "/f/1", "staff.csv", NOW, NOW + HOUR)
        await uploads.add("DU-003", batch, "units", "/f/2", "units.csv", NOW, NOW + HOUR)
        await uploads.add("DU-003", batch, "staff", "/f/3", "staff.csv", NOW, NOW + HOUR)
        kept = await uploads.open_batch("DU-003", NOW)
        spent = await uploads.spent(NOW)
        assert await uploads.close_batch("DU-003", batch) == 2
    assert [(u.kind, u.path) for u in kept] == [("units", "/f/2"), ("staff", "/f/3")]
    assert [path for _, path in spent] == ["/f/1"]


# --- travel, returns, oversight --------------------------------------------------------------


def _trip(staff_id: str = "TH-003", status: str = "pending", days: int = 3) -> NewRequest:
    return NewRequest(
        staff_id, status, "Đà Nẵng", "12 Trần Phú", NOW + 24 * HOUR, NOW + days * 24 * HOUR,
        "Thăm gia đình", "no", "normal", "needs_approval", ("weekend",), "test", ("TH-002",),
        remind_at=NOW + 2 * HOUR,
    )  # fmt: skip


async def test_a_travel_request_is_decided_once(db: Database) -> None:
    async with db.transaction() as tx:
        travel = TravelRepo(tx, VIETNAM)
        number = await travel.create(_trip(), NOW)
        await travel.add_deciders(number, ["TH-001"], "head", NOW)
        assert [r.id for r in await travel.pending_for("TH-001")] == [number]
        assert [r.id for r in await travel.due_reminders(NOW + 3 * HOUR)] == [number]
        assert await travel.decide(number, "approved", "TH-001", NOW, None)
        assert not await travel.decide(number, "denied", "TH-002", NOW, "late")
        request = await travel.get(number)
    assert request is not None and (request.status, request.decided_by) == ("approved", "TH-001")
    assert request.reasons == ("weekend",) and request.notify == ("TH-002",)


async def test_a_return_is_tracked_once_then_back_then_declared(db: Database) -> None:
    async with db.transaction() as tx:
        number = await TravelRepo(tx, VIETNAM).create(_trip(status="approved", days=1), NOW)
        returns = ReturnsRepo(tx, VIETNAM)
        await returns.track(number, "TH-003", NOW + 24 * HOUR, NOW + 24 * HOUR, 0, NOW)
        await returns.track(number, "TH-003", NOW + 24 * HOUR, None, 0, NOW)  # tracked: kept
        assert [r.request_id for r in await returns.due_asks(NOW + 25 * HOUR)] == [number]
        arrived = NOW + 25 * HOUR
        assert await returns.mark_back(number, arrived, arrived + 24 * HOUR, [], None, {}, arrived)
        assert not await returns.mark_back(number, arrived, arrived, [], None, {}, arrived)
        assert await returns.mark_declared(number, arrived + HOUR, None)
        assert await returns.counts() == {"declared": 1}


async def test_oversight_reads_a_unit_in_scope_and_keeps_its_digest_plan(db: Database) -> None:
    async with db.transaction() as tx:
        number = await TravelRepo(tx, VIETNAM).create(_trip(), NOW)
        await TravelRepo(tx, VIETNAM).add_deciders(number, ["TH-001"], "head", NOW)
        oversight = OversightRepo(tx, VIETNAM)
        waiting = await oversight.waiting(["TH-003", "TH-004"], "TH-001")
        outside = await oversight.waiting(["TH-004"], "TH-001")
        await oversight.set_digest("daily", NOW + 24 * HOUR, None)
        await oversight.set_digest("daily", NOW + 48 * HOUR, NOW)
        assert await oversight.digest_due("daily") == NOW + 48 * HOUR
    assert [(w.request_id, w.mine) for w in waiting] == [(number, True)] and outside == []


# --- directives, health ----------------------------------------------------------------------


async def test_a_directive_reaches_its_recipients_once_and_counts_reads(db: Database) -> None:
    new = NewBroadcast(
        "12/CĐ", NOW.date(), "Phòng dịch", "Nội dung", None, None, {"kind": "all", "values": []},
        "DU-003", "telegram", "803",
    )  # fmt: skip
    async with db.transaction() as tx:
        directives = BroadcastRepo(tx, VIETNAM)
        number = await directives.create(new, "sending", NOW, NOW)
        await directives.add_recipients(
            number, [("TH-003", "HB-TH", True), ("TH-004", "HB-TH", False)]
        )
        await directives.add_recipients(number, [("TH-003", "HB-TH", True)])  # again: once
        first = await directives.mark_read(number, "TH-003", NOW + HOUR)
        again = await directives.mark_read(number, "TH-003", NOW + 2 * HOUR)
        tallies = await directives.tallies(number)
        unread = await OversightRepo(tx, VIETNAM).unread_by_unit([number])
    assert first == again == NOW + HOUR
    assert [(t.unit_id, t.total, t.registered, t.read) for t in tallies] == [("HB-TH", 2, 1, 1)]
    assert unread == [("HB-TH", 0, 1)]


async def test_a_health_alert_is_acknowledged_once(db: Database) -> None:
    report = NewReport(
        "TH-003", "self", ("fever",), None, 38.6, NOW.date(), False, (), "urgent", ("fever",)
    )
    async with db.transaction() as tx:
        health = HealthRepo(tx, VIETNAM)
        number = await health.add_report(report, NOW)
        alert = await health.add_alert(f"symptoms:{number}", "TH-003", "HB-TH", NOW + HOUR, NOW)
        await health.add_recipients(alert, ["TH-001", "TH-001", "YT-003"], 0)
        assert [a.id for a in await health.due_alerts(NOW + 2 * HOUR)] == [alert]
        assert await health.ack(alert, "TH-001", NOW)
        assert not await health.ack(alert, "YT-003", NOW)
        assert sorted(await health.recipients(alert)) == ["TH-001", "YT-003"]
        stored = await health.report(number)
    assert stored is not None and stored.temperature == 38.6 and stored.symptoms == ("fever",)


async def test_a_return_measure_is_due_then_answered_once(db: Database) -> None:
    async with db.transaction() as tx:
        number = await TravelRepo(tx, VIETNAM).create(_trip(status="approved", days=1), NOW)
        measures = MeasuresRepo(tx, VIETNAM)
        due_at = NOW + 72 * HOUR
        await measures.open_measure(number, "TH-003", "Đà Nẵng", NOW, due_at, None, due_at, NOW)
        assert not await measures.anything_due(NOW)
        assert await measures.anything_due(due_at)
        assert [m.request_id for m in await measures.due(due_at, 10)] == [number]
        await measures.move_on_many([(number, 2, None)], due_at)
        assert await measures.record_result(number, "negative", due_at)
        assert not await measures.record_result(number, "positive", due_at)
        measure = await measures.measure(number)
    assert measure is not None and (measure.test_result, measure.remind_stage) == ("negative", 2)
    assert measure.test_at == due_at and measure.remind_at is None
