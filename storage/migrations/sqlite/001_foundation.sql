-- Directory, accounts, invites, update de-duplication, conversation state, outbox, audit log.

CREATE TABLE units (
    unit_id        TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    parent_id      TEXT,
    health_contact TEXT
);

CREATE TABLE staff (
    staff_id       TEXT PRIMARY KEY,
    full_name      TEXT NOT NULL,
    name_folded    TEXT NOT NULL,
    phone          TEXT NOT NULL,
    unit_id        TEXT NOT NULL,
    position       TEXT,
    position_group TEXT NOT NULL,
    language       TEXT NOT NULL DEFAULT 'vi',
    active         INTEGER NOT NULL DEFAULT 1,
    deactivated_at TEXT
);
CREATE INDEX staff_phone ON staff (phone);
CREATE INDEX staff_unit ON staff (unit_id);

CREATE TABLE staff_roles (
    staff_id TEXT NOT NULL,
    role     TEXT NOT NULL,
    PRIMARY KEY (staff_id, role)
) WITHOUT ROWID;
CREATE INDEX staff_roles_role ON staff_roles (role);

CREATE TABLE routing_rules (
    position        INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    position_groups TEXT NOT NULL,  -- JSON list
    unit_kinds      TEXT NOT NULL,  -- JSON list
    approver        TEXT NOT NULL,
    notify          TEXT NOT NULL   -- JSON list
);

CREATE TABLE accounts (
    channel    TEXT NOT NULL,       -- 'telegram'
    user_ref   TEXT NOT NULL,       -- the messenger's user id
    chat_ref   TEXT NOT NULL,       -- where to write to them
    staff_id   TEXT UNIQUE,         -- NULL until linked; one account per person
    language   TEXT,                -- saved choice, NULL = not chosen
    linked_at  TEXT,
    PRIMARY KEY (channel, user_ref)
);

CREATE TABLE invites (
    code       TEXT PRIMARY KEY,
    staff_id   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT,
    used_by    TEXT
);
CREATE INDEX invites_staff ON invites (staff_id);

CREATE TABLE processed_updates (
    channel      TEXT NOT NULL,
    update_id    INTEGER NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (channel, update_id)
) WITHOUT ROWID;

CREATE TABLE conversations (
    channel    TEXT NOT NULL,
    user_ref   TEXT NOT NULL,
    flow       TEXT NOT NULL,
    step       TEXT NOT NULL,
    draft      TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (channel, user_ref)
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL,
    chat_ref        TEXT NOT NULL,
    payload         TEXT NOT NULL,      -- JSON: a channel-neutral OutMessage
    priority        INTEGER NOT NULL DEFAULT 5,   -- lower goes first
    status          TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | undeliverable | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    message_ref     TEXT,
    error           TEXT,
    purpose         TEXT,               -- e.g. 'admin_alert', 'broadcast:12'
    staff_id        TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at, priority, id) WHERE status = 'pending';

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    object  TEXT,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
