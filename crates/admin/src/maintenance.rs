//! `dualreport reseal` and `dualreport evaluate-warnings --district`: the
//! long admin chores, each a loop of bounded calls with progress.

use std::io::Write as _;

use anyhow::Context as _;
use dualreport_platform::client::{ClientInterceptor, PeerSettings};
use dualreport_proto::registry::v1 as pb;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::import::Progress;

type Registry = pb::registry_service_client::RegistryServiceClient<InterceptedService<Channel, ClientInterceptor>>;

fn registry(peer: &PeerSettings, token: &str) -> anyhow::Result<Registry> {
    let channel = dualreport_platform::client::channel(peer)?;
    let interceptor = ClientInterceptor::with_token(token).context("the token is not ASCII")?;
    Ok(Registry::new(InterceptedService::new(channel, interceptor)))
}

/// Re-seals every member's personal information under the registry's active
/// key, `batch` members a call, until none is left under another key.
/// Resumable: an interrupted run is simply run again.
pub async fn reseal(peer: &PeerSettings, token: &str, batch: i32) -> anyhow::Result<u64> {
    anyhow::ensure!((1..=500).contains(&batch), "--batch-size must be between 1 and 500");
    let mut client = registry(peer, token)?;
    let (mut page_token, mut resealed, mut meanwhile) = (String::new(), 0u64, 0u64);
    loop {
        let round = client
            .reseal_personal_information(pb::ResealPersonalInformationRequest {
                page_size: batch,
                page_token,
            })
            .await
            .map_err(|s| anyhow::anyhow!("the registry refused: {:?}: {}", s.code(), s.message()))?
            .into_inner();
        resealed += u64::try_from(round.resealed).unwrap_or_default();
        meanwhile += u64::try_from(round.changed_meanwhile).unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "reseal: {resealed} member(s) re-sealed under {:?}, {meanwhile} changed meanwhile",
            round.active_key
        );
        if round.next_page_token.is_empty() {
            println!("resealed {resealed} member(s) under key {:?}", round.active_key);
            return Ok(resealed);
        }
        page_token = round.next_page_token;
    }
}

/// The resident-unit orgs (驻区单位) of `district`, read a page at a time.
pub async fn district_units(peer: &PeerSettings, token: &str, district: &str) -> anyhow::Result<Vec<(String, String)>> {
    use pb::OrganizationType as T;
    let mut client = registry(peer, token)?;
    let (mut units, mut page_token) = (Vec::new(), String::new());
    loop {
        let page = client
            .list_organizations(pb::ListOrganizationsRequest {
                district_id: district.to_owned(),
                page_size: 500,
                page_token,
                ..Default::default()
            })
            .await
            .map_err(|s| anyhow::anyhow!("the registry refused: {:?}: {}", s.code(), s.message()))?
            .into_inner();
        units.extend(
            page.organizations
                .into_iter()
                .filter(|o| {
                    matches!(
                        o.r#type(),
                        T::Organ
                            | T::Institution
                            | T::Enterprise
                            | T::ResearchInstitute
                            | T::NonPublicEnterprise
                            | T::SocialOrganization
                            | T::OtherUnit
                    )
                })
                .map(|o| (o.id, o.name)),
        );
        if page.next_page_token.is_empty() {
            return Ok(units);
        }
        page_token = page.next_page_token;
    }
}

/// What judging a whole district did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DistrictWarnings {
    pub units: usize,
    pub standing: usize,
    /// Units feedback could not judge (named on standard error).
    pub failed: usize,
}

/// Judges every unit of `district` in turn, with progress; a unit that
/// fails is named and the rest go on.
pub async fn evaluate_district(
    registry_peer: &PeerSettings,
    feedback_peer: &PeerSettings,
    token: &str,
    district: &str,
    year: i32,
) -> anyhow::Result<DistrictWarnings> {
    let units = district_units(registry_peer, token, district).await?;
    let mut outcome = DistrictWarnings {
        units: units.len(),
        ..DistrictWarnings::default()
    };
    let mut progress = Progress::of(units.len(), "units");
    for (id, name) in &units {
        match crate::tables::evaluate_warnings(feedback_peer, token, id, year).await {
            Ok(standing) => outcome.standing += standing,
            Err(error) => {
                outcome.failed += 1;
                let _ = writeln!(std::io::stderr(), "\n{name} ({id}): {error:#}");
            }
        }
        progress.done += 1;
        progress.draw();
    }
    progress.finish();
    let _ = writeln!(
        std::io::stderr(),
        "{district} {year}: {} unit(s) judged, {} failed; {} warning(s) in force",
        outcome.units - outcome.failed,
        outcome.failed,
        outcome.standing
    );
    Ok(outcome)
}
