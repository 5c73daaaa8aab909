//! Settlement lines: one per member or unit, frozen set-based and paged in board order.

use super::*;

/// Where a page of settlement lines resumes: the last line of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCursor {
    pub stars: i64,
    pub points: i64,
    pub subject_kind: String,
    pub subject_id: String,
}

impl LineCursor {
    pub fn of(line: &Line) -> Self {
        Self {
            stars: line.stars,
            points: line.points,
            subject_kind: line.subject.kind.as_str().to_owned(),
            subject_id: line.subject.id.clone(),
        }
    }

    pub fn encode(&self) -> String {
        encode_rank_key(self.stars, self.points, &self.subject_kind, &self.subject_id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let (stars, points, subject_kind, subject_id) = decode_rank_key(text)?;
        Some(Self {
            stars,
            points,
            subject_kind,
            subject_id,
        })
    }
}

/// A page token of board order: stars and points, then two ids that break ties.
pub(super) fn encode_rank_key(stars: i64, points: i64, first: &str, second: &str) -> String {
    format!("{stars}|{points}|{first}|{second}")
}

/// The parts of an [`encode_rank_key`] token; `None` for anything else.
pub(super) fn decode_rank_key(text: &str) -> Option<(i64, i64, String, String)> {
    let mut parts = text.splitn(4, '|');
    Some((
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.to_owned(),
        parts.next()?.to_owned(),
    ))
}

/// A page of a settlement's lines as the board ranks them (stars, then
/// points, descending; then subject), after `after`.
pub async fn settlement_lines(
    conn: &mut AnyConnection,
    settlement_id: &str,
    after: Option<&LineCursor>,
    limit: i64,
) -> Result<Vec<Line>> {
    let (stars, points, kind, id) = match after {
        Some(c) => (c.stars, c.points, c.subject_kind.as_str(), c.subject_id.as_str()),
        None => (i64::MAX, i64::MAX, "", ""),
    };
    let rows = sqlx::query(
        "SELECT subject_kind, subject_id, subject_name, points, stars FROM settlement_lines \
         WHERE settlement_id = $1 AND (stars < $2 OR (stars = $2 AND points < $3) \
            OR (stars = $2 AND points = $3 AND (subject_kind > $4 OR (subject_kind = $4 AND subject_id > $5)))) \
         ORDER BY stars DESC, points DESC, subject_kind, subject_id LIMIT $6",
    )
    .bind(settlement_id)
    .bind(stars)
    .bind(points)
    .bind(kind)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(line_from_row).collect()
}

pub(super) fn line_from_row(row: &AnyRow) -> Result<Line> {
    Ok(Line {
        subject: subject(row)?,
        subject_name: row.try_get("subject_name")?,
        points: row.try_get("points")?,
        stars: row.try_get("stars")?,
    })
}
