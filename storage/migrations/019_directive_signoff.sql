-- Directives scoped to the admin's units, signed off by a leader, corrected or recalled.

ALTER TABLE broadcasts ADD COLUMN scope_unit TEXT;      -- the unit admin's unit; NULL: the district
ALTER TABLE broadcasts ADD COLUMN signed_by TEXT;       -- the leader who signed it off (ký duyệt)
ALTER TABLE broadcasts ADD COLUMN signed_at TEXT;
ALTER TABLE broadcasts ADD COLUMN returned_by TEXT;     -- the leader who returned it, and why
ALTER TABLE broadcasts ADD COLUMN returned_reason TEXT;
ALTER TABLE broadcasts ADD COLUMN corrected_at TEXT;    -- the latest correction (đính chính)
ALTER TABLE broadcasts ADD COLUMN recalled_at TEXT;     -- recalled (thu hồi)
-- status gains: signoff (waiting for a leader), returned (a leader sent it back), recalled

-- The sign-off requests sent to leaders: their buttons are updated once one decides.
CREATE TABLE broadcast_signoff_messages (
    broadcast_id INTEGER NOT NULL,
    outbox_id    INTEGER NOT NULL,
    PRIMARY KEY (broadcast_id, outbox_id)
) WITHOUT ROWID;

-- Every correction of a directive, the text it replaced included.
CREATE TABLE broadcast_corrections (
    id            INTEGER PRIMARY KEY,
    broadcast_id  INTEGER NOT NULL,
    previous_body TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX broadcast_corrections_of ON broadcast_corrections (broadcast_id);
