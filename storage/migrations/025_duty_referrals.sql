-- «⏫ Vượt thẩm quyền»: an alert a duty officer passed up to the district leaders with a note,
-- and the leader who took it (once: the first tap wins).
CREATE TABLE duty_referrals (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL,
    referred_by TEXT NOT NULL,
    note        TEXT NOT NULL,
    sent_to     TEXT NOT NULL,  -- JSON list of the leaders' staff ids
    created_at  TEXT NOT NULL,
    taken_by    TEXT,
    taken_at    TEXT
);
CREATE INDEX duty_referrals_alert ON duty_referrals (alert_id);
