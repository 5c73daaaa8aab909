-- City reference data: the municipal units (市直单位) and their party orgs,
-- owned by the city and copied read-only by every district registry, which
-- pulls them in `sequence` order (each change takes the next sequence).
CREATE TABLE municipal_orgs (
    id TEXT PRIMARY KEY,
    sequence BIGINT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    org_type TEXT NOT NULL,
    parent_id TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    leader TEXT NOT NULL,
    contact_person TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    in_service_member_count BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    request_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    fingerprint TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (caller, request_id)
);

-- The audit trail (platform::audit), as in every service.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    subject TEXT NOT NULL,
    role TEXT NOT NULL,
    actor_org_id TEXT NOT NULL,
    method TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    org_path TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL
);
CREATE INDEX audit_log_by_path ON audit_log (org_path, at);
CREATE INDEX audit_log_by_resource ON audit_log (resource_id, at);
