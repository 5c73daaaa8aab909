use std::time::Duration;

use dualreport_directory::DirectorySettings;
use dualreport_platform::auth::Role;
use dualreport_platform::client::ClientInterceptor;
use dualreport_platform::client::PeerSettings;
use dualreport_policy::PolicySettings;
use dualreport_proto::scoring::v1 as spb;
use dualreport_proto::scoring::v1::scoring_service_client::ScoringServiceClient;
use dualreport_proto::volunteering::v1 as pb;
use dualreport_proto::volunteering::v1::volunteering_service_client::VolunteeringServiceClient;
pub use dualreport_testkit::Backend;
use dualreport_testkit::process::ServiceProcess;
use dualreport_testkit::registry::{self as fixtures, City};
use dualreport_testkit::{TestDatabase, admin_token, authed, member_token, service_token};
pub use dualreport_testkit::{assert_invalid, assert_invalid_because, assert_reason};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use volunteering::settings::{CheckInSettings, EvidenceSettings, HouseholdSettings, RelaySettings, Settings};
use volunteering::startup::Application;

pub type Client = VolunteeringServiceClient<InterceptedService<Channel, ClientInterceptor>>;
pub type Scoring = ScoringServiceClient<InterceptedService<Channel, ClientInterceptor>>;

/// Real registry and scoring processes with a small city, and volunteering
/// in-process on the backend under test, its relay polling every 50 ms.
pub struct Suite {
    pub registry: ServiceProcess,
    pub registry_channel: Channel,
    /// `None` while a test keeps scoring stopped.
    pub scoring: Option<ServiceProcess>,
    pub scoring_port: u16,
    pub channel: Channel,
    pub city: City,
    pub year: i32,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _evidence: tempfile::TempDir,
    _database: TestDatabase,
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn(backend: Backend) -> Suite {
    spawn_with(backend, true, |_| {}).await
}

/// A port nobody listens on now, for a scoring that starts later.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub fn start_scoring(registry: &ServiceProcess, port: u16) -> ServiceProcess {
    ServiceProcess::start(
        "scoring",
        &[
            ("DUALREPORT__REGISTRY__URL", registry.url()),
            ("DUALREPORT__SERVER__PORT", port.to_string()),
        ],
    )
}

pub async fn spawn_with(backend: Backend, with_scoring: bool, adjust: impl FnOnce(&mut Settings)) -> Suite {
    let registry = fixtures::start_registry();
    let registry_channel = dualreport_testkit::channel(registry.port);
    let city = fixtures::build_city(&registry_channel).await;
    let scoring_port = free_port();
    let scoring = with_scoring.then(|| start_scoring(&registry, scoring_port));
    let database = TestDatabase::new(backend).await;
    let evidence = tempfile::tempdir().expect("evidence dir");
    let peer = |port: u16| PeerSettings {
        url: format!("http://127.0.0.1:{port}"),
        connect_timeout_ms: 1_000,
        timeout_ms: 5_000,
        tls: None,
    };
    let mut settings = Settings {
        server: dualreport_testkit::server_settings(),
        database: database.settings(),
        telemetry: dualreport_testkit::telemetry_settings(),
        auth: dualreport_testkit::auth_settings(),
        registry: peer(registry.port),
        scoring: peer(scoring_port),
        directory: DirectorySettings {
            cache_ttl_secs: 60,
            cache_capacity: 1_000,
        },
        checkin: CheckInSettings { code_ttl_secs: 900 },
        households: HouseholdSettings { min: 10, max: 15 },
        evidence: EvidenceSettings {
            store: format!("file://{}", evidence.path().display()),
            s3_endpoint: String::new(),
            s3_region: String::new(),
            max_photo_bytes: 64 * 1024,
            max_text_chars: 2_000,
        },
        relay: RelaySettings {
            poll_interval_ms: 50,
            batch_size: 50,
            initial_backoff_ms: 50,
            max_backoff_ms: 400,
        },
        certificates: volunteering::settings::CertificateSettings {
            number_prefix: "FW".into(),
            // Debian's fonts-noto-cjk, which .ci/run installs.
            font_file: "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc".into(),
            font_index: None,
        },
        policy: PolicySettings::default(),
    };
    settings.server.max_message_bytes = 1024 * 1024;
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("build volunteering");
    let port = app.port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    Suite {
        registry,
        registry_channel,
        scoring,
        scoring_port,
        channel: dualreport_testkit::channel(port),
        city,
        year: chrono::Datelike::year(&dualreport_policy::china_today()),
        shutdown: Some(tx),
        _evidence: evidence,
        _database: database,
    }
}

impl Suite {
    pub fn client(&self, token: &str) -> Client {
        VolunteeringServiceClient::new(authed(self.channel.clone(), token))
    }

    pub fn admin_a(&self) -> Client {
        self.client(&admin_token(Role::CommunityAdmin, self.a()))
    }

    pub fn admin_b(&self) -> Client {
        self.client(&admin_token(Role::CommunityAdmin, self.b()))
    }

    pub fn unit_admin(&self) -> Client {
        self.client(&admin_token(Role::UnitAdmin, &self.city.unit.id))
    }

    pub fn member(&self, member_id: &str) -> Client {
        self.client(&member_token(member_id))
    }

    pub fn scoring(&self) -> Scoring {
        ScoringServiceClient::new(authed(dualreport_testkit::channel(self.scoring_port), &service_token()))
    }

    pub fn a(&self) -> &str {
        &self.city.community_a.id
    }

    pub fn b(&self) -> &str {
        &self.city.community_b.id
    }

    /// A member of the city's unit living in `community`, reported and confirmed there this year.
    pub async fn registered_member(&self, name: &str, community: &str) -> String {
        let member = fixtures::unit_member(&self.registry_channel, &self.city, name, community).await;
        fixtures::report_and_confirm(&self.registry_channel, &member.id, community, self.year, "第一党支部").await;
        member.id
    }

    /// A member that exists but reported nowhere.
    pub async fn unreported_member(&self, name: &str) -> String {
        fixtures::unit_member(&self.registry_channel, &self.city, name, self.a())
            .await
            .id
    }

    /// The city's unit reports to community A this year and A receives it.
    pub async fn pair_unit_with_a(&self) {
        fixtures::unit_report_received(&self.registry_channel, &self.city.unit.id, self.a(), self.year).await;
    }

    /// A post of community A's standard catalogue.
    pub async fn standard_post(&self, nth: usize) -> pb::Post {
        self.admin_a()
            .list_posts(pb::ListPostsRequest {
                community_id: self.a().into(),
                ..Default::default()
            })
            .await
            .expect("list posts")
            .into_inner()
            .posts
            .into_iter()
            .nth(nth)
            .expect("a standard post")
    }

    /// An activity at community A running from `start_offset_mins` to
    /// `end_offset_mins` around now.
    /// A regular activity at community A, from `start_offset_mins` to
    /// `end_offset_mins` around now.
    pub fn activity_request(
        &self,
        title: &str,
        capacity: i32,
        start_offset_mins: i64,
        end_offset_mins: i64,
    ) -> pb::CreateActivityRequest {
        let now = chrono::Utc::now().timestamp();
        pb::CreateActivityRequest {
            request_id: String::new(),
            community_id: self.a().into(),
            kind: pb::ActivityKind::Regular.into(),
            title: title.into(),
            content: "清理楼道杂物".into(),
            post_id: String::new(),
            place: "3号楼".into(),
            start_time: Some(prost_types::Timestamp {
                seconds: now + start_offset_mins * 60,
                nanos: 0,
            }),
            end_time: Some(prost_types::Timestamp {
                seconds: now + end_offset_mins * 60,
                nanos: 0,
            }),
            capacity,
            organiser: "第一党支部".into(),
            contact: String::new(),
            team_id: String::new(),
            studio_id: String::new(),
            agreement_id: String::new(),
        }
    }

    pub async fn activity(
        &self,
        title: &str,
        capacity: i32,
        start_offset_mins: i64,
        end_offset_mins: i64,
    ) -> pb::Activity {
        self.admin_a()
            .create_activity(self.activity_request(title, capacity, start_offset_mins, end_offset_mins))
            .await
            .unwrap_or_else(|s| panic!("create activity: {s:?}"))
            .into_inner()
            .activity
            .expect("activity")
    }

    /// An activity that started 30 minutes ago and ends in 90 (120 minutes).
    pub async fn running_activity(&self, title: &str, capacity: i32) -> pb::Activity {
        self.activity(title, capacity, -30, 90).await
    }

    pub async fn code(&self, activity_id: &str) -> String {
        self.admin_a()
            .issue_check_in_code(pb::IssueCheckInCodeRequest {
                activity_id: activity_id.into(),
            })
            .await
            .expect("code")
            .into_inner()
            .code
    }

    pub async fn check_in(&self, member: &str, activity_id: &str, code: &str) -> Result<pb::Attendance, tonic::Status> {
        self.member(member)
            .check_in(pb::CheckInRequest {
                activity_id: activity_id.into(),
                member_id: member.into(),
                code: code.into(),
            })
            .await
            .map(|r| r.into_inner().attendance.expect("attendance"))
    }

    pub async fn confirm(&self, attendance_id: &str, adjustment: i32) -> Result<pb::Attendance, tonic::Status> {
        self.admin_a()
            .confirm_attendance(pb::ConfirmAttendanceRequest {
                request_id: String::new(),
                attendance_id: attendance_id.into(),
                adjustment,
                note: String::new(),
                evidence_ids: Vec::new(),
            })
            .await
            .map(|r| r.into_inner().attendance.expect("attendance"))
    }

    pub async fn attendance_of(&self, member: &str) -> Vec<pb::Attendance> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .member(member)
                .list_attendance(pb::ListAttendanceRequest {
                    activity_id: String::new(),
                    member_id: member.into(),
                    year: self.year,
                    page_size: 100,
                    page_token: token,
                    ..Default::default()
                })
                .await
                .expect("list attendance")
                .into_inner();
            all.extend(page.attendance);
            if page.next_page_token.is_empty() {
                return all;
            }
            token = page.next_page_token;
        }
    }

    /// Waits (up to 30 s) until every confirmed attendance of `member` is paid.
    pub async fn wait_paid(&self, member: &str) -> Vec<pb::Attendance> {
        for _ in 0..300 {
            let rows = self.attendance_of(member).await;
            if rows
                .iter()
                .filter(|a| a.status == pb::AttendanceStatus::Confirmed as i32)
                .all(|a| a.payment == pb::PaymentStatus::Paid as i32)
            {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "attendance of {member} was not paid within 30 s: {:?}",
            self.attendance_of(member).await
        );
    }

    /// Scoring's ledger entries for `member`.
    pub async fn ledger(&self, member: &str) -> Vec<spb::Entry> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let page = self
                .scoring()
                .list_entries(spb::ListEntriesRequest {
                    subject: Some(spb::Subject {
                        kind: spb::SubjectKind::Member.into(),
                        id: member.into(),
                    }),
                    community_id: String::new(),
                    period: None,
                    page_size: 100,
                    page_token: token,
                })
                .await
                .expect("list entries")
                .into_inner();
            all.extend(page.entries);
            if page.next_page_token.is_empty() {
                return all;
            }
            token = page.next_page_token;
        }
    }

    pub async fn upload_text(&self, client: &mut Client, community: &str, text: &str) -> pb::Evidence {
        client
            .upload_evidence(pb::UploadEvidenceRequest {
                request_id: String::new(),
                community_id: community.into(),
                kind: pb::EvidenceKind::Text.into(),
                content_type: String::new(),
                data: Vec::new(),
                text: text.into(),
            })
            .await
            .unwrap_or_else(|s| panic!("upload text: {s:?}"))
            .into_inner()
            .evidence
            .expect("evidence")
    }
}

/// A tiny valid PNG header followed by filler (the sniffing reads the magic bytes).
pub fn png(len: usize) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.resize(len.max(8), 0);
    bytes
}
