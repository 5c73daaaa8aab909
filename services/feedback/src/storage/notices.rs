//! Notices (反馈通知) to employer units and their acknowledgement.

use super::*;

pub(super) const NOTICE_COLUMNS: &str = "id, community_id, community_path, unit_org_id, unit_path, district_id, year, half, \
     title, body, urgent, summary, status, sent_by, sent_at, acknowledged_by, acknowledged_at";

pub(super) fn notice_from_row(r: &AnyRow, with_summary: bool) -> Result<Notice> {
    let status: String = r.try_get("status")?;
    let summary = if with_summary {
        let text: String = r.try_get("summary")?;
        Some(serde_json::from_str(&text).map_err(|_| FeedbackError::corrupt("summary", "json"))?)
    } else {
        None
    };
    Ok(Notice {
        id: r.try_get("id")?,
        community_id: r.try_get("community_id")?,
        community_path: r.try_get("community_path")?,
        unit_org_id: r.try_get("unit_org_id")?,
        unit_path: r.try_get("unit_path")?,
        district_id: r.try_get("district_id")?,
        period: Period {
            year: int32(r, "year")?,
            half: i32::try_from(int(r, "half")?).unwrap_or(0),
        },
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        urgent: int(r, "urgent")? != 0,
        summary,
        status: NoticeStatus::parse(&status).ok_or_else(|| FeedbackError::corrupt("notice status", &status))?,
        sent_by: r.try_get("sent_by")?,
        sent_at: int(r, "sent_at")?,
        acknowledged_by: r.try_get("acknowledged_by")?,
        acknowledged_at: r.try_get("acknowledged_at")?,
    })
}

pub async fn insert_notice(conn: &mut AnyConnection, n: &Notice) -> Result<()> {
    let summary = serde_json::to_string(&n.summary).map_err(|e| FeedbackError::internal(e.into()))?;
    sqlx::query(&format!(
        "INSERT INTO notices ({NOTICE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17)"
    ))
    .bind(&n.id)
    .bind(&n.community_id)
    .bind(&n.community_path)
    .bind(&n.unit_org_id)
    .bind(&n.unit_path)
    .bind(&n.district_id)
    .bind(i64::from(n.period.year))
    .bind(i64::from(n.period.half))
    .bind(&n.title)
    .bind(&n.body)
    .bind(i64::from(n.urgent))
    .bind(summary)
    .bind(n.status.as_str())
    .bind(&n.sent_by)
    .bind(n.sent_at)
    .bind(&n.acknowledged_by)
    .bind(n.acknowledged_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn notice(conn: &mut AnyConnection, id: &str) -> Result<Option<Notice>> {
    let row = sqlx::query(&format!("SELECT {NOTICE_COLUMNS} FROM notices WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(|r| notice_from_row(&r, true)).transpose()
}

/// Notices from or to orgs under `path` (summaries left out).
pub async fn list_notices(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
    status: Option<NoticeStatus>,
    page: &PageRequest,
) -> Result<Vec<Notice>> {
    let rows = sqlx::query(&format!(
        "SELECT {NOTICE_COLUMNS} FROM notices WHERE (substr(community_path, 1, length($1)) = $1 \
         OR substr(unit_path, 1, length($1)) = $1) AND ($2 = 0 OR year = $2) AND ($5 = '' OR status = $5) \
         AND id > $3 ORDER BY id LIMIT $4"
    ))
    .bind(path)
    .bind(i64::from(year))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .bind(status.map_or("", NoticeStatus::as_str))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| notice_from_row(r, false)).collect()
}

/// Marks a sent notice acknowledged; false when it already was.
pub async fn acknowledge(conn: &mut AnyConnection, id: &str, by: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE notices SET status = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3 \
         WHERE id = $1 AND status = 'sent'",
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
