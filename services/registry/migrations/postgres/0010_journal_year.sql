-- The year a journal fact is about, when it has one (a member report's
-- reporting year; 0 otherwise): the city tier counts reports per year from it.
ALTER TABLE journal ADD COLUMN year BIGINT NOT NULL DEFAULT 0;
