//! The points supermarket (积分超市): goods, stock and redemptions.

use super::*;

pub(super) const ITEM_COLUMNS: &str =
    "id, community_id, name, description, price_points, stock, active, created_at, updated_at";

pub(super) fn item_from_row(row: &AnyRow) -> Result<Item> {
    Ok(Item {
        id: row.try_get("id")?,
        community_id: row.try_get("community_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        price_points: row.try_get("price_points")?,
        stock: row.try_get("stock")?,
        active: row.try_get::<i64, _>("active")? == 1,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_item(conn: &mut AnyConnection, item: &Item) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO items ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&item.id)
    .bind(&item.community_id)
    .bind(&item.name)
    .bind(&item.description)
    .bind(item.price_points)
    .bind(item.stock)
    .bind(i64::from(item.active))
    .bind(item.created_at)
    .bind(item.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn item(conn: &mut AnyConnection, id: &str) -> Result<Option<Item>> {
    let row = sqlx::query(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(item_from_row).transpose()
}

/// Writes name, description, price and active; adds `add_stock` unless the
/// stock would leave 0 ..= `MAX_STOCK` (false then).
/// Writes `item` over the version last updated at `previous` (see
/// `platform::etag`); false when another update came first or the stock
/// would leave its bounds.
pub async fn update_item(conn: &mut AnyConnection, item: &Item, add_stock: i64, previous: i64) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE items SET name = $2, description = $3, price_points = $4, active = $5, \
           stock = stock + $6, updated_at = $7 \
         WHERE id = $1 AND stock + $6 >= 0 AND stock + $6 <= $8 AND updated_at = $9",
    )
    .bind(&item.id)
    .bind(&item.name)
    .bind(&item.description)
    .bind(item.price_points)
    .bind(i64::from(item.active))
    .bind(add_stock)
    .bind(item.updated_at)
    .bind(crate::domain::market::MAX_STOCK)
    .bind(previous)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes `quantity` from an active item's stock if there is enough; false otherwise.
pub async fn take_stock(conn: &mut AnyConnection, item_id: &str, quantity: i64) -> Result<bool> {
    let result = sqlx::query("UPDATE items SET stock = stock - $2 WHERE id = $1 AND active = 1 AND stock >= $2")
        .bind(item_id)
        .bind(quantity)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn return_stock(conn: &mut AnyConnection, item_id: &str, quantity: i64) -> Result<()> {
    sqlx::query("UPDATE items SET stock = stock + $2 WHERE id = $1")
        .bind(item_id)
        .bind(quantity)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn list_items(
    conn: &mut AnyConnection,
    community_id: &str,
    include_inactive: bool,
    page: &PageRequest,
) -> Result<Vec<Item>> {
    let rows = sqlx::query(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE community_id = $1 AND (active = 1 OR $2 = 1) AND id > $3 \
         ORDER BY id LIMIT $4"
    ))
    .bind(community_id)
    .bind(i64::from(include_inactive))
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(item_from_row).collect()
}

pub(super) const REDEMPTION_COLUMNS: &str = "id, member_id, community_id, item_id, item_name, quantity, points, status, \
    entry_id, reversal_entry_id, created_at, cancelled_at, cancel_reason";

pub(super) fn redemption_from_row(row: &AnyRow) -> Result<Redemption> {
    let status: String = row.try_get("status")?;
    Ok(Redemption {
        id: row.try_get("id")?,
        member_id: row.try_get("member_id")?,
        community_id: row.try_get("community_id")?,
        item_id: row.try_get("item_id")?,
        item_name: row.try_get("item_name")?,
        quantity: row.try_get("quantity")?,
        points: row.try_get("points")?,
        status: RedemptionStatus::parse(&status).ok_or_else(|| ScoringError::corrupt("status", &status))?,
        entry_id: row.try_get("entry_id")?,
        reversal_entry_id: row.try_get("reversal_entry_id")?,
        created_at: row.try_get("created_at")?,
        cancelled_at: row.try_get("cancelled_at")?,
        cancel_reason: row.try_get("cancel_reason")?,
    })
}

pub async fn insert_redemption(conn: &mut AnyConnection, r: &Redemption) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO redemptions ({REDEMPTION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&r.id)
    .bind(&r.member_id)
    .bind(&r.community_id)
    .bind(&r.item_id)
    .bind(&r.item_name)
    .bind(r.quantity)
    .bind(r.points)
    .bind(r.status.as_str())
    .bind(&r.entry_id)
    .bind(r.reversal_entry_id.as_deref())
    .bind(r.created_at)
    .bind(r.cancelled_at)
    .bind(&r.cancel_reason)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn redemption(conn: &mut AnyConnection, id: &str) -> Result<Option<Redemption>> {
    let row = sqlx::query(&format!("SELECT {REDEMPTION_COLUMNS} FROM redemptions WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(redemption_from_row).transpose()
}

/// Marks a completed redemption cancelled; false when it no longer is completed.
pub async fn cancel_redemption(
    conn: &mut AnyConnection,
    id: &str,
    reversal_entry_id: &str,
    reason: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE redemptions SET status = $2, reversal_entry_id = $3, cancel_reason = $4, cancelled_at = $5 \
         WHERE id = $1 AND status = $6",
    )
    .bind(id)
    .bind(RedemptionStatus::Cancelled.as_str())
    .bind(reversal_entry_id)
    .bind(reason)
    .bind(now)
    .bind(RedemptionStatus::Completed.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn list_redemptions(
    conn: &mut AnyConnection,
    member_id: Option<&str>,
    community_id: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<Redemption>> {
    let rows = sqlx::query(&format!(
        "SELECT {REDEMPTION_COLUMNS} FROM redemptions \
         WHERE ($1 = '' OR member_id = $1) AND ($2 = '' OR community_id = $2) AND id > $3 \
         ORDER BY id LIMIT $4"
    ))
    .bind(member_id.unwrap_or_default())
    .bind(community_id.unwrap_or_default())
    .bind(&page.after)
    .bind(page.fetch_limit())
    .fetch_all(conn)
    .await?;
    rows.iter().map(redemption_from_row).collect()
}
