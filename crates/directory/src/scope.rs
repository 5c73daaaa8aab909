//! The admin scope the directory decides: which org an admin token acts for,
//! and whether it covers another org.

use super::*;

impl Directory {
    /// The org an admin token acts for, after checking the role fits its type
    /// (a community admin's org must be a community, …); `None` for members
    /// and services.
    pub async fn admin_org(&self, p: &Principal) -> Result<Option<OrgInfo>> {
        let Scope::Org(id) = &p.scope else { return Ok(None) };
        let org = match self.org(id).await {
            Ok(org) => org,
            Err(DirectoryError::NotFound { .. }) => {
                return Err(DirectoryError::OutOfScope(format!("the token's org {id} is unknown")));
            }
            Err(other) => return Err(other),
        };
        let fits = match p.role {
            Role::CityAdmin => org.kind == OrgKind::City,
            Role::DistrictAdmin => org.kind == OrgKind::District,
            Role::StreetAdmin => org.kind == OrgKind::Street,
            Role::CommunityAdmin => org.kind == OrgKind::Community,
            Role::UnitAdmin => org.kind == OrgKind::Unit,
            Role::Member | Role::Service | Role::Cloud | Role::Public => false,
        };
        if !fits {
            return Err(DirectoryError::OutOfScope(format!(
                "role {} cannot act for org {id}",
                p.role.as_str()
            )));
        }
        Ok(Some(org))
    }

    /// Whether `p` is an admin at or above `org`.
    pub async fn admin_covers(&self, p: &Principal, org: &OrgInfo) -> Result<bool> {
        Ok(match self.admin_org(p).await? {
            Some(admin) => org.is_within(&admin.id),
            None => false,
        })
    }
}
