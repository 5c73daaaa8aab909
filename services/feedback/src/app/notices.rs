//! Notices (附录E): the community feeds results back to each employer unit, which acknowledges.

use super::*;

impl Feedback {
    #[allow(clippy::too_many_arguments)]
    pub async fn send_notice(
        &self,
        p: &Principal,
        request_id: &str,
        community_id: &str,
        unit_org_id: &str,
        period: Period,
        title: String,
        body: String,
        urgent: bool,
    ) -> Result<Notice> {
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "SendNotice").await? {
            return self.notice_by_id(&id).await;
        }
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        self.require_community_admin(p, &community).await?;
        self.require_paired(&unit, &community, period.year).await?;
        let summary = self.build_summary(&unit, community_id, period).await?;
        let now = now_millis();
        let notice = Notice {
            id: new_id(),
            community_id: community.id.clone(),
            community_path: community.path(),
            unit_org_id: unit.id.clone(),
            unit_path: unit.path(),
            district_id: district_of(&community),
            period,
            title,
            body,
            urgent,
            summary: Some(summary),
            status: NoticeStatus::Sent,
            sent_by: actor(p),
            sent_at: now,
            acknowledged_by: String::new(),
            acknowledged_at: None,
        };
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "SendNotice").await? {
            drop(tx);
            return self.notice_by_id(&id).await;
        }
        db::insert_notice(&mut tx, &notice).await?;
        let kind = if urgent { "notice.sent.urgent" } else { "notice.sent" };
        let event = Event {
            source: "feedback".into(),
            kind: kind.into(),
            occur_time: now,
            subject_id: notice.id.clone(),
            district_id: notice.district_id.clone(),
            community_id: notice.community_id.clone(),
            unit_org_id: notice.unit_org_id.clone(),
            text: notice.title.clone(),
            ..Default::default()
        };
        db::append_event(&mut tx, &event, None).await?;
        let after = serde_json::json!({
            "unit_org_id": notice.unit_org_id, "period": notice.period.label(),
            "title": notice.title, "urgent": notice.urgent, "status": "sent",
        });
        self.audit(
            &mut tx,
            p,
            "SendNotice",
            "notice",
            &notice.id,
            (&notice.community_id, &notice.community_path),
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "SendNotice", &notice.id).await?;
        tx.commit().await?;
        self.appended.notify_waiters();
        Ok(notice)
    }

    pub(super) async fn notice_by_id(&self, id: &str) -> Result<Notice> {
        let mut conn = self.conn().await?;
        db::notice(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("notice", id))
    }

    /// Both ends read it, and the district it is routed through (and above).
    pub(super) async fn require_notice_reader(&self, p: &Principal, n: &Notice) -> Result<()> {
        let community = self.directory.org(&n.community_id).await?;
        let unit = self.directory.org(&n.unit_org_id).await?;
        if self.directory.admin_covers(p, &community).await? || self.directory.admin_covers(p, &unit).await? {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not read notice {}",
            p.role.as_str(),
            n.id
        )))
    }

    pub async fn get_notice(&self, p: &Principal, id: &str) -> Result<Notice> {
        let notice = self.notice_by_id(id).await?;
        self.require_notice_reader(p, &notice).await?;
        Ok(notice)
    }

    pub async fn list_notices(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        status: Option<NoticeStatus>,
        page: &PageRequest,
    ) -> Result<Page<Notice>> {
        let root = self.list_root(p, org_id).await?;
        let mut conn = self.conn().await?;
        let rows = db::list_notices(&mut conn, &root.path(), year, status, page).await?;
        Ok(page.finish(rows, |n| &n.id))
    }

    /// The unit acknowledges receipt (once; later calls return it as it is).
    pub async fn acknowledge_notice(&self, p: &Principal, id: &str) -> Result<Notice> {
        let notice = self.notice_by_id(id).await?;
        let allowed = p.role == Role::UnitAdmin
            && p.org() == Some(notice.unit_org_id.as_str())
            && self.directory.admin_org(p).await?.is_some();
        if !allowed {
            return Err(FeedbackError::out_of_scope(format!(
                "only unit org {}'s admin may acknowledge notice {id}",
                notice.unit_org_id
            )));
        }
        let mut tx = self.pool.begin().await?;
        db::acknowledge(&mut tx, id, &actor(p), now_millis()).await?;
        let now = db::notice(&mut tx, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("notice", id))?;
        if notice.status != now.status {
            let (before, after) = (
                serde_json::json!({ "status": notice.status.as_str() }),
                serde_json::json!({ "status": now.status.as_str() }),
            );
            self.audit(
                &mut tx,
                p,
                "AcknowledgeNotice",
                "notice",
                id,
                (&now.unit_org_id, &now.unit_path),
                Some(before),
                Some(after),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(now)
    }
}
