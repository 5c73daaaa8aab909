//! The points supermarket (积分超市): goods, stock and redemptions against the balance.

use super::*;

impl Scoring {
    pub async fn create_item(&self, p: &Principal, request_id: &str, item: Item) -> Result<Item> {
        self.require_community_writer(p, &item.community_id, false).await?;
        self.community("community_id", &item.community_id).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreateItem").await? {
            return self.require_item(&mut tx, &id).await;
        }
        db::insert_item(&mut tx, &item).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                "CreateItem",
                "item",
                &item.id,
                &item.community_id,
                None,
                Some(item_fields(&item)),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "CreateItem", &item.id).await?;
        tx.commit().await?;
        Ok(item)
    }

    pub(super) async fn require_item(&self, conn: &mut AnyConnection, id: &str) -> Result<Item> {
        db::item(conn, id)
            .await?
            .ok_or_else(|| ScoringError::not_found("item", id))
    }

    pub async fn update_item(&self, p: &Principal, request_id: &str, id: &str, change: ItemChange) -> Result<Item> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = idempotency::replayed_by(&mut conn, p, request_id, "UpdateItem").await? {
            return self.require_item(&mut conn, &id).await;
        }
        let mut item = self.require_item(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &item.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "UpdateItem").await? {
            return self.require_item(&mut tx, &id).await;
        }
        etag::check("item", id, &change.etag, item.updated_at)?;
        let before = item_fields(&item);
        let previous = item.updated_at;
        item.updated_at = etag::next_update_time(previous, now_millis());
        if let Some(name) = change.name {
            item.name = name;
        }
        if let Some(description) = change.description {
            item.description = description;
        }
        if let Some(price) = change.price_points {
            item.price_points = price;
        }
        if let Some(active) = change.active {
            item.active = active;
        }
        if !db::update_item(&mut tx, &item, change.add_stock, previous).await? {
            let now = self.require_item(&mut tx, id).await?;
            if now.updated_at != previous {
                return Err(etag::changed_meanwhile("item", id).into());
            }
            return Err(ScoringError::invalid(
                "add_stock",
                format!(
                    "would take the stock of {} below zero or above {}",
                    item.stock,
                    crate::domain::market::MAX_STOCK
                ),
            ));
        }
        idempotency::remember(&mut tx, p, request_id, "UpdateItem", id).await?;
        let item = self.require_item(&mut tx, id).await?;
        let after = item_fields(&item);
        self.directory
            .audit(
                &mut tx,
                p,
                "UpdateItem",
                "item",
                id,
                &item.community_id,
                Some(before),
                Some(after),
            )
            .await?;
        tx.commit().await?;
        Ok(item)
    }

    pub async fn list_items(
        &self,
        p: &Principal,
        community_id: &str,
        include_inactive: bool,
        page: &PageRequest,
    ) -> Result<(Vec<Item>, String)> {
        let community = self.community("community_id", community_id).await?;
        if include_inactive && !self.admin_covers(p, &community).await? {
            return Err(ScoringError::out_of_scope(
                "only admins over the community see withdrawn items",
            ));
        }
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_items(&mut conn, community_id, include_inactive, page).await?;
        Ok(page.finish(rows, |i| &i.id))
    }

    /// Spends the member's points at the item's community: stock and balance
    /// are taken by conditional updates in one transaction, so parallel
    /// redemptions never oversell or overdraw.
    pub async fn redeem(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        item_id: &str,
        quantity: i64,
    ) -> Result<Redemption> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = idempotency::replayed_by(&mut conn, p, request_id, "Redeem").await? {
            return self.require_redemption(&mut conn, &id).await;
        }
        let item = self.require_item(&mut conn, item_id).await?;
        drop(conn);
        let counter = p.role == Role::CommunityAdmin && p.org() == Some(item.community_id.as_str());
        if p.member() != Some(member_id) && !(counter && self.admin_org(p).await?.is_some()) {
            return Err(ScoringError::out_of_scope(
                "a member redeems for itself, or the item's community admin at the counter",
            ));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "Redeem").await? {
            return self.require_redemption(&mut tx, &id).await;
        }
        let cost = item.price_points * quantity;
        if !db::take_stock(&mut tx, item_id, quantity).await? {
            return Err(ScoringError::OutOfStock(if item.active {
                format!("item {item_id} has {} left; {quantity} asked", item.stock)
            } else {
                format!("item {item_id} is withdrawn")
            }));
        }
        let subject = Subject::member(member_id);
        if !db::spend(&mut tx, &subject, &item.community_id, cost).await? {
            return Err(ScoringError::InsufficientPoints(format!(
                "member {member_id} cannot spend {cost} points at community {}",
                item.community_id
            )));
        }
        let redemption_id = new_id();
        let today = self.today();
        let entry = Entry {
            points: -cost,
            content: format!("{} × {quantity}", item.name),
            source_key: format!("redemption:{redemption_id}"),
            redemption_id: redemption_id.clone(),
            ..self.entry(p, subject, &item.community_id, EntryKind::Redemption, today)
        };
        db::insert_entry(&mut tx, &entry).await?;
        let redemption = Redemption {
            id: redemption_id,
            member_id: member_id.to_owned(),
            community_id: item.community_id.clone(),
            item_id: item.id.clone(),
            item_name: item.name.clone(),
            quantity,
            points: cost,
            status: RedemptionStatus::Completed,
            entry_id: entry.id.clone(),
            reversal_entry_id: None,
            created_at: now_millis(),
            cancelled_at: None,
            cancel_reason: String::new(),
        };
        db::insert_redemption(&mut tx, &redemption).await?;
        let after = redemption_fields(&redemption);
        self.directory
            .audit(
                &mut tx,
                p,
                "Redeem",
                "redemption",
                &redemption.id,
                &redemption.community_id,
                None,
                Some(after),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "Redeem", &redemption.id).await?;
        tx.commit().await?;
        Ok(redemption)
    }

    pub(super) async fn require_redemption(&self, conn: &mut AnyConnection, id: &str) -> Result<Redemption> {
        db::redemption(conn, id)
            .await?
            .ok_or_else(|| ScoringError::not_found("redemption", id))
    }

    /// Returns the points and the stock (community admins of the item's community).
    pub async fn cancel_redemption(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<Redemption> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = idempotency::replayed_by(&mut conn, p, request_id, "CancelRedemption").await? {
            return self.require_redemption(&mut conn, &id).await;
        }
        let r = self.require_redemption(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &r.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CancelRedemption").await? {
            return self.require_redemption(&mut tx, &id).await;
        }
        let reversal = Entry {
            points: r.points,
            content: format!("{} × {} (cancelled: {reason})", r.item_name, r.quantity),
            source_key: format!("redemption:{}:cancel", r.id),
            corrects_entry_id: Some(r.entry_id.clone()),
            redemption_id: r.id.clone(),
            ..self.entry(
                p,
                Subject::member(&r.member_id),
                &r.community_id,
                EntryKind::RedemptionReversal,
                self.today(),
            )
        };
        let already = || ScoringError::wrong_state(format!("redemption {id} is already cancelled"));
        // The reversal's source key is unique: a concurrent cancel waits here and loses.
        match db::insert_entry(&mut tx, &reversal).await {
            Err(e) if e.is_duplicate() => return Err(already()),
            other => other?,
        }
        if !db::cancel_redemption(&mut tx, id, &reversal.id, reason, now_millis()).await? {
            return Err(already());
        }
        // Lock order as in `redeem`: the item, then the account.
        db::return_stock(&mut tx, &r.item_id, r.quantity).await?;
        db::refund(&mut tx, &reversal.subject, &r.community_id, r.points).await?;
        idempotency::remember(&mut tx, p, request_id, "CancelRedemption", id).await?;
        let before = redemption_fields(&r);
        let r = self.require_redemption(&mut tx, id).await?;
        let after = redemption_fields(&r);
        self.directory
            .audit(
                &mut tx,
                p,
                "CancelRedemption",
                "redemption",
                id,
                &r.community_id,
                Some(before),
                Some(after),
            )
            .await?;
        tx.commit().await?;
        Ok(r)
    }

    pub async fn list_redemptions(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        page: &PageRequest,
    ) -> Result<(Vec<Redemption>, String)> {
        if member_id.is_empty() && community_id.is_empty() {
            return Err(ScoringError::invalid("member_id", "name a member or a community"));
        }
        if !member_id.is_empty() {
            self.require_reader(p, &Subject::member(member_id), Some(community_id))
                .await?;
        } else {
            let community = self.community("community_id", community_id).await?;
            if p.role != Role::Service && !self.admin_covers(p, &community).await? {
                return Err(ScoringError::out_of_scope(format!(
                    "{} may not read the redemptions of community {community_id}",
                    p.role.as_str()
                )));
            }
        }
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_redemptions(
            &mut conn,
            Some(member_id).filter(|m| !m.is_empty()),
            Some(community_id).filter(|c| !c.is_empty()),
            page,
        )
        .await?;
        Ok(page.finish(rows, |r| &r.id))
    }
}
