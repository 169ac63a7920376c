-- Travel requests, who may decide them, absences, the travel policy and declared calendar days.

CREATE TABLE travel_requests (
    id               INTEGER PRIMARY KEY,
    staff_id         TEXT NOT NULL,
    status           TEXT NOT NULL,   -- pending | approved | denied | cancelled | recorded
    destination      TEXT NOT NULL,
    address          TEXT NOT NULL,
    departure_at     TEXT NOT NULL,
    return_at        TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    case_area        TEXT NOT NULL,   -- yes | no | unknown
    policy_mode      TEXT NOT NULL,
    trip_class       TEXT NOT NULL,   -- work_trip | needs_approval | exception_under_ban
    reasons          TEXT NOT NULL DEFAULT '[]',
    rule_name        TEXT NOT NULL,
    notify           TEXT NOT NULL DEFAULT '[]',   -- JSON staff ids told after the decision
    acting_for       TEXT NOT NULL DEFAULT '{}',   -- JSON deputy -> absent head
    created_at       TEXT NOT NULL,
    decided_at       TEXT,
    decided_by       TEXT,
    decision_note    TEXT,
    remind_at        TEXT,            -- when to remind the deciders (NULL: no more reminders)
    escalate_at      TEXT,            -- when to bring in the next leader up (NULL: no more)
    escalation_level INTEGER NOT NULL DEFAULT 0,
    replaces_id      INTEGER,         -- an approved trip this request changes
    ban_check        TEXT             -- a ban started after approval: asked | kept | NULL
);
CREATE INDEX travel_staff ON travel_requests (staff_id, status);
CREATE INDEX travel_remind ON travel_requests (remind_at) WHERE status = 'pending';
CREATE INDEX travel_escalate ON travel_requests (escalate_at) WHERE status = 'pending';
CREATE INDEX travel_departure ON travel_requests (status, departure_at);

CREATE TABLE request_deciders (
    request_id INTEGER NOT NULL,
    staff_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,   -- decider | above
    PRIMARY KEY (request_id, staff_id)
) WITHOUT ROWID;
CREATE INDEX request_deciders_staff ON request_deciders (staff_id, request_id);

-- The approval messages sent, so they can be edited to show the outcome.
CREATE TABLE request_messages (
    request_id INTEGER NOT NULL,
    outbox_id  INTEGER NOT NULL,
    PRIMARY KEY (request_id, outbox_id)
) WITHOUT ROWID;

CREATE TABLE absences (
    id         INTEGER PRIMARY KEY,
    staff_id   TEXT NOT NULL,
    start_day  TEXT NOT NULL,   -- YYYY-MM-DD
    end_day    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX absences_staff ON absences (staff_id);

CREATE TABLE policy_periods (
    id             INTEGER PRIMARY KEY,
    mode           TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    until          TEXT,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    note           TEXT,
    announced      INTEGER NOT NULL DEFAULT 0   -- ban start handled (approved trips told)
);

CREATE TABLE calendar_days (
    day  TEXT PRIMARY KEY,     -- YYYY-MM-DD
    kind TEXT NOT NULL,        -- day_off | workday
    note TEXT
);
