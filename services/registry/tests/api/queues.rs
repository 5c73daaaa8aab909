//! Work queues: the typed filters (status, a `DateRange`) of the Lists a
//! community or a district works from — reports waiting for a receipt or a
//! confirmation, and relocations by status.

use dualreport_platform::auth::Role;
use dualreport_platform::wire::date_to_pb;
use dualreport_proto::common::v1::DateRange;
use dualreport_proto::registry::v1 as pb;
use dualreport_testkit::member_token;
use registry::domain::china_today;
use tonic::Code;

use std::collections::HashMap;

use crate::helpers::*;
use crate::unit_reports::unit_report;

/// Today only, yesterday only (China Standard Time).
fn today_and_yesterday() -> (DateRange, DateRange) {
    let today = china_today();
    let yesterday = today.pred_opt().expect("yesterday");
    let day = |d| DateRange {
        first: Some(date_to_pb(d)),
        last: Some(date_to_pb(d)),
    };
    (day(today), day(yesterday))
}

async fn a_community_lists_unit_reports_waiting_for_its_receipt(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let report = app
        .admin(Role::UnitAdmin, &city.unit.id)
        .submit_unit_report(unit_report(&city, "queue-1"))
        .await
        .expect("submit")
        .into_inner()
        .report
        .expect("report");
    let mut community = app.admin(Role::CommunityAdmin, &city.community_a.id);
    let (today, yesterday) = today_and_yesterday();
    let queue = |status: pb::UnitReportStatus, submitted: Option<DateRange>| pb::ListUnitReportsRequest {
        org_id: city.community_a.id.clone(),
        year: this_year(),
        status: status.into(),
        submitted,
        ..Default::default()
    };
    let ids = |reports: Vec<pb::UnitReport>| reports.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let reader = community.clone();
    let list = |request: pb::ListUnitReportsRequest| {
        let mut client = reader.clone();
        async move {
            ids(client
                .list_unit_reports(request)
                .await
                .expect("list")
                .into_inner()
                .reports)
        }
    };
    assert_eq!(
        list(queue(pb::UnitReportStatus::Submitted, None)).await,
        std::slice::from_ref(&report.id)
    );
    assert_eq!(
        list(queue(pb::UnitReportStatus::Submitted, Some(today))).await,
        std::slice::from_ref(&report.id)
    );
    assert!(
        list(queue(pb::UnitReportStatus::Submitted, Some(yesterday)))
            .await
            .is_empty(),
        "submitted today, not yesterday"
    );
    assert!(list(queue(pb::UnitReportStatus::Received, None)).await.is_empty());

    community
        .receive_unit_report(pb::ReceiveUnitReportRequest {
            request_id: String::new(),
            report_id: report.id.clone(),
        })
        .await
        .expect("receive");
    assert!(
        list(queue(pb::UnitReportStatus::Submitted, None)).await.is_empty(),
        "the queue is done"
    );
    assert_eq!(
        list(queue(pb::UnitReportStatus::Received, None)).await,
        std::slice::from_ref(&report.id)
    );

    // A range that ends before it starts names the field.
    let backwards = DateRange {
        first: today.first,
        last: yesterday.last,
    };
    let status = community
        .list_unit_reports(queue(pb::UnitReportStatus::Unspecified, Some(backwards)))
        .await
        .expect_err("backwards range");
    assert_invalid(&status, "submitted");
    let status = community
        .list_unit_reports(pb::ListUnitReportsRequest {
            status: 99,
            ..queue(pb::UnitReportStatus::Unspecified, None)
        })
        .await
        .expect_err("unknown status");
    assert_invalid(&status, "status");
    // Another community's queue is not this admin's.
    let status = app
        .admin(Role::CommunityAdmin, &city.community_b.id)
        .list_unit_reports(queue(pb::UnitReportStatus::Submitted, None))
        .await
        .expect_err("another community");
    assert_eq!(status.code(), Code::PermissionDenied);
}

async fn member_reports_and_relocations_filter_by_day_and_status(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let member = unit_member(&app, &city, "迁居者").await;
    report_and_confirm(&app, &member.id, &city.community_a.id, "一支部").await;
    let (today, yesterday) = today_and_yesterday();
    let mut district = app.admin(Role::DistrictAdmin, &city.district.id);
    let reports = |submitted: DateRange| pb::ListMemberReportsRequest {
        org_id: city.district.id.clone(),
        year: this_year(),
        submitted: Some(submitted),
        ..Default::default()
    };
    let found = district
        .list_member_reports(reports(today))
        .await
        .expect("today")
        .into_inner()
        .reports;
    assert_eq!(found.len(), 1);
    let none = district
        .list_member_reports(reports(yesterday))
        .await
        .expect("yesterday")
        .into_inner()
        .reports;
    assert!(none.is_empty(), "nothing was submitted yesterday: {none:?}");

    app.client(&member_token(&member.id))
        .declare_relocation(pb::DeclareRelocationRequest {
            request_id: String::new(),
            member_id: member.id.clone(),
            to_community_id: city.community_b.id.clone(),
            reason: "搬家".into(),
            to_district: String::new(),
        })
        .await
        .expect("relocate");
    let relocations = |status: pb::RelocationStatus, declared: Option<DateRange>| pb::ListRelocationsRequest {
        org_id: city.district.id.clone(),
        status: status.into(),
        declared,
        ..Default::default()
    };
    let reader = district.clone();
    let count = |request: pb::ListRelocationsRequest| {
        let mut client = reader.clone();
        async move {
            client
                .list_relocations(request)
                .await
                .expect("list")
                .into_inner()
                .relocations
                .len()
        }
    };
    assert_eq!(count(relocations(pb::RelocationStatus::Pending, None)).await, 1);
    assert_eq!(count(relocations(pb::RelocationStatus::Pending, Some(today))).await, 1);
    assert_eq!(
        count(relocations(pb::RelocationStatus::Pending, Some(yesterday))).await,
        0
    );
    assert_eq!(count(relocations(pb::RelocationStatus::Fulfilled, None)).await, 0);

    report_and_confirm(&app, &member.id, &city.community_b.id, "二支部").await;
    assert_eq!(count(relocations(pb::RelocationStatus::Pending, None)).await, 0);
    assert_eq!(count(relocations(pb::RelocationStatus::Fulfilled, None)).await, 1);
    let status = district
        .list_relocations(pb::ListRelocationsRequest {
            declared: Some(DateRange {
                first: Some(dualreport_proto::common::v1::Date {
                    year: 2026,
                    month: 13,
                    day: 1,
                }),
                last: None,
            }),
            ..relocations(pb::RelocationStatus::Unspecified, None)
        })
        .await
        .expect_err("no thirteenth month");
    assert_invalid(&status, "declared.first");
}

dualreport_testkit::on_both_backends!(
    the_report_lists_page,
    report_statistics_page_through_units_then_communities,
    a_community_lists_unit_reports_waiting_for_its_receipt,
    member_reports_and_relocations_filter_by_day_and_status,
);

/// The district's statistics walked a few lines at a time give every unit
/// and every community exactly once, with the counts the one-page answer
/// gives — whatever the page size, including one the units fill exactly.
async fn report_statistics_page_through_units_then_communities(backend: Backend) {
    use pb::OrganizationType as T;
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut admin = app.city();
    for n in 0..3 {
        create_org(&mut admin, &format!("第{n}委办局"), T::Institution, &city.committee.id).await;
        create_org(&mut admin, &format!("第{n}社区"), T::Community, &city.street.id).await;
    }
    let member = unit_member(&app, &city, "统计").await;
    report_and_confirm(&app, &member.id, &city.community_a.id, "一支部").await;
    let request = |page_size: i32, page_token: String| pb::GetReportStatisticsRequest {
        org_id: city.district.id.clone(),
        year: this_year(),
        page_size,
        page_token,
    };
    let whole = admin
        .get_report_statistics(request(500, String::new()))
        .await
        .expect("one page")
        .into_inner();
    assert!(whole.next_page_token.is_empty());
    // committee, unit and three institutions; A, B and three more communities.
    assert_eq!((whole.units.len(), whole.communities.len()), (5, 5));
    let units: HashMap<String, (i32, i32)> = whole
        .units
        .iter()
        .map(|u| (u.unit_org_id.clone(), (u.registered_members, u.reported_members)))
        .collect();
    assert_eq!(units[&city.unit.id], (1, 1));
    let communities: HashMap<String, i32> = whole
        .communities
        .iter()
        .map(|c| (c.community_id.clone(), c.members_reported))
        .collect();
    assert_eq!(communities[&city.community_a.id], 1);

    for page_size in [1, 2, 3, 5] {
        let (mut seen_units, mut seen_communities) = (HashMap::new(), HashMap::new());
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = admin
                .get_report_statistics(request(page_size, token))
                .await
                .expect("a page")
                .into_inner();
            pages += 1;
            assert!(page.units.len() + page.communities.len() <= page_size as usize);
            for u in page.units {
                let counts = (u.registered_members, u.reported_members);
                assert!(seen_units.insert(u.unit_org_id, counts).is_none(), "a unit twice");
            }
            for c in page.communities {
                assert!(
                    seen_communities.insert(c.community_id, c.members_reported).is_none(),
                    "a community twice"
                );
            }
            token = page.next_page_token;
            if token.is_empty() {
                break;
            }
            assert!(pages < 20, "paging ends");
        }
        assert_eq!(seen_units, units, "page size {page_size}");
        assert_eq!(seen_communities, communities, "page size {page_size}");
    }
    let status = admin
        .get_report_statistics(request(2, "bm90LWEtdG9rZW4".into()))
        .await
        .expect_err("a forged token");
    assert_invalid(&status, "page_token");
}

/// Unit reports, member reports and relocations walked two at a time give
/// each exactly once, in the order one big page gives them.
async fn the_report_lists_page(backend: Backend) {
    use pb::OrganizationType as T;
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let mut admin = app.city();
    for n in 0..5 {
        let unit = create_org(&mut admin, &format!("翻页单位{n}"), T::Institution, &city.committee.id).await;
        app.admin(Role::UnitAdmin, &unit.id)
            .submit_unit_report(pb::SubmitUnitReportRequest {
                request_id: format!("unit-{n}"),
                unit_org_id: unit.id.clone(),
                community_id: city.community_a.id.clone(),
                year: this_year(),
                resources: "场地".into(),
                suggestions: String::new(),
            })
            .await
            .expect("unit report");
        let member = unit_member(&app, &city, &format!("翻页{n}")).await;
        report_and_confirm(&app, &member.id, &city.community_a.id, "一支部").await;
        app.client(&member_token(&member.id))
            .declare_relocation(pb::DeclareRelocationRequest {
                request_id: String::new(),
                member_id: member.id.clone(),
                to_community_id: city.community_b.id.clone(),
                reason: "搬家".into(),
                to_district: String::new(),
            })
            .await
            .expect("relocate");
    }
    let district = city.district.id.clone();
    let units = dualreport_testkit::paging::walk("unit reports", |page_size, page_token| {
        let mut c = app.city();
        let request = pb::ListUnitReportsRequest {
            org_id: district.clone(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_unit_reports(request).await.expect("unit reports").into_inner();
            (r.reports.into_iter().map(|x| x.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(units.len(), 5);
    let members = dualreport_testkit::paging::walk("member reports", |page_size, page_token| {
        let mut c = app.city();
        let request = pb::ListMemberReportsRequest {
            org_id: district.clone(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c
                .list_member_reports(request)
                .await
                .expect("member reports")
                .into_inner();
            (r.reports.into_iter().map(|x| x.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(members.len(), 5, "ended by the moves, still listed");
    let relocations = dualreport_testkit::paging::walk("relocations", |page_size, page_token| {
        let mut c = app.city();
        let request = pb::ListRelocationsRequest {
            org_id: district.clone(),
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_relocations(request).await.expect("relocations").into_inner();
            (r.relocations.into_iter().map(|x| x.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(relocations.len(), 5);
}
