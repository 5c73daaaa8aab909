//! Registry fixtures through its public gRPC API: organisations, members,
//! confirmed reports. Used by every service whose rules depend on the
//! registry (a real registry, never a stand-in).

use dualreport_platform::auth::Role;
use dualreport_platform::client::ClientInterceptor;
use dualreport_proto::common::v1::Date;
use dualreport_proto::registry::v1 as pb;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::process::ServiceProcess;
use crate::{admin_token, authed, member_token};

pub type Client = RegistryServiceClient<InterceptedService<Channel, ClientInterceptor>>;

/// The registry binary with reporting open all year and a test PI key.
pub fn start_registry() -> ServiceProcess {
    start_registry_with(&[])
}

/// The test registries' policy: S4 with reports open all year, so a test
/// may report on any day it runs (the city tier under test runs it too).
pub const TEST_POLICY: [(&str, &str); 4] = [
    ("DUALREPORT__POLICY__UNIT_REPORT_WINDOW_START", "01-01"),
    ("DUALREPORT__POLICY__UNIT_REPORT_WINDOW_END", "12-31"),
    ("DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_START", "01-01"),
    ("DUALREPORT__POLICY__MEMBER_REPORT_WINDOW_END", "12-31"),
];

/// [`start_registry`] with more environment (e.g. an OTLP endpoint).
pub fn start_registry_with(extra: &[(&str, String)]) -> ServiceProcess {
    let mut env: Vec<(&str, String)> = vec![
        ("DUALREPORT__REGISTRY__CITY_ID", "city".into()),
        ("DUALREPORT__REGISTRY__PII_KEYS__TEST", crate::pii_key_base64()),
        ("DUALREPORT__REGISTRY__PII_ACTIVE_KEY", "test".into()),
    ];
    env.extend(TEST_POLICY.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env.extend(extra.iter().cloned());
    ServiceProcess::start("registry", &env)
}

pub fn client(channel: &Channel, token: &str) -> Client {
    RegistryServiceClient::new(authed(channel.clone(), token))
}

pub fn org_input(name: &str, t: pb::OrganizationType, parent: &str) -> pb::OrganizationInput {
    pb::OrganizationInput {
        name: name.into(),
        r#type: t as i32,
        parent_id: parent.into(),
        address: "郑州市金水区".into(),
        postcode: "450000".into(),
        leader: "张书记".into(),
        contact_person: "李干事".into(),
        contact_phone: "0371-66668888".into(),
        in_service_member_count: 3,
    }
}

pub async fn create_org(client: &mut Client, name: &str, t: pb::OrganizationType, parent: &str) -> pb::Organization {
    client
        .create_organization(pb::CreateOrganizationRequest {
            request_id: String::new(),
            organization: Some(org_input(name, t, parent)),
        })
        .await
        .unwrap_or_else(|s| panic!("create {name}: {s:?}"))
        .into_inner()
        .organization
        .expect("organization")
}

pub fn profile(name: &str, unit: &str, community: &str) -> pb::MemberProfile {
    pb::MemberProfile {
        name: name.into(),
        gender: pb::Gender::Female as i32,
        birth_year: 1985,
        education: "本科".into(),
        joined_party_on: Some(Date {
            year: 2008,
            month: 7,
            day: 1,
        }),
        membership_status: pb::MembershipStatus::Full as i32,
        category: pb::MemberCategory::InService as i32,
        employer: "区卫健委".into(),
        position: "科员".into(),
        unit_org_id: unit.into(),
        home_address: "河南省郑州市金水区农科路8号".into(),
        residence_community_id: community.into(),
        phone: "13812345678".into(),
        skills: vec!["医疗保健".into(), "摄影".into()],
        service_intentions: vec!["医疗卫生服务岗".into(), "文体活动服务岗".into()],
        available_time_slots: vec!["周六上午".into()],
    }
}

pub async fn create_member(client: &mut Client, profile: pb::MemberProfile) -> pb::Member {
    client
        .create_member(pb::CreateMemberRequest {
            request_id: String::new(),
            profile: Some(profile),
        })
        .await
        .unwrap_or_else(|s| panic!("create member: {s:?}"))
        .into_inner()
        .member
        .expect("member")
}

/// A district with one street, two communities, an organ committee and a
/// unit under it, created by the city admin of a running registry.
#[derive(Debug, Clone)]
pub struct City {
    pub district: pb::Organization,
    pub street: pb::Organization,
    pub community_a: pb::Organization,
    pub community_b: pb::Organization,
    pub committee: pb::Organization,
    pub unit: pb::Organization,
}

pub async fn build_city(channel: &Channel) -> City {
    use pb::OrganizationType as T;
    let mut city = client(channel, &admin_token(Role::CityAdmin, "city"));
    let district = create_org(&mut city, "金水区", T::District, "city").await;
    let street = create_org(&mut city, "花园路街道", T::Street, &district.id).await;
    let community_a = create_org(&mut city, "农科路社区", T::Community, &street.id).await;
    let community_b = create_org(&mut city, "文化路社区", T::Community, &street.id).await;
    let committee = create_org(&mut city, "区直机关工委", T::Organ, &district.id).await;
    let unit = create_org(&mut city, "区卫健委机关党委", T::Organ, &committee.id).await;
    City {
        district,
        street,
        community_a,
        community_b,
        committee,
        unit,
    }
}

/// A member of the city's unit living in `community`, created by the unit admin.
pub async fn unit_member(channel: &Channel, city: &City, name: &str, community: &str) -> pb::Member {
    create_member(
        &mut client(channel, &admin_token(Role::UnitAdmin, &city.unit.id)),
        profile(name, &city.unit.id, community),
    )
    .await
}

/// The member reports at `community` for `year` and the community's admin
/// confirms it into `branch`.
/// The member declares a move to `to_community_id` (today).
pub async fn relocate(channel: &Channel, member_id: &str, to_community_id: &str) -> pb::Relocation {
    client(channel, &member_token(member_id))
        .declare_relocation(pb::DeclareRelocationRequest {
            request_id: String::new(),
            member_id: member_id.into(),
            to_community_id: to_community_id.into(),
            reason: "搬家".into(),
            to_district: String::new(),
        })
        .await
        .expect("relocation")
        .into_inner()
        .relocation
        .expect("relocation")
}

pub async fn report_and_confirm(
    channel: &Channel,
    member_id: &str,
    community_id: &str,
    year: i32,
    branch: &str,
) -> pb::MemberReport {
    let report = client(channel, &member_token(member_id))
        .submit_member_report(pb::SubmitMemberReportRequest {
            request_id: String::new(),
            member_id: member_id.into(),
            community_id: community_id.into(),
            year,
            letter_id: String::new(),
        })
        .await
        .expect("report")
        .into_inner()
        .report
        .expect("report");
    client(channel, &admin_token(Role::CommunityAdmin, community_id))
        .confirm_member_report(pb::ConfirmMemberReportRequest {
            request_id: String::new(),
            report_id: report.id.clone(),
            branch: branch.into(),
        })
        .await
        .expect("confirm")
        .into_inner()
        .report
        .expect("report")
}

/// The unit reports to `community` for `year` and the community receives it.
pub async fn unit_report_received(channel: &Channel, unit_id: &str, community_id: &str, year: i32) -> pb::UnitReport {
    let report = client(channel, &admin_token(Role::UnitAdmin, unit_id))
        .submit_unit_report(pb::SubmitUnitReportRequest {
            request_id: String::new(),
            unit_org_id: unit_id.into(),
            community_id: community_id.into(),
            year,
            resources: "会议室、医疗志愿者".into(),
            suggestions: String::new(),
        })
        .await
        .expect("unit report")
        .into_inner()
        .report
        .expect("report");
    client(channel, &admin_token(Role::CommunityAdmin, community_id))
        .receive_unit_report(pb::ReceiveUnitReportRequest {
            request_id: String::new(),
            report_id: report.id,
        })
        .await
        .expect("receive")
        .into_inner()
        .report
        .expect("report")
}

/// Streams `batches` through `ImportMembers` and collects the reply to each.
pub async fn import(client: &mut Client, batches: Vec<pb::ImportMembersRequest>) -> Vec<pb::ImportMembersResponse> {
    use tokio_stream::StreamExt as _;
    let mut replies = client
        .import_members(tokio_stream::iter(batches))
        .await
        .expect("import opens")
        .into_inner();
    let mut out = Vec::new();
    while let Some(reply) = replies.next().await {
        out.push(reply.expect("batch answered"));
    }
    out
}
