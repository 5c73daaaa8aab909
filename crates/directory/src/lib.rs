//! What the other services need to know from the registry — members,
//! organisations and who is registered where — asked over gRPC with a deadline
//! and kept in a small cache.
//!
//! Positive answers are cached for `directory.cache_ttl_secs`; "not found" and
//! "not registered" never are, so a member who reported a minute ago can be
//! served now. A registry that does not answer is [`DirectoryError::Unavailable`],
//! which services map to `UNAVAILABLE` (reason UPSTREAM_UNAVAILABLE) before
//! writing anything.

use std::sync::Arc;
use std::time::Duration;

use dualreport_proto::registry::v1 as pb;
use pb::registry_service_client::RegistryServiceClient;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use dualreport_platform::auth::{Principal, Role, Scope};
use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::client::{PeerSettings, ServiceCredentials, authed_channel};

mod audit;
mod cache;
mod communities;
mod registrations;
mod scope;

use cache::TtlCache;

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
    /// The service's own database failed while writing an audit record.
    #[error(transparent)]
    Storage(#[from] dualreport_platform::failure::StorageError),
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
    communities: Arc<TtlCache<String, Arc<Vec<String>>>>,
    city_root: Arc<TtlCache<(), String>>,
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
            communities: Arc::new(TtlCache::new(ttl, capacity)),
            city_root: Arc::new(TtlCache::new(ttl, 1)),
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
