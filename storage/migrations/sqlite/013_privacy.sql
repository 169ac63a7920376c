-- Personal data: the consent ledger, the requests people make about their data, and the
-- scheduled deletion of health details sent to a chat.

-- Append-only: every decision (or notice shown) is a new row; the latest row per person,
-- purpose and notice version is what holds. The burden-of-proof file.
CREATE TABLE consents (
    id             INTEGER PRIMARY KEY,
    staff_id       TEXT NOT NULL,
    purpose        TEXT NOT NULL,      -- 'directory' (staff list, travel) | 'health'
    notice_version INTEGER NOT NULL,
    decision       TEXT NOT NULL,      -- 'granted' | 'refused' | 'withdrawn' | 'notified'
    channel        TEXT NOT NULL,
    message_ref    TEXT,               -- the bot message the decision answered
    at             TEXT NOT NULL
);
CREATE INDEX consents_person ON consents (staff_id, purpose, id);
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consents is append-only'); END;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
BEGIN SELECT RAISE(ABORT, 'consents is append-only'); END;

-- A person's request about their data (correct, delete, withdraw, object...), queued for the
-- district admins or the data protection officer, with its deadlines as columns for the sweep.
CREATE TABLE privacy_requests (
    id           INTEGER PRIMARY KEY,
    staff_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,        -- 'correct' | 'delete' | 'withdraw' | 'object' | 'view'
    details      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'open',  -- open | acknowledged | done | refused
    created_at   TEXT NOT NULL,
    ack_due_at   TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    remind_at    TEXT NOT NULL,        -- when the responsible admin is reminded
    reminded_at  TEXT,
    escalated_at TEXT,
    ack_escalated_at TEXT,
    acked_at     TEXT,
    assignee     TEXT,                 -- the admin who acknowledged it
    extended_at  TEXT,
    closed_at    TEXT,
    closed_by    TEXT,
    outcome      TEXT                  -- the refusal's legal reason, or what was done
);
CREATE INDEX privacy_requests_open ON privacy_requests (status, remind_at)
    WHERE status IN ('open', 'acknowledged');
CREATE INDEX privacy_requests_person ON privacy_requests (staff_id);
