"""The purge on a database with a year of history: exactly what is past its time goes, row by
row, and nothing else; the dry run changes nothing; the run's audit entry holds counts only.

The history is written straight into SQLite as the flows leave it, one set of rows per day for
365 days before NOW; the expected outcome of each row is worked out here from the rules as the
README states them, not from the purge's own queries.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings
from bot.domain.clock import VIETNAM, ManualClock
from bot.domain.retention import Kept, breach_moments, next_breach_reminder
from bot.services.privacy.retention import PURGE_ACTION, Retention
from storage.db import Database, to_db_time
from tests.harness import db_connect, load_examples
from tests.paths import EXAMPLES

# The year of records is written with SQLite's own SQL (numbered parameters, lastrowid).
pytestmark = pytest.mark.sqlite_only("the seeded year is written in SQLite's SQL")

NOW = datetime(2021, 5, 26, 9, 0, tzinfo=VIETNAM)
DAY = timedelta(days=1)
STAFF = ["HB-001", "DU-004", "UB-004", "YT-004", "CS-003"]
LEAVER = "TH-003"  # left 40 days ago: health data goes (30 days for leavers)
NEW_LEAVER = "TH-004"  # left 10 days ago: kept for now
OLD_LEAVER = "CS-004"  # left 6 years ago: even the consent ledger goes
DAYS = {"health": 90, "returns": 90, "monitoring": 90, "travel": 365, "audit": 730,
        "outbox": 30, "exports": 7, "leavers": 30, "records": 1825, "directive_reads": 730,
        "absences": 365, "drafts": 14, "consents": 1825, "violations": 730, "duty_shifts": 365,
        "privacy_requests": 1825, "uploads": 30, "updates": 7, "failed_updates": 14}  # fmt: skip
YEAR = 365 * DAY


def old(at: datetime, days: int) -> bool:
    return at < NOW - days * DAY


@dataclass
class Expected:
    """For each table, the keys that must remain after the purge."""

    keep: dict[str, set[object]] = field(default_factory=dict)
    gone: dict[str, set[object]] = field(default_factory=dict)

    def row(self, table: str, key: object, kept: bool) -> None:
        (self.keep if kept else self.gone).setdefault(table, set()).add(key)


def t(moment: datetime) -> str:
    return to_db_time(moment)


def write_year(conn: sqlite3.Connection) -> Expected:
    expected = Expected()
    conn.execute(
        "UPDATE staff SET active = 0, deactivated_at = ? WHERE staff_id = ?",
        (t(NOW - 40 * DAY), LEAVER),
    )
    conn.execute(
        "UPDATE staff SET active = 0, deactivated_at = ? WHERE staff_id = ?",
        (t(NOW - 10 * DAY), NEW_LEAVER),
    )
    for day in range(366):
        at = NOW - day * DAY - timedelta(hours=1)
        staff_id = STAFF[day % len(STAFF)] if day % 11 else LEAVER
        _health(conn, expected, day, at, staff_id)
        _travel(conn, expected, day, at, staff_id)
        _monitoring(conn, expected, day, at, staff_id)
        _outbox(conn, expected, day, at)
        _audit(conn, expected, day, at)
        _directives(conn, expected, day, at)
        _absences(conn, expected, day, at)
        _drafts(conn, expected, day, at)
        _measures(conn, expected, day, at, staff_id)
        _violations_and_duty(conn, expected, day, at)
        _privacy_requests(conn, expected, day, at)
        _messenger_rows(conn, expected, day, at)
    _new_leaver(conn, expected)
    _breaches(conn, expected)
    _consents(conn, expected)
    _channel_choices(conn, expected)
    return expected


def _health(conn: sqlite3.Connection, e: Expected, day: int, at: datetime, staff_id: str) -> None:
    report = conn.execute(
        "INSERT INTO symptom_reports (staff_id, source, symptoms, temperature, urgency, created_at) "
        "VALUES (?, 'self', '[\"fever\"]', 38.5, 'urgent', ?)",
        (staff_id, t(at)),
    ).lastrowid
    alert = conn.execute(
        "INSERT INTO health_alerts (object, staff_id, unit_id, created_at, acked_by, acked_at) "
        "VALUES (?, ?, 'HB', ?, 'YT-003', ?3)",
        (f"symptoms:{report}", staff_id, t(at)),
    ).lastrowid
    conn.execute("INSERT INTO alert_recipients VALUES (?, 'YT-003', 0)", (alert,))
    kept = not old(at, DAYS["health"]) and staff_id != LEAVER
    e.row("symptom_reports", report, kept)
    e.row("health_alerts", alert, kept)
    e.row("alert_recipients", alert, kept)
    if day % 3 == 0:  # passed up to the leaders: goes with its alert (a leaver's too)
        referral = conn.execute(
            "INSERT INTO duty_referrals (alert_id, referred_by, note, sent_to, created_at) "
            "VALUES (?, 'YT-003', 'sốt cao', '[\"UB-001\"]', ?)",
            (alert, t(at)),
        ).lastrowid
        e.row("duty_referrals", referral, kept)
    if day % 7 == 0:
        case = conn.execute(
            "INSERT INTO case_reports (unit_id, scenario, reported_by, created_at) "
            "VALUES ('HB', 'PA1', 'YT-003', ?)",
            (t(at),),
        ).lastrowid
        node = conn.execute(
            "INSERT INTO case_nodes (case_id, staff_id, name, level, added_by, created_at) "
            "VALUES (?, ?, 'Người bệnh', 'F0', 'YT-003', ?)",
            (case, staff_id, t(at)),
        ).lastrowid
        e.row("case_reports", case, not old(at, DAYS["health"]))
        e.row("case_nodes", node, not old(at, DAYS["health"]))
        # prepared half a day later: on the cutoff's edge it goes with its case (a foreign key)
        outside = conn.execute(
            "INSERT INTO outside_reports (case_id, contact_id, body, handed_to, created_at) "
            "VALUES (?, 'CDC-HN', 'F0: Người bệnh', '[\"YT-003\"]', ?)",
            (case, t(at + DAY / 2)),
        ).lastrowid
        e.row("outside_reports", outside, not old(at, DAYS["health"]))


def _travel(conn: sqlite3.Connection, e: Expected, day: int, at: datetime, staff_id: str) -> None:
    status = ("approved", "denied", "pending", "recorded", "cancelled")[day % 5]
    request = conn.execute(
        "INSERT INTO travel_requests (staff_id, status, destination, address, departure_at, "
        "return_at, purpose, case_area, policy_mode, trip_class, rule_name, created_at) "
        "VALUES (?, ?, 'Đà Nẵng', 'Hải Châu', ?, ?, 'Thăm gia đình', 'no', 'normal', "
        "'needs_approval', 'test', ?3)",
        (staff_id, status, t(at - 2 * DAY), t(at)),
    ).lastrowid
    conn.execute(
        "INSERT INTO request_deciders (request_id, staff_id, kind) VALUES (?, 'TH-001', 'decider')",
        (request,),
    )
    returned = status in ("approved", "recorded")
    still_asking = returned and day % 10 == 3  # the return is still followed up: kept
    if returned:
        conn.execute(
            "INSERT INTO trip_returns (request_id, staff_id, state, planned_return_at, "
            "remind_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?4, ?4)",
            (request, staff_id, "back" if still_asking else "declared", t(at),
             t(NOW + DAY) if still_asking else None),
        )  # fmt: skip
        expired = old(at, DAYS["returns"]) and not still_asking
        e.row("trip_returns", request, not (expired or staff_id == LEAVER))
        return_kept = not expired  # while the declaration is kept, so is its request
    else:
        return_kept = False
    travel_gone = status != "pending" and old(at, DAYS["travel"]) and not return_kept
    e.row("travel_requests", request, not travel_gone)
    e.row("request_deciders", request, not travel_gone)
    if staff_id == LEAVER and status != "pending" and not travel_gone:
        e.row("blank_address", request, True)


def _monitoring(
    conn: sqlite3.Connection, e: Expected, day: int, at: datetime, staff_id: str
) -> None:
    if day % 3 and day not in (9, 18, 27, 180):
        return
    status = "open" if day in (9, 18, 27, 180) else "done"  # one open each, one long open
    watch = conn.execute(
        "INSERT INTO monitorings (staff_id, reason, status, start_day, end_day, created_at, "
        "updated_at) VALUES (?, 'F1', ?, ?, ?, ?5, ?5)",
        (staff_id, status, at.date().isoformat(), at.date().isoformat(), t(at)),
    ).lastrowid
    conn.execute(
        "INSERT INTO checkins VALUES (?, ?, 'no', ?)", (watch, at.date().isoformat(), t(at))
    )
    kept = (status == "open" or not old(at, DAYS["monitoring"])) and staff_id != LEAVER
    e.row("monitorings", watch, kept)
    e.row("checkins", watch, kept)


def _outbox(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    rows = [
        ("sent", None, DAYS["outbox"]),
        ("undeliverable", "digest", DAYS["outbox"]),
        ("pending", None, None),  # never sent: never purged
        ("sent", "broadcast:1", DAYS["audit"]),
    ]
    for status, purpose, days in rows:
        row = conn.execute(
            "INSERT INTO outbox (channel, chat_ref, payload, status, next_attempt_at, created_at, "
            "purpose) VALUES ('telegram', '1', '{\"text\":\"x\"}', ?, ?2, ?2, ?3)",
            (status, t(at), purpose),
        ).lastrowid
        e.row("outbox", row, days is None or not old(at, days))
        if status == "pending":  # a message kept: its settled links go, its live one stays
            for subject, closed in ((f"back:{day}", 1), (f"declare:{day}", 0)):
                conn.execute(
                    "INSERT INTO button_messages (subject, outbox_id, closed) VALUES (?, ?, ?)",
                    (subject, row, closed),
                )
                e.row("button_messages", f"{subject}|{row}", not closed or not old(at, 30))
        elif status == "sent" and purpose is None:  # goes with its message
            conn.execute(
                "INSERT INTO button_messages (subject, outbox_id) VALUES (?, ?)",
                (f"checkin:{day}:20210526", row),
            )
            e.row("button_messages", f"checkin:{day}:20210526|{row}", not old(at, DAYS["outbox"]))
    # An approval message of a request still pending: kept, its buttons are edited later.
    pending = conn.execute(
        "SELECT id FROM travel_requests WHERE status = 'pending' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if pending is not None and day % 30 == 2:
        row = conn.execute(
            "INSERT INTO outbox (channel, chat_ref, payload, status, next_attempt_at, created_at) "
            "VALUES ('telegram', '1', '{}', 'sent', ?1, ?1)",
            (t(at),),
        ).lastrowid
        conn.execute(
            "INSERT INTO button_messages (subject, outbox_id) VALUES (?, ?)",
            (f"travel:{pending[0]}", row),
        )
        e.row("outbox", row, True)
        e.row("button_messages", f"travel:{pending[0]}|{row}", True)


def _audit(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    for action, days in (("health.view", DAYS["audit"]), (PURGE_ACTION, DAYS["records"])):
        entry = conn.execute(
            "INSERT INTO audit_log (at, actor, action, object) VALUES (?, 'YT-003', ?, 'x')",
            (t(at - 400 * DAY * (day % 3 == 0)), action),  # a third are older: 400+ days
        ).lastrowid
        e.row("audit_log", entry, not old(at - 400 * DAY * (day % 3 == 0), days))


def _directives(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    """One directive a month, half of them from two years before (past 730 days); one still
    sending and one with its reminder to come, both kept whatever their age."""
    if day % 15:
        return
    sent = at - 400 * DAY * (day % 30 == 0)
    status, remind = {0: ("sending", None), 45: ("done", t(NOW + DAY))}.get(day, ("done", None))
    directive = conn.execute(
        "INSERT INTO broadcasts (number, issued_on, title, audience, status, created_by, "
        "created_at, send_at, queued_at, admin_channel, admin_chat, remind_at) "
        "VALUES ('1061/UBND-VP', ?, 'Phòng dịch', '{\"kind\":\"all\"}', ?, 'DU-003', ?3, ?3, "
        "?3, 'telegram', '1', ?4)",
        (sent.date().isoformat(), status, t(sent), remind),
    ).lastrowid
    kept = status == "sending" or remind is not None or not old(sent, DAYS["directive_reads"])
    for staff_id in ("TH-003", "YT-004"):
        conn.execute(
            "INSERT INTO broadcast_recipients (broadcast_id, staff_id, unit_id, registered, "
            "read_at) VALUES (?, ?, 'HB', 1, ?)",
            (directive, staff_id, t(sent + DAY)),
        )
        e.row("broadcast_recipients", f"{directive}:{staff_id}", kept)


def _absences(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    """An absence every 10 days, every other one ending 400 days earlier; kept while its last
    day is not before the day of the cutoff."""
    if day % 10:
        return
    last = (at - 400 * DAY * (day % 20 == 0)).astimezone(VIETNAM).date()
    absence = conn.execute(
        "INSERT INTO absences (staff_id, start_day, end_day, created_at) VALUES ('TH-001', ?, ?, ?)",
        ((last - 3 * DAY).isoformat(), last.isoformat(), t(at)),
    ).lastrowid
    e.row("absences", absence, last >= (NOW - DAYS["absences"] * DAY).date())


def _drafts(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    """A conversation left half-way every 5 days (a return declaration with its answers)."""
    if day % 5:
        return
    conn.execute(
        "INSERT INTO conversations (channel, user_ref, flow, step, draft, updated_at) "
        "VALUES ('telegram', ?, 'return', 'symptoms', '{\"symptoms\":[\"fever\"]}', ?)",
        (str(9000 + day), t(at)),
    )
    e.row("conversations", f"telegram:{9000 + day}", not old(at, DAYS["drafts"]))


def _measures(conn: sqlite3.Connection, e: Expected, day: int, at: datetime, staff_id: str) -> None:
    """A test on return every 4 days; every other one still reminded (kept whatever its age)."""
    if day % 4:
        return
    reminded = day % 8 == 4
    conn.execute(
        "INSERT INTO return_measures (request_id, staff_id, area, arrived_at, test_due_at, "
        "test_result, remind_at, created_at, updated_at) "
        "VALUES (?1, ?2, 'Đà Nẵng', ?3, ?3, ?4, ?5, ?3, ?3)",
        (100_000 + day, staff_id, t(at), None if reminded else "negative",
         t(NOW + DAY) if reminded else None),
    )  # fmt: skip
    expired = old(at, DAYS["health"]) and not reminded
    e.row("return_measures", 100_000 + day, not expired and staff_id != LEAVER)


def _violations_and_duty(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    """A shift a day (every fourth one 200 days further back); a violation every 6 days, every
    other one 400 days further back."""
    ends = at - 200 * DAY * (day % 4 == 0)
    shift = conn.execute(
        "INSERT INTO duty_shifts (unit_id, starts_at, ends_at, staff_id) "
        "VALUES ('YT', ?, ?, 'YT-003')",
        (t(ends - timedelta(hours=8)), t(ends)),
    ).lastrowid
    e.row("duty_shifts", shift, not old(ends, DAYS["duty_shifts"]))
    if day % 6:
        return
    recorded = at - 400 * DAY * (day % 12 == 0)
    violation = conn.execute(
        "INSERT INTO violations (staff_id, unit_id, kind, note, recorded_by, created_at) "
        "VALUES ('TH-003', 'TH', 'travel', 'đi không xin phép', 'TH-001', ?)",
        (t(recorded),),
    ).lastrowid
    e.row("violations", violation, not old(recorded, DAYS["violations"]))


def _privacy_requests(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    """A data request every 10 days, every other one 1,600 days further back; closed ones go
    5 years after closing, open ones stay."""
    if day % 10:
        return
    status = ("done", "refused", "open", "acknowledged")[day // 10 % 4]
    created = at - 1600 * DAY * (day % 20 == 0)
    closed = t(created + DAY) if status in ("done", "refused") else None
    request = conn.execute(
        "INSERT INTO privacy_requests (staff_id, kind, status, created_at, ack_due_at, due_at, "
        "remind_at, closed_at) VALUES ('HB-001', 'delete', ?, ?2, ?2, ?2, ?2, ?3)",
        (status, t(created), closed),
    ).lastrowid
    expired = closed is not None and old(created + DAY, DAYS["privacy_requests"])
    e.row("privacy_requests", request, not expired)


def _messenger_rows(conn: sqlite3.Connection, e: Expected, day: int, at: datetime) -> None:
    """A day's handled update ids and inbox rows (done, given up, still open), a directory
    upload every 3 days (its file deleted every other time), numbered choices every 2 days."""
    conn.execute(
        "INSERT INTO processed_updates (channel, update_id, processed_at) VALUES ('zalo', ?, ?)",
        (f"m:{day}", t(at)),
    )
    e.row("processed_updates", f"zalo:m:{day}", not old(at, DAYS["updates"]))
    for outcome, days in (("done", DAYS["updates"]), ("failed", DAYS["failed_updates"]), (None, 0)):
        seq = conn.execute(
            "INSERT INTO inbox (channel, update_id, body, received_at, done_at, outcome) "
            "VALUES ('telegram', ?, ?, ?, ?, ?)",
            (f"{outcome}-{day}", "" if outcome == "done" else '{"message":{}}', t(at),
             t(at) if outcome else None, outcome),
        ).lastrowid  # fmt: skip
        e.row("inbox", seq, outcome is None or not old(at, days))
    if day % 3 == 0:
        removed = day % 2
        upload = conn.execute(
            "INSERT INTO directory_uploads (staff_id, batch, kind, path, name, created_at, "
            "expires_at, closed, removed) VALUES ('DU-003', 0, 'staff', 'x.csv', 'staff.csv', "
            "?1, ?1, 1, ?2)",
            (t(at), removed),
        ).lastrowid
        e.row("directory_uploads", upload, not (removed and old(at, DAYS["uploads"])))
    if day % 2 == 0:
        conn.execute(
            "INSERT INTO pending_choices (channel, chat_ref, choices, sent_at) "
            "VALUES ('zalo', ?, '[]', ?)",
            (f"z{day}", t(at)),
        )
        e.row("pending_choices", f"zalo:z{day}", not old(at, DAYS["drafts"]))


def _channel_choices(conn: sqlite3.Connection, e: Expected) -> None:
    """A leaver's choice of messenger goes with their health data (leavers' days)."""
    for staff_id, kept in (("HB-001", True), (NEW_LEAVER, True), (LEAVER, False),
                           (OLD_LEAVER, False)):  # fmt: skip
        conn.execute(
            "INSERT INTO channel_choices (staff_id, channel, chosen_at) VALUES (?, 'zalo', ?)",
            (staff_id, t(NOW - YEAR)),
        )
        e.row("channel_choices", staff_id, kept)


def _consents(conn: sqlite3.Connection, e: Expected) -> None:
    """The ledger is proof: a decision in force stays, however old; one replaced 5+ years ago
    goes, and so does everything of a person who left 5+ years ago."""
    conn.execute(
        "UPDATE staff SET active = 0, deactivated_at = ? WHERE staff_id = ?",
        (t(NOW - 6 * YEAR), OLD_LEAVER),
    )
    entries = [  # (person, purpose, decision, age, kept)
        ("HB-001", "directory", "granted", 7 * YEAR, False),  # replaced 5.5 years ago
        ("HB-001", "directory", "withdrawn", 5 * YEAR + 180 * DAY, True),  # replaced last year
        ("HB-001", "directory", "granted", YEAR, True),  # in force
        ("HB-001", "health", "granted", 7 * YEAR, True),  # in force for 7 years
        ("DU-004", "health", "granted", 6 * YEAR, False),  # replaced 5+ years ago
        ("DU-004", "health", "withdrawn", 5 * YEAR + DAY, True),  # in force: no consent
        (LEAVER, "health", "granted", 6 * YEAR, True),  # left 40 days ago
        (OLD_LEAVER, "directory", "granted", 7 * YEAR, False),  # left 6 years ago
        (OLD_LEAVER, "health", "refused", 7 * YEAR, False),
        (OLD_LEAVER, "health", "granted", 7 * YEAR - DAY, False),  # replaced, and left
        ("YT-004", "directory", "granted", 6 * YEAR, True),  # replaced only 99 days ago
        ("YT-004", "directory", "granted", 99 * DAY, True),
    ]
    for staff_id, purpose, decision, age, kept in entries:
        entry = conn.execute(
            "INSERT INTO consents (staff_id, purpose, notice_version, decision, channel, "
            "message_ref, at) VALUES (?, ?, 1, ?, 'telegram', '7', ?)",
            (staff_id, purpose, decision, t(NOW - age)),
        ).lastrowid
        e.row("consents", entry, kept)


def _new_leaver(conn: sqlite3.Connection, e: Expected) -> None:
    report = conn.execute(
        "INSERT INTO symptom_reports (staff_id, source, urgency, created_at) "
        "VALUES (?, 'self', 'routine', ?)",
        (NEW_LEAVER, t(NOW - 20 * DAY)),
    ).lastrowid
    e.row("symptom_reports", report, True)


def _breaches(conn: sqlite3.Connection, e: Expected) -> None:
    for years, notified in ((6, 6), (6, 4), (1, None)):
        detected = NOW - years * 365 * DAY
        people = None if notified is None else t(NOW - notified * 365 * DAY)
        breach = conn.execute(
            "INSERT INTO breaches (summary, detected_at, opened_by, created_at, deadline_at, "
            "people_at) VALUES ('lost laptop', ?1, 'cli', ?1, ?1, ?2)",
            (t(detected), people),
        ).lastrowid
        latest = NOW - (notified if notified is not None else years) * 365 * DAY
        e.row("breaches", breach, not old(min(latest, NOW), DAYS["records"]))


KEYS = {
    "symptom_reports": "id",
    "health_alerts": "id",
    "alert_recipients": "alert_id",
    "case_reports": "id",
    "case_nodes": "id",
    "travel_requests": "id",
    "request_deciders": "request_id",
    "trip_returns": "request_id",
    "monitorings": "id",
    "checkins": "monitoring_id",
    "outbox": "id",
    "audit_log": "id",
    "breaches": "id",
    "broadcast_recipients": "broadcast_id || ':' || staff_id",
    "absences": "id",
    "conversations": "channel || ':' || user_ref",
    "consents": "id",
    "duty_referrals": "id",
    "outside_reports": "id",
    "return_measures": "request_id",
    "violations": "id",
    "duty_shifts": "id",
    "privacy_requests": "id",
    "directory_uploads": "id",
    "processed_updates": "channel || ':' || update_id",
    "inbox": "seq",
    "channel_choices": "staff_id",
    "pending_choices": "channel || ':' || chat_ref",
    "button_messages": "subject || '|' || outbox_id",
}


KEPT_TABLES = {
    Kept.DIRECTIVE_READS: "broadcast_recipients",
    Kept.ABSENCES: "absences",
    Kept.DRAFTS: "conversations",
    Kept.CONSENTS: "consents",
    Kept.VIOLATIONS: "violations",
    Kept.DUTY_SHIFTS: "duty_shifts",
    Kept.PRIVACY_REQUESTS: "privacy_requests",
    Kept.UPLOADS: "directory_uploads",
    Kept.PENDING_CHOICES: "pending_choices",
    Kept.CHANNEL_CHOICES: "channel_choices",
}


def present(db: Path) -> dict[str, set[object]]:
    with db_connect(db) as conn:
        found = {
            table: {r[0] for r in conn.execute(f"SELECT {key} FROM {table}")}
            for table, key in KEYS.items()
        }
        found["blank_address"] = {
            r[0] for r in conn.execute("SELECT id FROM travel_requests WHERE address = ''")
        }
    return found


def snapshot(db: Path) -> list[tuple[object, ...]]:
    with db_connect(db) as conn:
        rows: list[tuple[object, ...]] = []
        for table in [*KEYS, "staff", "leaver_purges"]:
            rows += [(table, *r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
    return rows


@pytest.fixture
async def year(tmp_path: Path) -> tuple[Path, Expected, Settings]:
    db = tmp_path / "khaibao.db"
    outcome = await load_examples(db, ManualClock(NOW - 400 * DAY))
    assert outcome.applied, outcome.problems
    with db_connect(db) as conn:
        expected = write_year(conn)
    exports = tmp_path / "exports"
    (exports / "charts").mkdir(parents=True)
    for name, age in (("old.xlsx", 8), ("charts/old.png", 30), ("new.xlsx", 6)):
        path = exports / name
        path.write_bytes(b"x")
        stamp = (NOW - age * DAY).timestamp()
        os.utime(path, (stamp, stamp))
    settings = Settings(_env_file=None, database_path=db, exports_dir=exports)  # type: ignore[call-arg]
    return db, expected, settings


async def test_the_purge_deletes_what_is_past_its_time_and_nothing_else(
    year: tuple[Path, Expected, Settings],
) -> None:
    db_path, expected, settings = year
    before = present(db_path)
    for table in KEYS:
        assert expected.keep[table] <= before[table], table
    database = await Database.open(db_path)
    try:
        outcome = await Retention(database, ManualClock(NOW), settings).purge(NOW)
    finally:
        await database.close()
    after = present(db_path)
    for table in KEYS:
        written = expected.keep[table] | expected.gone.get(table, set())
        assert expected.keep[table] <= after[table], f"{table}: kept rows were deleted"
        assert not (expected.gone.get(table, set()) & after[table]), f"{table}: expired rows stay"
        assert after[table] & written == expected.keep[table], table
        assert expected.gone.get(table), f"{table}: the year has nothing expired here"
    assert after["blank_address"] == expected.keep["blank_address"]
    assert outcome.counts[Kept.EXPORTS] == 2
    assert sorted(p.name for p in settings.exports_folder.rglob("*") if p.is_file()) == ["new.xlsx"]
    assert outcome.counts[Kept.LEAVERS] == 2  # TH-003 and CS-004; TH-004 left 10 days ago
    for kind, table in KEPT_TABLES.items():
        assert outcome.counts[kind] == len(expected.gone[table]), kind


async def test_the_dry_run_changes_nothing_and_counts_what_the_purge_then_deletes(
    year: tuple[Path, Expected, Settings],
) -> None:
    db_path, _, settings = year
    before = snapshot(db_path)
    database = await Database.open(db_path)
    try:
        retention = Retention(database, ManualClock(NOW), settings)
        counts = await retention.preview(NOW)
        assert snapshot(db_path) == before
        assert len(list(settings.exports_folder.rglob("*.*"))) == 3
        outcome = await retention.purge(NOW)
        assert outcome.counts == counts
        assert all(n == 0 for n in (await retention.preview(NOW)).values())
    finally:
        await database.close()
    assert counts[Kept.HEALTH] > 0 and counts[Kept.OUTBOX] > 0 and counts[Kept.AUDIT] > 0


async def test_the_run_leaves_one_audit_entry_with_counts_only(
    year: tuple[Path, Expected, Settings],
) -> None:
    db_path, _, settings = year
    database = await Database.open(db_path)
    try:
        outcome = await Retention(database, ManualClock(NOW), settings).purge(NOW, "cli")
    finally:
        await database.close()
    with db_connect(db_path) as conn:
        entries = conn.execute(
            "SELECT actor, object, details FROM audit_log WHERE action = ? AND at = ?",
            (PURGE_ACTION, t(NOW)),
        ).fetchall()
    assert len(entries) == 1
    actor, obj, details = entries[0]
    assert (actor, obj) == ("cli", None)
    assert json.loads(details) == {"deleted": {k.value: n for k, n in outcome.counts.items()}}
    assert all(isinstance(n, int) for n in json.loads(details)["deleted"].values())


async def test_the_audit_log_still_refuses_to_lose_a_recent_entry(
    year: tuple[Path, Expected, Settings],
) -> None:
    db_path, _, settings = year
    database = await Database.open(db_path)
    try:
        await Retention(database, ManualClock(NOW), settings).purge(NOW)
    finally:
        await database.close()
    with db_connect(db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("DELETE FROM audit_log WHERE at >= ?", (t(NOW - 30 * DAY),))
    with sqlite3.connect(db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute("DELETE FROM consents WHERE at >= ?", (t(NOW - 5 * YEAR),))


async def test_a_second_run_the_same_day_deletes_nothing_more_and_batches_stay_small(
    year: tuple[Path, Expected, Settings],
) -> None:
    db_path, _, settings = year
    small = settings.model_copy(update={"retention_batch": 7})
    database = await Database.open(db_path)
    try:
        retention = Retention(database, ManualClock(NOW), small)
        first = await retention.purge(NOW)
        again = await retention.purge(NOW)
    finally:
        await database.close()
    assert first.batches > sum(first.counts.values()) // 7
    assert sum(again.counts.values()) == 0


async def test_the_sweep_purges_once_a_day_at_the_purge_hour_on_one_instance(
    year: tuple[Path, Expected, Settings],
) -> None:
    db_path, _, settings = year
    clock = ManualClock(NOW)
    first, second = await Database.open(db_path), await Database.open(db_path)
    try:
        one, other = Retention(first, clock, settings), Retention(second, clock, settings)
        assert await one.sweep(clock.now()) == 0  # plans the first run: 02:30 tomorrow
        assert await one.next_due(clock.now()) == datetime(2021, 5, 27, 2, 30, tzinfo=VIETNAM)
        clock.set(datetime(2021, 5, 27, 2, 30, tzinfo=VIETNAM))
        done = await asyncio.gather(one.sweep(clock.now()), other.sweep(clock.now()))
        assert sorted(n > 0 for n in done) == [False, True]  # one of the two ran it
        assert await one.sweep(clock.now()) == 0
        assert await one.next_due(clock.now()) == datetime(2021, 5, 28, 2, 30, tzinfo=VIETNAM)
    finally:
        await first.close()
        await second.close()
    with db_connect(db_path) as conn:
        runs = conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = ?", (PURGE_ACTION,))
        assert runs.fetchone()[0] == 366 + 1  # the year's own entries, and this one run


def test_breach_reminders_at_each_time_left_then_at_the_deadline() -> None:
    deadline = datetime(2021, 5, 29, 8, 30, tzinfo=VIETNAM)
    left = (timedelta(hours=72), timedelta(hours=24), timedelta(hours=6))
    assert breach_moments(deadline, left) == [
        deadline - timedelta(hours=72), deadline - timedelta(hours=24),
        deadline - timedelta(hours=6), deadline,
    ]  # fmt: skip
    assert next_breach_reminder(deadline, left, NOW) == deadline - timedelta(hours=24)
    late = deadline - timedelta(hours=2)  # every reminder before it passed: the deadline next
    assert next_breach_reminder(deadline, left, late) == deadline
    assert next_breach_reminder(deadline, left, deadline) is None


@given(st.lists(st.integers(1, 200), max_size=6), st.integers(-300, 300))
def test_the_next_reminder_is_always_ahead_and_never_after_the_deadline(
    hours: list[int], offset: int
) -> None:
    deadline = datetime(2021, 5, 29, 8, 30, tzinfo=VIETNAM)
    now = deadline + timedelta(hours=offset)
    found = next_breach_reminder(deadline, [timedelta(hours=h) for h in hours], now)
    assert (found is None) == (now >= deadline)
    assert found is None or now < found <= deadline


async def test_the_command_line_dry_run_is_vietnamese_and_changes_nothing(
    year: tuple[Path, Expected, Settings],
) -> None:
    db_path, _, _ = year
    before = snapshot(db_path)
    env = dict(os.environ, DATABASE_PATH=str(db_path), TELEGRAM_BOT_TOKEN="",
               RETENTION_HEALTH_DAYS="45", EXPORTS_DIR=str(db_path.parent / "exports"))  # fmt: skip
    for args in (["purge", "--dry-run"], ["report"]):
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "bot", "privacy", *args],
            env=env, capture_output=True, text=True, timeout=60, cwd=db_path.parent,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        if args[0] == "purge":
            assert done.stdout.startswith("Chạy thử: không có gì thay đổi.")
            assert "báo cáo triệu chứng: 367 (lưu 45 ngày)" in done.stdout  # all: it is 2026 now
            for line in (
                "người nhận chỉ đạo và lượt đọc: ",
                "thời gian vắng mặt đã báo: ",
                "hội thoại bỏ dở (bản nháp): ",
                "quyết định đồng ý đã được thay thế, hoặc của người đã nghỉ: ",
                "xét nghiệm và cách ly khi trở về (kết quả xét nghiệm): ",
                "báo cáo ca bệnh chuẩn bị cho cơ quan bên ngoài: ",
                "cảnh báo đã chuyển lên lãnh đạo (kèm ghi chú): ",
                "vi phạm ghi nhận đối với cán bộ: ",
                "ca trực đã qua: ",
                "yêu cầu về dữ liệu đã đóng: ",
                "tệp danh bạ gửi qua trò chuyện (bản ghi về tệp): ",
                "tin nhắn đã xử lý (mã tin): ",
                "tin nhắn không xử lý được (kèm nội dung đã gửi): ",
                "ứng dụng nhắn tin đã chọn của người đã nghỉ: ",
                "lựa chọn đánh số gửi gần nhất trong cuộc trò chuyện: ",
                "liên kết của tin nhắn đã xử lý xong với nút bấm: ",
            ):
                assert line in done.stdout, line
        else:
            assert "Sổ ghi chép hoạt động xử lý dữ liệu cá nhân" in done.stdout
            assert "bản sao trong tin nhắn trên Telegram (ngoài Việt Nam)" in done.stdout
            assert "45 ngày sau khi hết mục đích" in done.stdout
            ledger = done.stdout.split("Sổ ghi nhận sự đồng ý")[1].split("\n\n")[0]
            assert "Căn cứ pháp lý: nghĩa vụ theo luật" in ledger, ledger
            assert "1825 ngày sau đó" in ledger, ledger
            requests = done.stdout.split("Yêu cầu về dữ liệu (sửa")[1].split("\n\n")[0]
            assert "nghĩa vụ theo luật" in requests and "1825 ngày sau khi đóng" in requests
            for name in (
                "Thời gian vắng mặt", "Người nhận chỉ đạo", "Hội thoại còn dang dở",
                "Xét nghiệm khi trở về", "Báo cáo ca bệnh gửi cơ quan bên ngoài",
                "Cảnh báo chuyển lên lãnh đạo", "Lịch trực", "Vi phạm ghi nhận",
                "Yêu cầu về dữ liệu", "Tệp danh bạ", "Tin nhắn đến", "Ứng dụng nhắn tin đã chọn",
                "Liên kết giữa tin nhắn",
            ):  # fmt: skip
                assert name in done.stdout, name
    assert snapshot(db_path) == before


async def test_a_person_a_re_import_deactivated_loses_health_data_after_the_leavers_days(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "khaibao.db"
    assert (await load_examples(db_path, ManualClock(NOW - 100 * DAY))).applied
    with db_connect(db_path) as conn:
        report = conn.execute(
            "INSERT INTO symptom_reports (staff_id, source, urgency, created_at) "
            "VALUES (?, 'self', 'urgent', ?)",
            (LEAVER, t(NOW - 45 * DAY)),
        ).lastrowid
        _travel(conn, Expected(), 0, NOW - 50 * DAY, LEAVER)  # approved, declared
    staff = tmp_path / "staff.csv"
    lines = (EXAMPLES / "staff.csv").read_text(encoding="utf-8-sig").splitlines()
    staff.write_text("\n".join(x for x in lines if not x.startswith(LEAVER)) + "\n", "utf-8")
    outcome = await load_examples(db_path, ManualClock(NOW - 31 * DAY), staff=staff)
    assert outcome.applied and outcome.summary and LEAVER in outcome.summary.staff_deactivated
    settings = Settings(_env_file=None, database_path=db_path, exports_dir=tmp_path / "x")  # type: ignore[call-arg]
    database = await Database.open(db_path)
    try:
        retention = Retention(database, ManualClock(NOW), settings)
        assert (await retention.purge(NOW - 2 * DAY)).counts[Kept.LEAVERS] == 0  # 29 days
        assert (await retention.purge(NOW)).counts[Kept.LEAVERS] == 1
    finally:
        await database.close()
    with db_connect(db_path) as conn:
        assert (
            conn.execute("SELECT id FROM symptom_reports WHERE id = ?", (report,)).fetchone()
            is None
        )
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM trip_returns WHERE staff_id = ?", (LEAVER,)
            ).fetchone()[0]
            == 0
        )
        kept = conn.execute(
            "SELECT destination, address, status FROM travel_requests WHERE staff_id = ?", (LEAVER,)
        ).fetchall()
    assert kept == [("Đà Nẵng", "", "approved")]  # the register's minimum: who, where, when
