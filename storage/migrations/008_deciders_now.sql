-- Deciders present now, requests unanswered at departure, bans that start later.

-- When a pending request reached its departure without a decision (the requester and the
-- deciders were told, the return is tracked).
ALTER TABLE travel_requests ADD COLUMN unanswered_at TEXT;
CREATE INDEX travel_unanswered ON travel_requests (departure_at)
    WHERE status = 'pending' AND unanswered_at IS NULL;

-- request_deciders.kind may now be 'away': an absent person who would have decided; the
-- request becomes theirs again when they are back.
CREATE INDEX request_deciders_away ON request_deciders (staff_id) WHERE kind = 'away';

-- 1 once the absence's start was handled (pending requests handed to those present).
ALTER TABLE absences ADD COLUMN began INTEGER NOT NULL DEFAULT 0;
CREATE INDEX absences_days ON absences (start_day, end_day);
