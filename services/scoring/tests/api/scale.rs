//! A real district's size through the API (issue 15): a community whose
//! half-year holds 100,000 members' services settles in one call whose reply
//! is small, its lines are paged, and the board of the district answers a
//! page by reading an index range, ranked as SQL's RANK() would.
//!
//! The half-year's history (300,000 service entries) is seeded straight into
//! scoring's database: recording it call by call would take the test
//! minutes. Everything measured goes through gRPC.

use std::collections::HashSet;

use dualreport_proto::scoring::v1 as pb;

use crate::helpers::*;

const MEMBERS: i64 = 100_000;
const ENTRIES_PER_MEMBER: i64 = 3;

/// Member `m<i>` earns 3 × (i mod 40) points: 2,500 members on each total
/// from 0 to 117.
async fn seed(suite: &Suite) {
    dualreport_testkit::seed::HalfYearOfService {
        community_id: suite.a(),
        period: &suite.period.key(),
        served_on: &suite.period.first_day().to_string(),
        members: MEMBERS,
        entries_per_member: ENTRIES_PER_MEMBER,
    }
    .write(suite.database_url())
    .await;
}

async fn a_community_of_100k_members_settles_and_its_board_pages(backend: Backend) {
    let suite = spawn(backend).await;
    seed(&suite).await;
    let settlement = suite.settle().await;
    assert_eq!(
        settlement.line_count, MEMBERS as i32,
        "one line per member, none in the reply"
    );

    // The lines, paged: each member once, in board order.
    let mut admin = suite.admin_a();
    let mut seen = HashSet::new();
    let mut last = (i32::MAX, i32::MAX);
    let mut token = String::new();
    loop {
        let page = admin
            .list_settlement_lines(pb::ListSettlementLinesRequest {
                settlement_id: settlement.id.clone(),
                page_size: 500,
                page_token: token,
            })
            .await
            .expect("a page of lines")
            .into_inner();
        for line in page.lines {
            assert!((line.stars, line.points) <= last, "board order");
            last = (line.stars, line.points);
            assert_eq!(line.stars, (line.points / 10).min(10), "stars by the rule");
            assert!(seen.insert(line.subject.expect("subject").id), "each line once");
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), MEMBERS as usize);

    suite.review_and_publish(&settlement.id).await;
    // The district's board: 2,500 members share the top total (117) and rank
    // 1; the next total (114) ranks 2,501, whichever page it starts on.
    let mut reader = suite.member("m1");
    let mut token = String::new();
    let mut rows = Vec::new();
    while rows.len() < 2_600 {
        let page = reader
            .get_board(pb::GetBoardRequest {
                org_id: suite.city.district.id.clone(),
                period: Some(suite.pb_period()),
                subject_kind: pb::SubjectKind::Member as i32,
                page_size: 300,
                page_token: token,
            })
            .await
            .expect("a board page")
            .into_inner();
        rows.extend(page.rows);
        token = page.next_page_token;
    }
    let points = |r: &pb::BoardRow| r.line.as_ref().expect("line").points;
    assert!(rows[..2_500].iter().all(|r| (r.rank, points(r)) == (1, 117)));
    assert!(rows[2_500..].iter().all(|r| (r.rank, points(r)) == (2_501, 114)));
}

dualreport_testkit::on_both_backends!(a_community_of_100k_members_settles_and_its_board_pages);
