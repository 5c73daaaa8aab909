//! The volunteer-service supermarket (党员志愿服务超市, S4 §3.6.3): a
//! community's catalogue of goods and services bought with points.

use dualreport_platform::stored_enum;

use super::{Violations, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub community_id: String,
    pub name: String,
    pub description: String,
    pub price_points: i64,
    pub stock: i64,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedemptionStatus {
    Completed,
    Cancelled,
}

stored_enum!(RedemptionStatus { Completed => "completed", Cancelled => "cancelled" });

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub id: String,
    pub member_id: String,
    pub community_id: String,
    pub item_id: String,
    pub item_name: String,
    pub quantity: i64,
    pub points: i64,
    pub status: RedemptionStatus,
    pub entry_id: String,
    pub reversal_entry_id: Option<String>,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
    pub cancel_reason: String,
}

/// Largest quantity in one redemption.
pub const MAX_QUANTITY: i64 = 100;
/// Highest price of an item, in points.
pub const MAX_PRICE: i64 = 100_000;
/// The most one item may have in stock (far inside the contract's int32).
pub const MAX_STOCK: i64 = 1_000_000;

pub fn name(value: &str, v: &mut Violations) -> Option<String> {
    v.check(text("name", value, 100, true))
}

pub fn description(value: &str, v: &mut Violations) -> Option<String> {
    v.check(text("description", value, 1000, false))
}

pub fn price(value: i64, v: &mut Violations) -> Option<i64> {
    if value <= 0 || value > MAX_PRICE {
        v.add("price_points", format!("must be between 1 and {MAX_PRICE}"));
        return None;
    }
    Some(value)
}

pub fn quantity(value: i64) -> Result<i64, dualreport_platform::error::FieldError> {
    if !(1..=MAX_QUANTITY).contains(&value) {
        return Err(dualreport_platform::error::FieldError::new(
            "quantity",
            format!("must be between 1 and {MAX_QUANTITY}"),
        ));
    }
    Ok(value)
}
