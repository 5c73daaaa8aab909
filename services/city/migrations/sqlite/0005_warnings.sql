-- Each district's compliance warnings (预警), from its feedback journal
-- (`warning.raised`, `warning.withdrawn`): the latest state of each, by the
-- journal order, so a late older fact changes nothing. Ids only.
CREATE TABLE warnings (
    district TEXT NOT NULL,
    warning_id TEXT NOT NULL,
    rule TEXT NOT NULL,
    year BIGINT NOT NULL,
    unit_org_id TEXT NOT NULL,
    community_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    in_force BIGINT NOT NULL,
    source_sequence BIGINT NOT NULL,
    PRIMARY KEY (district, warning_id)
);
CREATE INDEX warnings_by_year ON warnings (year, district);
CREATE INDEX warnings_by_unit ON warnings (unit_org_id, year);
