//! The communities inside an org's subtree, for services whose tables hold
//! only a community id and list a street's, a district's or the city's; and
//! the city root, for what belongs to the whole city (the cloud's webhook).

use super::*;

impl Directory {
    /// The ids of the communities (and service centres) at or under `org`,
    /// sorted; cached like the other positive answers.
    pub async fn communities_within(&self, org: &OrgInfo) -> Result<Arc<Vec<String>>> {
        if org.kind == OrgKind::Community {
            return Ok(Arc::new(vec![org.id.clone()]));
        }
        if let Some(ids) = self.communities.get(&org.id) {
            return Ok(ids);
        }
        let mut ids = Vec::new();
        for kind in [pb::OrganizationType::Community, pb::OrganizationType::ServiceCenter] {
            let mut page_token = String::new();
            loop {
                let page = self
                    .client
                    .clone()
                    .list_organizations(pb::ListOrganizationsRequest {
                        r#type: kind.into(),
                        page_size: 500,
                        page_token,
                        ..Default::default()
                    })
                    .await
                    .map_err(|status| upstream(status, "organization", &org.id))?
                    .into_inner();
                ids.extend(
                    page.organizations
                        .into_iter()
                        .filter(|o| o.id == org.id || o.ancestor_ids.contains(&org.id))
                        .map(|o| o.id),
                );
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
        }
        ids.sort();
        let ids = Arc::new(ids);
        self.communities.put(org.id.clone(), ids.clone());
        Ok(ids)
    }

    /// The root of the org tree (the one org of type city).
    pub async fn city_root(&self) -> Result<OrgInfo> {
        if let Some(id) = self.city_root.get(&()) {
            return self.org(&id).await;
        }
        let root = self
            .client
            .clone()
            .list_organizations(pb::ListOrganizationsRequest {
                r#type: pb::OrganizationType::City.into(),
                page_size: 1,
                ..Default::default()
            })
            .await
            .map_err(|status| upstream(status, "organization", "the city"))?
            .into_inner()
            .organizations
            .into_iter()
            .next()
            .ok_or_else(|| DirectoryError::NotFound {
                what: "organization",
                id: "the city".to_owned(),
            })?;
        self.city_root.put((), root.id.clone());
        self.org(&root.id).await
    }
}
