-- Volunteering: posts and claims, teams, studios, pledges, agreements,
-- orders, wishes, households, activities, attendance, evidence, unit records,
-- the payment outbox. Times are Unix milliseconds; dates are 'YYYY-MM-DD'.
-- Lists of short texts and of evidence ids are JSON arrays in TEXT.

CREATE TABLE posts (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    standard INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE claims (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    post_id TEXT NOT NULL REFERENCES posts (id),
    community_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (member_id, post_id, year)
);
CREATE INDEX claims_by_community ON claims (community_id, year, id);

-- How many posts a member holds in a year: the bound is a conditional UPDATE.
CREATE TABLE claim_totals (
    member_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    claimed INTEGER NOT NULL,
    PRIMARY KEY (member_id, year)
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    post_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams (id),
    member_id TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, member_id)
);

CREATE TABLE studios (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    name TEXT NOT NULL,
    services TEXT NOT NULL,
    opening_hours TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE pledges (
    member_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    community_id TEXT NOT NULL,
    items TEXT NOT NULL,
    services INTEGER NOT NULL,
    hours INTEGER NOT NULL,
    way TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (member_id, year)
);
CREATE INDEX pledges_by_community ON pledges (community_id, year, member_id);

CREATE TABLE agreements (
    id TEXT PRIMARY KEY,
    unit_org_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    resources TEXT NOT NULL,
    needs TEXT NOT NULL,
    pledge_services INTEGER NOT NULL,
    pledge_hours INTEGER NOT NULL,
    pledge_form TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (unit_org_id, community_id, year)
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    goal TEXT NOT NULL,
    expected_effect TEXT NOT NULL,
    deadline TEXT,
    status TEXT NOT NULL
);
CREATE INDEX projects_by_agreement ON projects (agreement_id, position);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    resident_name TEXT NOT NULL,
    place TEXT NOT NULL,
    content TEXT NOT NULL,
    post_id TEXT NOT NULL,
    status TEXT NOT NULL,
    dispatch_note TEXT NOT NULL,
    member_id TEXT NOT NULL,
    attendance_id TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    satisfaction INTEGER NOT NULL,
    resident_comment TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX orders_by_community ON orders (community_id, status, id);

CREATE TABLE wishes (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    beneficiary TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    member_id TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    attendance_id TEXT NOT NULL,
    unit_record_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX wishes_by_community ON wishes (community_id, status, id);

CREATE TABLE households (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    active INTEGER NOT NULL,
    visits INTEGER NOT NULL,
    last_visit_at INTEGER
);
CREATE INDEX households_by_member ON households (member_id, active, position);

CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    post_id TEXT NOT NULL,
    place TEXT NOT NULL,
    start_at INTEGER NOT NULL,
    end_at INTEGER NOT NULL,
    capacity INTEGER NOT NULL,
    signed_up INTEGER NOT NULL,
    organiser TEXT NOT NULL,
    contact TEXT NOT NULL,
    team_id TEXT NOT NULL,
    studio_id TEXT NOT NULL,
    agreement_id TEXT NOT NULL,
    check_in_code TEXT NOT NULL,
    code_expires_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX activities_by_community ON activities (community_id, kind, id);

CREATE TABLE attendance (
    id TEXT PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES activities (id),
    member_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    status TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    adjustment INTEGER NOT NULL,
    note TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    confirmed_by TEXT NOT NULL,
    check_in_at INTEGER,
    confirmed_at INTEGER,
    served_on TEXT NOT NULL,
    year INTEGER NOT NULL,
    content TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    payment_error TEXT NOT NULL,
    UNIQUE (activity_id, member_id)
);
CREATE INDEX attendance_by_member ON attendance (member_id, year, status);

-- Awards waiting for scoring: written with the confirmation, deleted never;
-- delivered_at is set when scoring accepted.
CREATE TABLE outbox (
    attendance_id TEXT PRIMARY KEY REFERENCES attendance (id),
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);

CREATE TABLE evidence (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    text TEXT NOT NULL,
    object_key TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE unit_records (
    id TEXT PRIMARY KEY,
    unit_org_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    served_on TEXT NOT NULL,
    year INTEGER NOT NULL,
    content TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    agreement_id TEXT NOT NULL,
    evidence_ids TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX unit_records_by_unit ON unit_records (unit_org_id, year, id);
CREATE INDEX unit_records_by_agreement ON unit_records (agreement_id);

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    request_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (caller, request_id)
);
