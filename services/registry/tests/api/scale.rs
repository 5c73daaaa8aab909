//! A real district's size through the API (issue 15): 100,000 members
//! imported in one call, and the statistics of the district answering with
//! small messages while every not-reported member is found by paging.

use std::collections::HashSet;

use dualreport_proto::registry::v1 as pb;

use crate::helpers::*;

const MEMBERS: usize = 100_000;
const BATCH: usize = 5_000;

async fn a_district_of_100k_members_imports_in_one_call_and_its_statistics_answer(backend: Backend) {
    let app = spawn(backend).await;
    let city = build_city(&app).await;
    let batches: Vec<_> = (0..MEMBERS / BATCH)
        .map(|b| pb::ImportMembersRequest {
            request_id: format!("roster-{b}"),
            rows: (0..BATCH)
                .map(|i| {
                    let n = b * BATCH + i;
                    let community = if n.is_multiple_of(2) {
                        &city.community_a.id
                    } else {
                        &city.community_b.id
                    };
                    pb::MemberProfile {
                        phone: format!("139{n:08}"),
                        ..dualreport_testkit::registry::profile(&format!("成员{n}"), &city.unit.id, community)
                    }
                })
                .collect(),
        })
        .collect();
    let mut city_admin = app.city();
    let replies = dualreport_testkit::registry::import(&mut city_admin, batches).await;
    assert_eq!(replies.len(), MEMBERS / BATCH, "one reply per batch");
    assert!(replies.iter().all(|r| r.committed && r.errors.is_empty()));
    let ids: HashSet<&str> = replies
        .iter()
        .flat_map(|r| r.member_ids.iter().map(String::as_str))
        .collect();
    assert_eq!(ids.len(), MEMBERS);

    let stats = city_admin
        .get_report_statistics(pb::GetReportStatisticsRequest {
            org_id: city.district.id.clone(),
            year: this_year(),
            ..Default::default()
        })
        .await
        .expect("statistics of a 100k district")
        .into_inner();
    let unit = stats
        .units
        .iter()
        .find(|u| u.unit_org_id == city.unit.id)
        .expect("the unit's line");
    assert_eq!((unit.registered_members, unit.reported_members), (MEMBERS as i32, 0));

    let mut seen = HashSet::new();
    let mut token = String::new();
    loop {
        let page = city_admin
            .list_not_reported_members(pb::ListNotReportedMembersRequest {
                org_id: city.district.id.clone(),
                year: this_year(),
                page_size: 500,
                page_token: token,
            })
            .await
            .expect("a page of not-reported members")
            .into_inner();
        assert!(page.members.len() <= 500);
        for member in page.members {
            assert!(seen.insert(member.member_id), "each member once");
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), MEMBERS, "every not-reported member, by paging");
}

dualreport_testkit::on_both_backends!(a_district_of_100k_members_imports_in_one_call_and_its_statistics_answer);
