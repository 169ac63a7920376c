-- Retention of the tables the purge did not cover yet: return test results, outside reports,
-- violations, duty shifts and referrals, people's data requests once closed, directory uploads,
-- handled and given-up updates, the channel choices of leavers, pending numbered choices, and
-- the button links of messages already settled. The purge finds each oldest first through one
-- of these indexes (columns written once, or on a table that stays small).
CREATE INDEX return_measures_updated ON return_measures (updated_at);
CREATE INDEX outside_reports_created ON outside_reports (created_at);
CREATE INDEX duty_shifts_end ON duty_shifts (ends_at);
CREATE INDEX duty_referrals_created ON duty_referrals (created_at);
CREATE INDEX privacy_requests_closed ON privacy_requests (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX directory_uploads_removed ON directory_uploads (expires_at) WHERE removed = 1;
CREATE INDEX processed_updates_at ON processed_updates (processed_at);
CREATE INDEX pending_choices_sent ON pending_choices (sent_at);
-- A message's links are closed together (its closing edit is queued): found by message.
CREATE INDEX button_messages_closed ON button_messages (outbox_id) WHERE closed = 1;
