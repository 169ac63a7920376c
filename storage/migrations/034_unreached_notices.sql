-- People a channel could not reach, waiting to be told in one message per recipient instead of
-- one per person: `origin_staff_id` is whom to tell (who caused the held message), NULL for the
-- admins. A row is deleted once told; `told_at` of the last notice per recipient is kept in
-- unreached_told so that a long directive gathers its people a minute at a time.
CREATE TABLE unreached_notices (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    user_ref TEXT NOT NULL,
    staff_id TEXT,
    origin_staff_id TEXT,
    noted_at TEXT NOT NULL
);

CREATE TABLE unreached_told (
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL,
    told_at TEXT NOT NULL,
    PRIMARY KEY (recipient, channel)
);
