-- What a unit's service record is: a community activity, a joint theme party
-- day or a joint meeting (S2 三); earlier records were community activities.
ALTER TABLE unit_records ADD COLUMN kind TEXT NOT NULL DEFAULT 'community_activity';
