//! The audit trail: every change the registry makes is recorded with who,
//! when, what and the fields before and after (personal data masked), in the
//! change's transaction; admins read their subtree, filtered and paged; a
//! refused change records nothing; other admins and members cannot read it.

use std::collections::HashSet;

use dualreport_platform::auth::Role;
use dualreport_proto::common::v1 as cpb;
use dualreport_proto::common::v1::audit_log_service_client::AuditLogServiceClient;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::{admin_token, member_token};
use tonic::Code;

use crate::helpers::*;

type Authed = tonic::service::interceptor::InterceptedService<
    tonic::transport::Channel,
    dualreport_platform::client::ClientInterceptor,
>;

fn audit_client(app: &TestApp, token: &str) -> AuditLogServiceClient<Authed> {
    AuditLogServiceClient::new(dualreport_testkit::authed(app.channel.clone(), token))
}

/// Every record `request` selects, walked two at a time.
async fn all_records(app: &TestApp, token: &str, request: cpb::ListAuditRecordsRequest) -> Vec<cpb::AuditRecord> {
    dualreport_testkit::audit::trail(&app.channel, token, request, 2)
        .await
        .expect("list audit records")
}

async fn every_change_is_audited_with_before_and_after(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "审计").await;
    let mut unit_admin = app.admin(Role::UnitAdmin, &city.unit.id);
    let update = |phone: &str| pb::UpdateMemberRequest {
        request_id: String::new(),
        etag: String::new(),
        member_id: member.id.clone(),
        profile: Some(pb::MemberProfile {
            phone: phone.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["phone".into()],
        }),
    };
    unit_admin.update_member(update("13700007777")).await.expect("update");
    // Refused: nothing changes, nothing is recorded.
    unit_admin.update_member(update("bad")).await.expect_err("bad phone");
    report_and_confirm(&app, &member.id, &city.community_a.id, "第一党支部").await;
    dualreport_testkit::registry::unit_report_received(&app.channel, &city.unit.id, &city.community_a.id, this_year())
        .await;
    dualreport_testkit::registry::relocate(&app.channel, &member.id, &city.community_b.id).await;
    let absent = unit_member(&app, &city, "未报到").await;
    unit_admin
        .issue_introduction_letter(pb::IssueIntroductionLetterRequest {
            request_id: String::new(),
            member_id: absent.id.clone(),
            community_id: city.community_a.id.clone(),
            year: this_year(),
        })
        .await
        .expect("letter");
    unit_admin
        .record_non_report_reason(pb::RecordNonReportReasonRequest {
            request_id: String::new(),
            member_id: absent.id.clone(),
            year: this_year(),
            reason: "长期外派".into(),
        })
        .await
        .expect("reason");
    dualreport_testkit::registry::import(
        &mut unit_admin,
        vec![pb::ImportMembersRequest {
            request_id: "roster-1".into(),
            rows: (0..3)
                .map(|i| profile(&format!("导入{i}"), &city.unit.id, &city.community_a.id))
                .collect(),
        }],
    )
    .await;
    app.admin(Role::DistrictAdmin, &city.district.id)
        .update_organization(pb::UpdateOrganizationRequest {
            request_id: String::new(),
            etag: String::new(),
            organization_id: city.unit.id.clone(),
            organization: Some(pb::OrganizationInput {
                leader: "新书记".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["leader".into()],
            }),
        })
        .await
        .expect("org update");

    // The city sees every kind of change, newest first, each once.
    let city_token = admin_token(Role::CityAdmin, "city");
    let everything = all_records(
        &app,
        &city_token,
        cpb::ListAuditRecordsRequest {
            org_id: "city".into(),
            ..Default::default()
        },
    )
    .await;
    let methods: HashSet<&str> = everything.iter().map(|r| r.method.as_str()).collect();
    for method in [
        "CreateOrganization",
        "UpdateOrganization",
        "CreateMember",
        "UpdateMember",
        "ImportMembers",
        "IssueIntroductionLetter",
        "SubmitMemberReport",
        "ConfirmMemberReport",
        "SubmitUnitReport",
        "ReceiveUnitReport",
        "DeclareRelocation",
        "RecordNonReportReason",
    ] {
        assert!(methods.contains(method), "{method} is recorded; found {methods:?}");
    }
    let ids: HashSet<&str> = everything.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), everything.len(), "each record once across pages");
    let times: Vec<i64> = everything
        .iter()
        .map(|r| {
            r.time
                .as_ref()
                .map_or(0, |t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000)
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // The member's edit: who, what, before and after, masked.
    let edits = all_records(
        &app,
        &admin_token(Role::UnitAdmin, &city.unit.id),
        cpb::ListAuditRecordsRequest {
            org_id: city.unit.id.clone(),
            resource_id: member.id.clone(),
            method: "UpdateMember".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(edits.len(), 1, "the refused update left no record");
    let edit = &edits[0];
    assert_eq!(
        (edit.role.as_str(), edit.actor_org_id.as_str()),
        ("unit_admin", city.unit.id.as_str())
    );
    assert_eq!(edit.resource_kind, "member");
    let before: serde_json::Value = serde_json::from_str(&edit.before).expect("before is JSON");
    let after: serde_json::Value = serde_json::from_str(&edit.after).expect("after is JSON");
    assert_eq!(after["phone"], "137****7777", "masked");
    assert_ne!(before["phone"], after["phone"]);
    assert!(!edit.before.contains("13700007777") && !edit.after.contains("13700007777"));
    assert_eq!(before["name"], "审计");

    // Scope: community B's admin cannot read the unit's trail; a member has no trail to read.
    let status = audit_client(&app, &admin_token(Role::CommunityAdmin, &city.community_b.id))
        .list_audit_records(cpb::ListAuditRecordsRequest {
            org_id: city.unit.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("outside its subtree");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = audit_client(&app, &member_token(&member.id))
        .list_audit_records(cpb::ListAuditRecordsRequest {
            org_id: city.unit.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("members read no trail");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = audit_client(&app, &city_token)
        .list_audit_records(cpb::ListAuditRecordsRequest::default())
        .await
        .expect_err("org_id is required");
    assert_invalid(&status, "org_id");
}

/// The whole export, message by message.
async fn export(
    app: &TestApp,
    token: &str,
    request: cpb::ExportAuditRecordsRequest,
) -> Result<Vec<cpb::ExportAuditRecordsResponse>, tonic::Status> {
    let mut stream = audit_client(app, token)
        .export_audit_records(request)
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(message) = stream.message().await? {
        out.push(message);
    }
    Ok(out)
}

/// The trail of a subtree exports as one CSV file streamed a page per
/// message: every record once, the header first, and an interrupted export
/// resumes from the token of the last message received.
async fn the_trail_exports_as_csv_a_page_per_message(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    for name in ["导一", "导二", "导三", "导四", "导五"] {
        unit_member(&app, &city, name).await;
    }
    let city_token = admin_token(Role::CityAdmin, "city");
    let records = all_records(&app, &city_token, dualreport_testkit::audit::of_org(&city.district.id)).await;
    assert!(records.len() >= 11, "six orgs and five members: {}", records.len());
    let request = |page_token: String| cpb::ExportAuditRecordsRequest {
        query: Some(cpb::ListAuditRecordsRequest {
            org_id: city.district.id.clone(),
            page_size: 2,
            page_token,
            ..Default::default()
        }),
    };
    let messages = export(&app, &city_token, request(String::new())).await.expect("export");
    assert_eq!(messages.len(), records.len().div_ceil(2), "two records a message");
    assert_eq!(messages[0].file_name, format!("audit-{}.csv", city.district.id));
    assert!(messages[0].content_type.starts_with("text/csv"));
    assert!(messages.last().expect("last").next_page_token.is_empty());
    let file: Vec<u8> = messages.iter().flat_map(|m| m.chunk.clone()).collect();
    let text = String::from_utf8(file).expect("utf-8");
    assert!(text.starts_with("\u{feff}时间,操作者,角色"), "{text}");
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), records.len() + 1, "the header and one line per record");
    for (line, record) in lines[1..].iter().zip(&records) {
        assert!(line.contains(&record.id), "newest first, as the list: {line}");
    }
    let resumed = export(&app, &city_token, request(messages[0].next_page_token.clone()))
        .await
        .expect("resume");
    let rest: Vec<u8> = resumed.iter().flat_map(|m| m.chunk.clone()).collect();
    let expected: Vec<u8> = messages[1..].iter().flat_map(|m| m.chunk.clone()).collect();
    assert_eq!(rest, expected, "the rest of the file, without a second header");

    let status = export(
        &app,
        &admin_token(Role::CommunityAdmin, &city.community_b.id),
        request(String::new()),
    )
    .await
    .expect_err("outside its subtree");
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = export(&app, &city_token, cpb::ExportAuditRecordsRequest::default())
        .await
        .expect_err("no org");
    assert_invalid(&status, "query.org_id");
}

dualreport_testkit::on_both_backends!(
    every_change_is_audited_with_before_and_after,
    the_trail_exports_as_csv_a_page_per_message,
);
