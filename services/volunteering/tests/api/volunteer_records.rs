//! The national volunteer-service record (全国志愿服务信息系统): a community's
//! confirmed services exported as CSV and JSON Lines (checked against golden
//! files), marked sent or failed so a re-export is safe, and refused to
//! anyone outside the organising community.

use dualreport_platform::wire::date_to_pb;
use dualreport_proto::common::v1::DateRange;
use dualreport_proto::volunteering::v1 as pb;
use dualreport_testkit::on_both_backends;
use tonic::Code;
use volunteering::domain::china_today;

use crate::helpers::*;

/// Yesterday and today: an activity that began half an hour ago may have
/// begun yesterday, China time.
fn recent() -> DateRange {
    let today = china_today();
    DateRange {
        first: Some(date_to_pb(today - chrono::Days::new(1))),
        last: Some(date_to_pb(today)),
    }
}

fn request(format: pb::RecordFormat, include_sent: bool, community: &str) -> pb::ExportVolunteerRecordsRequest {
    pb::ExportVolunteerRecordsRequest {
        community_id: community.into(),
        served: Some(recent()),
        include_sent,
        format: format as i32,
    }
}

async fn export(client: &mut Client, r: pb::ExportVolunteerRecordsRequest) -> Result<(String, String), tonic::Status> {
    let mut stream = client.export_volunteer_records(r).await?.into_inner();
    let (mut name, mut bytes) = (String::new(), Vec::new());
    while let Some(m) = stream.message().await? {
        if name.is_empty() {
            name = m.file_name;
        }
        bytes.extend(m.chunk);
    }
    Ok((name, String::from_utf8(bytes).expect("UTF-8")))
}

/// The file with what changes from run to run (ids, the day) named instead,
/// its data lines sorted (the export orders them by id, which is random).
fn normalised(text: &str, names: &[(&str, &str)]) -> String {
    let today = china_today();
    let mut out = text
        .replace(&today.to_string(), "<served>")
        .replace(&(today - chrono::Days::new(1)).to_string(), "<served>");
    for (id, name) in names {
        out = out.replace(id, name);
    }
    let (head, lines) = if out.starts_with('{') {
        ("", out.as_str())
    } else {
        out.split_at(out.find('\n').map_or(0, |i| i + 1))
    };
    let mut lines: Vec<&str> = lines.split_inclusive('\n').collect();
    lines.sort_unstable();
    format!("{head}{}", lines.concat())
}

/// Compares with `tests/golden/<name>`; `DUALREPORT_BLESS_GOLDEN=1` rewrites it.
fn golden(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("DUALREPORT_BLESS_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
    assert_eq!(
        actual, want,
        "{name} differs from its golden file (DUALREPORT_BLESS_GOLDEN=1 rewrites it)"
    );
}

async fn confirmed_services_export_as_the_national_record_and_mark_safely(backend: Backend) {
    let suite = spawn(backend).await;
    let activity = suite.running_activity("扫雪除冰", 10).await;
    let code = suite.code(&activity.id).await;
    let mut ids = Vec::new();
    for name in ["张三", "李四"] {
        let member = suite.registered_member(name, suite.a()).await;
        let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
        suite.confirm(&attendance.id, 0).await.expect("confirm");
        ids.push((member, attendance.id));
    }
    // Checked in but not confirmed: no record.
    let waiting = suite.registered_member("王五", suite.a()).await;
    suite.check_in(&waiting, &activity.id, &code).await.expect("check in");
    let names: Vec<(&str, &str)> = ids
        .iter()
        .zip([("<member-张三>", "<service-张三>"), ("<member-李四>", "<service-李四>")])
        .flat_map(|((member, attendance), (m, a))| [(attendance.as_str(), a), (member.as_str(), m)])
        .collect();

    let (file, csv) = export(&mut suite.admin_a(), request(pb::RecordFormat::Csv, false, suite.a()))
        .await
        .expect("export");
    assert!(file.ends_with(".csv"), "{file}");
    golden("volunteer_records.csv", &normalised(&csv, &names));
    let (file, jsonl) = export(
        &mut suite.admin_a(),
        request(pb::RecordFormat::JsonLines, false, suite.a()),
    )
    .await
    .expect("export");
    assert!(file.ends_with(".jsonl"), "{file}");
    golden("volunteer_records.jsonl", &normalised(&jsonl, &names));

    // The first record sent, the second refused by the national system.
    let record = |i: usize| format!("VR-{}", ids[i].1);
    let mark = |ids: Vec<String>, status: pb::VolunteerRecordStatus, error: &str| pb::MarkVolunteerRecordsRequest {
        community_id: suite.a().into(),
        record_ids: ids,
        status: status as i32,
        error: error.into(),
    };
    let marked = suite
        .admin_a()
        .mark_volunteer_records(mark(vec![record(0)], pb::VolunteerRecordStatus::Sent, ""))
        .await
        .expect("mark sent")
        .into_inner();
    assert_eq!(marked.marked, 1);
    suite
        .admin_a()
        .mark_volunteer_records(mark(vec![record(0)], pb::VolunteerRecordStatus::Sent, ""))
        .await
        .expect("marking again is idempotent");
    suite
        .admin_a()
        .mark_volunteer_records(mark(vec![record(1)], pb::VolunteerRecordStatus::Failed, "身份证号缺失"))
        .await
        .expect("mark failed");
    let (_, again) = export(&mut suite.admin_a(), request(pb::RecordFormat::Csv, false, suite.a()))
        .await
        .expect("re-export");
    assert!(
        !again.contains(&record(0)),
        "a sent record is not exported again: {again}"
    );
    assert!(
        again.contains(&format!("{},", record(1))) && again.contains("上报失败"),
        "{again}"
    );
    let (_, all) = export(&mut suite.admin_a(), request(pb::RecordFormat::Csv, true, suite.a()))
        .await
        .expect("full export");
    assert!(all.contains(&record(0)) && all.contains("已上报"), "{all}");

    // Another community's admin, a member, and bad requests.
    let refused = export(&mut suite.admin_b(), request(pb::RecordFormat::Csv, false, suite.a()))
        .await
        .expect_err("community B");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let refused = suite
        .admin_b()
        .mark_volunteer_records(mark(vec![record(0)], pb::VolunteerRecordStatus::Failed, "x"))
        .await
        .expect_err("community B");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let refused = export(
        &mut suite.member(&ids[0].0),
        request(pb::RecordFormat::Csv, false, suite.a()),
    )
    .await
    .expect_err("a member");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let bad = export(
        &mut suite.admin_a(),
        pb::ExportVolunteerRecordsRequest {
            served: None,
            ..request(pb::RecordFormat::Csv, false, suite.a())
        },
    )
    .await
    .expect_err("no days");
    assert_invalid(&bad, "served");
    let bad = suite
        .admin_a()
        .mark_volunteer_records(mark(vec!["nope".into()], pb::VolunteerRecordStatus::Sent, ""))
        .await
        .expect_err("not a record id");
    assert_invalid(&bad, "record_ids[0]");
    let bad = suite
        .admin_a()
        .mark_volunteer_records(mark(vec![record(0)], pb::VolunteerRecordStatus::New, ""))
        .await
        .expect_err("not a mark");
    assert_invalid(&bad, "status");
}

on_both_backends!(
    confirmed_services_export_as_the_national_record_and_mark_safely,
    the_recording_community_certifies_a_members_hours_as_a_numbered_pdf,
);

/// The text pdftotext (Debian's poppler-utils) reads off a PDF, spaces removed.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args([path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext (Debian's poppler-utils; .ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").replace([' ', '\n'], "")
}

async fn the_recording_community_certifies_a_members_hours_as_a_numbered_pdf(backend: Backend) {
    let suite = spawn(backend).await;
    let activity = suite.running_activity("扫雪除冰", 10).await;
    let code = suite.code(&activity.id).await;
    let member = suite.registered_member("张三", suite.a()).await;
    let attendance = suite.check_in(&member, &activity.id, &code).await.expect("check in");
    suite.confirm(&attendance.id, 0).await.expect("confirm");
    let request = |request_id: &str| pb::IssueServiceCertificateRequest {
        request_id: request_id.into(),
        community_id: suite.a().into(),
        member_id: member.clone(),
        served: Some(recent()),
    };

    let issued = suite
        .admin_a()
        .issue_service_certificate(request("cert-1"))
        .await
        .expect("issue")
        .into_inner();
    let certificate = issued.certificate.clone().expect("certificate");
    let year = china_today().format("%Y").to_string();
    assert!(
        certificate.number.starts_with(&format!("FW-{year}-")) && certificate.number.len() == "FW-2026-000001".len(),
        "{}",
        certificate.number
    );
    assert_eq!((certificate.member_name.as_str(), certificate.services), ("张三", 1));
    assert_eq!(issued.file_name, format!("{}.pdf", certificate.number));
    assert!(issued.pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&issued.pdf);
    for expected in [
        "志愿服务证明".to_owned(),
        format!("编号：{}", certificate.number),
        "兹证明张三同志".to_owned(),
        format!("共计{}小时", certificate.hours),
        format!("{}（盖章）", certificate.community_name),
    ] {
        assert!(text.contains(&expected), "{expected} is not in {text}");
    }

    // A retry is the same certificate; another request the next number.
    let again = suite
        .admin_a()
        .issue_service_certificate(request("cert-1"))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(again.certificate, issued.certificate);
    let second = suite
        .admin_a()
        .issue_service_certificate(request("cert-2"))
        .await
        .expect("a second one")
        .into_inner()
        .certificate
        .expect("certificate");
    assert_ne!(second.number, certificate.number);
    assert!(second.number > certificate.number, "numbers count up");

    // Only the recording community's admin certifies.
    for (who, mut client) in [
        ("community B's admin", suite.admin_b()),
        ("the unit's admin", suite.unit_admin()),
        ("the member", suite.member(&member)),
    ] {
        let refused = client
            .issue_service_certificate(request("cert-x"))
            .await
            .expect_err(who);
        assert_eq!(refused.code(), Code::PermissionDenied, "{who}: {refused:?}");
    }
    // Nothing served in the period, no period, an unknown member.
    let long_ago = DateRange {
        first: Some(date_to_pb(china_today() - chrono::Days::new(400))),
        last: Some(date_to_pb(china_today() - chrono::Days::new(300))),
    };
    let empty = suite
        .admin_a()
        .issue_service_certificate(pb::IssueServiceCertificateRequest {
            served: Some(long_ago),
            ..request("cert-3")
        })
        .await
        .expect_err("nothing to certify");
    assert_eq!(empty.code(), Code::FailedPrecondition, "{empty:?}");
    let bad = suite
        .admin_a()
        .issue_service_certificate(pb::IssueServiceCertificateRequest {
            served: None,
            ..request("cert-4")
        })
        .await
        .expect_err("no period");
    assert_invalid(&bad, "served");
    let unknown = suite
        .admin_a()
        .issue_service_certificate(pb::IssueServiceCertificateRequest {
            member_id: "no-such-member".into(),
            ..request("cert-5")
        })
        .await
        .expect_err("unknown member");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
}
