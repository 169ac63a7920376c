-- Who caused a message (the head who sent a directive, the approver who decided), so that when
-- it cannot reach its person they are the ones told; NULL for what the bot sends of itself
-- (reminders, alerts), whose unreached people the admins are told of.
ALTER TABLE outbox ADD COLUMN origin_staff_id TEXT;

-- A person's held rows (undeliverable, kept until they write), found by their chat: counted at
-- each hold, released when they write, and the originator told once per person.
CREATE INDEX outbox_undeliverable ON outbox (channel, chat_ref) WHERE status = 'undeliverable';
