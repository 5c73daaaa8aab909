//! The national volunteer-service record (全国志愿服务信息系统, 谁组织谁记录):
//! a community's confirmed services as records, and what the national
//! system made of them.

use std::collections::HashMap;

use super::*;
use crate::domain::record::{RecordStatus, VolunteerRecord, activity_minutes, attendance_of};

/// Records per page of an export (one stream message).
pub const RECORDS_PER_PAGE: i64 = 500;

impl Volunteering {
    /// A page of `community_id`'s records served in `window`, after attendance
    /// `after`; the next page's `after` (empty at the end).
    pub async fn volunteer_records(
        &self,
        p: &Principal,
        community_id: &str,
        window: &DateWindow,
        include_sent: bool,
        after: &str,
    ) -> Result<(Vec<VolunteerRecord>, String)> {
        let community = self.community("community_id", community_id).await?;
        self.require_overseer(p, &community, "the volunteer records").await?;
        let (first, last) = window.days();
        let mut conn = self.pool.acquire().await?;
        let mut rows = db::record_rows(
            &mut conn,
            community_id,
            (&first, &last),
            include_sent,
            after,
            RECORDS_PER_PAGE + 1,
        )
        .await?;
        drop(conn);
        let more = rows.len() > usize::try_from(RECORDS_PER_PAGE).unwrap_or(usize::MAX);
        rows.truncate(usize::try_from(RECORDS_PER_PAGE).unwrap_or(usize::MAX));
        let next = if more {
            rows.last().map(|r| r.attendance_id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        let mut names: HashMap<String, String> = HashMap::new();
        let mut records = Vec::with_capacity(rows.len());
        for r in rows {
            if !names.contains_key(&r.member_id) {
                let name = self.directory.member(&r.member_id).await.map(|m| m.name)?;
                names.insert(r.member_id.clone(), name);
            }
            let organiser = if r.organiser.is_empty() {
                community.name.clone()
            } else {
                format!("{}（{}）", community.name, r.organiser)
            };
            records.push(VolunteerRecord {
                volunteer_name: names.get(&r.member_id).cloned().unwrap_or_default(),
                attendance_id: r.attendance_id,
                volunteer_id: r.member_id,
                organiser,
                served_on: r.served_on,
                // What the community recorded as served (活动内容), else the activity's title.
                content: if r.content.is_empty() { r.title } else { r.content },
                place: r.place,
                minutes: r.minutes,
                activity_minutes: activity_minutes(r.start_at, r.end_at),
                status: r.status,
                error: r.error,
            });
        }
        Ok((records, next))
    }

    /// Marks records SENT or FAILED (with the national system's reason);
    /// records of another community, or unknown, are passed over. Audited.
    pub async fn mark_volunteer_records(
        &self,
        p: &Principal,
        community_id: &str,
        record_ids: &[String],
        status: RecordStatus,
        error: &str,
    ) -> Result<u64> {
        let community = self.community("community_id", community_id).await?;
        self.require_overseer(p, &community, "the volunteer records").await?;
        let mut attendance = Vec::with_capacity(record_ids.len());
        for (i, id) in record_ids.iter().enumerate() {
            match attendance_of(id) {
                Some(a) => attendance.push(a.to_owned()),
                None => {
                    return Err(VolunteeringError::invalid(
                        &format!("record_ids[{i}]"),
                        format!("{id:?} is not a record id this export issued (VR-…)"),
                    ));
                }
            }
        }
        let mut tx = self.pool.begin().await?;
        let marked = db::mark_records(&mut tx, community_id, &attendance, status, error, now_millis()).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                "MarkVolunteerRecords",
                "volunteer_records",
                community_id,
                community_id,
                None,
                Some(serde_json::json!({
                    "status": status.as_str(), "records": record_ids.len(), "marked": marked, "error": error,
                })),
            )
            .await?;
        tx.commit().await?;
        Ok(marked)
    }
}
