-- Retention of what the first purge left out: who received a directive, declared absences,
-- conversations left half-way (drafts) and the consent ledger.

-- The purge finds them oldest first through these. An absence's last day and a consent's time
-- are written once; a conversation's time changes on each of its steps, a small cost on a
-- table that holds only the conversations under way.
CREATE INDEX absences_end ON absences (end_day);
CREATE INDEX conversations_updated ON conversations (updated_at);
CREATE INDEX consents_at ON consents (at);

-- The consent ledger stays append-only, except that entries older than the horizon the purge
-- sets (in the same transaction, from RETENTION_CONSENTS_DAYS) may be deleted; the purge
-- deletes only those replaced by a later decision, or of a person who left, before it.
DROP TRIGGER consents_no_delete;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
WHEN old.at >= COALESCE((SELECT before FROM retention_horizons WHERE what = 'consents'), '')
BEGIN SELECT RAISE(ABORT, 'consents is append-only'); END;
