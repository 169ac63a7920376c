-- Testing and isolation on return from an area with published cases (seeds/004 §3), and the
-- violations heads record on their staff (seeds/000 §5, 001 §5, 004).

-- What the area's directive requires on return; NULL: not required.
ALTER TABLE case_areas ADD COLUMN test_hours INTEGER;
ALTER TABLE case_areas ADD COLUMN isolation_days INTEGER;

-- One row per return from such an area.
CREATE TABLE return_measures (
    request_id       INTEGER PRIMARY KEY,
    staff_id         TEXT NOT NULL,
    area             TEXT NOT NULL,      -- the area described, as the person was told
    arrived_at       TEXT NOT NULL,
    test_due_at      TEXT,               -- NULL: no test required
    test_result      TEXT,               -- NULL: pending | negative | positive
    test_at          TEXT,               -- when the result was given
    evidence_file_id TEXT,               -- a photo of the result (the messenger's file reference)
    evidence_at      TEXT,
    isolation_until  TEXT,               -- NULL: no isolation required
    remind_at        TEXT,               -- next test step (NULL: none left)
    remind_stage     INTEGER NOT NULL DEFAULT 0,  -- 0 nothing, 1 reminded, 2 head told
    overdue_at       TEXT,               -- when the head was told the result is overdue
    case_id          INTEGER,            -- the case a positive result opened
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX return_measures_staff ON return_measures (staff_id);
CREATE INDEX return_measures_remind ON return_measures (remind_at)
    WHERE remind_at IS NOT NULL AND test_result IS NULL;

CREATE TABLE violations (
    id          INTEGER PRIMARY KEY,
    staff_id    TEXT NOT NULL,
    unit_id     TEXT NOT NULL,           -- the person's unit when it was recorded
    kind        TEXT NOT NULL,           -- travel | return | declaration | other
    note        TEXT NOT NULL,
    object      TEXT,                    -- travel:12 when recorded from a reminder
    recorded_by TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX violations_created ON violations (created_at);
CREATE INDEX violations_staff ON violations (staff_id, id);
