-- Oversight: the digest schedule and the indexes of the heads' and the district's read models.

-- One row per digest kind ('daily' to heads, 'weekly' to admins): when it is next due.
CREATE TABLE oversight_digests (
    kind     TEXT PRIMARY KEY,
    next_at  TEXT NOT NULL,
    last_at  TEXT                    -- when it last went out (NULL: never)
);

CREATE INDEX trip_returns_state ON trip_returns (state, staff_id);
CREATE INDEX trip_returns_arrived ON trip_returns (arrived_at);
CREATE INDEX travel_decided ON travel_requests (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX travel_pending ON travel_requests (staff_id) WHERE status = 'pending';
CREATE INDEX symptom_reports_created ON symptom_reports (created_at);
CREATE INDEX broadcasts_queued ON broadcasts (queued_at) WHERE queued_at IS NOT NULL;
