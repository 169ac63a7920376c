-- Symptom reports, health alerts (ack + escalation), case reports with their contact tree,
-- areas with published cases and medical monitoring with daily check-ins.

CREATE TABLE symptom_reports (
    id                INTEGER PRIMARY KEY,
    staff_id          TEXT NOT NULL,
    source            TEXT NOT NULL,              -- self | return | checkin
    symptoms          TEXT NOT NULL DEFAULT '[]', -- JSON list of Symptom codes
    other_text        TEXT,
    temperature       REAL,
    onset_day         TEXT,                       -- YYYY-MM-DD
    contact_with_case INTEGER NOT NULL DEFAULT 0,
    contacts          TEXT NOT NULL DEFAULT '[]', -- JSON list of free codes (from a return)
    urgency           TEXT NOT NULL,              -- urgent | routine
    reasons           TEXT NOT NULL DEFAULT '[]',
    created_at        TEXT NOT NULL
);
CREATE INDEX symptom_reports_staff ON symptom_reports (staff_id, id);

-- One alert about a symptom report or a case; nobody acknowledging it moves escalate_at on.
CREATE TABLE health_alerts (
    id          INTEGER PRIMARY KEY,
    object      TEXT NOT NULL,       -- symptoms:12 | case:3
    staff_id    TEXT,                -- the person it is about (NULL: outside the directory)
    unit_id     TEXT,                -- where the escalation climbs from
    level       INTEGER NOT NULL DEFAULT 0,
    escalate_at TEXT,                -- NULL: acknowledged, or nobody left to escalate to
    acked_by    TEXT,
    acked_at    TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX health_alerts_due ON health_alerts (escalate_at) WHERE escalate_at IS NOT NULL;

CREATE TABLE alert_recipients (
    alert_id INTEGER NOT NULL,
    staff_id TEXT NOT NULL,
    level    INTEGER NOT NULL,
    PRIMARY KEY (alert_id, staff_id)
) WITHOUT ROWID;

CREATE TABLE alert_messages (
    alert_id  INTEGER NOT NULL,
    outbox_id INTEGER NOT NULL,
    PRIMARY KEY (alert_id, outbox_id)
) WITHOUT ROWID;

CREATE TABLE case_reports (
    id          INTEGER PRIMARY KEY,
    unit_id     TEXT,                -- the unit of the reported person (or of the reporter)
    scenario    TEXT,                -- PA1 | PA2 | NULL
    reported_by TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- The contact tree: the root (parent_id NULL) is the reported case, children are its contacts.
CREATE TABLE case_nodes (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL,
    parent_id  INTEGER,
    staff_id   TEXT,                 -- NULL: someone outside the directory
    name       TEXT NOT NULL,
    level      TEXT NOT NULL,        -- F0 .. F5
    added_by   TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX case_nodes_case ON case_nodes (case_id, id);
CREATE INDEX case_nodes_staff ON case_nodes (staff_id);

CREATE TABLE case_areas (
    id         INTEGER PRIMARY KEY,
    province   TEXT NOT NULL,        -- canonical province name
    place      TEXT NOT NULL,
    start_day  TEXT NOT NULL,        -- YYYY-MM-DD
    end_day    TEXT,                 -- NULL: until ended
    source     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ended_at   TEXT,
    ended_by   TEXT
);

CREATE TABLE monitorings (
    id              INTEGER PRIMARY KEY,
    staff_id        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    status          TEXT NOT NULL,   -- open | done | ended
    start_day       TEXT NOT NULL,
    end_day         TEXT NOT NULL,   -- last day with a check-in
    next_checkin_at TEXT,            -- when to ask next (NULL: no more)
    pending_day     TEXT,            -- the day whose check-in is unanswered
    pending_stage   TEXT,            -- asked | reminded
    pending_due_at  TEXT,            -- when to remind / tell the head
    ended_by        TEXT,
    end_reason      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX monitorings_open ON monitorings (staff_id) WHERE status = 'open';
CREATE INDEX monitorings_checkin ON monitorings (next_checkin_at) WHERE status = 'open';
CREATE INDEX monitorings_pending ON monitorings (pending_due_at) WHERE status = 'open';

CREATE TABLE checkins (
    monitoring_id INTEGER NOT NULL,
    day           TEXT NOT NULL,
    answer        TEXT NOT NULL,     -- no | yes | missed
    at            TEXT NOT NULL,
    PRIMARY KEY (monitoring_id, day)
) WITHOUT ROWID;
