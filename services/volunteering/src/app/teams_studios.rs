//! Service teams (服务队) and studios (工作室).

use super::*;

impl Volunteering {
    pub async fn create_team(&self, p: &Principal, request_id: &str, team: Team) -> Result<Team> {
        self.community("community_id", &team.community_id).await?;
        self.require_community_admin(p, &team.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "CreateTeam").await? {
            return self.team(&id).await;
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreateTeam").await? {
            drop(tx);
            return self.team(&id).await;
        }
        if !team.post_id.is_empty() {
            Self::post(&mut tx, "post_id", &team.post_id, Some(&team.community_id)).await?;
        }
        match db::insert_team(&mut tx, &team).await {
            Err(e) if e.is_duplicate() => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "community {} already has a team named {}",
                    team.community_id, team.name
                )));
            }
            other => other?,
        }
        self.directory
            .audit(
                &mut tx,
                p,
                "CreateTeam",
                "team",
                &team.id,
                &team.community_id,
                None,
                Some(serde_json::json!({"name": team.name})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "CreateTeam", &team.id).await?;
        tx.commit().await?;
        Ok(team)
    }

    pub(super) async fn team(&self, id: &str) -> Result<Team> {
        db::get_team(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("team", id))
    }

    /// A member joins (`join`) or leaves a team of a community where they are registered.
    pub async fn change_team(&self, p: &Principal, team_id: &str, member_id: &str, join: bool) -> Result<Team> {
        Self::require_self(p, member_id)?;
        let team = self.team(team_id).await?;
        if join {
            let year = chrono::Datelike::year(&china_today());
            self.require_registered(member_id, &team.community_id, year).await?;
        }
        let mut tx = self.pool.begin().await?;
        let (method, change) = if join {
            db::join_team(&mut tx, team_id, member_id, now_millis()).await?;
            ("JoinTeam", (None, Some(serde_json::json!({ "member_id": member_id }))))
        } else {
            db::leave_team(&mut tx, team_id, member_id).await?;
            ("LeaveTeam", (Some(serde_json::json!({ "member_id": member_id })), None))
        };
        self.directory
            .audit(
                &mut tx,
                p,
                method,
                "team",
                team_id,
                &team.community_id,
                change.0,
                change.1,
            )
            .await?;
        let team = db::get_team(&mut tx, team_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("team", team_id))?;
        tx.commit().await?;
        Ok(team)
    }

    pub async fn list_teams(&self, p: &Principal, community_id: &str, page: &PageRequest) -> Result<Page<Team>> {
        self.require_community_reader(p, community_id).await?;
        let rows = db::list_teams(&mut *self.conn().await?, community_id, page).await?;
        Ok(page.finish(rows, |t| &t.id))
    }

    pub async fn create_studio(&self, p: &Principal, request_id: &str, studio: Studio) -> Result<Studio> {
        self.community("community_id", &studio.community_id).await?;
        self.require_community_admin(p, &studio.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "CreateStudio").await? {
            return db::get_studio(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("studio", &id));
        }
        let year = chrono::Datelike::year(&china_today());
        self.require_registered(&studio.member_id, &studio.community_id, year)
            .await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreateStudio").await? {
            drop(tx);
            return db::get_studio(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("studio", &id));
        }
        match db::insert_studio(&mut tx, &studio).await {
            Err(e) if e.is_duplicate() => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "community {} already has a studio named {}",
                    studio.community_id, studio.name
                )));
            }
            other => other?,
        }
        self.directory
            .audit(
                &mut tx,
                p,
                "CreateStudio",
                "studio",
                &studio.id,
                &studio.community_id,
                None,
                Some(serde_json::json!({"name": studio.name, "member_id": studio.member_id})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "CreateStudio", &studio.id).await?;
        tx.commit().await?;
        Ok(studio)
    }

    pub async fn list_studios(&self, p: &Principal, community_id: &str, page: &PageRequest) -> Result<Page<Studio>> {
        self.require_community_reader(p, community_id).await?;
        let rows = db::list_studios(&mut *self.conn().await?, community_id, page).await?;
        Ok(page.finish(rows, |s| &s.id))
    }
}
