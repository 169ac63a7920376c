-- Directives broadcast to staff, who received them and who has read them.

CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL,            -- e.g. 1061/UBND-VP
    issued_on     TEXT NOT NULL,            -- YYYY-MM-DD
    title         TEXT NOT NULL,
    body          TEXT NOT NULL DEFAULT '',
    file_id       TEXT,                     -- a PDF/DOCX sent with it (messenger file id)
    file_name     TEXT,
    audience      TEXT NOT NULL,            -- JSON {"kind": all|units|kinds|groups|roles, "values": [...]}
    status        TEXT NOT NULL,            -- scheduled | sending | done | cancelled
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    send_at       TEXT NOT NULL,            -- when the rows are (to be) queued
    queued_at     TEXT,
    policy_mode   TEXT,                     -- a travel policy switched with it, if any
    admin_channel TEXT NOT NULL,
    admin_chat    TEXT NOT NULL,
    progress_outbox INTEGER,                -- the outbox row of the admin's progress message
    progress_at   TEXT,                     -- last time it was edited (at most every 5 s)
    progress_text TEXT,                     -- what it says now (skip edits that change nothing)
    remind_at     TEXT                      -- when unread recipients are reminded (NULL: done)
);
CREATE INDEX broadcasts_scheduled ON broadcasts (send_at) WHERE status = 'scheduled';
CREATE INDEX broadcasts_remind ON broadcasts (remind_at) WHERE remind_at IS NOT NULL;

CREATE TABLE broadcast_recipients (
    broadcast_id INTEGER NOT NULL,
    staff_id     TEXT NOT NULL,
    unit_id      TEXT NOT NULL,
    registered   INTEGER NOT NULL,          -- 0: never registered, nothing was sent
    read_at      TEXT,
    reminded_at  TEXT,
    PRIMARY KEY (broadcast_id, staff_id)
) WITHOUT ROWID;
CREATE INDEX broadcast_recipients_staff ON broadcast_recipients (staff_id, broadcast_id);

-- Delivery of each recipient's copy: outbox rows with purpose 'broadcast:ID' (the part with the
-- "read" button) and 'broadcast:ID:part' (earlier parts), found by (purpose, staff_id).
CREATE INDEX outbox_purpose ON outbox (purpose, staff_id) WHERE purpose IS NOT NULL;
