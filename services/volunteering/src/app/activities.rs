//! Activities (活动): publish, list, and issue the check-in code; attendance is `attendance.rs`.

use super::*;

impl Volunteering {
    pub async fn create_activity(&self, p: &Principal, request_id: &str, new: NewActivity) -> Result<Activity> {
        new.validate()?;
        self.community("community_id", &new.community_id).await?;
        self.require_community_admin(p, &new.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "CreateActivity").await? {
            return self.activity(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreateActivity").await? {
            drop(tx);
            return self.activity(&id).await;
        }
        if !new.post_id.is_empty() {
            Self::post(&mut tx, "post_id", &new.post_id, Some(&new.community_id)).await?;
        }
        if !new.team_id.is_empty() {
            match db::get_team(&mut tx, &new.team_id).await? {
                Some(team) if team.community_id == new.community_id => {}
                _ => return Err(VolunteeringError::invalid("team_id", "no such team in this community")),
            }
        }
        if !new.studio_id.is_empty() {
            match db::get_studio(&mut tx, &new.studio_id).await? {
                Some(studio) if studio.community_id == new.community_id => {}
                _ => {
                    return Err(VolunteeringError::invalid(
                        "studio_id",
                        "no such studio in this community",
                    ));
                }
            }
        }
        if !new.agreement_id.is_empty() {
            match db::get_agreement(&mut tx, &new.agreement_id).await? {
                Some(agreement) if agreement.community_id == new.community_id => {}
                _ => {
                    return Err(VolunteeringError::invalid(
                        "agreement_id",
                        "no such agreement with this community",
                    ));
                }
            }
        }
        let now = now_millis();
        let activity = Activity {
            id: new_id(),
            community_id: new.community_id,
            kind: new.kind,
            title: new.title,
            content: new.content,
            post_id: new.post_id,
            place: new.place,
            start_at: new.start_at,
            end_at: new.end_at,
            capacity: new.capacity,
            signed_up: 0,
            organiser: new.organiser,
            contact: new.contact,
            team_id: new.team_id,
            studio_id: new.studio_id,
            agreement_id: new.agreement_id,
            created_at: now,
        };
        db::insert_activity(&mut tx, &activity, &p.subject).await?;
        self.directory.audit(&mut tx, p, "CreateActivity", "activity", &activity.id, &activity.community_id, None, Some(serde_json::json!({"title": activity.title, "place": activity.place, "start_at": activity.start_at, "end_at": activity.end_at, "capacity": activity.capacity})))
            .await?;
        idempotency::remember(&mut tx, p, request_id, "CreateActivity", &activity.id).await?;
        tx.commit().await?;
        Ok(activity)
    }

    pub(super) async fn activity(&self, id: &str) -> Result<Activity> {
        db::get_activity(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("activity", id))
    }

    pub async fn get_activity(&self, p: &Principal, id: &str) -> Result<Activity> {
        let activity = self.activity(id).await?;
        self.require_community_reader(p, &activity.community_id).await?;
        Ok(activity)
    }

    pub async fn list_activities(
        &self,
        p: &Principal,
        community_id: &str,
        kind: Option<ActivityKind>,
        page: &PageRequest,
    ) -> Result<Page<Activity>> {
        self.require_community_reader(p, community_id).await?;
        let rows = db::list_activities(&mut *self.conn().await?, community_id, kind, page).await?;
        Ok(page.finish(rows, |a| &a.id))
    }

    /// A fresh six-digit code, valid for `checkin.code_ttl_secs` (never past the end).
    pub async fn issue_check_in_code(&self, p: &Principal, activity_id: &str) -> Result<(String, i64)> {
        let activity = self.activity(activity_id).await?;
        self.require_community_admin(p, &activity.community_id).await?;
        let now = now_millis();
        if activity.finished(now) {
            return Err(VolunteeringError::ActivityFinished(format!(
                "activity {activity_id} has ended"
            )));
        }
        let code = new_check_in_code();
        let expires_at = (now + self.rules.code_ttl_millis).min(activity.end_at);
        let mut tx = self.pool.begin().await?;
        db::set_check_in_code(&mut tx, activity_id, &code, expires_at).await?;
        // The code itself stays out of the trail: it admits whoever holds it.
        let after = serde_json::json!({ "check_in_code_expires_at": expires_at });
        self.directory
            .audit(
                &mut tx,
                p,
                "IssueCheckInCode",
                "activity",
                activity_id,
                &activity.community_id,
                None,
                Some(after),
            )
            .await?;
        tx.commit().await?;
        Ok((code, expires_at))
    }
}
