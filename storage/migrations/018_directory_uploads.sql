-- Directory files an admin sent to the bot, waiting for «Áp dụng» or «Hủy» (a while only).
-- One batch per admin: a new file joins the admin's open batch (units, staff, routing).

CREATE TABLE directory_uploads (
    id          INTEGER PRIMARY KEY,
    staff_id    TEXT NOT NULL,            -- the admin who sent it
    batch       INTEGER NOT NULL,         -- the id of the batch's first file
    kind        TEXT NOT NULL,            -- 'units', 'staff' or 'routing'
    path        TEXT NOT NULL,            -- under the bot's files folder
    name        TEXT NOT NULL,            -- the file's name as sent
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    closed      INTEGER NOT NULL DEFAULT 0,  -- 1: applied, cancelled or replaced
    removed     INTEGER NOT NULL DEFAULT 0   -- 1: the file was deleted (closed or expired)
);
CREATE INDEX directory_uploads_kept ON directory_uploads (expires_at) WHERE removed = 0;
CREATE INDEX directory_uploads_open ON directory_uploads (staff_id, expires_at) WHERE closed = 0;
