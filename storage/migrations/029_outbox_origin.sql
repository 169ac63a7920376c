-- Who caused a message (the head who sent a directive, the approver who decided), so that when
-- it cannot reach its person they are the ones told; NULL for what the bot sends of itself
-- (reminders, alerts), whose unreached people the admins are told of.
ALTER TABLE outbox ADD COLUMN origin_staff_id TEXT;
