-- A member's reports (the directory's registration checks, the member's own
-- list) are read by member id; the only index on it was the partial one on
-- active reports, which a list that includes ended reports cannot use.
CREATE INDEX member_reports_by_member ON member_reports (member_id, id);
