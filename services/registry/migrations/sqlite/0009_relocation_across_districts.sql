-- Relocation to another district (issue 18): the new community lies in the
-- other district's registry, so `to_community_id` can no longer reference
-- this registry's organizations; `to_district` names the district (the city
-- tier's name for it; '' within this district). Rebuilt, because SQLite
-- cannot drop a foreign key in place; nothing references this table.
CREATE TABLE relocations_v2 (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    from_community_id TEXT NOT NULL REFERENCES organizations (id),
    to_community_id TEXT NOT NULL,
    to_district TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    declared_at BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    fulfilled_by_report_id TEXT REFERENCES member_reports (id)
);
INSERT INTO relocations_v2 (id, member_id, from_community_id, to_community_id, to_district, reason, declared_at, due_on, status, fulfilled_by_report_id)
    SELECT id, member_id, from_community_id, to_community_id, '', reason, declared_at, due_on, status, fulfilled_by_report_id FROM relocations;
DROP TABLE relocations;
ALTER TABLE relocations_v2 RENAME TO relocations;
CREATE INDEX relocations_member ON relocations (member_id);
