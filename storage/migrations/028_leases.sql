-- Several instances on one database (README "Several instances").
-- A lease: who holds a named piece of work until when. The sweep ('sweep'), the outbox sender
-- ('outbox') and each person's inbox ('inbox:<channel>:<person>') are held by one instance at a
-- time; a lease not renewed by its expiry is free for another instance to take.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,   -- the instance (INSTANCE_NAME)
    expires_at TEXT NOT NULL    -- UTC, the holder's wall clock
);
CREATE INDEX leases_holder ON leases (holder);

-- Whose update it is (the person whose updates must run in order), so that the instance holding
-- that person's lease handles it, whichever instance stored it.
ALTER TABLE inbox ADD COLUMN person TEXT;
CREATE INDEX inbox_person_open ON inbox (channel, person, seq) WHERE done_at IS NULL;
