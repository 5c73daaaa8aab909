//! Household pairings (结对帮扶).

use super::*;

impl Volunteering {
    pub async fn assign_households(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        community_id: &str,
        labels: Vec<String>,
    ) -> Result<Vec<Household>> {
        self.community("community_id", community_id).await?;
        self.require_community_admin(p, community_id).await?;
        let HouseholdSettings { min, max } = self.rules.households;
        let count = labels.len();
        if count < min as usize || count > max as usize {
            return Err(VolunteeringError::CountOutOfBounds(FieldError::new(
                "labels",
                format!("a member covers {min} to {max} households; {count} were given"),
            )));
        }
        if idempotency::replayed_by_pooled(&self.pool, p, request_id, "AssignHouseholds")
            .await?
            .is_some()
        {
            return self.assigned_households(member_id).await;
        }
        self.require_registered_on(member_id, community_id, china_today())
            .await?;
        let households: Vec<Household> = labels
            .into_iter()
            .enumerate()
            .map(|(position, label)| Household {
                id: new_id(),
                member_id: member_id.to_owned(),
                community_id: community_id.to_owned(),
                position: i64::try_from(position).unwrap_or(i64::MAX),
                label,
                visits: 0,
                last_visit_at: None,
            })
            .collect();
        let mut tx = self.pool.begin().await?;
        if idempotency::replayed_by(&mut tx, p, request_id, "AssignHouseholds")
            .await?
            .is_some()
        {
            drop(tx);
            return self.assigned_households(member_id).await;
        }
        db::replace_households(&mut tx, member_id, &households).await?;
        self.directory.audit(&mut tx, p, "AssignHouseholds", "households", member_id, community_id, None, Some(serde_json::json!({"member_id": member_id, "labels": households.iter().map(|h| h.label.clone()).collect::<Vec<_>>()})))
            .await?;
        idempotency::remember(&mut tx, p, request_id, "AssignHouseholds", member_id).await?;
        tx.commit().await?;
        Ok(households)
    }

    pub async fn list_households(&self, p: &Principal, member_id: &str, page: &PageRequest) -> Result<Page<Household>> {
        self.require_member_reader(p, member_id).await?;
        let rows = db::list_households(&mut *self.conn().await?, member_id, page).await?;
        Ok(page.finish_by(rows, db::household_key))
    }

    /// All of a member's active households (at most `households.max`, so one page).
    async fn assigned_households(&self, member_id: &str) -> Result<Vec<Household>> {
        let page = PageRequest {
            size: dualreport_platform::paging::MAX_PAGE_SIZE,
            after: String::new(),
        };
        db::list_households(&mut *self.conn().await?, member_id, &page).await
    }

    /// The member logs a visit to one of their households.
    pub async fn log_visit(
        &self,
        p: &Principal,
        request_id: &str,
        household_id: &str,
        minutes: i64,
        note: String,
        evidence_ids: Vec<String>,
    ) -> Result<(Household, Attendance)> {
        let mut conn = self.conn().await?;
        let (household, active) = db::get_household(&mut conn, household_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("household", household_id))?;
        Self::require_self(p, &household.member_id)?;
        if !active {
            return Err(VolunteeringError::wrong_state(format!(
                "household {household_id} is no longer assigned to the member"
            )));
        }
        drop(conn);
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "LogVisit").await? {
            let attendance = db::get_attendance(&mut tx, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("attendance", &id))?;
            let (household, _) = db::get_household(&mut tx, household_id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("household", household_id))?;
            return Ok((household, attendance));
        }
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &household.community_id).await?;
        let title = if note.is_empty() {
            format!("入户走访: {}", household.label)
        } else {
            format!("入户走访: {} — {note}", household.label)
        };
        let attendance = Self::individual_service(
            &mut tx,
            p,
            &household.community_id,
            &household.member_id,
            ActivityKind::HouseholdVisit,
            &title,
            "",
            minutes,
            &evidence_ids,
        )
        .await?;
        db::count_visit(&mut tx, household_id, now_millis()).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                "LogVisit",
                "attendance",
                &attendance.id,
                &attendance.community_id,
                None,
                Some(serde_json::json!({"household_id": household.id, "minutes": attendance.minutes})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "LogVisit", &attendance.id).await?;
        let (household, _) = db::get_household(&mut tx, household_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("household", household_id))?;
        tx.commit().await?;
        Ok((household, attendance))
    }
}
