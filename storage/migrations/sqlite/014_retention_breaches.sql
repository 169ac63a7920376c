-- Retention (the daily purge) and the personal-data breach register.

-- The purge finds what is past its time through these (each column is written once, so the
-- indexes cost nothing on the hot paths' updates).
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX outbox_created ON outbox (created_at) WHERE COALESCE(purpose, '') NOT GLOB 'broadcast:*';
CREATE INDEX outbox_directive_created ON outbox (created_at) WHERE purpose GLOB 'broadcast:*';
CREATE INDEX health_alerts_object ON health_alerts (object);
CREATE INDEX case_reports_created ON case_reports (created_at);
CREATE INDEX trip_returns_updated ON trip_returns (updated_at);
CREATE INDEX monitorings_updated ON monitorings (updated_at) WHERE status <> 'open';
CREATE INDEX monitorings_staff ON monitorings (staff_id);
CREATE INDEX travel_return ON travel_requests (return_at) WHERE status <> 'pending';
CREATE INDEX staff_deactivated ON staff (deactivated_at) WHERE active = 0;

-- The audit log stays append-only, except that entries older than the horizon the purge sets
-- (in the same transaction, from the retention setting) may be deleted.
CREATE TABLE retention_horizons (
    what   TEXT PRIMARY KEY,   -- 'audit_log'
    before TEXT NOT NULL       -- entries with at < before may be deleted
);
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN old.at >= COALESCE((SELECT before FROM retention_horizons WHERE what = 'audit_log'), '')
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- When the daily purge is next due; claimed with a conditional update (one instance runs it).
CREATE TABLE retention_runs (
    kind    TEXT PRIMARY KEY,   -- 'purge'
    next_at TEXT NOT NULL,
    last_at TEXT
);

-- Leavers whose health data was deleted, for the deactivation it followed (a re-activated and
-- again deactivated person is handled again).
CREATE TABLE leaver_purges (
    staff_id       TEXT PRIMARY KEY,
    deactivated_at TEXT NOT NULL,
    purged_at      TEXT NOT NULL
);

CREATE TABLE breaches (
    id              INTEGER PRIMARY KEY,
    summary         TEXT NOT NULL,
    detected_at     TEXT NOT NULL,
    opened_by       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    deadline_at     TEXT NOT NULL,   -- detected_at + the notification deadline (72 h)
    authority_at    TEXT,            -- when the authority was notified
    people_at       TEXT,            -- when the affected people were
    remind_at       TEXT,            -- the next reminder (NULL: none left)
    remind_stage    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX breaches_remind ON breaches (remind_at) WHERE remind_at IS NOT NULL;
