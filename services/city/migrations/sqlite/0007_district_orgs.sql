-- Which district release a district org id belongs to, learnt from the
-- facts its journals carry (`district_id`): a district admin's token names
-- the org, and the city answers that admin about that district only.
CREATE TABLE district_orgs (
    org_id TEXT PRIMARY KEY,
    district TEXT NOT NULL
);
