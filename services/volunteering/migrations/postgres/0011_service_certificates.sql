-- Service-hours certificates (志愿服务证明): each one issued, under its number,
-- with what it printed, so the same PDF can be made again.
CREATE TABLE service_certificates (
    number TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    community_name TEXT NOT NULL,
    member_id TEXT NOT NULL,
    member_name TEXT NOT NULL,
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    services BIGINT NOT NULL,
    -- Hours in hundredths, each service's hours rounded as the national record rounds them.
    hundredths BIGINT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    issued_at BIGINT NOT NULL
);
CREATE INDEX service_certificates_by_member ON service_certificates (member_id, issued_at);

-- The next certificate number per year: one conditional update takes it, so
-- replicas never hand out the same number.
CREATE TABLE certificate_counters (
    year INTEGER PRIMARY KEY,
    next_number BIGINT NOT NULL
);

-- A member's confirmed services at a community by day.
CREATE INDEX attendance_by_member_day ON attendance (member_id, community_id, served_on);
