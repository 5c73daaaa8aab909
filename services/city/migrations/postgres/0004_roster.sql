-- Each district's roster and its confirmed reports, from the registry
-- journals (`member.created`, `member.updated`, `member_report.confirmed`,
-- `relocation.declared`): what the city's report rates are counted from.
-- Ids only, no personal data.
CREATE TABLE members (
    district TEXT NOT NULL,
    member_id TEXT NOT NULL,
    unit_org_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (district, member_id)
);
CREATE INDEX members_by_unit ON members (unit_org_id, district);

CREATE TABLE reports (
    district TEXT NOT NULL,
    member_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    PRIMARY KEY (district, year, member_id)
);
