//! Objections (附录G): a member disputes a score; investigated, decided once, corrected in scoring.

use super::*;
use crate::domain::objection::Decision;

/// Corrections as the suite's one outbox policy: outages are retried after
/// `corrections.*_backoff_ms`, a refusal is final and stays on the objection.
pub fn corrections(backoff: dualreport_platform::retry::Backoff) -> Delivery {
    use dualreport_platform::metrics::{counter, counter_vec};
    static COUNTERS: std::sync::OnceLock<(prometheus::IntCounter, prometheus::IntCounterVec)> =
        std::sync::OnceLock::new();
    let (delivered, failed) = COUNTERS.get_or_init(|| {
        (
            counter(
                "feedback_corrections_delivered_total",
                "Upheld objections' corrections scoring recorded.",
            ),
            counter_vec(
                "feedback_correction_failures_total",
                "Correction attempts scoring did not take, by gRPC code.",
                &["grpc_code"],
            ),
        )
    });
    Delivery::new(backoff, false, delivered.clone(), failed.clone())
}

impl Feedback {
    /// A member disputes an entry on their own card; a unit admin one on the unit's.
    pub async fn raise_objection(
        &self,
        p: &Principal,
        request_id: &str,
        entry_id: &str,
        content: String,
    ) -> Result<Objection> {
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "RaiseObjection").await? {
            return self.objection_by_id(&id).await;
        }
        let entry = match self.sources.entry(entry_id).await {
            Err(FeedbackError::Common(Failure::NotFound { .. })) => {
                return Err(FeedbackError::invalid(
                    "entry_id",
                    format!("no scoring entry {entry_id}"),
                ));
            }
            other => other?,
        };
        let (member_card, subject_id) = match &entry.card {
            CardOf::Member(id) => (true, id.clone()),
            CardOf::Unit(id) => (false, id.clone()),
        };
        let own = if member_card {
            p.member() == Some(subject_id.as_str())
        } else {
            p.role == Role::UnitAdmin
                && p.org() == Some(subject_id.as_str())
                && self.directory.admin_org(p).await?.is_some()
        };
        if !own {
            return Err(FeedbackError::out_of_scope(format!(
                "entry {entry_id} is not on the caller's card; only its member (or unit) may object to it"
            )));
        }
        let community = self.directory.org(&entry.community_id).await?;
        let now = now_millis();
        let objection = Objection {
            id: new_id(),
            raised_by: actor(p),
            subject_kind: if member_card {
                "member".into()
            } else {
                "unit_org".into()
            },
            subject_id,
            entry_id: entry.id,
            community_id: community.id.clone(),
            community_path: community.path(),
            district_id: district_of(&community),
            content: content.clone(),
            department: String::new(),
            status: ObjectionStatus::Open,
            result: String::new(),
            correction_points: 0,
            correction_entry_id: String::new(),
            correction_error: String::new(),
            correction_attempts: 0,
            raised_at: now,
            decided_at: None,
            history: Vec::new(),
        };
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "RaiseObjection").await? {
            drop(tx);
            return self.objection_by_id(&id).await;
        }
        db::insert_objection(&mut tx, &objection).await?;
        db::add_step(&mut tx, &objection.id, &step("raised", p, content, Vec::new(), now)).await?;
        let after =
            serde_json::json!({ "entry_id": objection.entry_id, "content": objection.content, "status": "open" });
        let community = (objection.community_id.as_str(), objection.community_path.as_str());
        self.audit(
            &mut tx,
            p,
            "RaiseObjection",
            "objection",
            &objection.id,
            community,
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "RaiseObjection", &objection.id).await?;
        tx.commit().await?;
        self.objection_by_id(&objection.id).await
    }

    pub(super) async fn objection_by_id(&self, id: &str) -> Result<Objection> {
        let mut conn = self.conn().await?;
        db::objection(&mut conn, id)
            .await?
            .ok_or_else(|| FeedbackError::not_found("objection", id))
    }

    /// Admins over the community where the disputed entry was recorded handle it.
    pub(super) async fn require_handler(&self, p: &Principal, o: &Objection) -> Result<()> {
        let community = self.directory.org(&o.community_id).await?;
        if self.directory.admin_covers(p, &community).await? {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not handle objection {} (community {})",
            p.role.as_str(),
            o.id,
            o.community_id
        )))
    }

    pub(super) fn raised_by_caller(&self, p: &Principal, o: &Objection) -> bool {
        match o.subject_kind.as_str() {
            "member" => p.member() == Some(o.subject_id.as_str()),
            _ => p.role == Role::UnitAdmin && p.org() == Some(o.subject_id.as_str()),
        }
    }

    pub async fn get_objection(&self, p: &Principal, id: &str) -> Result<Objection> {
        let o = self.objection_by_id(id).await?;
        if !self.raised_by_caller(p, &o) {
            self.require_handler(p, &o).await?;
        }
        Ok(o)
    }

    pub async fn assign_objection(&self, p: &Principal, id: &str, department: String) -> Result<Objection> {
        let o = self.objection_by_id(id).await?;
        self.require_handler(p, &o).await?;
        let mut tx = self.pool.begin().await?;
        if !db::assign(&mut tx, id, &department).await? {
            return Err(FeedbackError::wrong_state(format!("objection {id} is already decided")));
        }
        let (before, after) = (
            serde_json::json!({ "department": o.department }),
            serde_json::json!({ "department": department, "status": "assigned" }),
        );
        db::add_step(&mut tx, id, &step("assigned", p, department, Vec::new(), now_millis())).await?;
        self.audit(
            &mut tx,
            p,
            "AssignObjection",
            "objection",
            id,
            (&o.community_id, &o.community_path),
            Some(before),
            Some(after),
        )
        .await?;
        tx.commit().await?;
        self.objection_by_id(id).await
    }

    pub async fn add_note(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        note: String,
        evidence_ids: Vec<String>,
    ) -> Result<Objection> {
        let o = self.objection_by_id(id).await?;
        self.require_handler(p, &o).await?;
        let mut tx = self.pool.begin().await?;
        if idempotency::replayed_by(&mut tx, p, request_id, "AddInvestigationNote")
            .await?
            .is_some()
        {
            drop(tx);
            return self.objection_by_id(id).await;
        }
        if o.status.decided() {
            return Err(FeedbackError::wrong_state(format!(
                "objection {id} is already {}; its investigation is closed",
                o.status.as_str()
            )));
        }
        let after = serde_json::json!({ "note": note, "evidence_ids": evidence_ids });
        db::add_step(&mut tx, id, &step("note", p, note, evidence_ids, now_millis())).await?;
        self.audit(
            &mut tx,
            p,
            "AddInvestigationNote",
            "objection",
            id,
            (&o.community_id, &o.community_path),
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "AddInvestigationNote", id).await?;
        tx.commit().await?;
        self.objection_by_id(id).await
    }

    /// Decides once. Upheld: the correction is sent to scoring now (source key
    /// `objection:<id>`, so a retry cannot pay twice) and, if scoring does not
    /// take it, retried in the background until it does.
    pub async fn decide_objection(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        upheld: bool,
        points: i64,
        reason: String,
    ) -> Result<Objection> {
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "DecideObjection").await? {
            return self.objection_by_id(&id).await;
        }
        let o = self.objection_by_id(id).await?;
        self.require_handler(p, &o).await?;
        let decided = o.decide(&Decision {
            upheld,
            points,
            reason: reason.clone(),
        })?;
        let status = decided.status;
        let now = now_millis();
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "DecideObjection").await? {
            drop(tx);
            return self.objection_by_id(&id).await;
        }
        let points = decided.correction_points;
        if !db::decide(&mut tx, id, status, &reason, points, now, now + CORRECTION_LEASE_MS).await? {
            return Err(FeedbackError::wrong_state(format!(
                "objection {id} was already decided"
            )));
        }
        db::add_step(&mut tx, id, &step(status.as_str(), p, reason.clone(), Vec::new(), now)).await?;
        let event = Event {
            source: "feedback".into(),
            kind: format!("objection.{}", status.as_str()),
            occur_time: now,
            subject_id: o.id.clone(),
            district_id: o.district_id.clone(),
            community_id: o.community_id.clone(),
            unit_org_id: o.unit_org_id().to_owned(),
            member_id: o.member_id().to_owned(),
            text: reason,
            ..Default::default()
        };
        db::append_event(&mut tx, &event, None).await?;
        let (before, after) = (
            serde_json::json!({ "status": o.status.as_str() }),
            serde_json::json!({ "status": status.as_str(), "result": event.text, "correction_points": points }),
        );
        self.audit(
            &mut tx,
            p,
            "DecideObjection",
            "objection",
            id,
            (&o.community_id, &o.community_path),
            Some(before),
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "DecideObjection", id).await?;
        tx.commit().await?;
        self.appended.notify_waiters();
        if upheld {
            let decided = self.objection_by_id(id).await?;
            self.send_correction(&decided).await?;
        }
        self.objection_by_id(id).await
    }

    /// One attempt at an upheld objection's correction.
    pub async fn send_correction(&self, o: &Objection) -> Result<()> {
        let key = format!("objection:{}", o.id);
        let points = i32::try_from(o.correction_points).unwrap_or(0);
        let outcome = self.sources.correct(&key, &o.entry_id, points, &o.result).await;
        let mut tx = self.pool.begin().await?;
        match outcome {
            Ok(entry_id) => {
                if db::corrected(&mut tx, &o.id, &entry_id).await? {
                    let text = format!("correction {points:+} recorded as entry {entry_id}");
                    db::add_step(
                        &mut tx,
                        &o.id,
                        &Step {
                            action: "corrected".into(),
                            actor: "scoring".into(),
                            text,
                            evidence_ids: Vec::new(),
                            at: now_millis(),
                        },
                    )
                    .await?;
                }
                self.rules.corrections.record_delivered();
                tracing::info!(objection = %o.id, entry = %entry_id, "correction recorded");
            }
            Err(f) => {
                // A refusal (the points break the entry's rules) is not retried; it stays visible.
                let error = format!("{}: {}", f.code, f.message);
                let attempts = o.correction_attempts + 1;
                let failure = self
                    .rules
                    .corrections
                    .record_failure(&f.code, &error, f.outage, attempts, now_millis());
                db::CORRECTIONS.failed(&mut tx, &o.id, &failure).await?;
                tracing::warn!(objection = %o.id, error = %failure.error, given_up = failure.given_up(), "correction not recorded");
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A member's or unit admin's own objections; or those at communities under an org.
    pub async fn list_objections(
        &self,
        p: &Principal,
        org_id: &str,
        filter: &ObjectionFilter,
        page: &PageRequest,
    ) -> Result<Page<Objection>> {
        // Either the raiser's own card (subject) or everything at communities under an org (path).
        let (subject, path) = match (org_id.is_empty(), &p.scope, p.role) {
            (true, Scope::Member(me), _) => (me.clone(), String::new()),
            (true, Scope::Org(org), Role::UnitAdmin) => (org.clone(), String::new()),
            _ => (String::new(), self.list_root(p, org_id).await?.path()),
        };
        let mut conn = self.conn().await?;
        let rows = db::list_objections(&mut conn, &subject, &path, filter, page).await?;
        Ok(page.finish(rows, |o| &o.id))
    }

    /// Every objection [`Self::list_objections`] would page through (for exports).
    pub async fn all_objections(&self, p: &Principal, org_id: &str) -> Result<Vec<Objection>> {
        let mut out = Vec::new();
        let mut page = PageRequest {
            size: dualreport_platform::paging::MAX_PAGE_SIZE,
            after: String::new(),
        };
        loop {
            let (rows, next) = self
                .list_objections(p, org_id, &ObjectionFilter::default(), &page)
                .await?;
            let last = rows.last().map(|o| o.id.clone());
            out.extend(rows);
            match (next.is_empty(), last) {
                (false, Some(last)) => page.after = last,
                _ => return Ok(out),
            }
        }
    }

    /// The member's 服务登记表 from scoring, for the member or an admin over
    /// the community or the member's unit.
    pub async fn registration_table(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<dualreport_proto::scoring::v1::RegistrationTable> {
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        if p.member() != Some(member_id) && !self.directory.admin_covers(p, &community).await? {
            self.require_member_reader(p, member_id).await?;
        }
        self.sources
            .registration_table(member_id, community_id, period.year, period.half)
            .await
    }
}
