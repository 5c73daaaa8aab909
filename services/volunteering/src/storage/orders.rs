//! Orders (点单/派单/接单): a community need matched to a unit resource.

use super::*;

pub(super) fn order(row: &AnyRow) -> Result<Order> {
    Ok(Order {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        resident_name: row.try_get("resident_name")?,
        place: row.try_get("place")?,
        content: row.try_get("content")?,
        post_id: row.try_get("post_id")?,
        status: parsed(row, "status", OrderStatus::parse)?,
        dispatch_note: row.try_get("dispatch_note")?,
        member_id: row.try_get("member_id")?,
        attendance_id: row.try_get("attendance_id")?,
        evidence_ids: list(row, "evidence_ids")?,
        satisfaction: row.try_get("satisfaction")?,
        resident_comment: row.try_get("resident_comment")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_order(conn: &mut AnyConnection, o: &Order) -> Result<()> {
    sqlx::query(
        "INSERT INTO orders (id, community_id, resident_name, place, content, post_id, status, dispatch_note, \
         member_id, attendance_id, evidence_ids, satisfaction, resident_comment, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&o.id)
    .bind(&o.community_id)
    .bind(&o.resident_name)
    .bind(&o.place)
    .bind(&o.content)
    .bind(&o.post_id)
    .bind(o.status.as_str())
    .bind(&o.dispatch_note)
    .bind(&o.member_id)
    .bind(&o.attendance_id)
    .bind(list_text(&o.evidence_ids))
    .bind(o.satisfaction)
    .bind(&o.resident_comment)
    .bind(o.created_at)
    .bind(o.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the order's new state if it is still in `from` (false: someone
/// else moved it first).
pub async fn advance_order(conn: &mut AnyConnection, o: &Order, from: OrderStatus) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, dispatch_note = $2, member_id = $3, attendance_id = $4, evidence_ids = $5, \
         satisfaction = $6, resident_comment = $7, updated_at = $8 WHERE id = $9 AND status = $10",
    )
    .bind(o.status.as_str())
    .bind(&o.dispatch_note)
    .bind(&o.member_id)
    .bind(&o.attendance_id)
    .bind(list_text(&o.evidence_ids))
    .bind(o.satisfaction)
    .bind(&o.resident_comment)
    .bind(o.updated_at)
    .bind(&o.id)
    .bind(from.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_order(conn: &mut AnyConnection, id: &str) -> Result<Option<Order>> {
    sqlx::query("SELECT * FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(order)
        .transpose()
}

/// The orders at `communities` in a status, recorded in `created`, by id.
pub async fn list_orders(
    conn: &mut AnyConnection,
    communities: &[String],
    status: Option<OrderStatus>,
    created: &DateWindow,
    page: &PageRequest,
) -> Result<Vec<Order>> {
    let stage = status.map_or("", OrderStatus::as_str);
    staged_rows(conn, "orders", communities, stage, created, page, order).await
}
