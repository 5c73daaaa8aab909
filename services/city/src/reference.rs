//! City reference data: the municipal units (市直单位) and their party orgs.
//! The city owns them; every district registry copies them read-only by
//! pulling `ListReferenceChanges` (its `city_sync`), so a member in any
//! district can name the same unit and its admin's token is the same
//! everywhere.

use dualreport_platform::auth::Principal;
use dualreport_platform::paging::PageRequest;
use dualreport_platform::{audit, idempotency};

use crate::app::City;
use crate::domain::{CityError, MunicipalOrg, MunicipalPatch, NewMunicipalOrg, Result, now_millis};
use crate::storage as db;

const CREATE: &str = "CreateMunicipalUnit";
const UPDATE: &str = "UpdateMunicipalUnit";

impl City {
    /// Creates a municipal org under the city root or another municipal org.
    pub async fn create_municipal_unit(
        &self,
        p: &Principal,
        request_id: &str,
        input: NewMunicipalOrg,
    ) -> Result<MunicipalOrg> {
        self.require_city_admin(p, "the city's reference data")?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, CREATE).await? {
            return db::municipal_org(&mut tx, &id)
                .await?
                .ok_or_else(|| CityError::not_found("municipal unit", &id));
        }
        let parent_path = if input.parent_id == self.city_id() {
            format!("/{}/", self.city_id())
        } else {
            match db::municipal_org(&mut tx, &input.parent_id).await? {
                Some(parent) => parent.path,
                None => {
                    return Err(CityError::invalid(
                        "organization.parent_id",
                        format!(
                            "must be the city root ({}) or a municipal org; {:?} is neither",
                            self.city_id(),
                            input.parent_id
                        ),
                    ));
                }
            }
        };
        let id = dualreport_platform::ids::new_id();
        let now = now_millis();
        let sequence = db::next_reference_sequence(&mut tx).await?;
        let org = MunicipalOrg {
            path: format!("{parent_path}{id}/"),
            id,
            sequence,
            name: input.name,
            org_type: input.org_type,
            parent_id: input.parent_id,
            details: input.details,
            created_at: now,
            updated_at: now,
        };
        db::insert_municipal_org(&mut tx, &org).await?;
        idempotency::remember(&mut tx, p, request_id, CREATE, &org.id).await?;
        audit::record(
            &mut tx,
            p,
            audit::Change {
                method: CREATE,
                resource_kind: "municipal_unit",
                resource_id: &org.id,
                org_id: &org.id,
                org_path: &org.path,
                before: None,
                after: Some(serde_json::json!({
                    "name": org.name, "type": org.org_type, "parent_id": org.parent_id,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Renames a municipal org or corrects its details: a new version with
    /// the next reference sequence, so every district registry copies it.
    pub async fn update_municipal_unit(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        patch: MunicipalPatch,
        etag: &str,
    ) -> Result<MunicipalOrg> {
        self.require_city_admin(p, "the city's reference data")?;
        let mut tx = self.pool.begin().await?;
        if idempotency::replayed_by(&mut tx, p, request_id, UPDATE)
            .await?
            .is_some()
        {
            return db::municipal_org(&mut tx, id)
                .await?
                .ok_or_else(|| CityError::not_found("municipal unit", id));
        }
        // The sequence first: it serialises the city's reference writers.
        let sequence = db::next_reference_sequence(&mut tx).await?;
        let before = db::municipal_org(&mut tx, id)
            .await?
            .ok_or_else(|| CityError::not_found("municipal unit", id))?;
        dualreport_platform::etag::check("municipal unit", id, etag, before.updated_at)?;
        let mut after = patch.apply(&before);
        after.sequence = sequence;
        after.updated_at = dualreport_platform::etag::next_update_time(before.updated_at, now_millis());
        if !db::update_municipal_org(&mut tx, &after, before.updated_at).await? {
            return Err(dualreport_platform::etag::changed_meanwhile("municipal unit", id).into());
        }
        idempotency::remember(&mut tx, p, request_id, UPDATE, id).await?;
        let view = |o: &MunicipalOrg| {
            serde_json::json!({
                "name": o.name, "address": o.details.address, "postcode": o.details.postcode,
                "leader": o.details.leader, "contact_person": o.details.contact_person,
                "in_service_member_count": o.details.in_service_member_count,
            })
        };
        audit::record(
            &mut tx,
            p,
            audit::Change {
                method: UPDATE,
                resource_kind: "municipal_unit",
                resource_id: id,
                org_id: id,
                org_path: &after.path,
                before: Some(view(&before)),
                after: Some(view(&after)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Every municipal org, by id. Reference data is public inside the suite.
    pub async fn list_municipal_units(&self, page: &PageRequest) -> Result<(Vec<MunicipalOrg>, String)> {
        let orgs = db::municipal_orgs(&self.pool, &page.after, page.fetch_limit()).await?;
        Ok(page.finish(orgs, |o| &o.id))
    }

    /// The reference journal after `after`, in change order (the district registries' `city_sync`).
    pub async fn reference_changes(&self, after: i64, limit: i64) -> Result<Vec<MunicipalOrg>> {
        db::reference_changes(&self.pool, after, limit).await
    }
}

/// Whose audit trail a caller reads at the city tier: the city's admins
/// read the whole city (the root or any municipal org named).
#[derive(Clone)]
pub struct AuditScope(pub City);

#[tonic::async_trait]
impl audit::Subtrees for AuditScope {
    async fn readable_subtree(&self, p: &Principal, org_id: &str) -> std::result::Result<String, tonic::Status> {
        let city = &self.0;
        city.require_city_admin(p, "the city's audit trail")
            .map_err(|e| match e {
                CityError::Common(f) => tonic::Status::from(f),
                CityError::Unavailable(m) => tonic::Status::unavailable(m),
            })?;
        if org_id == city.city_id() {
            return Ok(format!("/{}/", city.city_id()));
        }
        let mut conn = city
            .pool
            .acquire()
            .await
            .map_err(|e| dualreport_platform::error::internal(&e))?;
        match db::municipal_org(&mut conn, org_id).await {
            Ok(Some(org)) => Ok(org.path),
            Ok(None) => Err(dualreport_platform::error::not_found("organization", org_id)),
            Err(CityError::Common(f)) => Err(f.into()),
            Err(CityError::Unavailable(m)) => Err(tonic::Status::unavailable(m)),
        }
    }
}
