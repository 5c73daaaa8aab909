//! Attendance (签到/确认): check-in and the community's confirmation.

use super::*;

pub(super) fn attendance(row: &AnyRow) -> Result<Attendance> {
    Ok(Attendance {
        id: row.try_get("id")?,
        activity_id: row.try_get("activity_id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        status: parsed(row, "status", AttendanceStatus::parse)?,
        minutes: row.try_get("minutes")?,
        adjustment: row.try_get("adjustment")?,
        note: row.try_get("note")?,
        evidence_ids: list(row, "evidence_ids")?,
        confirmed_by: row.try_get("confirmed_by")?,
        check_in_at: row.try_get("check_in_at")?,
        confirmed_at: row.try_get("confirmed_at")?,
        served_on: date(row, "served_on")?,
        content: row.try_get("content")?,
        entry_id: row.try_get("entry_id")?,
        payment_error: row.try_get("payment_error")?,
    })
}

pub async fn insert_attendance(conn: &mut AnyConnection, a: &Attendance) -> Result<()> {
    sqlx::query(
        "INSERT INTO attendance (id, activity_id, member_id, community_id, status, minutes, adjustment, note, \
         evidence_ids, confirmed_by, check_in_at, confirmed_at, served_on, year, content, entry_id, payment_error) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(&a.id)
    .bind(&a.activity_id)
    .bind(&a.member_id)
    .bind(&a.community_id)
    .bind(a.status.as_str())
    .bind(a.minutes)
    .bind(a.adjustment)
    .bind(&a.note)
    .bind(list_text(&a.evidence_ids))
    .bind(&a.confirmed_by)
    .bind(a.check_in_at)
    .bind(a.confirmed_at)
    .bind(a.served_on.to_string())
    .bind(i64::from(chrono::Datelike::year(&a.served_on)))
    .bind(&a.content)
    .bind(&a.entry_id)
    .bind(&a.payment_error)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_attendance(conn: &mut AnyConnection, id: &str) -> Result<Option<Attendance>> {
    sqlx::query("SELECT * FROM attendance WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(attendance)
        .transpose()
}

pub async fn attendance_of(conn: &mut AnyConnection, activity_id: &str, member_id: &str) -> Result<Option<Attendance>> {
    sqlx::query("SELECT * FROM attendance WHERE activity_id = $1 AND member_id = $2")
        .bind(activity_id)
        .bind(member_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(attendance)
        .transpose()
}

pub async fn check_in(conn: &mut AnyConnection, id: &str, at: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE attendance SET status = 'checked_in', check_in_at = $1 WHERE id = $2 AND status = 'signed_up'",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Confirms a checked-in attendance (false: not checked in any more — a
/// concurrent confirmation won).
pub async fn confirm(conn: &mut AnyConnection, a: &Attendance) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE attendance SET status = 'confirmed', adjustment = $1, note = $2, evidence_ids = $3, \
         confirmed_by = $4, confirmed_at = $5 WHERE id = $6 AND status = 'checked_in'",
    )
    .bind(a.adjustment)
    .bind(&a.note)
    .bind(list_text(&a.evidence_ids))
    .bind(&a.confirmed_by)
    .bind(a.confirmed_at)
    .bind(&a.id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whose attendance [`list_attendance`] reads.
#[derive(Debug, Clone, Copy)]
pub enum AttendanceRows<'a> {
    Activity(&'a str),
    Member(&'a str),
    /// At any of these communities.
    Communities(&'a [String]),
}

/// Attendance of an activity, a member or some communities, filtered, in id order.
pub async fn list_attendance(
    conn: &mut AnyConnection,
    of: AttendanceRows<'_>,
    filter: &AttendanceFilter,
    page: &PageRequest,
) -> Result<Vec<Attendance>> {
    // The subject's clause comes first and alone, so the database uses its
    // index whatever the other filters (a generic plan cannot see through
    // `$1 = '' OR …`). Its values take the first placeholders.
    let subject: Vec<&str> = match of {
        AttendanceRows::Activity(id) | AttendanceRows::Member(id) => vec![id],
        AttendanceRows::Communities([]) => return Ok(Vec::new()),
        AttendanceRows::Communities(ids) => ids.iter().map(String::as_str).collect(),
    };
    let clause = match of {
        AttendanceRows::Activity(_) => "activity_id = $1".to_owned(),
        AttendanceRows::Member(_) => "member_id = $1".to_owned(),
        AttendanceRows::Communities(ids) => format!("community_id IN ({})", marks(1, ids.len())),
    };
    let n = subject.len();
    let at = |k: usize| format!("${}", n + k);
    let payment = match filter.payment {
        None => "",
        Some(Payment::None) => "none",
        Some(Payment::Pending) => "pending",
        Some(Payment::Paid) => "paid",
    };
    let (first, last) = filter.served.days();
    let (year, status, pay, failing, from, until, after, limit) =
        (at(1), at(2), at(3), at(4), at(5), at(6), at(7), at(8));
    let sql = format!(
        "SELECT * FROM attendance WHERE {clause} \
           AND ({year} = 0 OR year = {year}) AND ({status} = '' OR status = {status}) \
           AND ({pay} = '' OR ({pay} = 'none' AND status <> 'confirmed') \
                OR ({pay} = 'pending' AND status = 'confirmed' AND entry_id = '') \
                OR ({pay} = 'paid' AND status = 'confirmed' AND entry_id <> '')) \
           AND ({failing} = 0 OR (status = 'confirmed' AND entry_id = '' AND payment_error <> '')) \
           AND served_on >= {from} AND served_on <= {until} AND id > {after} \
         ORDER BY id LIMIT {limit}"
    );
    let mut query = sqlx::query(&sql);
    for value in subject {
        query = query.bind(value);
    }
    let query = query
        .bind(i64::from(filter.year))
        .bind(filter.status.map_or("", AttendanceStatus::as_str))
        .bind(payment)
        .bind(i64::from(filter.payment_failing))
        .bind(first)
        .bind(last)
        .bind(&page.after)
        .bind(page.fetch_limit());
    query.fetch_all(conn).await?.iter().map(attendance).collect()
}
