//! Who may act on what: the scope checks (`require_*`) every use case runs before it reads or writes.

use super::*;

impl Volunteering {
    /// The community named in a call: it must be a community (or service centre).
    /// The org a request names in `field`; an unknown id is the caller's error.
    pub(super) async fn org(&self, field: &str, id: &str) -> Result<OrgInfo> {
        match self.directory.org(id).await {
            Err(DirectoryError::NotFound { .. }) => {
                Err(VolunteeringError::invalid(field, format!("no organization {id}")))
            }
            other => Ok(other?),
        }
    }

    pub(super) async fn community(&self, field: &str, id: &str) -> Result<OrgInfo> {
        let org = self.org(field, id).await?;
        if org.kind != OrgKind::Community {
            return Err(VolunteeringError::invalid(field, format!("{id} is not a community")));
        }
        Ok(org)
    }

    /// Community admins manage their own community.
    pub(super) async fn require_community_admin(&self, p: &Principal, community_id: &str) -> Result<()> {
        if p.role == Role::CommunityAdmin
            && p.org() == Some(community_id)
            && self.directory.admin_org(p).await?.is_some()
        {
            return Ok(());
        }
        Err(VolunteeringError::out_of_scope(format!(
            "{} may not manage community {community_id}",
            p.role.as_str()
        )))
    }

    /// Admins at or above `org`, and the `service` role, may read `what`
    /// (the records of every member serving there).
    pub(super) async fn require_overseer(&self, p: &Principal, org: &OrgInfo, what: &str) -> Result<()> {
        if p.role == Role::Service || self.directory.admin_covers(p, org).await? {
            return Ok(());
        }
        Err(VolunteeringError::out_of_scope(format!(
            "{} may not list {what}",
            p.role.as_str()
        )))
    }

    /// The communities `area` names, once `p` may read `what` there: a
    /// community's readers (members registered there, paired units, admins
    /// above it), or for a subtree its admins and `service`.
    pub(super) async fn communities_of(&self, p: &Principal, area: &Area, what: &str) -> Result<Arc<Vec<String>>> {
        match area {
            Area::Community(id) => {
                self.require_community_reader(p, id).await?;
                Ok(Arc::new(vec![id.clone()]))
            }
            Area::Subtree(org_id) => self.subtree_communities(p, org_id, what).await,
        }
    }

    /// The communities inside `org_id`'s subtree, once `p` may read `what`
    /// there (its admins and `service`).
    pub(super) async fn subtree_communities(
        &self,
        p: &Principal,
        org_id: &str,
        what: &str,
    ) -> Result<Arc<Vec<String>>> {
        let org = self.org("org_id", org_id).await?;
        self.require_overseer(p, &org, &format!("the {what} inside {org_id}"))
            .await?;
        Ok(self.directory.communities_within(&org).await?)
    }

    /// Members act for themselves only.
    pub(super) fn require_self(p: &Principal, member_id: &str) -> Result<()> {
        if p.member() == Some(member_id) {
            return Ok(());
        }
        Err(VolunteeringError::out_of_scope(format!(
            "{} may not act for member {member_id}",
            p.role.as_str()
        )))
    }

    /// Unit admins act for their own unit org.
    pub(super) async fn require_unit_admin(&self, p: &Principal, unit_org_id: &str) -> Result<()> {
        if p.role == Role::UnitAdmin && p.org() == Some(unit_org_id) && self.directory.admin_org(p).await?.is_some() {
            return Ok(());
        }
        Err(VolunteeringError::out_of_scope(format!(
            "{} may not act for unit org {unit_org_id}",
            p.role.as_str()
        )))
    }

    /// Who may read what a community publishes (posts, teams, pledges,
    /// activities, orders, wishes, agreements): admins at or above it, the
    /// `service` role, members registered there this year or last, and unit
    /// orgs paired with it this year or last.
    pub(super) async fn require_community_reader(&self, p: &Principal, community_id: &str) -> Result<OrgInfo> {
        let org = self.community("community_id", community_id).await?;
        let this_year = chrono::Datelike::year(&china_today());
        let allowed = match &p.scope {
            Scope::Service => true,
            Scope::Cloud | Scope::Public => false,
            Scope::Member(member) => {
                self.directory
                    .member_registered(member, community_id, this_year)
                    .await?
                    || self
                        .directory
                        .member_registered(member, community_id, this_year - 1)
                        .await?
            }
            Scope::Org(unit) if p.role == Role::UnitAdmin => {
                self.directory.admin_org(p).await?.is_some()
                    && (self.directory.unit_registered(unit, community_id, this_year).await?
                        || self
                            .directory
                            .unit_registered(unit, community_id, this_year - 1)
                            .await?)
            }
            Scope::Org(_) => self.directory.admin_covers(p, &org).await?,
        };
        if allowed {
            Ok(org)
        } else {
            Err(VolunteeringError::out_of_scope(format!(
                "{} may not read community {community_id}",
                p.role.as_str()
            )))
        }
    }

    /// Who may read a member's own records (claims, pledge, households,
    /// attendance): the member, admins over the member's unit or community of
    /// residence, the `service` role.
    pub(super) async fn require_member_reader(&self, p: &Principal, member_id: &str) -> Result<()> {
        let allowed = match &p.scope {
            Scope::Service => true,
            Scope::Cloud | Scope::Public => false,
            Scope::Member(id) => id == member_id,
            Scope::Org(_) => {
                let member = self.directory.member(member_id).await?;
                let unit = self.directory.org(&member.unit_org_id).await?;
                let home = self.directory.org(&member.residence_community_id).await?;
                self.directory.admin_covers(p, &unit).await? || self.directory.admin_covers(p, &home).await?
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(VolunteeringError::out_of_scope(format!(
                "{} may not read the records of member {member_id}",
                p.role.as_str()
            )))
        }
    }

    /// The member must be registered at the community on `on` (a member who
    /// moved belongs to the new community from the move on, and no longer to
    /// the old one).
    pub(super) async fn require_registered_on(&self, member_id: &str, community_id: &str, on: Date) -> Result<()> {
        self.directory.member(member_id).await?;
        if self.directory.member_registered_on(member_id, community_id, on).await? {
            return Ok(());
        }
        Err(VolunteeringError::NotRegistered(format!(
            "member {member_id} is not registered at community {community_id} on {on}"
        )))
    }

    /// A claim is made today for its year: registered today when the year is
    /// this one, registered that year otherwise.
    pub(super) async fn require_registered_for_claim(
        &self,
        member_id: &str,
        community_id: &str,
        year: i32,
    ) -> Result<()> {
        let today = china_today();
        if chrono::Datelike::year(&today) == year {
            self.require_registered_on(member_id, community_id, today).await
        } else {
            self.require_registered(member_id, community_id, year).await
        }
    }

    /// The member must have a confirmed report at the community for `year`.
    pub(super) async fn require_registered(&self, member_id: &str, community_id: &str, year: i32) -> Result<()> {
        self.directory.member(member_id).await?;
        if self.directory.member_registered(member_id, community_id, year).await? {
            return Ok(());
        }
        Err(VolunteeringError::NotRegistered(format!(
            "member {member_id} has no confirmed report at community {community_id} for {year}"
        )))
    }

    pub(super) async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Every evidence id must exist and belong to the community.
    pub(super) async fn check_evidence(
        conn: &mut AnyConnection,
        field: &str,
        ids: &[String],
        community_id: &str,
    ) -> Result<()> {
        for (i, id) in ids.iter().enumerate() {
            match db::get_evidence(conn, id).await? {
                Some(e) if e.community_id == community_id => {}
                Some(_) => {
                    return Err(VolunteeringError::invalid(
                        &format!("{field}[{i}]"),
                        format!("evidence {id} belongs to another community"),
                    ));
                }
                None => {
                    return Err(VolunteeringError::invalid(
                        &format!("{field}[{i}]"),
                        format!("no evidence {id}; upload it first"),
                    ));
                }
            }
        }
        Ok(())
    }
}
