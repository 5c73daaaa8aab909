-- The event journal (platform::journal): facts for the party-building cloud,
-- appended with the change they record, read by feedback with a cursor.
CREATE TABLE journal (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    occur_time BIGINT NOT NULL,
    subject_id TEXT NOT NULL,
    district_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    text TEXT NOT NULL,
    evidence_ids TEXT NOT NULL
);
