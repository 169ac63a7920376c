-- More than one messenger: a person may have one account per channel (a Telegram and a Zalo
-- account, both linked to the same staff record); each account keeps when its person last wrote
-- (the channel used last is the one written to, and a channel's proactive window counts from
-- it); processed event ids are text, as each messenger names its events its own way.

CREATE TABLE accounts_026 (
    channel         TEXT NOT NULL,   -- 'telegram', 'zalo', ...
    user_ref        TEXT NOT NULL,   -- the messenger's user id
    chat_ref        TEXT NOT NULL,   -- where to write to them
    staff_id        TEXT,            -- NULL until linked; one account per person and channel
    language        TEXT,            -- saved choice, NULL = not chosen
    linked_at       TEXT,
    last_inbound_at TEXT,            -- the person's last event on this account (UTC)
    PRIMARY KEY (channel, user_ref),
    UNIQUE (staff_id, channel)
);
INSERT INTO accounts_026 (channel, user_ref, chat_ref, staff_id, language, linked_at)
    SELECT channel, user_ref, chat_ref, staff_id, language, linked_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_026 RENAME TO accounts;

-- The channel a person chose with /channel; without a choice, the one they used last.
CREATE TABLE channel_choices (
    staff_id  TEXT PRIMARY KEY,
    channel   TEXT NOT NULL,
    chosen_at TEXT NOT NULL
);

-- The one account a message to a person goes to: the chosen channel's, else the one used
-- last, else the one linked last.
CREATE VIEW reachable_accounts AS
SELECT channel, user_ref, chat_ref, staff_id, language, linked_at, last_inbound_at
FROM (
    SELECT a.channel, a.user_ref, a.chat_ref, a.staff_id, a.language, a.linked_at,
           a.last_inbound_at,
           ROW_NUMBER() OVER (
               PARTITION BY a.staff_id
               ORDER BY CASE WHEN c.channel = a.channel THEN 0 ELSE 1 END,
                        COALESCE(a.last_inbound_at, '') DESC,
                        COALESCE(a.linked_at, '') DESC,
                        a.channel
           ) AS place
    FROM accounts a LEFT JOIN channel_choices c ON c.staff_id = a.staff_id
    WHERE a.staff_id IS NOT NULL
) ranked
WHERE place = 1;

CREATE TABLE processed_updates_026 (
    channel      TEXT NOT NULL,
    update_id    TEXT NOT NULL,      -- the messenger's event id, as text (Zalo's msg_id)
    processed_at TEXT NOT NULL,
    PRIMARY KEY (channel, update_id)
) WITHOUT ROWID;  -- as in 001: one b-tree to write per step (PostgreSQL: leave the clause out)
INSERT INTO processed_updates_026 (channel, update_id, processed_at)
    SELECT channel, CAST(update_id AS TEXT), processed_at FROM processed_updates;
DROP TABLE processed_updates;
ALTER TABLE processed_updates_026 RENAME TO processed_updates;

-- The choices of the last message sent to a chat on a channel without buttons (numbered in
-- its text): a typed number or label answers them as the button would have.
CREATE TABLE pending_choices (
    channel  TEXT NOT NULL,
    chat_ref TEXT NOT NULL,
    choices  TEXT NOT NULL,          -- JSON list of [label, button data]
    sent_at  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_ref)
);
