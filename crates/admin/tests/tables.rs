//! `dualreport export-table` and `dualreport evaluate-warnings` against a
//! real suite (its four binaries): the summary table as a workbook the
//! spreadsheet library reads, a unit's warnings judged and printed, and a
//! caller outside the unit refused.

use std::process::Command;

use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_testkit::registry::unit_member;
use dualreport_testkit::{Backend, admin_token, channel};
use e2e::Suite;
use e2e::city::last_half;

fn cli(suite: &Suite, token: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dualreport"));
    command
        .env("DUALREPORT_REGISTRY_URL", suite.registry.url())
        .env("DUALREPORT_FEEDBACK_URL", suite.feedback.url())
        .env("DUALREPORT_VOLUNTEERING_URL", suite.volunteering.url())
        .env("DUALREPORT_SCORING_URL", suite.scoring.url())
        .env("DUALREPORT_TOKEN", token);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_is_downloaded_and_a_units_warnings_judged() {
    let suite = Suite::start(Backend::Sqlite, &[]).await;
    let year = dualreport_policy::china_today().year();
    let reported = suite
        .reported_member("报到者", &dualreport_proto::scoring::v1::Period { year, ..last_half() })
        .await;
    let absent = unit_member(
        &channel(suite.registry.port),
        &suite.city,
        "缺席者",
        &suite.city.community_a.id,
    )
    .await
    .id;
    let unit = suite.city.unit.id.clone();
    let unit_admin = admin_token(Role::UnitAdmin, &unit);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("summary.xlsx");

    let out = cli(&suite, &unit_admin)
        .args([
            "export-table",
            "--kind",
            "summary",
            "--unit",
            &unit,
            "--year",
            &year.to_string(),
            "-o",
        ])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = dualreport_tables::read(&std::fs::read(&file).expect("the file")).expect("a workbook");
    assert_eq!(rows[0][..3], ["序号", "姓名", "是否报到"]);
    let by_name: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[1].as_str(), r[2].as_str())).collect();
    assert!(
        by_name.contains(&("报到者", "是")) && by_name.contains(&("缺席者", "否")),
        "{rows:?}"
    );

    let out = cli(&suite, &unit_admin)
        .args(["evaluate-warnings", "--unit", &unit, "--year", &year.to_string()])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed
            .lines()
            .any(|l| l.starts_with("WARNING_RULE_NOT_REPORTED\tmember\t缺席者\tin force")),
        "{printed}"
    );
    assert!(
        !printed.contains("报到者\t"),
        "the reported member is not warned: {printed}"
    );
    let _ = (reported, absent);

    // The national volunteer-service records, from volunteering, as the community's admin.
    let a_admin = admin_token(Role::CommunityAdmin, &suite.city.community_a.id);
    let today = dualreport_policy::china_today();
    let records = dir.path().join("records.csv");
    let out = cli(&suite, &a_admin)
        .args([
            "export-table",
            "--kind",
            "volunteer-records",
            "--community",
            &suite.city.community_a.id,
            "--from",
            &(today - chrono::Days::new(30)).to_string(),
            "--to",
            &today.to_string(),
            "--format",
            "csv",
            "-o",
        ])
        .arg(&records)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&records).expect("written");
    assert!(
        text.starts_with("\u{feff}记录编号,"),
        "the national template's headers: {text}"
    );
    let out = cli(&suite, &admin_token(Role::CommunityAdmin, &suite.city.community_b.id))
        .args([
            "export-table",
            "--kind",
            "volunteer-records",
            "--community",
            &suite.city.community_a.id,
            "--from",
            &today.to_string(),
            "--to",
            &today.to_string(),
            "-o",
        ])
        .arg(dir.path().join("refused.csv"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "another community's admin is refused");

    // A service's audit trail of the district, as its admin: the city's setup is in it.
    let trail = dir.path().join("audit.csv");
    let out = cli(&suite, &admin_token(Role::DistrictAdmin, &suite.city.district.id))
        .args([
            "export-table",
            "--kind",
            "audit",
            "--service",
            "registry",
            "--org",
            &suite.city.district.id,
            "-o",
        ])
        .arg(&trail)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&trail).expect("written");
    assert!(
        text.contains("CreateOrganization"),
        "the trail holds the district's changes: {text}"
    );
    let out = cli(&suite, &a_admin)
        .args([
            "export-table",
            "--kind",
            "audit",
            "--org",
            &suite.city.district.id,
            "-o",
        ])
        .arg(dir.path().join("refused-audit.csv"))
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a community's admin may not read the district's trail"
    );

    // The whole district at once, as its admin: every resident unit judged in turn.
    let district_admin = admin_token(Role::DistrictAdmin, &suite.city.district.id);
    let out = cli(&suite, &district_admin)
        .args([
            "evaluate-warnings",
            "--district",
            &suite.city.district.id,
            "--year",
            &year.to_string(),
        ])
        .output()
        .expect("runs");
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{progress}");
    assert!(
        progress.contains("2/2 units"),
        "progress over the district's units: {progress}"
    );
    assert!(progress.contains("2 unit(s) judged, 0 failed"), "{progress}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("WARNING_RULE_NOT_REPORTED\tmember\t缺席者\tin force"),
        "the district's run prints the unit's warnings too"
    );

    // Key rotation through the API: the district's admin may, a unit's may not.
    let out = cli(&suite, &district_admin)
        .args(["reseal", "--batch-size", "1"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("resealed 0 member(s) under key"),
        "one key only: nothing to re-seal ({})",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = cli(&suite, &unit_admin).args(["reseal"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PermissionDenied"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Another community's admin is refused; the CLI says so and fails.
    let out = cli(&suite, &admin_token(Role::CommunityAdmin, &suite.city.community_b.id))
        .args([
            "export-table",
            "--kind",
            "summary",
            "--unit",
            &unit,
            "--year",
            &year.to_string(),
            "-o",
        ])
        .arg(dir.path().join("refused.xlsx"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PermissionDenied"));
}
