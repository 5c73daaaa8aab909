-- City reference data (issue 18): the municipal units (市直单位) and their
-- orgs are owned by the city tier and copied here by `city_sync`, read-only
-- (owner = 'city'), each carrying the city's sequence of the change it came
-- from, so a replayed change is a no-op. The sync's cursor and its lease.
ALTER TABLE organizations ADD COLUMN owner TEXT NOT NULL DEFAULT 'district';
ALTER TABLE organizations ADD COLUMN city_sequence BIGINT NOT NULL DEFAULT 0;

CREATE TABLE city_sync (
    id TEXT PRIMARY KEY,
    after_sequence BIGINT NOT NULL,
    synced_at BIGINT NOT NULL
);

CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
