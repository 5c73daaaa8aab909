//! `dualreport import-members` against a real registry: a 10,000-row XLSX in
//! the S4 附录B.1 layout with bad rows among them; progress on stderr, the bad
//! rows in the errors file, everything else imported, and a second run of
//! the same file importing nothing twice.

use std::process::Command;

use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as pb;
use dualreport_tables::{Cell, Table};
use dualreport_testkit::registry::{build_city, client, start_registry};
use dualreport_testkit::{admin_token, channel};

const ROWS: usize = 10_000;

fn roster(community_name: &str, community_id: &str) -> Table {
    let mut t = Table::new(
        "在职党员社区报到证",
        &[
            "姓名",
            "性别",
            "年龄",
            "学历",
            "入党时间",
            "工作单位及职务",
            "联系方式",
            "家庭住址",
            "所属社区",
            "技能特长",
            "服务意向",
        ],
    );
    for i in 0..ROWS {
        let phone = if i % 2000 == 1999 {
            "12345".to_owned()
        } else {
            format!("138{i:08}")
        };
        let age = if i == 4 {
            Cell::from("四十")
        } else {
            Cell::Integer(25 + (i % 35) as i64)
        };
        let community = match i {
            6 => "没有这个社区".to_owned(),
            i if i % 2 == 0 => community_name.to_owned(),
            _ => community_id.to_owned(),
        };
        t.push(vec![
            format!("党员{i:05}").into(),
            if i % 2 == 0 { "男" } else { "女" }.into(),
            age,
            "本科".into(),
            Cell::Date {
                year: 2008,
                month: 7,
                day: 1,
            },
            "区卫健委 科员".into(),
            phone.into(),
            "河南省郑州市金水区农科路8号".into(),
            community.into(),
            "医疗保健、摄影".into(),
            "医疗卫生服务岗、文体活动服务岗".into(),
        ]);
    }
    t
}

async fn members_of(registry: &tonic::transport::Channel, unit: &str) -> usize {
    let mut c = client(registry, &admin_token(Role::UnitAdmin, unit));
    let (mut n, mut token) = (0, String::new());
    loop {
        let page = c
            .list_members(pb::ListMembersRequest {
                unit_org_id: unit.into(),
                page_size: 500,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("members")
            .into_inner();
        n += page.members.len();
        if page.next_page_token.is_empty() {
            return n;
        }
        token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_row_roster_imports_with_progress_and_a_row_error_file() {
    let registry = start_registry();
    let registry_channel = channel(registry.port);
    let city = build_city(&registry_channel).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("roster.xlsx");
    std::fs::write(
        &file,
        dualreport_tables::xlsx(&roster(&city.community_a.name, &city.community_a.id)).expect("xlsx"),
    )
    .expect("write");
    let errors = dir.path().join("errors.csv");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_dualreport"))
            .args([
                "import-members",
                "--unit",
                &city.unit.id,
                "--batch-size",
                "1000",
                "--errors",
            ])
            .arg(&errors)
            .arg(&file)
            .env("DUALREPORT_REGISTRY_URL", registry.url())
            .env("DUALREPORT_TOKEN", admin_token(Role::UnitAdmin, &city.unit.id))
            .output()
            .expect("the CLI runs")
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(3), "some rows were refused: {stderr}");
    assert!(
        stderr.contains("rows/s") && stderr.contains("ETA"),
        "progress with rate and ETA: {stderr}"
    );
    assert!(stderr.contains(&format!("{ROWS}/{ROWS} rows")), "{stderr}");
    // Five bad phones (every 2000th row), one bad age, one unknown community.
    let bad = 5 + 1 + 1;
    assert!(
        stderr.contains(&format!("imported {} member(s)", ROWS - bad)),
        "{stderr}"
    );
    assert_eq!(members_of(&registry_channel, &city.unit.id).await, ROWS - bad);

    let refused = dualreport_tables::read(&std::fs::read(&errors).expect("the errors file")).expect("CSV");
    assert_eq!(refused[0], vec!["行号", "姓名", "列", "说明"]);
    let lines: Vec<(&str, &str)> = refused[1..].iter().map(|r| (r[0].as_str(), r[2].as_str())).collect();
    assert_eq!(lines.len(), bad, "{refused:?}");
    // The header is line 1: row i of the data is line i + 2.
    assert!(lines.contains(&("6", "年龄")), "{lines:?}");
    assert!(lines.contains(&("8", "所属社区")), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|(line, column)| *line == "2001" && column.contains("phone")),
        "the registry's own refusal, with its field: {lines:?}"
    );

    // The same file again: nothing imported twice.
    let second = run();
    assert_eq!(
        second.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(members_of(&registry_channel, &city.unit.id).await, ROWS - bad);

    // No token: refused before anything is read.
    let untokened = Command::new(env!("CARGO_BIN_EXE_dualreport"))
        .args(["import-members", "--unit", &city.unit.id])
        .arg(&file)
        .env_remove("DUALREPORT_TOKEN")
        .output()
        .expect("runs");
    assert_eq!(untokened.status.code(), Some(2));
}
