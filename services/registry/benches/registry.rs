//! `make bench`: registry throughput on the embedded store, each figure
//! printed as a ratio to a baseline measured in the same run, so the numbers
//! compare across machines and noisy neighbours. Nothing here fails on time.
//!
//! Baselines: `GetPolicy` (gRPC + auth, no store) for single calls; the raw
//! storage insert of the same sealed rows for the bulk import.

use std::time::Instant;

use dualreport_platform::auth::Role;
use dualreport_platform::crypto::FieldCipher;
use dualreport_proto::registry::v1 as pb;
use dualreport_proto::registry::v1::registry_service_client::RegistryServiceClient;
use dualreport_testkit::bench::{mean, row};
use dualreport_testkit::registry as fixtures;
use dualreport_testkit::{Backend, TestDatabase, admin_token, authed};
use registry::domain::policy::PolicySettings;
use registry::settings::{RegistrySettings, Settings};
use registry::startup::Application;

const UNITS: usize = 50;
const MEMBERS_PER_UNIT: usize = 40;
const CALLS: usize = 400;

type Client = RegistryServiceClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        dualreport_platform::client::ClientInterceptor,
    >,
>;

fn settings(database: &TestDatabase) -> Settings {
    Settings {
        server: dualreport_testkit::server_settings(),
        database: database.settings(),
        telemetry: dualreport_testkit::telemetry_settings(),
        auth: dualreport_testkit::auth_settings(),
        registry: RegistrySettings {
            city_id: "city".into(),
            city_name: "基准市".into(),
            number_prefix: "B".into(),
            pii_keys: dualreport_testkit::pii_keys(),
            pii_active_key: "test".into(),
            pii_keys_dir: None,
            city_sync_interval_ms: 2_000,
        },
        city: None,
        policy: PolicySettings::default(),
    }
}

fn org(name: &str, t: pb::OrganizationType, parent: &str) -> pb::CreateOrganizationRequest {
    pb::CreateOrganizationRequest {
        request_id: String::new(),
        organization: Some(fixtures::org_input(name, t, parent)),
    }
}

/// The shared test profile, with a distinct name and phone per member.
fn profile(i: usize, unit: &str, community: &str) -> pb::MemberProfile {
    pb::MemberProfile {
        phone: format!("138{i:08}"),
        ..fixtures::profile(&format!("成员{i}"), unit, community)
    }
}

#[tokio::main]
async fn main() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let app = Application::build(settings(&database)).await.expect("build");
    let port = app.port();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let channel = dualreport_testkit::channel(port);
    let mut city: Client = RegistryServiceClient::new(authed(channel.clone(), &admin_token(Role::CityAdmin, "city")));

    use pb::OrganizationType as T;
    let create = |c: &mut Client, r| {
        let mut c = c.clone();
        async move {
            c.create_organization(r)
                .await
                .expect("org")
                .into_inner()
                .organization
                .expect("org")
                .id
        }
    };
    let district = create(&mut city, org("基准区", T::District, "city")).await;
    let street = create(&mut city, org("基准街道", T::Street, &district)).await;
    let community = create(&mut city, org("基准社区", T::Community, &street)).await;
    let mut units = Vec::new();
    for u in 0..UNITS {
        units.push(create(&mut city, org(&format!("单位{u}"), T::Enterprise, &district)).await);
    }

    // Baseline for bulk writes: the storage layer inserting the same sealed rows.
    let raw_database = TestDatabase::new(Backend::Sqlite).await;
    let raw = dualreport_platform::db::connect(&raw_database.settings())
        .await
        .expect("connect");
    Application::build(settings(&raw_database))
        .await
        .expect("migrate the baseline store");
    let cipher = FieldCipher::new(&dualreport_testkit::pii_keys(), "test").expect("cipher");
    let rows = UNITS * MEMBERS_PER_UNIT;
    let start = Instant::now();
    let mut tx = raw.pool.begin().await.expect("begin");
    for i in 0..rows {
        let id = dualreport_platform::ids::new_id();
        let row = registry::storage::MemberRow {
            id: id.clone(),
            unit_org_id: "city".into(),
            residence_community_id: "city".into(),
            name: format!("成员{i}"),
            gender: registry::domain::member::Gender::Male,
            birth_year: 1980,
            education: String::new(),
            joined_party_on: chrono::NaiveDate::from_ymd_opt(2005, 7, 1).expect("date"),
            membership_status: registry::domain::member::MembershipStatus::Full,
            category: registry::domain::member::Category::InService,
            employer: String::new(),
            position: String::new(),
            phone: cipher
                .seal(&format!("138{i:08}"), &format!("{id}/phone"))
                .expect("seal"),
            home_address: cipher
                .seal("河南省郑州市金水区花园路100号", &format!("{id}/home_address"))
                .expect("seal"),
            skills: vec!["写作".into()],
            service_intentions: vec!["政策法规宣传岗".into(), "环境卫生保洁岗".into()],
            available_time_slots: Vec::new(),
            created_at: 0,
            updated_at: 0,
        };
        registry::storage::insert_member(&mut tx, &row).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let raw_insert = start.elapsed();

    // The same number of rows through ImportMembers, one batch per unit.
    let batches: Vec<_> = units
        .iter()
        .enumerate()
        .map(|(u, unit)| pb::ImportMembersRequest {
            request_id: format!("bench-{u}"),
            rows: (0..MEMBERS_PER_UNIT)
                .map(|i| profile(u * MEMBERS_PER_UNIT + i, unit, &community))
                .collect(),
        })
        .collect();
    let start = Instant::now();
    let imported = fixtures::import(&mut city, batches).await;
    let import = start.elapsed();
    let ids: Vec<String> = imported.iter().flat_map(|r| r.member_ids.clone()).collect();
    assert_eq!(ids.len(), rows);

    let policy = mean(CALLS, |_| {
        let mut c = city.clone();
        async move {
            c.get_policy(pb::GetPolicyRequest {}).await.expect("policy");
        }
    })
    .await;
    let get_member = |view: pb::MemberView| {
        let (city, ids) = (&city, &ids);
        mean(CALLS, move |i| {
            let mut c = city.clone();
            let id = ids[i % ids.len()].clone();
            async move {
                c.get_member(pb::GetMemberRequest {
                    member_id: id,
                    view: view as i32,
                })
                .await
                .expect("get");
            }
        })
    };
    let get_masked = get_member(pb::MemberView::Masked).await;
    let get_full = get_member(pb::MemberView::Full).await;
    let list = mean(CALLS / 4, |i| {
        let mut c = city.clone();
        let unit = units[i % units.len()].clone();
        async move {
            c.list_members(pb::ListMembersRequest {
                unit_org_id: unit,
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("list");
        }
    })
    .await;
    let year = chrono::Datelike::year(&registry::domain::china_today());
    let statistics = mean(20, |_| {
        let mut c = city.clone();
        let district = district.clone();
        async move {
            c.get_report_statistics(pb::GetReportStatisticsRequest {
                org_id: district,
                year,
                ..Default::default()
            })
            .await
            .expect("statistics");
        }
    })
    .await;

    println!("registry on SQLite — {UNITS} units × {MEMBERS_PER_UNIT} members");
    println!("{:<44} {:>13} {:>17}", "", "mean", "ratio");
    row("GetPolicy (baseline: gRPC + auth, no store)", policy, policy);
    row("GetMember masked", get_masked, policy);
    row("GetMember full (+ 2 access-log rows)", get_full, policy);
    row("ListMembers, 40 of a unit", list, policy);
    row(&format!("GetReportStatistics, {} members", rows), statistics, policy);
    println!();
    row(
        &format!("raw insert of {rows} sealed rows (baseline)"),
        raw_insert,
        raw_insert,
    );
    row(
        &format!("ImportMembers of {rows} rows, {UNITS} batches"),
        import,
        raw_insert,
    );
}
