//! Evidence (佐证材料) attached to services.

use super::*;

pub(super) fn evidence(row: &AnyRow) -> Result<Evidence> {
    Ok(Evidence {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        kind: parsed(row, "kind", EvidenceKind::parse)?,
        content_type: row.try_get("content_type")?,
        size_bytes: row.try_get("size_bytes")?,
        sha256: row.try_get("sha256")?,
        text: row.try_get("text")?,
        object_key: row.try_get("object_key")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn insert_evidence(conn: &mut AnyConnection, e: &Evidence) -> Result<()> {
    sqlx::query(
        "INSERT INTO evidence (id, community_id, kind, content_type, size_bytes, sha256, text, object_key, \
         uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&e.id)
    .bind(&e.community_id)
    .bind(e.kind.as_str())
    .bind(&e.content_type)
    .bind(e.size_bytes)
    .bind(&e.sha256)
    .bind(&e.text)
    .bind(&e.object_key)
    .bind(&e.uploaded_by)
    .bind(e.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_evidence(conn: &mut AnyConnection, id: &str) -> Result<Option<Evidence>> {
    sqlx::query("SELECT * FROM evidence WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(evidence)
        .transpose()
}
