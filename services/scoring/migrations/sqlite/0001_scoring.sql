-- Scoring schema (SQLite). Instants are Unix milliseconds; dates are YYYY-MM-DD text;
-- periods are "YYYYH1" / "YYYYH2". `entries` is append-only: no UPDATE or DELETE touches it.
CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    points INTEGER NOT NULL,
    occurred_on TEXT NOT NULL,
    period TEXT NOT NULL,
    content TEXT NOT NULL,
    source_key TEXT NOT NULL UNIQUE,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    base_points INTEGER NOT NULL,
    adjustment INTEGER NOT NULL,
    special_category TEXT NOT NULL,
    project_id TEXT NOT NULL,
    project_scorer TEXT NOT NULL,
    corrects_entry_id TEXT REFERENCES entries (id),
    redemption_id TEXT NOT NULL
);
CREATE INDEX entries_subject ON entries (subject_kind, subject_id, id);
CREATE INDEX entries_community_period ON entries (community_id, period);
CREATE INDEX entries_corrects ON entries (corrects_entry_id);

-- Projections kept in the entry's transaction; the conditional UPDATEs on them
-- are what make caps and balances exact under concurrency.
CREATE TABLE entry_totals (
    entry_id TEXT PRIMARY KEY REFERENCES entries (id),
    net INTEGER NOT NULL,
    floor_points INTEGER NOT NULL,
    ceiling_points INTEGER NOT NULL
);

CREATE TABLE project_totals (
    unit_org_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY (unit_org_id, project_id)
);

CREATE TABLE accounts (
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    earned INTEGER NOT NULL,
    redeemed INTEGER NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, community_id)
);

CREATE TABLE settlements (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    scope_path TEXT NOT NULL,
    period TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    is_current INTEGER NOT NULL,
    settled_by TEXT NOT NULL,
    settled_at INTEGER NOT NULL,
    assembly_date TEXT,
    reviewed_by TEXT NOT NULL,
    reviewed_at INTEGER,
    published_by TEXT NOT NULL,
    published_at INTEGER,
    points_per_star INTEGER NOT NULL,
    max_stars INTEGER NOT NULL,
    UNIQUE (community_id, period, version)
);
CREATE INDEX settlements_board ON settlements (period, is_current);

CREATE TABLE settlement_lines (
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    points INTEGER NOT NULL,
    stars INTEGER NOT NULL,
    PRIMARY KEY (settlement_id, subject_kind, subject_id)
);

CREATE TABLE items (
    id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    price_points INTEGER NOT NULL,
    stock INTEGER NOT NULL CHECK (stock >= 0),
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX items_community ON items (community_id, id);

CREATE TABLE redemptions (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    item_id TEXT NOT NULL REFERENCES items (id),
    item_name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    points INTEGER NOT NULL,
    status TEXT NOT NULL,
    entry_id TEXT NOT NULL REFERENCES entries (id),
    reversal_entry_id TEXT REFERENCES entries (id),
    created_at INTEGER NOT NULL,
    cancelled_at INTEGER,
    cancel_reason TEXT NOT NULL
);
CREATE INDEX redemptions_member ON redemptions (member_id, id);
CREATE INDEX redemptions_community ON redemptions (community_id, id);

CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    request_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (caller, request_id)
);
