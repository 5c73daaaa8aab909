-- The national volunteer-service record (全国志愿服务信息系统): where each
-- confirmed service's record stands with the national system. A service
-- without a row here is new (never sent).
CREATE TABLE volunteer_records (
    attendance_id TEXT PRIMARY KEY,
    community_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
