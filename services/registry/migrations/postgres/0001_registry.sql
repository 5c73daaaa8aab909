-- Registry schema (PostgreSQL). Instants are Unix milliseconds; dates are YYYY-MM-DD text.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    org_type TEXT NOT NULL,
    parent_id TEXT REFERENCES organizations (id),
    path TEXT NOT NULL UNIQUE,
    district_id TEXT,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    leader TEXT NOT NULL,
    contact_person TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    in_service_member_count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX organizations_parent ON organizations (parent_id);
CREATE INDEX organizations_district ON organizations (district_id);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    unit_org_id TEXT NOT NULL REFERENCES organizations (id),
    residence_community_id TEXT NOT NULL REFERENCES organizations (id),
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    birth_year BIGINT NOT NULL,
    education TEXT NOT NULL,
    joined_party_on TEXT NOT NULL,
    membership_status TEXT NOT NULL,
    category TEXT NOT NULL,
    employer TEXT NOT NULL,
    position TEXT NOT NULL,
    phone_cipher BYTEA NOT NULL,
    phone_key_id TEXT NOT NULL,
    home_address_cipher BYTEA NOT NULL,
    home_address_key_id TEXT NOT NULL,
    skills TEXT NOT NULL,
    service_intentions TEXT NOT NULL,
    available_time_slots TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX members_unit ON members (unit_org_id);
CREATE INDEX members_community ON members (residence_community_id);

CREATE TABLE pii_accesses (
    id TEXT PRIMARY KEY,
    reader_subject TEXT NOT NULL,
    reader_role TEXT NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id),
    field TEXT NOT NULL,
    accessed_at BIGINT NOT NULL,
    unit_path TEXT NOT NULL,
    community_path TEXT NOT NULL
);
CREATE INDEX pii_accesses_member ON pii_accesses (member_id);

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    request_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (caller, request_id)
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE receipts (
    number TEXT PRIMARY KEY,
    report_id TEXT NOT NULL UNIQUE,
    year BIGINT NOT NULL,
    community_id TEXT NOT NULL REFERENCES organizations (id),
    unit_org_id TEXT NOT NULL REFERENCES organizations (id),
    member_id TEXT REFERENCES members (id),
    issued_at BIGINT NOT NULL
);

CREATE TABLE unit_reports (
    id TEXT PRIMARY KEY,
    unit_org_id TEXT NOT NULL REFERENCES organizations (id),
    community_id TEXT NOT NULL REFERENCES organizations (id),
    year BIGINT NOT NULL,
    status TEXT NOT NULL,
    assignment TEXT NOT NULL,
    assigned_by_org_id TEXT,
    org_name TEXT NOT NULL,
    in_service_member_count BIGINT NOT NULL,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    leader TEXT NOT NULL,
    contact_person TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    superior_org_id TEXT,
    resources TEXT NOT NULL,
    suggestions TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    receipt_number TEXT REFERENCES receipts (number),
    UNIQUE (unit_org_id, year)
);
CREATE INDEX unit_reports_community ON unit_reports (community_id, year);

CREATE TABLE letters (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    unit_org_id TEXT NOT NULL REFERENCES organizations (id),
    member_id TEXT NOT NULL REFERENCES members (id),
    community_id TEXT NOT NULL REFERENCES organizations (id),
    year BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    issued_by TEXT NOT NULL
);

CREATE TABLE member_reports (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    community_id TEXT NOT NULL REFERENCES organizations (id),
    year BIGINT NOT NULL,
    status TEXT NOT NULL,
    letter_id TEXT REFERENCES letters (id),
    unit_org_id TEXT NOT NULL REFERENCES organizations (id),
    branch TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    ended_at BIGINT,
    receipt_number TEXT REFERENCES receipts (number)
);
-- One active (submitted or confirmed) report per member per year.
CREATE UNIQUE INDEX member_reports_one_active ON member_reports (member_id, year) WHERE status <> 'ENDED';
CREATE INDEX member_reports_community ON member_reports (community_id, year);

CREATE TABLE relocations (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    from_community_id TEXT NOT NULL REFERENCES organizations (id),
    to_community_id TEXT NOT NULL REFERENCES organizations (id),
    reason TEXT NOT NULL,
    declared_at BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL,
    fulfilled_by_report_id TEXT REFERENCES member_reports (id)
);
CREATE INDEX relocations_member ON relocations (member_id);

CREATE TABLE non_report_reasons (
    member_id TEXT NOT NULL REFERENCES members (id),
    year BIGINT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, year)
);
