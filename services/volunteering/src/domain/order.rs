//! The three-order menu (三单制) and micro-wishes (微心愿): their records and
//! state machines.

use dualreport_platform::stored_enum;

use super::{Result, VolunteeringError};

/// 三单制: 居民点单 → 支部下单 → 党员接单 → done → rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Open,
    Dispatched,
    Accepted,
    Completed,
    Rated,
}

stored_enum!(OrderStatus {
    Open => "open",
    Dispatched => "dispatched",
    Accepted => "accepted",
    Completed => "completed",
    Rated => "rated",
});

impl OrderStatus {
    /// Whether a member has accepted the order (it is at or past 党员接单).
    pub fn accepted(self) -> bool {
        matches!(
            self,
            OrderStatus::Accepted | OrderStatus::Completed | OrderStatus::Rated
        )
    }

    /// The step an order may take from this status, or why not.
    pub fn require(self, expected: OrderStatus, action: &str) -> Result<()> {
        if self == expected {
            return Ok(());
        }
        // Waiting for a member and already past it: someone accepted it first.
        if expected == OrderStatus::Dispatched && self.accepted() {
            return Err(VolunteeringError::AlreadyTaken(
                "the order was already accepted by another member".into(),
            ));
        }
        Err(VolunteeringError::wrong_state(format!(
            "an order that is {} cannot {action}; it must be {}",
            self.as_str(),
            expected.as_str()
        )))
    }
}

#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub community_id: String,
    pub resident_name: String,
    pub place: String,
    pub content: String,
    pub post_id: String,
    pub status: OrderStatus,
    pub dispatch_note: String,
    pub member_id: String,
    pub attendance_id: String,
    pub evidence_ids: Vec<String>,
    pub satisfaction: i64,
    pub resident_comment: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WishStatus {
    Open,
    Claimed,
    Fulfilled,
}

stored_enum!(WishStatus { Open => "open", Claimed => "claimed", Fulfilled => "fulfilled" });

/// 微心愿
#[derive(Debug, Clone)]
pub struct Wish {
    pub id: String,
    pub community_id: String,
    pub beneficiary: String,
    pub content: String,
    pub status: WishStatus,
    pub member_id: String,
    pub unit_org_id: String,
    pub evidence_ids: Vec<String>,
    pub attendance_id: String,
    pub unit_record_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_order_is_taken() {
        assert!(
            OrderStatus::Dispatched
                .require(OrderStatus::Dispatched, "accept")
                .is_ok()
        );
        assert!(matches!(
            OrderStatus::Accepted.require(OrderStatus::Dispatched, "accept"),
            Err(VolunteeringError::AlreadyTaken(_))
        ));
        assert!(matches!(
            OrderStatus::Open.require(OrderStatus::Dispatched, "accept"),
            Err(VolunteeringError::Common(crate::domain::Failure::WrongState(_)))
        ));
    }
}
