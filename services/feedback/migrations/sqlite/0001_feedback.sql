-- The feedback service's store (SQLite). Instants are Unix milliseconds;
-- org paths are the registry's `/city/district/…/id/`, for subtree reads.

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    request_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (caller, request_id)
);

-- The community's comment on a member for a period (社区评价, 附录F).
CREATE TABLE member_comments (
    community_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    half BIGINT NOT NULL,
    comment TEXT NOT NULL,
    author TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, member_id, year, half)
);

-- Feedback notices (附录E), with the summary as it was sent.
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    community_path TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    unit_path TEXT NOT NULL,
    district_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    half BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    urgent BIGINT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    acknowledged_by TEXT NOT NULL,
    acknowledged_at BIGINT
);
CREATE INDEX notices_community ON notices (community_path, id);
CREATE INDEX notices_unit ON notices (unit_path, id);

-- Yearly ratings of a unit's service by a community (S1 附件3).
CREATE TABLE unit_ratings (
    community_id TEXT NOT NULL,
    community_path TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    unit_path TEXT NOT NULL,
    year BIGINT NOT NULL,
    grade TEXT NOT NULL,
    comment TEXT NOT NULL,
    rated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, unit_org_id, year)
);

-- Objections (附录G) and their history.
CREATE TABLE objections (
    id TEXT PRIMARY KEY,
    raised_by TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    community_path TEXT NOT NULL,
    district_id TEXT NOT NULL,
    content TEXT NOT NULL,
    department TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT NOT NULL,
    correction_points BIGINT NOT NULL,
    correction_entry_id TEXT NOT NULL,
    correction_error TEXT NOT NULL,
    correction_attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    raised_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX objections_subject ON objections (subject_id, id);
CREATE INDEX objections_community ON objections (community_path, id);
CREATE INDEX objections_pending ON objections (next_attempt_at);

CREATE TABLE objection_steps (
    objection_id TEXT NOT NULL REFERENCES objections (id),
    position BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    text TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (objection_id, position)
);

-- Spot checks (S2 保障(三)): the drawn sample and each outcome.
CREATE TABLE spot_checks (
    id TEXT PRIMARY KEY,
    unit_org_id TEXT NOT NULL,
    unit_path TEXT NOT NULL,
    year BIGINT NOT NULL,
    sample_percent BIGINT NOT NULL,
    seed TEXT NOT NULL,
    population BIGINT NOT NULL,
    drawn_by TEXT NOT NULL,
    drawn_at BIGINT NOT NULL
);

CREATE TABLE spot_check_items (
    spot_check_id TEXT NOT NULL REFERENCES spot_checks (id),
    position BIGINT NOT NULL,
    member_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    method TEXT NOT NULL,
    findings TEXT NOT NULL,
    checked_by TEXT NOT NULL,
    checked_at BIGINT,
    PRIMARY KEY (spot_check_id, member_id)
);

-- Compliance warnings: one per rule, subject and year.
CREATE TABLE warnings (
    id TEXT PRIMARY KEY,
    rule TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    year BIGINT NOT NULL,
    evidence TEXT NOT NULL,
    community_id TEXT NOT NULL,
    community_path TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    unit_path TEXT NOT NULL,
    blocks_excellent BIGINT NOT NULL,
    raised_at BIGINT NOT NULL,
    UNIQUE (rule, subject_id, year)
);
CREATE INDEX warnings_subject ON warnings (subject_id, year);
CREATE INDEX warnings_unit ON warnings (unit_path, id);

-- The feed to the party-building cloud: feedback's own events and those read
-- from the other services' journals (source, source_sequence), in commit order.
CREATE TABLE events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    source_sequence BIGINT,
    kind TEXT NOT NULL,
    occur_time BIGINT NOT NULL,
    subject_id TEXT NOT NULL,
    district_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    text TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    UNIQUE (source, source_sequence)
);

-- How far each source's journal has been read.
CREATE TABLE journal_cursors (
    source TEXT PRIMARY KEY,
    after_sequence BIGINT NOT NULL
);

-- The outbound webhook (one per deployment) and the deliveries it gave up on.
CREATE TABLE webhook (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    delivered_sequence BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE failed_deliveries (
    id TEXT PRIMARY KEY,
    event_sequence BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
