//! Summary tables (附录F): a unit's members with points, stars and the community's comments.

use super::*;

impl Feedback {
    /// The table for a unit org: its admins and those above it; or the admin
    /// of a community the unit is paired with, for that community's view.
    pub async fn summary_table(
        &self,
        p: &Principal,
        unit_org_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<SummaryTable> {
        let unit = self.org_of_kind("unit_org_id", unit_org_id, OrgKind::Unit).await?;
        if community_id.is_empty() {
            self.require_admin_over(p, &unit).await?;
        } else {
            let community = self
                .org_of_kind("community_id", community_id, OrgKind::Community)
                .await?;
            if !self.directory.admin_covers(p, &unit).await? {
                self.require_admin_over(p, &community).await?;
                self.require_paired(&unit, &community, period.year).await?;
            }
        }
        self.build_summary(&unit, community_id, period).await
    }

    /// Reads members from the registry (which must answer: without it there
    /// are no rows), reports and points with deadlines; a row whose reports or
    /// points did not come back names the missing source.
    pub async fn build_summary(&self, unit: &OrgInfo, community_id: &str, period: Period) -> Result<SummaryTable> {
        let members = self
            .sources
            .within("registry", self.sources.unit_members(&unit.id))
            .await?;
        let mut missing_sources = Vec::new();
        let reports = match self
            .sources
            .within("registry", self.sources.member_reports(&unit.id, period.year))
            .await
        {
            Ok(reports) => Some(reports),
            Err(FeedbackError::Unavailable(message)) => {
                tracing::warn!(%message, "summary without registry reports");
                missing_sources.push("registry".to_owned());
                None
            }
            Err(other) => return Err(other),
        };
        // member → community reported to (confirmed, or ended after confirmation).
        let mut reported: HashMap<String, String> = HashMap::new();
        for r in reports.iter().flatten() {
            let counted = r.counts && r.confirmed_at.is_some();
            if counted && (community_id.is_empty() || r.community_id == community_id) {
                reported.insert(r.member_id.clone(), r.community_id.clone());
            }
        }
        let members: Vec<UnitMember> = members
            .into_iter()
            .filter(|m| {
                community_id.is_empty() || reported.contains_key(&m.id) || m.residence_community_id == community_id
            })
            .collect();
        // One batched read of the points, within scoring's one deadline.
        let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
        let totals = match self
            .sources
            .within("scoring", self.sources.member_totals(&ids, period.year))
            .await
        {
            Ok(totals) => Some(
                totals
                    .into_iter()
                    .map(|t| (t.member_id.clone(), t))
                    .collect::<HashMap<_, _>>(),
            ),
            Err(FeedbackError::Unavailable(message)) => {
                tracing::warn!(%message, "summary without scoring's points");
                None
            }
            Err(other) => return Err(other),
        };
        let mut conn = self.conn().await?;
        let mut comments: HashMap<String, Vec<String>> = HashMap::new();
        for c in db::comments(&mut conn, period, community_id).await? {
            comments.entry(c.member_id).or_default().push(c.comment);
        }
        drop(conn);
        // Stars are scoring's to count (its `Rules::stars`); a year sums its
        // halves' stars under the same cap.
        let max_stars = i64::from(self.rules.policy.max_stars);
        let mut rows = Vec::with_capacity(members.len());
        let mut scoring_missing = false;
        for (i, member) in members.iter().enumerate() {
            let mut missing = Vec::new();
            if reports.is_none() {
                missing.push("registry".to_owned());
            }
            let (points, stars_earned) = match totals.as_ref().and_then(|t| t.get(&member.id)) {
                Some(t) => {
                    let mut points = 0i64;
                    let mut stars_earned = 0i64;
                    for h in &t.halves {
                        if period.covers(h.year, h.half) && (community_id.is_empty() || h.community_id == community_id)
                        {
                            points += h.earned;
                            stars_earned += h.stars;
                        }
                    }
                    (points, stars_earned.min(max_stars))
                }
                None => {
                    scoring_missing = true;
                    missing.push("scoring".to_owned());
                    (0, 0)
                }
            };
            let reported_at = reported.get(&member.id).cloned().unwrap_or_default();
            rows.push(SummaryRow {
                number: i32::try_from(i + 1).unwrap_or(i32::MAX),
                member_id: member.id.clone(),
                name: member.name.clone(),
                reported: !reported_at.is_empty(),
                reported_community_id: reported_at,
                points,
                stars: stars_earned,
                comment: comments.remove(&member.id).unwrap_or_default().join("；"),
                missing,
            });
        }
        if scoring_missing {
            missing_sources.push("scoring".to_owned());
        }
        Ok(SummaryTable {
            unit_org_id: unit.id.clone(),
            unit_name: unit.name.clone(),
            community_id: community_id.to_owned(),
            period,
            rows,
            missing_sources,
            built_at: now_millis(),
        })
    }

    pub async fn comment_on_member(
        &self,
        p: &Principal,
        community_id: &str,
        member_id: &str,
        period: Period,
        comment: String,
    ) -> Result<MemberComment> {
        let community = self
            .org_of_kind("community_id", community_id, OrgKind::Community)
            .await?;
        self.require_community_admin(p, &community).await?;
        if !self
            .directory
            .member_registered(member_id, community_id, period.year)
            .await?
        {
            return Err(FeedbackError::NotRegistered(format!(
                "member {member_id} has no confirmed report at community {community_id} for {}",
                period.year
            )));
        }
        let c = MemberComment {
            community_id: community_id.to_owned(),
            member_id: member_id.to_owned(),
            period,
            comment,
            author: actor(p),
            updated_at: now_millis(),
        };
        let mut tx = self.pool.begin().await?;
        db::upsert_comment(&mut tx, &c).await?;
        let id = format!("{community_id}/{member_id}/{}", period.label());
        let after = serde_json::json!({ "member_id": member_id, "period": period.label(), "comment": c.comment });
        self.audit(
            &mut tx,
            p,
            "CommentOnMember",
            "comment",
            &id,
            (&community.id, &community.path()),
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(c)
    }
}
