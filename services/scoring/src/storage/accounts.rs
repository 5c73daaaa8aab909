//! Points accounts (积分账户): earned, spent and balance for the supermarket.

use super::*;

/// A subject's red account (红色账户) at one community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub community_id: String,
    pub subject_name: String,
    pub earned: i64,
    pub redeemed: i64,
}

/// Adds earned points (which may be negative, for a correction); opens the
/// account on first use. A non-empty name refreshes the stored one.
pub async fn credit_earned(
    conn: &mut AnyConnection,
    subject: &Subject,
    community_id: &str,
    subject_name: &str,
    points: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO accounts (subject_kind, subject_id, community_id, subject_name, earned, redeemed) \
         VALUES ($1, $2, $3, $4, $5, 0) \
         ON CONFLICT (subject_kind, subject_id, community_id) DO UPDATE SET \
           earned = accounts.earned + EXCLUDED.earned, \
           subject_name = CASE WHEN EXCLUDED.subject_name = '' THEN accounts.subject_name \
                               ELSE EXCLUDED.subject_name END",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(subject_name)
    .bind(points)
    .execute(conn)
    .await?;
    Ok(())
}

/// Spends points if the account covers them; false otherwise.
pub async fn spend(conn: &mut AnyConnection, subject: &Subject, community_id: &str, points: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE accounts SET redeemed = redeemed + $4 \
         WHERE subject_kind = $1 AND subject_id = $2 AND community_id = $3 AND earned - redeemed >= $4",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(points)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Returns points of a cancelled redemption.
pub async fn refund(conn: &mut AnyConnection, subject: &Subject, community_id: &str, points: i64) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET redeemed = redeemed - $4 \
         WHERE subject_kind = $1 AND subject_id = $2 AND community_id = $3",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .bind(community_id)
    .bind(points)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn accounts(conn: &mut AnyConnection, subject: &Subject) -> Result<Vec<AccountRow>> {
    let rows = sqlx::query(
        "SELECT community_id, subject_name, earned, redeemed FROM accounts \
         WHERE subject_kind = $1 AND subject_id = $2 ORDER BY community_id",
    )
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AccountRow {
                community_id: row.try_get("community_id")?,
                subject_name: row.try_get("subject_name")?,
                earned: row.try_get("earned")?,
                redeemed: row.try_get("redeemed")?,
            })
        })
        .collect()
}

/// Earned points per community and period, periods in order.
pub async fn period_points(conn: &mut AnyConnection, subject: &Subject) -> Result<Vec<(String, Period, i64)>> {
    let rows = sqlx::query(&format!(
        "SELECT community_id, period, CAST(SUM(points) AS BIGINT) AS earned FROM entries \
         WHERE subject_kind = $1 AND subject_id = $2 AND kind IN ({}) \
         GROUP BY community_id, period ORDER BY period, community_id",
        earning_kinds()
    ))
    .bind(subject.kind.as_str())
    .bind(&subject.id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("community_id")?,
                period(row, "period")?,
                row.try_get("earned")?,
            ))
        })
        .collect()
}

/// Members' earned points per community and half-year of `year`, and their
/// service entries: `(member, community, period, earned, services)`.
pub async fn member_year_totals(
    conn: &mut AnyConnection,
    member_ids: &[String],
    year: i32,
) -> Result<Vec<(String, String, Period, i64, i64)>> {
    if member_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (0..member_ids.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT subject_id, community_id, period, CAST(SUM(points) AS BIGINT) AS earned, \
           CAST(SUM(CASE WHEN kind = 'service' THEN 1 ELSE 0 END) AS BIGINT) AS services FROM entries \
         WHERE subject_kind = 'member' AND period IN ($1, $2) AND kind IN ({}) AND subject_id IN ({placeholders}) \
         GROUP BY subject_id, community_id, period ORDER BY subject_id, period, community_id",
        earning_kinds()
    );
    let mut query = sqlx::query(&sql)
        .bind(
            Period {
                year,
                half: Half::First,
            }
            .key(),
        )
        .bind(
            Period {
                year,
                half: Half::Second,
            }
            .key(),
        );
    for id in member_ids {
        query = query.bind(id);
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("subject_id")?,
                row.try_get("community_id")?,
                period(row, "period")?,
                row.try_get("earned")?,
                row.try_get("services")?,
            ))
        })
        .collect()
}
