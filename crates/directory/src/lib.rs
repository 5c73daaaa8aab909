//! What the other services need to know from the registry — members,
//! organisations and who is registered where — asked over gRPC with a deadline
//! and kept in a small cache.
//!
//! Positive answers are cached for `directory.cache_ttl_secs`; "not found" and
//! "not registered" never are, so a member who reported a minute ago can be
//! served now. A registry that does not answer is [`DirectoryError::Unavailable`],
//! which services map to `UNAVAILABLE` (reason UPSTREAM_UNAVAILABLE) before
//! writing anything.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dualreport_proto::registry::v1 as pb;
use pb::registry_service_client::RegistryServiceClient;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::client::{PeerSettings, ServiceCredentials, authed_channel};

/// Why a lookup failed; each service maps these into its own error (`From`).
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The token's org is unknown, or its role does not fit the org's type.
    #[error("{0}")]
    OutOfScope(String),
    /// The registry did not answer in time; nothing should be written.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

type Result<T> = std::result::Result<T, DirectoryError>;

/// How long answers from the registry are reused (`[directory]`).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct DirectorySettings {
    /// Members, organisations and registrations found are cached this long;
    /// "not found" and "not registered" are never cached.
    pub cache_ttl_secs: u64,
    /// Entries kept at most; the cache is cleared when it fills.
    pub cache_capacity: usize,
}

impl Default for DirectorySettings {
    fn default() -> Self {
        Self {
            cache_ttl_secs: 60,
            cache_capacity: 10_000,
        }
    }
}

/// A member as the other services see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub id: String,
    pub name: String,
    pub unit_org_id: String,
    pub residence_community_id: String,
}

/// An organisation and its place in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInfo {
    pub id: String,
    pub name: String,
    pub kind: OrgKind,
    /// From the city down to the parent.
    pub ancestor_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgKind {
    City,
    District,
    Street,
    /// A community, village or party–masses service centre.
    Community,
    /// A resident-unit org of any type.
    Unit,
}

impl OrgInfo {
    /// `/city/…/self/`, the form settlements store for the board.
    pub fn path(&self) -> String {
        let mut path = String::from("/");
        for id in self.ancestor_ids.iter().chain(std::iter::once(&self.id)) {
            path.push_str(id);
            path.push('/');
        }
        path
    }

    /// Whether `org_id` is this org or one above it.
    pub fn is_within(&self, org_id: &str) -> bool {
        self.id == org_id || self.ancestor_ids.iter().any(|a| a == org_id)
    }
}

type Client = RegistryServiceClient<InterceptedService<Channel, ClientInterceptor>>;

#[derive(Clone)]
pub struct Directory {
    client: Client,
    members: Arc<TtlCache<String, MemberInfo>>,
    orgs: Arc<TtlCache<String, OrgInfo>>,
    registrations: Arc<TtlCache<(String, String, i32), ()>>,
}

impl Directory {
    pub fn new(
        peer: &PeerSettings,
        credentials: &Arc<ServiceCredentials>,
        settings: &DirectorySettings,
    ) -> anyhow::Result<Self> {
        let ttl = Duration::from_secs(settings.cache_ttl_secs);
        let capacity = settings.cache_capacity;
        Ok(Self {
            client: RegistryServiceClient::new(authed_channel(peer, credentials)?),
            members: Arc::new(TtlCache::new(ttl, capacity)),
            orgs: Arc::new(TtlCache::new(ttl, capacity)),
            registrations: Arc::new(TtlCache::new(ttl, capacity)),
        })
    }

    pub async fn member(&self, id: &str) -> Result<MemberInfo> {
        if let Some(member) = self.members.get(&id.to_owned()) {
            return Ok(member);
        }
        let response = self
            .client
            .clone()
            .get_member(pb::GetMemberRequest {
                member_id: id.to_owned(),
                view: pb::MemberView::Masked.into(),
            })
            .await
            .map_err(|status| upstream(status, "member", id))?
            .into_inner();
        let member = response
            .member
            .ok_or_else(|| DirectoryError::Internal(anyhow::anyhow!("registry answered GetMember without a member")))?;
        let profile = member.profile.unwrap_or_default();
        let info = MemberInfo {
            id: member.id,
            name: profile.name,
            unit_org_id: profile.unit_org_id,
            residence_community_id: profile.residence_community_id,
        };
        self.members.put(id.to_owned(), info.clone());
        Ok(info)
    }

    pub async fn org(&self, id: &str) -> Result<OrgInfo> {
        if let Some(org) = self.orgs.get(&id.to_owned()) {
            return Ok(org);
        }
        let org = self
            .client
            .clone()
            .get_organization(pb::GetOrganizationRequest {
                organization_id: id.to_owned(),
            })
            .await
            .map_err(|status| upstream(status, "organization", id))?
            .into_inner()
            .organization
            .ok_or_else(|| DirectoryError::Internal(anyhow::anyhow!("registry answered without an organization")))?;
        use pb::OrganizationType as T;
        let kind = match T::try_from(org.r#type).unwrap_or(T::Unspecified) {
            T::City => OrgKind::City,
            T::District => OrgKind::District,
            T::Street => OrgKind::Street,
            T::Community | T::ServiceCenter => OrgKind::Community,
            T::Organ
            | T::Institution
            | T::Enterprise
            | T::ResearchInstitute
            | T::NonPublicEnterprise
            | T::SocialOrganization
            | T::OtherUnit => OrgKind::Unit,
            T::Unspecified => {
                return Err(DirectoryError::Internal(anyhow::anyhow!(
                    "registry org {id} has no known type"
                )));
            }
        };
        let info = OrgInfo {
            id: org.id,
            name: org.name,
            kind,
            ancestor_ids: org.ancestor_ids,
        };
        self.orgs.put(id.to_owned(), info.clone());
        Ok(info)
    }

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
            Role::Member | Role::Service | Role::Cloud => false,
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

    /// Whether the member's report at the community for `year` was confirmed
    /// (it stays valid for the year's earlier services after a relocation ends it).
    pub async fn member_registered(&self, member_id: &str, community_id: &str, year: i32) -> Result<bool> {
        let key = (member_id.to_owned(), community_id.to_owned(), year);
        self.member_report_matches(key, member_id, community_id, year, |_| true)
            .await
    }

    /// Whether the member was registered at the community **on `date`**: a
    /// confirmed report there whose registration covers the day (a member
    /// belongs to one community at a time: after a move the old community's
    /// registration ends on the relocation date and the new one's starts then).
    pub async fn member_registered_on(
        &self,
        member_id: &str,
        community_id: &str,
        date: chrono::NaiveDate,
    ) -> Result<bool> {
        use chrono::Datelike as _;
        let key = (
            format!("on:{member_id}:{}", date.num_days_from_ce()),
            community_id.to_owned(),
            date.year(),
        );
        self.member_report_matches(key, member_id, community_id, date.year(), |r| {
            let from = r
                .registered_from
                .as_ref()
                .and_then(dualreport_platform::wire::date_from_pb);
            let until = r
                .registered_until
                .as_ref()
                .and_then(dualreport_platform::wire::date_from_pb);
            from.is_none_or(|from| from <= date) && until.is_none_or(|until| date < until)
        })
        .await
    }

    /// Whether a confirmed report of the member at the community for `year`
    /// satisfies `accept` (cached under `key` once one does).
    async fn member_report_matches(
        &self,
        key: (String, String, i32),
        member_id: &str,
        community_id: &str,
        year: i32,
        accept: impl Fn(&pb::MemberReport) -> bool + Copy,
    ) -> Result<bool> {
        self.registered(key, |page_token| {
            let mut client = self.client.clone();
            async move {
                let response = client
                    .list_member_reports(pb::ListMemberReportsRequest {
                        member_id: member_id.to_owned(),
                        org_id: String::new(),
                        year,
                        page_size: 100,
                        page_token,
                    })
                    .await
                    .map_err(|status| upstream(status, "member", member_id))?
                    .into_inner();
                let found = response.reports.iter().any(|r| {
                    r.community_id == community_id
                        && matches!(
                            pb::MemberReportStatus::try_from(r.status),
                            Ok(pb::MemberReportStatus::Confirmed | pb::MemberReportStatus::Ended)
                        )
                        && r.confirm_time.is_some()
                        && accept(r)
                });
                Ok((found, response.next_page_token))
            }
        })
        .await
    }

    /// Whether the unit org's report to the community for `year` was received.
    pub async fn unit_registered(&self, unit_org_id: &str, community_id: &str, year: i32) -> Result<bool> {
        let key = (format!("unit:{unit_org_id}"), community_id.to_owned(), year);
        self.registered(key, |page_token| {
            let mut client = self.client.clone();
            async move {
                let response = client
                    .list_unit_reports(pb::ListUnitReportsRequest {
                        org_id: unit_org_id.to_owned(),
                        year,
                        page_size: 100,
                        page_token,
                    })
                    .await
                    .map_err(|status| upstream(status, "organization", unit_org_id))?
                    .into_inner();
                let found = response.reports.iter().any(|r| {
                    r.unit_org_id == unit_org_id
                        && r.community_id == community_id
                        && r.status == pb::UnitReportStatus::Received as i32
                });
                Ok((found, response.next_page_token))
            }
        })
        .await
    }

    /// Pages through `page(token) -> (found on this page, next token)` until a
    /// match (cached) or the last page (not cached).
    async fn registered<F, Fut>(&self, key: (String, String, i32), mut page: F) -> Result<bool>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<(bool, String)>>,
    {
        if self.registrations.get(&key).is_some() {
            return Ok(true);
        }
        let mut token = String::new();
        loop {
            let (found, next) = page(token).await?;
            if found {
                self.registrations.put(key, ());
                return Ok(true);
            }
            if next.is_empty() {
                return Ok(false);
            }
            token = next;
        }
    }
}

/// The registry's answer as a directory error: its NOT_FOUND is ours; a
/// registry that is down or slow is UNAVAILABLE; anything else is a fault.
fn upstream(status: tonic::Status, what: &'static str, id: &str) -> DirectoryError {
    match status.code() {
        Code::NotFound => DirectoryError::NotFound {
            what,
            id: id.to_owned(),
        },
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::ResourceExhausted => {
            tracing::warn!(code = ?status.code(), message = status.message(), "registry did not answer");
            DirectoryError::Unavailable(format!("the registry did not answer ({:?}); retry", status.code()))
        }
        _ => DirectoryError::Internal(anyhow::anyhow!(
            "registry refused a lookup of {what} {id}: {:?} {}",
            status.code(),
            status.message()
        )),
    }
}

/// A map whose entries expire; cleared wholesale when it reaches capacity
/// (simple, and bounded: the working set refills within one TTL).
struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(value, _)| value.clone())
    }

    fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }
}
