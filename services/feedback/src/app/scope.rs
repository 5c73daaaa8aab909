//! Who may act on what: the scope checks (`require_*`) every use case runs before it reads or writes.

use super::*;

impl Feedback {
    /// The org named in a call, which must be of `kind`.
    pub(super) async fn org_of_kind(&self, field: &str, id: &str, kind: OrgKind) -> Result<OrgInfo> {
        let org = match self.directory.org(id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(FeedbackError::invalid(field, format!("no organization {id}")));
            }
            other => other?,
        };
        if org.kind != kind {
            let what = match kind {
                OrgKind::Community => "a community",
                OrgKind::Unit => "a resident-unit org",
                _ => "an org of the right type",
            };
            return Err(FeedbackError::invalid(field, format!("{id} is not {what}")));
        }
        Ok(org)
    }

    pub(super) async fn require_admin_over(&self, p: &Principal, org: &OrgInfo) -> Result<()> {
        if self.directory.admin_covers(p, org).await? {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "{} may not act for org {}",
            p.role.as_str(),
            org.id
        )))
    }

    /// Exactly the community's own admin (notices, ratings and comments are the community's voice).
    pub(super) async fn require_community_admin(&self, p: &Principal, community: &OrgInfo) -> Result<()> {
        if p.role == Role::CommunityAdmin
            && p.org() == Some(community.id.as_str())
            && self.directory.admin_org(p).await?.is_some()
        {
            return Ok(());
        }
        Err(FeedbackError::out_of_scope(format!(
            "only community {}'s admin may do this; the caller is {}",
            community.id,
            p.role.as_str()
        )))
    }

    pub(super) async fn require_paired(&self, unit: &OrgInfo, community: &OrgInfo, year: i32) -> Result<()> {
        if self.directory.unit_registered(&unit.id, &community.id, year).await? {
            return Ok(());
        }
        Err(FeedbackError::NotPaired(format!(
            "unit org {} has no received report at community {} for {year}",
            unit.id, community.id
        )))
    }

    /// The org a list is read under: the one named, or the caller's own.
    pub(super) async fn list_root(&self, p: &Principal, org_id: &str) -> Result<OrgInfo> {
        if org_id.is_empty() {
            return self
                .directory
                .admin_org(p)
                .await?
                .ok_or_else(|| FeedbackError::out_of_scope(format!("{} has no org to list under", p.role.as_str())));
        }
        let org = match self.directory.org(org_id).await {
            Err(DirectoryError::NotFound { .. }) => {
                return Err(FeedbackError::invalid("org_id", format!("no organization {org_id}")));
            }
            other => other?,
        };
        self.require_admin_over(p, &org).await?;
        Ok(org)
    }

    /// The member themself, or an admin over the member's unit or home community.
    pub(super) async fn require_member_reader(&self, p: &Principal, member_id: &str) -> Result<()> {
        let allowed = match &p.scope {
            Scope::Member(me) => me == member_id,
            Scope::Service => true,
            Scope::Cloud | Scope::Public => false,
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
            Err(FeedbackError::out_of_scope(format!(
                "{} may not read member {member_id}",
                p.role.as_str()
            )))
        }
    }
}
