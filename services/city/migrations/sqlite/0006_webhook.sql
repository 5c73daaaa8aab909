-- The city-level webhook to the party-building cloud (one per city) and the
-- deliveries it gave up on: the suite's webhook tables (dualreport-webhook),
-- the same DDL as feedback's.
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
