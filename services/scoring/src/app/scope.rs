//! Who may act on what: the scope checks (`require_*`) every use case runs before it reads or writes.

use super::*;

impl Scoring {
    /// The org of an admin token, after checking the role fits its type.
    pub(super) async fn admin_org(&self, p: &Principal) -> Result<Option<OrgInfo>> {
        Ok(self.directory.admin_org(p).await?)
    }

    /// Whether `p` is an admin at or above `org`.
    pub(super) async fn admin_covers(&self, p: &Principal, org: &OrgInfo) -> Result<bool> {
        Ok(self.directory.admin_covers(p, org).await?)
    }

    /// Community admins act for their own community; the `service` role
    /// (the volunteering and feedback services) when `service_may` is true.
    pub(super) async fn require_community_writer(
        &self,
        p: &Principal,
        community_id: &str,
        service_may: bool,
    ) -> Result<()> {
        if p.role == Role::Service && service_may {
            return Ok(());
        }
        if p.role == Role::CommunityAdmin && p.org() == Some(community_id) && self.admin_org(p).await?.is_some() {
            return Ok(());
        }
        Err(ScoringError::out_of_scope(format!(
            "{} may not write for community {community_id}",
            p.role.as_str()
        )))
    }

    /// The community named in a write: it must be a community (or service centre).
    /// The org a request names in `field`; an unknown id is the caller's error.
    pub(super) async fn org(&self, field: &str, id: &str) -> Result<OrgInfo> {
        match self.directory.org(id).await {
            Err(DirectoryError::NotFound { .. }) => Err(ScoringError::invalid(field, format!("no organization {id}"))),
            other => Ok(other?),
        }
    }

    pub(super) async fn community(&self, field: &str, id: &str) -> Result<OrgInfo> {
        let org = self.org(field, id).await?;
        if org.kind != OrgKind::Community {
            return Err(ScoringError::invalid(field, format!("{id} is not a community")));
        }
        Ok(org)
    }

    /// Who may read a subject's card: the member itself; admins over the
    /// member's unit or residence community (or over the unit org); admins
    /// over the community the read is limited to; the `service` role.
    pub(super) async fn require_reader(
        &self,
        p: &Principal,
        subject: &Subject,
        community_id: Option<&str>,
    ) -> Result<()> {
        let allowed = match (&p.scope, subject.kind) {
            (Scope::Service, _) => true,
            (Scope::Cloud | Scope::Public, _) => false,
            (Scope::Member(id), SubjectKind::Member) => *id == subject.id,
            (Scope::Member(_), SubjectKind::UnitOrg) => false,
            (Scope::Org(_), kind) => {
                let over_community = match community_id {
                    Some(c) if !c.is_empty() => self.admin_covers(p, &self.directory.org(c).await?).await?,
                    _ => false,
                };
                over_community
                    || match kind {
                        SubjectKind::Member => {
                            let member = self.directory.member(&subject.id).await?;
                            self.admin_covers(p, &self.directory.org(&member.unit_org_id).await?)
                                .await?
                                || self
                                    .admin_covers(p, &self.directory.org(&member.residence_community_id).await?)
                                    .await?
                        }
                        SubjectKind::UnitOrg => self.admin_covers(p, &self.directory.org(&subject.id).await?).await?,
                    }
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(ScoringError::out_of_scope(format!(
                "{} may not read the card of {} {}",
                p.role.as_str(),
                subject.kind.as_str(),
                subject.id
            )))
        }
    }
}
