-- Retention of what the first purge left out: who received a directive, declared absences,
-- conversations left half-way (drafts) and the consent ledger.

-- The purge finds them oldest first through these. An absence's last day is written once; a
-- conversation's time changes on each of its steps, a small cost on a table that holds only the
-- conversations under way.
CREATE INDEX absences_end ON absences (end_day);
CREATE INDEX conversations_updated ON conversations (updated_at);

-- A consent decision replaced by a later one (same person, same purpose), and since when: the
-- purge reads its candidates here (through the index) instead of going over the whole ledger,
-- most of which is each person's decision in force. Filled on each new decision.
CREATE TABLE consent_superseded (
    id INTEGER PRIMARY KEY,   -- consents.id
    at TEXT NOT NULL          -- the time of the decision that replaced it
);
CREATE INDEX consent_superseded_at ON consent_superseded (at);
INSERT INTO consent_superseded (id, at)
    SELECT c.id, MIN(n.at) FROM consents c JOIN consents n ON n.staff_id = c.staff_id
    AND n.purpose = c.purpose AND n.id > c.id GROUP BY c.id;
CREATE TRIGGER consents_supersede AFTER INSERT ON consents
BEGIN
    INSERT INTO consent_superseded (id, at)
        SELECT id, new.at FROM consents WHERE staff_id = new.staff_id
        AND purpose = new.purpose AND id < new.id
        ON CONFLICT (id) DO NOTHING;
END;

-- The consent ledger stays append-only, except that entries older than the horizon the purge
-- sets (in the same transaction, from RETENTION_CONSENTS_DAYS) may be deleted; the purge
-- deletes only those replaced by a later decision, or of a person who left, before it.
DROP TRIGGER consents_no_delete;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
WHEN old.at >= COALESCE((SELECT before FROM retention_horizons WHERE what = 'consents'), '')
BEGIN SELECT RAISE(ABORT, 'consents is append-only'); END;

-- The sweeps ask, for each batch of people, who refused or withdrew a purpose: through this
-- index they visit only those decisions, a few among each person's grants.
CREATE INDEX consents_stopping ON consents (staff_id, purpose)
    WHERE decision IN ('refused', 'withdrawn');
