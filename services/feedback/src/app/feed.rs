//! The feed for the party-building cloud: feedback's own events and their webhook.

use super::*;

impl Feedback {
    /// The cloud role and city admins read every event; a district admin
    /// reads its district's (`Some(district_id)`). Anyone else is refused.
    pub async fn feed_scope(&self, p: &Principal) -> Result<Option<String>> {
        match p.role {
            Role::Cloud => return Ok(None),
            Role::CityAdmin | Role::DistrictAdmin => {
                if let Some(org) = self.directory.admin_org(p).await? {
                    return Ok((p.role == Role::DistrictAdmin).then_some(org.id));
                }
            }
            _ => {}
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not read the event feed (cloud, city_admin and district_admin may)",
            p.role.as_str()
        )))
    }

    /// Events after `after`, oldest first; only `district`'s when given.
    pub async fn events_after(&self, after: i64, limit: i64, district: Option<&str>) -> Result<Vec<Event>> {
        db::events_after(&self.pool, after, limit, district.unwrap_or_default()).await
    }

    pub async fn last_sequence(&self) -> Result<i64> {
        db::last_sequence(&self.pool).await
    }

    /// The webhook is the city's single delivery to the cloud: city admins
    /// (and the cloud itself) manage it.
    pub(super) async fn require_webhook_admin(&self, p: &Principal) -> Result<()> {
        let allowed = match p.role {
            Role::Cloud => true,
            Role::CityAdmin => self.directory.admin_org(p).await?.is_some(),
            _ => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(FeedbackError::out_of_scope(format!(
                "{} may not manage the webhook (city_admin and cloud may)",
                p.role.as_str()
            )))
        }
    }

    pub async fn set_webhook(&self, p: &Principal, url: String, secret: String) -> Result<(Option<Webhook>, i64)> {
        self.require_webhook_admin(p).await?;
        let last = self.last_sequence().await?;
        let (org_id, org_path) = self.city_org().await?;
        let mut tx = self.pool.begin().await?;
        let before = db::webhook(&mut tx).await?.map(|h| serde_json::json!({ "url": h.url }));
        db::set_webhook(&mut tx, &url, &secret, last, now_millis()).await?;
        // The secret never enters the trail.
        let after = serde_json::json!({ "url": url, "from_sequence": last });
        self.audit(
            &mut tx,
            p,
            "SetWebhook",
            "webhook",
            "webhook",
            (&org_id, &org_path),
            before,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        let mut conn = self.conn().await?;
        let failed = db::count_failed(&mut conn).await?;
        Ok((db::webhook(&mut conn).await?, failed))
    }

    pub async fn get_webhook(&self, p: &Principal) -> Result<(Option<Webhook>, i64)> {
        self.require_webhook_admin(p).await?;
        let mut conn = self.conn().await?;
        let failed = db::count_failed(&mut conn).await?;
        Ok((db::webhook(&mut conn).await?, failed))
    }

    pub async fn list_failed(&self, p: &Principal, page: &PageRequest) -> Result<Page<FailedDelivery>> {
        self.require_webhook_admin(p).await?;
        let mut conn = self.conn().await?;
        let rows = db::list_failed(&mut conn, page).await?;
        Ok(page.finish(rows, |d| &d.id))
    }

    /// Sends a failed delivery again now; removed from the list when accepted.
    pub async fn replay_delivery(
        &self,
        p: &Principal,
        id: &str,
        post: &dualreport_webhook::Poster,
    ) -> Result<(bool, String)> {
        self.require_webhook_admin(p).await?;
        let mut conn = self.conn().await?;
        let delivery = db::failed(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("failed delivery", id))?;
        let hook = db::webhook(&mut conn)
            .await?
            .filter(|h| !h.url.is_empty())
            .ok_or_else(|| FeedbackError::wrong_state("no webhook is set"))?;
        drop(conn);
        let outcome = post.send(&hook, &crate::feed::outgoing(&delivery.event)).await;
        let (delivered, error) = match outcome {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e.message),
        };
        let (org_id, org_path) = self.city_org().await?;
        let mut tx = self.pool.begin().await?;
        db::replay_result(&mut tx, id, delivered, &error).await?;
        let after =
            serde_json::json!({ "event_sequence": delivery.event.sequence, "delivered": delivered, "error": error });
        self.audit(
            &mut tx,
            p,
            "ReplayDelivery",
            "failed_delivery",
            id,
            (&org_id, &org_path),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok((delivered, error))
    }
}
