//! Who may act on what: the scope checks (`require_*`) every use case runs before it reads or writes.

use super::*;

impl Registry {
    /// The org an admin principal acts on; its role must fit the org's type.
    pub(super) async fn admin_org(&self, conn: &mut AnyConnection, p: &Principal) -> Result<Option<Org>> {
        let Scope::Org(id) = &p.scope else { return Ok(None) };
        let org = self
            .org(conn, id)
            .await?
            .ok_or_else(|| RegistryError::out_of_scope(format!("the token's org {id} is unknown")))?;
        let fits = match p.role {
            Role::CityAdmin => org.org_type == OrgType::City,
            Role::DistrictAdmin => org.org_type == OrgType::District,
            Role::StreetAdmin => org.org_type == OrgType::Street,
            Role::CommunityAdmin => matches!(org.org_type, OrgType::Community | OrgType::ServiceCenter),
            Role::UnitAdmin => org.org_type.is_unit(),
            Role::Member | Role::Service | Role::Cloud | Role::Public => false,
        };
        if !fits {
            return Err(RegistryError::out_of_scope(format!(
                "role {} cannot act for an org of type {}",
                p.role.as_str(),
                org.org_type.as_str()
            )));
        }
        Ok(Some(org))
    }

    /// An admin whose subtree holds `path`; anything else is refused.
    pub(super) async fn require_admin_over(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        path: &str,
        what: &str,
    ) -> Result<Org> {
        match self.admin_org(conn, p).await? {
            Some(org) if org.covers(path) => Ok(org),
            _ => Err(RegistryError::out_of_scope(format!(
                "{} may not act on {what}",
                p.role.as_str()
            ))),
        }
    }

    /// True when `p` may see or act on the member: the member itself, or an
    /// admin over the member's unit or residence community.
    pub(super) async fn may_act_on_member(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        m: &MemberRow,
    ) -> Result<bool> {
        let paths = match p.scope {
            Scope::Org(_) => self.member_paths(conn, m).await?,
            Scope::Member(_) | Scope::Service | Scope::Cloud | Scope::Public => MemberPaths::default(),
        };
        self.may_act_on_member_at(conn, p, &m.id, &paths).await
    }

    /// [`Self::may_act_on_member`] when the member's paths are already known.
    pub(super) async fn may_act_on_member_at(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        member_id: &str,
        paths: &MemberPaths,
    ) -> Result<bool> {
        Ok(match &p.scope {
            Scope::Member(id) => id == member_id,
            Scope::Service | Scope::Cloud | Scope::Public => false,
            Scope::Org(_) => self
                .admin_org(conn, p)
                .await?
                .is_some_and(|org| org.covers(&paths.unit) || org.covers(&paths.community)),
        })
    }

    pub(super) async fn require_member_access(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        m: &MemberRow,
        read: bool,
    ) -> Result<()> {
        if (read && p.role == Role::Service) || self.may_act_on_member(conn, p, m).await? {
            Ok(())
        } else {
            Err(RegistryError::out_of_scope(format!(
                "{} may not act on member {}",
                p.role.as_str(),
                m.id
            )))
        }
    }

    pub(super) async fn member_paths(&self, conn: &mut AnyConnection, m: &MemberRow) -> Result<MemberPaths> {
        let unit = self.require_org(conn, &m.unit_org_id).await?;
        let community = self.require_org(conn, &m.residence_community_id).await?;
        Ok(MemberPaths {
            unit: unit.path,
            community: community.path,
        })
    }

    /// The org `p` names as a filter, after checking `p` covers it (service: any).
    pub(super) async fn scoped_org(&self, conn: &mut AnyConnection, p: &Principal, org_id: &str) -> Result<Org> {
        if org_id.is_empty() {
            return Err(RegistryError::invalid("org_id", "must not be empty"));
        }
        let org = self.require_org(conn, org_id).await?;
        if p.role != Role::Service {
            self.require_admin_over(conn, p, &org.path, &format!("org {org_id}"))
                .await?;
        }
        Ok(org)
    }
}
