-- A community's work queues over its attendance: checked in but not yet
-- confirmed, confirmed but still owed to scoring (ListAttendance with
-- community_id and status).
CREATE INDEX attendance_by_community ON attendance (community_id, status, id);
