-- Feedback's own events (source 'feedback': warnings raised and withdrawn,
-- notices sent, objections decided) are a journal of their own, served by
-- EventJournalService/ListJournal to the city tier; a warning's carries the
-- year it is about.
ALTER TABLE events ADD COLUMN year BIGINT NOT NULL DEFAULT 0;
CREATE INDEX events_by_source ON events (source, sequence);
