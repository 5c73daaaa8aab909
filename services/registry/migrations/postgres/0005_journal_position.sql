-- The journal's public order is given after commit (platform::journal::publish):
-- `position` numbers entries once no older transaction can still add one
-- below them; `tx` is the writing transaction, compared with the oldest one
-- still running. Appends no longer take a lock.
ALTER TABLE journal ADD COLUMN position BIGINT;
ALTER TABLE journal ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();
UPDATE journal SET position = sequence;
CREATE UNIQUE INDEX journal_position ON journal (position);
CREATE INDEX journal_unpublished ON journal (sequence) WHERE position IS NULL;
