-- Bodies outside the bot (the city health department, …): the directory's contacts.csv, replaced
-- whole at each import that carries the file. on_case = 1: every case report is prepared for them.
CREATE TABLE outside_contacts (
    contact_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    phone      TEXT,
    email      TEXT,
    on_case    INTEGER NOT NULL DEFAULT 0
);

-- A case report prepared for one outside contact, handed to the duty officers; sent_* record who
-- said it went, and when (once: the first press wins).
CREATE TABLE outside_reports (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES case_reports (id),
    contact_id TEXT NOT NULL,
    body       TEXT NOT NULL,         -- as it was when prepared, for the button's answer
    created_at TEXT NOT NULL,
    sent_by    TEXT,
    sent_at    TEXT,
    UNIQUE (case_id, contact_id)
);
