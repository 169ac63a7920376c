-- Coming back from a trip: the return question, the return declaration, the 24-hour window.

-- Set once a trip's return is tracked in trip_returns, so the sweep finds new returns cheaply.
ALTER TABLE travel_requests ADD COLUMN return_tracked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX travel_untracked_returns ON travel_requests (return_at)
    WHERE return_tracked = 0 AND status IN ('approved', 'recorded');

CREATE TABLE trip_returns (
    request_id        INTEGER PRIMARY KEY,
    staff_id          TEXT NOT NULL,
    state             TEXT NOT NULL,   -- away | back | declared | cancelled
    planned_return_at TEXT NOT NULL,
    ask_at            TEXT,            -- next "are you back?" step (NULL: none left)
    ask_stage         INTEGER NOT NULL DEFAULT 0,  -- 0 not asked, 1 asked, 2 asked again, 3 head told
    arrived_at        TEXT,
    deadline_at       TEXT,            -- arrived_at + 24 h
    remind_at         TEXT,            -- next declaration reminder or overdue step (NULL: none)
    schedule          TEXT,            -- the reminders: 'at,kind,seq;...' (computed once, on return)
    last_seq          INTEGER,         -- the last reminder of the schedule handled
    overdue_at        TEXT,            -- when the unit head was told the declaration is overdue
    declared_at       TEXT,            -- the official online declaration confirmed
    evidence_file_id  TEXT,            -- a screenshot kept as evidence
    evidence_at       TEXT,
    answers           TEXT NOT NULL DEFAULT '{}',  -- JSON: provinces, symptoms, contacts
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX trip_returns_staff ON trip_returns (staff_id, state);
CREATE INDEX trip_returns_ask ON trip_returns (ask_at) WHERE state = 'away' AND ask_at IS NOT NULL;
CREATE INDEX trip_returns_remind ON trip_returns (remind_at) WHERE state = 'back' AND remind_at IS NOT NULL;
