//! Every List pages (AIP-158): objections, notices and warnings walked two at a time
//! give each item exactly once, in the order one big page gives them.

use dualreport_proto::feedback::v1 as pb;
use dualreport_testkit::paging::walk;

use crate::helpers::*;

async fn objections_notices_and_warnings_page(backend: Backend) {
    let suite = spawn(backend).await;
    let member = suite.registered_member("翻页", suite.a()).await;
    for n in 0..5 {
        let entry = suite.award(&member, &format!("page:{n}"), 0).await;
        suite
            .member(&member)
            .raise_objection(pb::RaiseObjectionRequest {
                request_id: format!("raise-{n}"),
                entry_id: entry.id,
                content: "服务时长记少了".into(),
            })
            .await
            .expect("raise");
    }
    suite.pair_unit_with_a().await;
    for half in [1, 2] {
        suite
            .admin_a()
            .send_notice(pb::SendNoticeRequest {
                request_id: format!("notice-{half}"),
                community_id: suite.a().into(),
                unit_org_id: suite.unit().into(),
                period: period(suite.year, half),
                title: "反馈".into(),
                body: "请查收。".into(),
                urgent: false,
            })
            .await
            .expect("notice");
    }
    for (who, org) in [("community", suite.a().to_owned()), ("member", String::new())] {
        let objections = walk(who, |page_size, page_token| {
            let mut c = if who == "member" {
                suite.member(&member)
            } else {
                suite.admin_a()
            };
            let request = pb::ListObjectionsRequest {
                org_id: org.clone(),
                page_size,
                page_token,
                ..Default::default()
            };
            async move {
                let r = c.list_objections(request).await.expect("objections").into_inner();
                (r.objections.into_iter().map(|o| o.id).collect(), r.next_page_token)
            }
        })
        .await;
        assert_eq!(objections.len(), 5, "{who}");
    }
    let notices = walk("notices", |page_size, page_token| {
        let mut c = suite.unit_admin();
        let request = pb::ListNoticesRequest {
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_notices(request).await.expect("notices").into_inner();
            (r.notices.into_iter().map(|n| n.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(notices.len(), 2);

    // Community A rates each unit paired with it: its own and three more.
    let mut units = vec![suite.unit().to_owned()];
    let mut city = dualreport_testkit::registry::client(
        &suite.registry_channel,
        &dualreport_testkit::admin_token(dualreport_platform::auth::Role::CityAdmin, "city"),
    );
    for n in 0..3 {
        let unit = dualreport_testkit::registry::create_org(
            &mut city,
            &format!("共建单位{n}"),
            dualreport_proto::registry::v1::OrganizationType::Institution,
            &suite.city.committee.id,
        )
        .await;
        dualreport_testkit::registry::unit_report_received(&suite.registry_channel, &unit.id, suite.a(), suite.year)
            .await;
        units.push(unit.id);
    }
    for (n, unit) in units.iter().enumerate() {
        suite
            .admin_a()
            .rate_unit(pb::RateUnitRequest {
                request_id: format!("rate-{n}"),
                community_id: suite.a().into(),
                unit_org_id: unit.clone(),
                year: suite.year,
                grade: pb::UnitGrade::Good.into(),
                comment: "共建项目完成较好".into(),
            })
            .await
            .expect("rate");
    }
    let ratings = walk("ratings", |page_size, page_token| {
        let mut c = suite.admin_a();
        let request = pb::ListUnitRatingsRequest {
            org_id: suite.a().into(),
            year: suite.year,
            page_size,
            page_token,
        };
        async move {
            let r = c.list_unit_ratings(request).await.expect("ratings").into_inner();
            (
                r.ratings.into_iter().map(|x| x.unit_org_id).collect(),
                r.next_page_token,
            )
        }
    })
    .await;
    assert_eq!(ratings.len(), 4);

    for n in 0..4 {
        suite.unreported_member(&format!("未报{n}")).await;
    }
    let raised = suite.evaluate((suite.year, 4, 1)).await;
    assert!(raised.warnings.len() >= 4, "{raised:?}");
    let warnings = walk("warnings", |page_size, page_token| {
        let mut c = suite.unit_admin();
        let request = pb::ListWarningsRequest {
            org_id: suite.unit().into(),
            year: suite.year,
            page_size,
            page_token,
            ..Default::default()
        };
        async move {
            let r = c.list_warnings(request).await.expect("warnings").into_inner();
            (r.warnings.into_iter().map(|w| w.id).collect(), r.next_page_token)
        }
    })
    .await;
    assert_eq!(warnings.len(), raised.warnings.len());
}

dualreport_testkit::on_both_backends!(objections_notices_and_warnings_page,);
