-- The audit trail (platform::audit): one row per change, written in the
-- change's transaction; admins read it by org subtree (org_path prefix),
-- newest first.
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
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
