-- The inbox: every update a messenger handed over, stored before it is confirmed to the messenger
-- (the next getUpdates offset, or the webhook's 200). A row is done in the same transaction as the
-- step it caused; rows not done are handled again at start.

CREATE TABLE inbox (
    seq         INTEGER PRIMARY KEY,      -- arrival order
    channel     TEXT NOT NULL,            -- 'telegram'
    update_id   TEXT NOT NULL,            -- the messenger's id for the update, as text
    body        TEXT NOT NULL,            -- the update as the messenger sent it (JSON)
    received_at TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     TEXT,                     -- NULL: not handled yet
    outcome     TEXT,                     -- 'done' or 'failed' (given up after its attempts)
    UNIQUE (channel, update_id)
);
CREATE INDEX inbox_open ON inbox (channel, seq) WHERE done_at IS NULL;
CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;
