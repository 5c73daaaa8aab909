-- A warning whose condition no longer holds is withdrawn, not deleted: it
-- stays in the history, but only warnings in force (withdrawn_at IS NULL)
-- bar the 优秀 rating.
ALTER TABLE warnings ADD COLUMN withdrawn_at BIGINT;
ALTER TABLE warnings ADD COLUMN withdrawn_reason TEXT NOT NULL DEFAULT '';

-- Background work one replica at a time does (the scheduled warnings round).
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
