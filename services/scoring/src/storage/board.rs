//! The public vanguard board (先锋榜): published lines per org above the community, read by range.

use super::*;

/// A row of the vanguard board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardRow {
    pub rank: i64,
    pub line: Line,
    pub community_id: String,
}

/// Where the previous board page ended: `stars|points|subject_id|community_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardCursor {
    pub stars: i64,
    pub points: i64,
    pub subject_id: String,
    pub community_id: String,
}

impl BoardCursor {
    pub fn encode(&self) -> String {
        encode_rank_key(self.stars, self.points, &self.subject_id, &self.community_id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (stars, points, subject_id, community_id) = decode_rank_key(text)?;
        Some(Self {
            stars,
            points,
            subject_id,
            community_id,
        })
    }
}

/// Published results under `org_id` (community, street, district or city),
/// ranked by stars then points with competition ranks (1, 1, 3…).
pub async fn board(
    conn: &mut AnyConnection,
    org_id: &str,
    p: Period,
    kind: SubjectKind,
    after: Option<&BoardCursor>,
    limit: i64,
) -> Result<Vec<BoardRow>> {
    let (stars, points, subject_id, community_id) = match after {
        Some(c) => (c.stars, c.points, c.subject_id.as_str(), c.community_id.as_str()),
        None => (i64::MAX, i64::MAX, "", ""),
    };
    let rows = sqlx::query(
        "SELECT subject_kind, subject_id, subject_name, points, stars, community_id FROM board \
         WHERE scope_id = $1 AND period = $2 AND subject_kind = $3 \
           AND (stars < $4 OR (stars = $4 AND points < $5) \
            OR (stars = $4 AND points = $5 AND (subject_id > $6 OR (subject_id = $6 AND community_id > $7)))) \
         ORDER BY stars DESC, points DESC, subject_id, community_id LIMIT $8",
    )
    .bind(org_id)
    .bind(p.key())
    .bind(kind.as_str())
    .bind(stars)
    .bind(points)
    .bind(subject_id)
    .bind(community_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    // Rank as SQL's RANK(): 1 + the lines strictly better. The first page
    // needs no count; a later one counts for its first line only, as three
    // range counts on the board index (each bounded by the rows above it).
    let (better, before) = if after.is_none() {
        (0, 0)
    } else {
        let (first_stars, first_points): (i64, i64) = (first.try_get("stars")?, first.try_get("points")?);
        let first_subject: String = first.try_get("subject_id")?;
        let first_community: String = first.try_get("community_id")?;
        let scope = "scope_id = $1 AND period = $2 AND subject_kind = $3";
        let counts = sqlx::query(&format!(
            "SELECT (SELECT COUNT(*) FROM board WHERE {scope} AND stars > $4) AS above, \
                    (SELECT COUNT(*) FROM board WHERE {scope} AND stars = $4 AND points > $5) AS level, \
                    (SELECT COUNT(*) FROM board WHERE {scope} AND stars = $4 AND points = $5 \
                       AND (subject_id < $6 OR (subject_id = $6 AND community_id < $7))) AS tied"
        ))
        .bind(org_id)
        .bind(p.key())
        .bind(kind.as_str())
        .bind(first_stars)
        .bind(first_points)
        .bind(&first_subject)
        .bind(&first_community)
        .fetch_one(&mut *conn)
        .await?;
        let better = counts.try_get::<i64, _>("above")? + counts.try_get::<i64, _>("level")?;
        (better, better + counts.try_get::<i64, _>("tied")?)
    };
    let mut out: Vec<BoardRow> = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let line = line_from_row(row)?;
        let rank = match out.last() {
            None => better + 1,
            Some(prev) if (prev.line.stars, prev.line.points) == (line.stars, line.points) => prev.rank,
            Some(_) => before + i64::try_from(i).unwrap_or(i64::MAX) + 1,
        };
        out.push(BoardRow {
            rank,
            line,
            community_id: row.try_get("community_id")?,
        });
    }
    Ok(out)
}

/// How many subjects of `org_id`'s board hold each star level, with their
/// points: one grouped read of the board index range.
pub async fn star_levels(
    conn: &mut AnyConnection,
    org_id: &str,
    p: Period,
    kind: SubjectKind,
) -> Result<Vec<StarCount>> {
    let rows = sqlx::query(
        "SELECT stars, COUNT(*) AS subjects, CAST(SUM(points) AS BIGINT) AS points FROM board \
         WHERE scope_id = $1 AND period = $2 AND subject_kind = $3 GROUP BY stars ORDER BY stars DESC",
    )
    .bind(org_id)
    .bind(p.key())
    .bind(kind.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StarCount {
                stars: row.try_get("stars")?,
                subjects: row.try_get("subjects")?,
                points: row.try_get("points")?,
            })
        })
        .collect()
}

/// One star level of a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StarCount {
    pub stars: i64,
    pub subjects: i64,
    pub points: i64,
}
