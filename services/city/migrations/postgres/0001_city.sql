-- The city tier's read model, fed from every district's event journals.

-- Where ingest stands in each (district, journal): the last sequence applied
-- (advanced in the transaction that applies the facts), when the newest fact
-- applied happened, and the outcome of the last read.
CREATE TABLE cursors (
    district TEXT NOT NULL,
    journal TEXT NOT NULL,
    after_sequence BIGINT NOT NULL DEFAULT 0,
    newest_occur_ms BIGINT NOT NULL DEFAULT 0,
    read_at_ms BIGINT NOT NULL DEFAULT 0,
    caught_up_at_ms BIGINT NOT NULL DEFAULT 0,
    up BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (district, journal)
);

-- The merged feed: every fact ingested, once, in the order the city applied
-- them; `sequence` is the cursor of the city's WatchEvents.
CREATE TABLE events (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    district TEXT NOT NULL,
    source TEXT NOT NULL,
    source_sequence BIGINT NOT NULL,
    kind TEXT NOT NULL,
    occur_time BIGINT NOT NULL,
    subject_id TEXT NOT NULL,
    district_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    text TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    UNIQUE (district, source, source_sequence)
);

-- The city board: the current published settlement of each community and
-- half-year, and its lines. `rank_stars`/`rank_points` are the negated stars
-- and points, so one ascending index serves the board's order and keyset.
CREATE TABLE board_settlements (
    district TEXT NOT NULL,
    community_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    half BIGINT NOT NULL,
    settlement_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (district, community_id, year, half)
);

CREATE TABLE board_lines (
    district TEXT NOT NULL,
    community_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    half BIGINT NOT NULL,
    settlement_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    points BIGINT NOT NULL,
    stars BIGINT NOT NULL,
    rank_stars BIGINT NOT NULL,
    rank_points BIGINT NOT NULL,
    PRIMARY KEY (district, community_id, year, half, subject_kind, subject_id)
);
CREATE INDEX board_lines_by_rank ON board_lines
    (year, half, rank_stars, rank_points, district, community_id, subject_kind, subject_id);
CREATE INDEX board_lines_by_district_rank ON board_lines
    (district, year, half, rank_stars, rank_points, community_id, subject_kind, subject_id);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
