-- District scale (issue 15). A settlement's lines are counted on the
-- settlement and paged by ListSettlementLines; the vanguard board keeps one
-- row per published line and per org above its community (community, street,
-- district, city), so a board page is an index range read, ranked by counting.
ALTER TABLE settlements ADD COLUMN line_count BIGINT NOT NULL DEFAULT 0;
UPDATE settlements SET line_count = (SELECT COUNT(*) FROM settlement_lines l WHERE l.settlement_id = settlements.id);

CREATE INDEX settlement_lines_order ON settlement_lines (settlement_id, stars DESC, points DESC, subject_kind, subject_id);

CREATE TABLE board (
    scope_id TEXT NOT NULL,
    period TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    stars BIGINT NOT NULL,
    points BIGINT NOT NULL,
    subject_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    subject_name TEXT NOT NULL
);
CREATE INDEX board_rank ON board (scope_id, period, subject_kind, stars DESC, points DESC, subject_id, community_id);
CREATE INDEX board_community ON board (community_id, period);

INSERT INTO board (scope_id, period, subject_kind, stars, points, subject_id, community_id, subject_name)
SELECT a.scope_id, s.period, l.subject_kind, l.stars, l.points, l.subject_id, s.community_id, l.subject_name
FROM settlements s
JOIN settlement_lines l ON l.settlement_id = s.id
CROSS JOIN LATERAL regexp_split_to_table(trim(BOTH '/' FROM s.scope_path), '/') AS a (scope_id)
WHERE s.is_current = 1;
