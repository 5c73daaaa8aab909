//! Organisations (组织): the tree of city, districts, streets, communities and units, and its changes.

use super::*;

impl Registry {
    pub async fn create_org(&self, p: &Principal, request_id: &str, input: OrgInput) -> Result<Org> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreateOrganization").await? {
            return db::require_org(&mut tx, &id).await;
        }
        if input.org_type == OrgType::City {
            return Err(RegistryError::invalid(
                "organization.type",
                "the city is the root, created at start-up; create districts and below",
            ));
        }
        let parent = db::org(&mut tx, &input.parent_id).await?.ok_or_else(|| {
            RegistryError::invalid("organization.parent_id", format!("unknown org {:?}", input.parent_id))
        })?;
        self.require_admin_over(&mut tx, p, &parent.path, &format!("org {}", parent.id))
            .await?;
        check_parent(input.org_type, &parent)?;
        if parent.city_owned {
            return Err(RegistryError::CityOwned(parent.id));
        }
        let id = new_id();
        let now = now_millis();
        let org = Org {
            path: format!("{}{id}/", parent.path),
            // A district lies in itself; everything else in its parent's district.
            district_id: if input.org_type == OrgType::District {
                Some(id.clone())
            } else {
                district_under(&parent)
            },
            id,
            name: input.name,
            org_type: input.org_type,
            parent_id: Some(parent.id),
            details: input.details,
            created_at: now,
            updated_at: now,
            city_owned: false,
        };
        db::insert_org(&mut tx, &org).await?;
        let after = org_fields(&org);
        self.audit(
            &mut tx,
            p,
            "CreateOrganization",
            "organization",
            &org.id,
            &org.id,
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "CreateOrganization", &org.id).await?;
        tx.commit().await?;
        Ok(org)
    }

    pub async fn get_org(&self, id: &str) -> Result<Org> {
        let mut conn = self.pool.acquire().await?;
        db::require_org(&mut conn, id).await
    }

    /// The organisation directory is readable by every authenticated caller.
    pub async fn list_orgs(&self, filter: &OrgFilter<'_>, page: &PageRequest) -> Result<(Vec<Org>, String)> {
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_orgs(&mut conn, filter, page).await?;
        Ok(page.finish(rows, |o| &o.id))
    }

    /// Applies the masked fields; a new parent is checked for type and cycles.
    pub async fn update_org(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        input: OrgInput,
        mask: &[String],
        etag: &str,
    ) -> Result<Org> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "UpdateOrganization").await? {
            return db::require_org(&mut tx, &id).await;
        }
        let mut org = db::require_org(&mut tx, id).await?;
        self.require_admin_over(&mut tx, p, &org.path, &format!("org {id}"))
            .await?;
        if org.city_owned {
            return Err(RegistryError::CityOwned(id.to_owned()));
        }
        etag::check("org", id, etag, org.updated_at)?;
        let previous = org.updated_at;
        let before = org_fields(&org);
        let mut new_parent = None;
        for path in mask {
            match path.as_str() {
                "name" => org.name = input.name.clone(),
                "address" => org.details.address = input.details.address.clone(),
                "postcode" => org.details.postcode = input.details.postcode.clone(),
                "leader" => org.details.leader = input.details.leader.clone(),
                "contact_person" => org.details.contact_person = input.details.contact_person.clone(),
                "contact_phone" => org.details.contact_phone = input.details.contact_phone.clone(),
                "in_service_member_count" => {
                    org.details.in_service_member_count = input.details.in_service_member_count
                }
                "parent_id" => new_parent = Some(input.parent_id.clone()),
                other => {
                    return Err(RegistryError::invalid(
                        "update_mask",
                        format!("{other:?} cannot be updated"),
                    ));
                }
            }
        }
        org.updated_at = etag::next_update_time(previous, now_millis());
        if !db::update_org(&mut tx, &org, previous).await? {
            return Err(etag::changed_meanwhile("org", id).into());
        }
        if let Some(parent_id) = new_parent.filter(|p| Some(p) != org.parent_id.as_ref()) {
            let parent = db::org(&mut tx, &parent_id).await?.ok_or_else(|| {
                RegistryError::invalid("organization.parent_id", format!("unknown org {parent_id:?}"))
            })?;
            if org.covers(&parent.path) {
                return Err(RegistryError::TreeCycle(org.id.clone()));
            }
            check_parent(org.org_type, &parent)?;
            if parent.city_owned {
                return Err(RegistryError::CityOwned(parent.id));
            }
            self.require_admin_over(&mut tx, p, &parent.path, &format!("org {}", parent.id))
                .await?;
            let new_path = format!("{}{}/", parent.path, org.id);
            db::reparent_org(&mut tx, &org, &parent.id, &new_path, district_under(&parent).as_deref()).await?;
        }
        let after = org_fields(&org);
        self.audit(
            &mut tx,
            p,
            "UpdateOrganization",
            "organization",
            &org.id,
            &org.id,
            Some(before),
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "UpdateOrganization", &org.id).await?;
        let org = db::require_org(&mut tx, id).await?;
        tx.commit().await?;
        self.orgs.clear();
        Ok(org)
    }
}
