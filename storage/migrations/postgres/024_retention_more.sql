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
    id BIGINT PRIMARY KEY,    -- consents.id
    at TEXT NOT NULL          -- the time of the decision that replaced it
);
CREATE INDEX consent_superseded_at ON consent_superseded (at);
INSERT INTO consent_superseded (id, at)
    SELECT c.id, MIN(n.at) FROM consents c JOIN consents n ON n.staff_id = c.staff_id
    AND n.purpose = c.purpose AND n.id > c.id GROUP BY c.id;
CREATE FUNCTION consents_supersede() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO consent_superseded (id, at)
        SELECT id, NEW.at FROM consents WHERE staff_id = NEW.staff_id
        AND purpose = NEW.purpose AND id < NEW.id
        ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER consents_supersede AFTER INSERT ON consents
FOR EACH ROW EXECUTE FUNCTION consents_supersede();

-- The consent ledger stays append-only, except that entries older than the horizon the purge
-- sets (in the same transaction, from RETENTION_CONSENTS_DAYS) may be deleted; the purge
-- deletes only those replaced by a later decision, or of a person who left, before it.
DROP TRIGGER consents_no_delete ON consents;
CREATE FUNCTION consents_deletable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.at >= COALESCE((SELECT before FROM retention_horizons WHERE what = 'consents'), '') THEN
        RAISE EXCEPTION 'consents is append-only';
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
FOR EACH ROW EXECUTE FUNCTION consents_deletable();

-- The sweeps ask, for each batch of people, who refused or withdrew a purpose: through this
-- index they visit only those decisions, a few among each person's grants.
CREATE INDEX consents_stopping ON consents (staff_id, purpose)
    WHERE decision IN ('refused', 'withdrawn');
