-- Relocations between districts (the saga of docs/city.md): one row per
-- relocation a district journals as `relocation.declared`, driven to
-- `fulfilled` by the city: `declared` (the transfer read from the district
-- left, then the member admitted in the district moved to) → `admitted` →
-- `reported` (the member's report there was confirmed) → `fulfilled` (the
-- district left was told); `failed` when a district refused a step for good.
-- No personal data is kept here: the profile is read at the admission and
-- passed on.
CREATE TABLE relocations (
    from_district TEXT NOT NULL,
    relocation_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    to_district TEXT NOT NULL DEFAULT '',
    to_community_id TEXT NOT NULL DEFAULT '',
    declared_at BIGINT NOT NULL,
    due_on TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (from_district, relocation_id)
);
CREATE INDEX relocations_by_member ON relocations (member_id, to_district);
CREATE INDEX relocations_by_status ON relocations (status, next_attempt_at);
