-- A file one channel holds (the PDF an admin sent with a directive) copied for a channel that
-- must send it and cannot use its id (bot/channels/file_bridge.py): fetched once into FILES_DIR,
-- and, where the channel gives an upload an id of its own, uploaded once and sent again by
-- that id. A copy that could not be made keeps why, so that thousands of recipients cause one
-- attempt and one notice to the sender.
CREATE TABLE file_copies (
    source_channel TEXT NOT NULL,        -- the channel holding the file
    source_file_id TEXT NOT NULL,        -- its id there
    place          TEXT NOT NULL,        -- 'files' (the copy in FILES_DIR) or a channel's name
    copy_ref       TEXT,                 -- the path in FILES_DIR, or the channel's own file id
    failure        TEXT,                 -- when no copy could be made: 'too_big', 'kind', 'fetch'
    made_at        TEXT NOT NULL,
    PRIMARY KEY (source_channel, source_file_id, place)
);
