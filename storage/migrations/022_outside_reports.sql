-- Bodies outside the bot (the city health department, …): the directory's contacts.csv, replaced
-- whole at each import that carries the file. notify_on: `;case_f0;case_f1;` (bounded by `;`).
CREATE TABLE outside_contacts (
    contact_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    phone      TEXT,
    email      TEXT,
    notify_on  TEXT NOT NULL
);

-- A case report prepared for one outside contact, handed to the duty officers (handed_to: a JSON
-- list of staff ids, who may record it as sent); sent_* record who said it went, and when (once:
-- the first press wins).
CREATE TABLE outside_reports (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES case_reports (id),
    contact_id TEXT NOT NULL,
    body       TEXT NOT NULL,         -- as it was when prepared, for the button's answer
    handed_to  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_by    TEXT,
    sent_at    TEXT,
    UNIQUE (case_id, contact_id)
);
