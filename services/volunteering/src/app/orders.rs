//! Orders (点单/派单/接单): community needs matched to unit resources, stage by stage.

use super::*;

impl Volunteering {
    pub async fn place_order(&self, p: &Principal, request_id: &str, order: Order) -> Result<Order> {
        self.community("community_id", &order.community_id).await?;
        self.require_community_admin(p, &order.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "PlaceOrder").await? {
            return self.order(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "PlaceOrder").await? {
            drop(tx);
            return self.order(&id).await;
        }
        if !order.post_id.is_empty() {
            Self::post(&mut tx, "post_id", &order.post_id, Some(&order.community_id)).await?;
        }
        db::insert_order(&mut tx, &order).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                "PlaceOrder",
                "order",
                &order.id,
                &order.community_id,
                None,
                Some(serde_json::json!({"content": order.content, "status": "open"})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "PlaceOrder", &order.id).await?;
        tx.commit().await?;
        Ok(order)
    }

    pub(super) async fn order(&self, id: &str) -> Result<Order> {
        db::get_order(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("order", id))
    }

    /// Writes an order's next state unless someone moved it first.
    /// Moves `order` on from `from` (a conditional write) and records the
    /// step in the audit trail on the same connection (call it in a transaction).
    pub(super) async fn advance_order(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        method: &str,
        order: &Order,
        from: OrderStatus,
        action: &str,
    ) -> Result<()> {
        if db::advance_order(conn, order, from).await? {
            let before = serde_json::json!({ "status": from.as_str() });
            let after = serde_json::json!({ "status": order.status.as_str(), "member_id": order.member_id });
            self.directory
                .audit(
                    conn,
                    p,
                    method,
                    "order",
                    &order.id,
                    &order.community_id,
                    Some(before),
                    Some(after),
                )
                .await?;
            return Ok(());
        }
        let now = db::get_order(conn, &order.id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("order", &order.id))?;
        now.status.require(from, action)?;
        Err(VolunteeringError::conflict(format!(
            "order {} changed meanwhile; retry",
            order.id
        )))
    }

    pub async fn dispatch_order(&self, p: &Principal, order_id: &str, note: String) -> Result<Order> {
        let mut order = self.order(order_id).await?;
        self.require_community_admin(p, &order.community_id).await?;
        if order.status == OrderStatus::Dispatched {
            return Ok(order);
        }
        order.status.require(OrderStatus::Open, "be dispatched")?;
        order.status = OrderStatus::Dispatched;
        order.dispatch_note = note;
        order.updated_at = now_millis();
        let mut tx = self.pool.begin().await?;
        self.advance_order(&mut tx, p, "DispatchOrder", &order, OrderStatus::Open, "be dispatched")
            .await?;
        tx.commit().await?;
        Ok(order)
    }

    pub async fn accept_order(&self, p: &Principal, order_id: &str, member_id: &str) -> Result<Order> {
        Self::require_self(p, member_id)?;
        let mut order = self.order(order_id).await?;
        if order.member_id == member_id && order.status != OrderStatus::Dispatched {
            return Ok(order);
        }
        order.status.require(OrderStatus::Dispatched, "accept")?;
        self.require_registered_on(member_id, &order.community_id, china_today())
            .await?;
        order.status = OrderStatus::Accepted;
        order.member_id = member_id.to_owned();
        order.updated_at = now_millis();
        let mut tx = self.pool.begin().await?;
        self.advance_order(&mut tx, p, "AcceptOrder", &order, OrderStatus::Dispatched, "accept")
            .await?;
        tx.commit().await?;
        Ok(order)
    }

    /// The accepting member reports the order done with evidence; an
    /// attendance (kind ORDER) is written, checked in, for the community to confirm.
    pub async fn complete_order(
        &self,
        p: &Principal,
        order_id: &str,
        minutes: i64,
        evidence_ids: Vec<String>,
    ) -> Result<Order> {
        let mut order = self.order(order_id).await?;
        Self::require_self(p, &order.member_id)?;
        if order.status == OrderStatus::Completed || order.status == OrderStatus::Rated {
            return Ok(order);
        }
        order.status.require(OrderStatus::Accepted, "be completed")?;
        let mut tx = self.pool.begin().await?;
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &order.community_id).await?;
        let attendance = Self::individual_service(
            &mut tx,
            p,
            &order.community_id,
            &order.member_id,
            ActivityKind::Order,
            &format!("三单制: {}", order.content),
            &order.post_id,
            minutes,
            &evidence_ids,
        )
        .await?;
        order.status = OrderStatus::Completed;
        order.attendance_id = attendance.id;
        order.evidence_ids = evidence_ids;
        order.updated_at = now_millis();
        self.advance_order(
            &mut tx,
            p,
            "CompleteOrder",
            &order,
            OrderStatus::Accepted,
            "be completed",
        )
        .await?;
        tx.commit().await?;
        Ok(order)
    }

    /// The community records the resident's satisfaction (1–5).
    pub async fn rate_order(&self, p: &Principal, order_id: &str, satisfaction: i64, comment: String) -> Result<Order> {
        let mut order = self.order(order_id).await?;
        self.require_community_admin(p, &order.community_id).await?;
        if order.status == OrderStatus::Rated && order.satisfaction == satisfaction {
            return Ok(order);
        }
        order.status.require(OrderStatus::Completed, "be rated")?;
        order.status = OrderStatus::Rated;
        order.satisfaction = satisfaction;
        order.resident_comment = comment;
        order.updated_at = now_millis();
        let mut tx = self.pool.begin().await?;
        self.advance_order(&mut tx, p, "RateOrder", &order, OrderStatus::Completed, "be rated")
            .await?;
        tx.commit().await?;
        Ok(order)
    }

    pub async fn get_order(&self, p: &Principal, order_id: &str) -> Result<Order> {
        let order = self.order(order_id).await?;
        self.require_community_reader(p, &order.community_id).await?;
        Ok(order)
    }

    pub async fn list_orders(
        &self,
        p: &Principal,
        area: &Area,
        status: Option<OrderStatus>,
        created: &DateWindow,
        page: &PageRequest,
    ) -> Result<Page<Order>> {
        let communities = self.communities_of(p, area, "orders").await?;
        let rows = db::list_orders(&mut *self.conn().await?, &communities, status, created, page).await?;
        Ok(page.finish(rows, |o| &o.id))
    }

    /// One member's completed service outside a scheduled activity (an order,
    /// a wish, a household visit): an activity of that kind and a checked-in
    /// attendance, both dated today, for the community to confirm.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn individual_service(
        conn: &mut AnyConnection,
        p: &Principal,
        community_id: &str,
        member_id: &str,
        kind: ActivityKind,
        title: &str,
        post_id: &str,
        minutes: i64,
        evidence_ids: &[String],
    ) -> Result<Attendance> {
        let now = now_millis();
        let activity = Activity {
            id: new_id(),
            community_id: community_id.to_owned(),
            kind,
            title: title.chars().take(200).collect(),
            content: String::new(),
            post_id: post_id.to_owned(),
            place: String::new(),
            start_at: now - minutes * 60_000,
            end_at: now,
            capacity: 1,
            signed_up: 1,
            organiser: member_id.to_owned(),
            contact: String::new(),
            team_id: String::new(),
            studio_id: String::new(),
            agreement_id: String::new(),
            created_at: now,
        };
        db::insert_activity(conn, &activity, &p.subject).await?;
        let attendance = Attendance {
            id: new_id(),
            activity_id: activity.id,
            member_id: member_id.to_owned(),
            community_id: community_id.to_owned(),
            status: AttendanceStatus::CheckedIn,
            minutes,
            adjustment: 0,
            note: String::new(),
            evidence_ids: evidence_ids.to_vec(),
            confirmed_by: String::new(),
            check_in_at: Some(now),
            confirmed_at: None,
            served_on: china_date(now),
            content: activity.title,
            entry_id: String::new(),
            payment_error: String::new(),
        };
        db::insert_attendance(conn, &attendance).await?;
        Ok(attendance)
    }
}
