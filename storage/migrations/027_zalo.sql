-- The Zalo Official Account channel (bot/channels/zalo/).

-- The OA's token pair. The refresh token is single-use: the new pair replaces the old one in
-- the transaction that records the refresh, before either is used. One row (id 1).
CREATE TABLE zalo_tokens (
    id            INTEGER PRIMARY KEY,
    access_token  TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    expires_at    TEXT NOT NULL,        -- when the access token stops working (25 h after)
    refreshed_at  TEXT NOT NULL,
    generation    INTEGER NOT NULL DEFAULT 1
);

-- Each Zalo user's last interaction with the OA (a message, a tap, a follow): the window in
-- which the OA may write to them (48 h free, 7 days billable, then refused).
CREATE TABLE zalo_users (
    user_id             TEXT PRIMARY KEY,
    last_interaction_at TEXT NOT NULL,
    following           INTEGER NOT NULL DEFAULT 1,
    phone_asked_at      TEXT               -- the last request_user_info sent
);

-- Files uploaded to Zalo: their id there, reused until 7 days after the upload.
CREATE TABLE zalo_uploads (
    file_key    TEXT PRIMARY KEY,         -- the file's path, size and modification time
    kind        TEXT NOT NULL,            -- 'image' or 'file'
    upload_id   TEXT NOT NULL,            -- attachment_id (image) or token (file)
    uploaded_at TEXT NOT NULL
);

-- Messages a channel with a proactive window sent per local day: free (within 48 h of the
-- person's last message), billable (48 h to 7 days), by template (ZBS), held (past the window:
-- the outbox row waits until they write). Shown to admins in /district.
CREATE TABLE channel_sends (
    channel   TEXT NOT NULL,
    day       TEXT NOT NULL,              -- YYYY-MM-DD, local
    free      INTEGER NOT NULL DEFAULT 0,
    billable  INTEGER NOT NULL DEFAULT 0,
    templates INTEGER NOT NULL DEFAULT 0,
    held      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, day)
);
