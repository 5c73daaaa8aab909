//! `city_sync`: the district's copy of the city's reference data. One
//! replica at a time (the `city_sync` lease) pages the city tier's
//! `ListReferenceChanges` after the stored cursor and upserts each municipal
//! org as a read-only, city-owned org (`owner = 'city'`), in the transaction
//! that moves the cursor: a restart resumes exactly where it stopped, and a
//! replayed change (same or older city sequence) changes nothing.
//!
//! The district never waits on the city: while the city is unreachable the
//! last copy serves, and `registry_city_sync_lag_seconds` grows.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dualreport_platform::client::{ClientInterceptor, PeerSettings, ServiceCredentials, authed_channel};
use dualreport_platform::server::Stopping;
use dualreport_platform::wire::millis_of;
use dualreport_proto::city::v1 as cpb;
use dualreport_proto::city::v1::city_service_client::CityServiceClient;
use dualreport_proto::registry::v1 as pb;
use prometheus::IntGauge;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::domain::org::{Org, OrgDetails};
use crate::domain::{RegistryError, Result, now_millis};
use crate::storage as db;

type Client = CityServiceClient<InterceptedService<Channel, ClientInterceptor>>;

fn lag() -> &'static IntGauge {
    static LAG: OnceLock<IntGauge> = OnceLock::new();
    LAG.get_or_init(|| {
        dualreport_platform::metrics::gauge(
            "registry_city_sync_lag_seconds",
            "Seconds since the city's reference data was last read to its end (-1: never).",
        )
    })
}

/// Changes read per round.
const BATCH: i32 = 200;

/// The background sync of one registry.
pub struct CitySync {
    pool: sqlx::AnyPool,
    client: Client,
    city_id: String,
    every: Duration,
    holder: String,
    /// Called after a round that changed the tree (the registry's org cache).
    changed: Arc<dyn Fn() + Send + Sync>,
}

impl CitySync {
    pub fn new(
        pool: sqlx::AnyPool,
        peer: &PeerSettings,
        credentials: &Arc<ServiceCredentials>,
        city_id: &str,
        every: Duration,
        changed: Arc<dyn Fn() + Send + Sync>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            client: CityServiceClient::new(authed_channel(peer, credentials)?),
            city_id: city_id.to_owned(),
            every,
            holder: dualreport_platform::lease::holder_id(),
            changed,
        })
    }

    /// Rounds until shutdown; a backlog is read without waiting.
    pub async fn run(self, stopping: Stopping) {
        let stop = stopping.wait();
        tokio::pin!(stop);
        loop {
            let pause = match self.round().await {
                Ok(true) => self.every,
                Ok(false) => Duration::ZERO,
                Err(error) => {
                    tracing::warn!(%error, "city sync round failed; the last copy of the city's orgs serves");
                    self.every
                }
            };
            if let Ok(mut conn) = self.pool.acquire().await
                && let Ok((_, synced_at)) = db::city_sync_cursor(&mut conn).await
            {
                lag().set(if synced_at == 0 {
                    -1
                } else {
                    (now_millis() - synced_at) / 1000
                });
            }
            tokio::select! {
                biased;
                () = &mut stop => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One batch; true when the city has nothing more for now.
    pub async fn round(&self) -> Result<bool> {
        let mut conn = self.pool.acquire().await?;
        let ttl = i64::try_from(self.every.as_millis())
            .unwrap_or(i64::MAX)
            .saturating_mul(5)
            .max(5_000);
        if !dualreport_platform::lease::try_take(&mut conn, "city_sync", &self.holder, now_millis(), ttl).await? {
            return Ok(true);
        }
        let (from, _) = db::city_sync_cursor(&mut conn).await?;
        drop(conn);
        let changes = self
            .client
            .clone()
            .list_reference_changes(cpb::ListReferenceChangesRequest {
                after_sequence: from,
                limit: BATCH,
            })
            .await
            .map_err(|s| RegistryError::internal(anyhow::anyhow!("the city tier did not answer: {}", s.message())))?
            .into_inner()
            .changes;
        let to = changes.last().map_or(from, |c| c.sequence);
        let mut tx = self.pool.begin().await?;
        let mut changed = false;
        for change in &changes {
            let Some(org) = &change.organization else { continue };
            let copy = self.copy_of(&mut tx, org).await?;
            changed |= db::upsert_city_org(&mut tx, &copy, change.sequence).await?;
        }
        if !db::advance_city_sync(&mut tx, from, to, now_millis()).await? {
            tx.rollback().await?;
            return Ok(true);
        }
        tx.commit().await?;
        if changed {
            (self.changed)();
            tracing::info!(changes = changes.len(), "copied the city's reference data");
        }
        Ok(changes.len() < usize::try_from(BATCH).unwrap_or(usize::MAX))
    }

    /// The city's org as this registry stores it: under its parent here (the
    /// city root or a municipal org copied before it: changes come in order).
    async fn copy_of(&self, conn: &mut sqlx::AnyConnection, o: &pb::Organization) -> Result<Org> {
        let org_type = pb::OrganizationType::try_from(o.r#type)
            .ok()
            .and_then(crate::grpc::org_type_from_pb)
            .filter(|t| t.is_unit())
            .ok_or_else(|| {
                RegistryError::internal(anyhow::anyhow!("the city sent org {} of type {}", o.id, o.r#type))
            })?;
        dualreport_platform::validate::id("organization.id", &o.id)
            .map_err(|e| RegistryError::internal(anyhow::anyhow!("the city sent an org id that {e}")))?;
        let parent = db::org(conn, &o.parent_id).await?.ok_or_else(|| {
            RegistryError::internal(anyhow::anyhow!(
                "the city's org {} hangs under {}, which this registry does not know (its city_id is {})",
                o.id,
                o.parent_id,
                self.city_id
            ))
        })?;
        Ok(Org {
            id: o.id.clone(),
            name: o.name.clone(),
            org_type,
            parent_id: Some(parent.id.clone()),
            path: format!("{}{}/", parent.path, o.id),
            district_id: None,
            details: OrgDetails {
                address: o.address.clone(),
                postcode: o.postcode.clone(),
                leader: o.leader.clone(),
                contact_person: o.contact_person.clone(),
                contact_phone: o.contact_phone.clone(),
                in_service_member_count: i64::from(o.in_service_member_count),
            },
            created_at: o.create_time.as_ref().map_or(0, millis_of),
            updated_at: o.update_time.as_ref().map_or(0, millis_of),
            city_owned: true,
        })
    }
}
