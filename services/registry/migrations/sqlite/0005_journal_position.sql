-- The journal's public order is given after commit (platform::journal::publish):
-- `position` numbers committed entries; SQLite has one writer, so every
-- committed entry can be numbered at once.
ALTER TABLE journal ADD COLUMN position INTEGER;
UPDATE journal SET position = sequence;
CREATE UNIQUE INDEX journal_position ON journal (position);
CREATE INDEX journal_unpublished ON journal (sequence) WHERE position IS NULL;
