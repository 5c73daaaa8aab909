//! The city board: each community's current published settlement and its lines.

use super::*;

/// Lines inserted per statement (13 parameters each, well under SQLite's limit).
const LINES_PER_INSERT: usize = 50;

/// Makes `s` the board's settlement of its community and half-year, with
/// its lines, unless the board holds that version or a later one already
/// (a replayed or out-of-order fact); true when the board changed.
pub async fn replace_board(conn: &mut AnyConnection, s: &PublishedSettlement) -> Result<bool> {
    let taken = sqlx::query(
        "INSERT INTO board_settlements (district, community_id, year, half, settlement_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (district, community_id, year, half) DO UPDATE \
         SET settlement_id = excluded.settlement_id, version = excluded.version \
         WHERE board_settlements.version < excluded.version",
    )
    .bind(&s.district)
    .bind(&s.community_id)
    .bind(i64::from(s.period.year))
    .bind(i64::from(s.period.half))
    .bind(&s.settlement_id)
    .bind(i64::from(s.version))
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM board_lines WHERE district = $1 AND community_id = $2 AND year = $3 AND half = $4")
        .bind(&s.district)
        .bind(&s.community_id)
        .bind(i64::from(s.period.year))
        .bind(i64::from(s.period.half))
        .execute(&mut *conn)
        .await?;
    for chunk in s.lines.chunks(LINES_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let marks: Vec<String> = (1..=13).map(|c| format!("${}", i * 13 + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO board_lines (district, community_id, year, half, settlement_id, version, subject_kind, \
             subject_id, subject_name, points, stars, rank_stars, rank_points) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for line in chunk {
            query = query
                .bind(&s.district)
                .bind(&s.community_id)
                .bind(i64::from(s.period.year))
                .bind(i64::from(s.period.half))
                .bind(&s.settlement_id)
                .bind(i64::from(s.version))
                .bind(line.subject_kind.as_str())
                .bind(&line.subject_id)
                .bind(&line.subject_name)
                .bind(i64::from(line.points))
                .bind(i64::from(line.stars))
                .bind(-i64::from(line.stars))
                .bind(-i64::from(line.points));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(true)
}

/// Where a board page starts: the previous page's last line's key fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardAfter {
    pub rank_stars: i64,
    pub rank_points: i64,
    pub district: String,
    pub community_id: String,
    pub subject_kind: String,
    pub subject_id: String,
}

/// One page of the city board for `period` (one district's when given), in
/// rank order, after `after`.
pub async fn board_page(
    pool: &AnyPool,
    period: Period,
    district: Option<&str>,
    after: Option<&BoardAfter>,
    limit: i64,
) -> Result<Vec<BoardLine>> {
    // The district, when given, is its own clause (an index prefix), never `($n = '' OR …)`.
    let (subject, first) = match district {
        Some(_) => ("district = $1 AND year = $2 AND half = $3", 4),
        None => ("year = $1 AND half = $2", 3),
    };
    let keyset = if after.is_some() {
        let m: Vec<String> = (first + 1..first + 7).map(|i| format!("${i}")).collect();
        format!(
            " AND (rank_stars, rank_points, district, community_id, subject_kind, subject_id) > ({})",
            m.join(", ")
        )
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT district, community_id, settlement_id, version, subject_kind, subject_id, subject_name, points, stars \
         FROM board_lines WHERE {subject}{keyset} \
         ORDER BY rank_stars, rank_points, district, community_id, subject_kind, subject_id LIMIT ${first}"
    );
    let mut query = sqlx::query(&sql);
    if let Some(d) = district {
        query = query.bind(d);
    }
    query = query
        .bind(i64::from(period.year))
        .bind(i64::from(period.half))
        .bind(limit);
    if let Some(a) = after {
        query = query
            .bind(a.rank_stars)
            .bind(a.rank_points)
            .bind(&a.district)
            .bind(&a.community_id)
            .bind(&a.subject_kind)
            .bind(&a.subject_id);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|r| {
            Ok(BoardLine {
                district: r.try_get("district")?,
                community_id: r.try_get("community_id")?,
                settlement_id: r.try_get("settlement_id")?,
                version: int32(r, "version")?,
                subject_kind: parsed(r, "subject_kind", SubjectKind::parse)?,
                subject_id: r.try_get("subject_id")?,
                subject_name: r.try_get("subject_name")?,
                points: int32(r, "points")?,
                stars: int32(r, "stars")?,
            })
        })
        .collect()
}

/// Per district and star count: the board lines of `period`, and their points.
pub async fn star_counts(pool: &AnyPool, period: Period) -> Result<Vec<(String, i32, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT district, stars, COUNT(*) AS lines, CAST(SUM(points) AS BIGINT) AS points FROM board_lines \
         WHERE year = $1 AND half = $2 GROUP BY district, stars ORDER BY district, stars",
    )
    .bind(i64::from(period.year))
    .bind(i64::from(period.half))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("district")?,
                int32(r, "stars")?,
                r.try_get("lines")?,
                r.try_get::<Option<i64>, _>("points")?.unwrap_or(0),
            ))
        })
        .collect()
}
