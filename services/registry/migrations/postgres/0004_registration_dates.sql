-- A member belongs to one community at a time. A report's registration
-- covers registered_from (inclusive; '' = January 1st of its year: a first
-- report of the year covers that year's earlier records) up to
-- registered_until (exclusive; '' = open): a report that fulfils a relocation
-- starts on the relocation date, and the report a relocation ends stops there.
ALTER TABLE member_reports ADD COLUMN registered_from TEXT NOT NULL DEFAULT '';
ALTER TABLE member_reports ADD COLUMN registered_until TEXT NOT NULL DEFAULT '';
