-- Every message that carries a subject's buttons (a travel request's approval copies, /pending
-- lists, reminders, escalations, the approve-all confirmation; a health alert's copies; a
-- return's declaration questions), so that all of them are edited once the subject is settled.
CREATE TABLE button_messages (
    subject   TEXT NOT NULL,                  -- travel:12 | alert:3 | return:12
    outbox_id INTEGER NOT NULL,
    role      TEXT NOT NULL DEFAULT 'copy',   -- copy (the subject's own message) | list (several subjects)
    closed    INTEGER NOT NULL DEFAULT 0,     -- its closing edit is queued
    PRIMARY KEY (subject, outbox_id)
) WITHOUT ROWID;
CREATE INDEX button_messages_outbox ON button_messages (outbox_id);
CREATE INDEX button_messages_open_lists ON button_messages (role, closed) WHERE role = 'list';

INSERT INTO button_messages (subject, outbox_id) SELECT 'travel:' || request_id, outbox_id FROM request_messages;
INSERT INTO button_messages (subject, outbox_id) SELECT 'alert:' || alert_id, outbox_id FROM alert_messages;
DROP TABLE request_messages;
DROP TABLE alert_messages;

-- When each decider was brought in (an escalation says since when nobody answered).
ALTER TABLE request_deciders ADD COLUMN added_at TEXT;

-- The answer to "contact with a confirmed case (F0)?": yes | no | unknown (NULL: older rows,
-- read from contact_with_case).
ALTER TABLE symptom_reports ADD COLUMN case_contact TEXT;

-- When a head last pressed «Remind them» for a return's declaration (one reminder an hour).
ALTER TABLE trip_returns ADD COLUMN nagged_at TEXT;
