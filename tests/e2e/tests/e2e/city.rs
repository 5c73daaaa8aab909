//! A city of three district releases under the city tier, every service a
//! real process on its own database: the merged feed and the city board
//! across districts, and what the city answers while a district is down,
//! after it returns, and after the city tier itself was killed mid-ingest.

use std::collections::BTreeMap;

use chrono::Datelike as _;
use dualreport_platform::auth::Role;
use dualreport_proto::city::v1 as cpb;
use dualreport_proto::common::v1 as common;
use dualreport_proto::common::v1::event_journal_service_client::EventJournalServiceClient;
use dualreport_proto::registry::v1 as rpb;
use dualreport_testkit::registry::{org_input, profile, report_and_confirm};
use dualreport_testkit::{admin_token, assert_invalid, authed, channel, member_token, mint, service_token};
use e2e::city::{CityTier, last_half};
use e2e::{Backend, Suite, eventually};
use tonic::Code;

dualreport_testkit::on_both_backends!(
    the_city_merges_every_districts_feed_and_board,
    a_district_down_is_named_and_caught_up_once_it_returns,
    municipal_units_are_the_citys_and_reach_every_district,
    a_municipal_units_summary_spans_the_districts_and_names_a_silent_one,
    a_municipal_units_statistics_ratings_and_warnings_span_the_districts,
    the_city_webhook_sends_every_districts_events_with_their_district,
    a_district_not_running_the_citys_policy_is_named,
    a_member_moves_between_districts_through_the_city_even_when_it_was_down,
);

/// Every fact `suite`'s four journals hold, as (journal, sequence, kind, subject).
async fn journals(suite: &Suite) -> Vec<(String, i64, String, String)> {
    let mut all = Vec::new();
    for (journal, port) in [
        ("registry", suite.registry.port),
        ("volunteering", suite.volunteering.port),
        ("scoring", suite.scoring.port),
        ("feedback", suite.feedback.port),
    ] {
        let mut client = EventJournalServiceClient::new(authed(channel(port), &service_token()));
        let mut after = 0;
        loop {
            let entries = client
                .list_journal(common::ListJournalRequest {
                    after_sequence: after,
                    limit: 1000,
                })
                .await
                .expect("journal")
                .into_inner()
                .entries;
            let Some(last) = entries.last() else { break };
            after = last.sequence;
            all.extend(
                entries
                    .into_iter()
                    .map(|e| (journal.to_owned(), e.sequence, e.kind, e.subject_id)),
            );
        }
    }
    all
}

/// The city's whole feed (the backlog), as the cloud reads it.
async fn feed(city: &CityTier, cursor: &str) -> Vec<cpb::WatchEventsResponse> {
    let mut stream = city
        .client(&mint(Role::Cloud, None, None, 3600))
        .watch_events(cpb::WatchEventsRequest {
            cursor: cursor.into(),
            backlog_only: true,
        })
        .await
        .expect("watch")
        .into_inner();
    let mut out = Vec::new();
    while let Some(item) = stream.message().await.expect("event") {
        out.push(item);
    }
    out
}

/// The feed's facts per district as (journal, kind, subject), sorted, and
/// the districts' journals likewise (but for roster facts, which feed the
/// city's roster and not the cloud): equal when nothing is lost or doubled.
async fn feed_matches_journals(city: &CityTier) -> bool {
    let mut fed: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for item in feed(city, "").await {
        let e = item.event.expect("event");
        fed.entry(item.district)
            .or_default()
            .push((e.source, e.kind, e.subject_id));
    }
    for (name, suite) in &city.districts {
        let mut want: Vec<_> = journals(suite)
            .await
            .into_iter()
            .filter(|(_, _, kind, _)| !dualreport_platform::journal::is_roster(kind))
            .map(|(journal, _, kind, subject)| (journal, kind, subject))
            .collect();
        want.sort();
        let mut got = fed.remove(name).unwrap_or_default();
        got.sort();
        if got != want {
            return false;
        }
    }
    fed.is_empty()
}

async fn board(city: &CityTier, period: &common::Period, district: &str, page_size: i32) -> Vec<cpb::CityBoardLine> {
    let mut lines = Vec::new();
    let mut token = String::new();
    loop {
        let page = city
            .client(&member_token("anyone"))
            .list_city_board(cpb::ListCityBoardRequest {
                period: Some(*period),
                district: district.into(),
                page_size,
                page_token: token,
            })
            .await
            .expect("board")
            .into_inner();
        lines.extend(page.lines);
        if page.next_page_token.is_empty() {
            return lines;
        }
        token = page.next_page_token;
    }
}

async fn the_city_merges_every_districts_feed_and_board(backend: Backend) {
    let city = CityTier::start(backend, &["east", "west", "north"], 200).await;
    let period = last_half();
    // East publishes three members, west one; north publishes nothing.
    let east = city.district("east");
    let (e1, e2, e3) = (
        east.reported_member("东甲", &period).await,
        east.reported_member("东乙", &period).await,
        east.reported_member("东丙", &period).await,
    );
    east.publish_settlement(&period, &[(&e1, 4), (&e2, 1), (&e3, 2)]).await;
    let west = city.district("west");
    let w1 = west.reported_member("西甲", &period).await;
    let west_settlement = west.publish_settlement(&period, &[(&w1, 3)]).await;
    city.district("north").reported_member("北甲", &period).await;

    // The board: every published line, with its district, stars then points.
    let lines = eventually("both districts on the city board", || async {
        let lines = board(&city, &period, "", 50).await;
        (lines.len() == 4).then_some(lines)
    })
    .await;
    let order: Vec<(&str, &str, i32)> = lines
        .iter()
        .map(|l| (l.district.as_str(), l.subject_name.as_str(), l.points))
        .collect();
    assert_eq!(
        order,
        vec![
            ("east", "东甲", 20),
            ("west", "西甲", 15),
            ("east", "东丙", 10),
            ("east", "东乙", 5)
        ],
        "stars, then points, across districts"
    );
    assert_eq!(lines[1].settlement_id, west_settlement.id);
    assert_eq!((lines[0].stars, lines[3].stars), (2, 0));
    assert_eq!(
        board(&city, &period, "", 1).await,
        lines,
        "pages of one give the same board"
    );
    let west_only = board(&city, &period, "west", 1).await;
    assert_eq!(west_only, vec![lines[1].clone()]);
    assert!(board(&city, &period, "north", 50).await.is_empty());

    // The feed: every fact of every district's four journals, once, with
    // its district; resuming from a cursor gives exactly what follows it.
    eventually("the feed holds every district's journals", || async {
        feed_matches_journals(&city).await.then_some(())
    })
    .await;
    let all = feed(&city, "").await;
    let confirmed = all
        .iter()
        .filter(|i| i.event.as_ref().is_some_and(|e| e.kind == "member_report.confirmed"))
        .count();
    assert_eq!(confirmed, 5, "five confirmed reports in three districts");
    let middle = all[all.len() / 2].event.as_ref().expect("event").cursor.clone();
    assert_eq!(feed(&city, &middle).await, all[all.len() / 2 + 1..].to_vec());

    // City statistics from the read model: report rates by district, the
    // points and stars of the half-year's published settlements.
    let stats = eventually("the statistics count every district's roster", || async {
        let stats = city
            .city_admin()
            .get_city_statistics(cpb::GetCityStatisticsRequest {
                year: period.year,
                period: Some(period),
            })
            .await
            .expect("statistics")
            .into_inner();
        (stats.city.as_ref()?.members == 5).then_some(stats)
    })
    .await;
    let line = |d: &str| {
        stats
            .districts
            .iter()
            .find(|l| l.district == d)
            .expect("a line per district")
            .clone()
    };
    let (east_line, west_line, north_line) = (line("east"), line("west"), line("north"));
    assert_eq!(
        (east_line.members, east_line.reported, east_line.report_rate_permille),
        (3, 3, 1000)
    );
    assert_eq!(
        (east_line.board_lines, east_line.points, east_line.stars.clone()),
        (3, 35, vec![1, 1, 1])
    );
    assert_eq!(
        (west_line.board_lines, west_line.points, west_line.stars.clone()),
        (1, 15, vec![0, 1])
    );
    assert_eq!(
        (north_line.members, north_line.reported, north_line.board_lines),
        (1, 1, 0)
    );
    assert!(east_line.as_of.is_some());
    let total = stats.city.expect("the city's line");
    assert_eq!(
        (total.members, total.reported, total.board_lines, total.points),
        (5, 5, 4, 50)
    );
    let other_year = city
        .city_admin()
        .get_city_statistics(cpb::GetCityStatisticsRequest {
            year: period.year - 1,
            period: None,
        })
        .await
        .expect("statistics")
        .into_inner();
    assert_eq!(
        other_year.city.expect("city").reported,
        0,
        "reports count for their own year"
    );

    // Every district and journal is up and read.
    let status = city
        .city_admin()
        .list_districts(cpb::ListDistrictsRequest {})
        .await
        .expect("districts")
        .into_inner()
        .districts;
    assert_eq!(status.len(), 12, "three districts, four journals each: {status:?}");
    assert!(status.iter().all(|s| s.up && s.read_time.is_some()), "{status:?}");
    let registry = |d: &str| {
        status
            .iter()
            .find(|s| s.district == d && s.journal == "registry")
            .expect("a registry line")
            .after_sequence
    };
    assert!(registry("east") >= 3 && registry("north") >= 1, "{status:?}");

    // Who may read what: the board is public, the feed and the ingest state are
    // the city's — and each district's admins read their own district's part.
    let district_admin = admin_token(Role::DistrictAdmin, &east.city.district.id);
    for token in [
        admin_token(Role::DistrictAdmin, "nowhere"),
        member_token(&e1),
        admin_token(Role::CityAdmin, "elsewhere"),
    ] {
        let refused = city
            .client(&token)
            .list_districts(cpb::ListDistrictsRequest {})
            .await
            .expect_err("not the city's admin, nor a known district's");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    for token in [admin_token(Role::DistrictAdmin, "nowhere"), member_token(&e1)] {
        let refused = city
            .client(&token)
            .watch_events(cpb::WatchEventsRequest::default())
            .await
            .expect_err("not the cloud");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    let own = city
        .client(&district_admin)
        .list_districts(cpb::ListDistrictsRequest {})
        .await
        .expect("east's admin reads east's ingest state")
        .into_inner()
        .districts;
    assert_eq!(own.len(), 4, "{own:?}");
    assert!(own.iter().all(|s| s.district == "east"), "{own:?}");
    let mut stream = city
        .client(&district_admin)
        .watch_events(cpb::WatchEventsRequest {
            cursor: String::new(),
            backlog_only: true,
        })
        .await
        .expect("east's admin reads east's events")
        .into_inner();
    let mut seen = 0;
    while let Some(item) = stream.message().await.expect("event") {
        assert_eq!(item.district, "east", "{item:?}");
        seen += 1;
    }
    assert!(seen > 0, "east's events are there");
    let statistics = city
        .client(&district_admin)
        .get_city_statistics(cpb::GetCityStatisticsRequest {
            year: period.year,
            period: None,
        })
        .await
        .expect("east's line")
        .into_inner();
    assert_eq!(
        statistics
            .districts
            .iter()
            .map(|d| d.district.as_str())
            .collect::<Vec<_>>(),
        vec!["east"]
    );
    assert!(statistics.city.is_none(), "no city total for a district's admin");
    let refused = city
        .client(&district_admin)
        .list_municipal_unit_statistics(cpb::ListMunicipalUnitStatisticsRequest {
            year: period.year,
            ..Default::default()
        })
        .await
        .expect_err("the municipal units' statistics are the city's");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    // Bad input names its field.
    let mut reader = city.client(&member_token(&e1));
    let bad = |r: cpb::ListCityBoardRequest| {
        let mut reader = reader.clone();
        async move { reader.list_city_board(r).await.expect_err("refused") }
    };
    let no_half = bad(cpb::ListCityBoardRequest {
        period: Some(common::Period {
            year: period.year,
            half: 0,
        }),
        ..Default::default()
    })
    .await;
    assert_invalid(&no_half, "period.half");
    assert_invalid(&bad(cpb::ListCityBoardRequest::default()).await, "period");
    let unknown = bad(cpb::ListCityBoardRequest {
        period: Some(period),
        district: "south".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    assert_invalid(
        &bad(cpb::ListCityBoardRequest {
            period: Some(period),
            district: "East!".into(),
            ..Default::default()
        })
        .await,
        "district",
    );
    let foreign = reader
        .list_city_board(cpb::ListCityBoardRequest {
            period: Some(period),
            page_token: "bm90LW91cnM".into(),
            ..Default::default()
        })
        .await
        .expect_err("a token the city did not issue");
    assert_invalid(&foreign, "page_token");
    let beyond = city
        .client(&mint(Role::Cloud, None, None, 3600))
        .watch_events(cpb::WatchEventsRequest {
            cursor: "city1.999999".into(),
            backlog_only: true,
        })
        .await
        .expect_err("a cursor beyond the feed");
    assert_invalid(&beyond, "cursor");
}

async fn a_district_down_is_named_and_caught_up_once_it_returns(backend: Backend) {
    let mut city = CityTier::start(backend, &["east", "west", "north"], 3).await;
    let period = last_half();
    for name in ["east", "west", "north"] {
        city.district(name).reported_member(&format!("{name}-1"), &period).await;
    }
    eventually("the first facts of every district", || async {
        feed_matches_journals(&city).await.then_some(())
    })
    .await;

    // West goes down: the city names it, and the others go on.
    city.district_mut("west").stop_all();
    let west_down = eventually("west marked down", || async {
        let status = city
            .city_admin()
            .list_districts(cpb::ListDistrictsRequest {})
            .await
            .expect("districts")
            .into_inner()
            .districts;
        let west: Vec<_> = status.iter().filter(|s| s.district == "west").cloned().collect();
        west.iter().all(|s| !s.up).then_some(status)
    })
    .await;
    let west = west_down.iter().find(|s| s.district == "west").expect("west");
    assert!(west.error.contains("district west"), "{west:?}");
    for name in ["east", "north"] {
        for n in 2..=4 {
            city.district(name)
                .reported_member(&format!("{name}-{n}"), &period)
                .await;
        }
    }
    let east = city.district("east");
    let e = east.reported_member("east-5", &period).await;
    east.publish_settlement(&period, &[(&e, 2)]).await;
    eventually("east and north ingested while west is down", || async {
        let lines = board(&city, &period, "east", 50).await;
        let fed = feed(&city, "").await;
        let north = fed
            .iter()
            .filter(|i| i.district == "north" && i.event.as_ref().is_some_and(|e| e.kind == "member_report.confirmed"))
            .count();
        (lines.len() == 1 && north == 4).then_some(())
    })
    .await;
    let status = city
        .city_admin()
        .list_districts(cpb::ListDistrictsRequest {})
        .await
        .expect("districts")
        .into_inner()
        .districts;
    assert!(
        status.iter().all(|s| s.up == (s.district != "west")),
        "only west is down: {status:?}"
    );

    // West returns with the facts it had, and writes more: the city catches
    // up from its cursors, every fact once.
    city.district_mut("west").restart_all();
    for n in 2..=4 {
        city.district("west")
            .reported_member(&format!("west-{n}"), &period)
            .await;
    }
    eventually("west caught up, nothing lost or doubled", || async {
        feed_matches_journals(&city).await.then_some(())
    })
    .await;

    // The city tier killed mid-ingest: stopped while the districts write a
    // backlog, started, and killed again as soon as it has applied part of
    // it (small batches); after the second start, still every fact once.
    city.city.stop();
    for name in ["east", "west", "north"] {
        for n in 10..16 {
            city.district(name)
                .reported_member(&format!("{name}-{n}"), &period)
                .await;
        }
    }
    let before: i64 = applied(&city).await;
    city.city.restart();
    for _ in 0..200 {
        if applied(&city).await > before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    city.city.stop();
    city.city.restart();
    eventually("after the city's restart, every fact once", || async {
        feed_matches_journals(&city).await.then_some(())
    })
    .await;
}

/// The sum of every stream's cursor (0 while the city does not answer).
async fn applied(city: &CityTier) -> i64 {
    match city.city_admin().list_districts(cpb::ListDistrictsRequest {}).await {
        Ok(reply) => reply.into_inner().districts.iter().map(|s| s.after_sequence).sum(),
        Err(_) => 0,
    }
}

async fn create_municipal_unit(
    city: &CityTier,
    request_id: &str,
    name: &str,
    parent: &str,
) -> Result<rpb::Organization, tonic::Status> {
    city.city_admin()
        .create_municipal_unit(cpb::CreateMunicipalUnitRequest {
            request_id: request_id.into(),
            organization: Some(org_input(name, rpb::OrganizationType::Organ, parent)),
        })
        .await
        .map(|r| r.into_inner().organization.expect("organization"))
}

/// A member of municipal `unit` living in `suite`'s community A, created by
/// the unit's admin; reported and confirmed there for `report_year` when given.
async fn municipal_member(suite: &Suite, unit: &str, name: &str, report_year: Option<i32>) -> String {
    let member = suite
        .registry(&admin_token(Role::UnitAdmin, unit))
        .create_member(rpb::CreateMemberRequest {
            request_id: format!("member-{name}"),
            profile: Some(profile(name, unit, &suite.city.community_a.id)),
        })
        .await
        .expect("member")
        .into_inner()
        .member
        .expect("member");
    if let Some(year) = report_year {
        let registry = channel(suite.registry.port);
        report_and_confirm(&registry, &member.id, &suite.city.community_a.id, year, "第一党支部").await;
    }
    member.id
}

/// Waits until every district's registry has copied the city's org `id`.
async fn reaches_every_district(city: &CityTier, id: &str) {
    for (name, suite) in &city.districts {
        eventually(&format!("org {id} reaches {name}"), || async {
            in_district(suite, id).await
        })
        .await;
    }
}

/// The org as `suite`'s registry knows it, if it does.
async fn in_district(suite: &Suite, id: &str) -> Option<rpb::Organization> {
    suite
        .registry(&admin_token(Role::CityAdmin, "city"))
        .get_organization(rpb::GetOrganizationRequest {
            organization_id: id.into(),
        })
        .await
        .ok()
        .and_then(|r| r.into_inner().organization)
}

async fn municipal_units_are_the_citys_and_reach_every_district(backend: Backend) {
    let mut city = CityTier::start(backend, &["east", "west", "north"], 200).await;
    // The city organisation department creates the organs' committee and a unit under it.
    let committee = create_municipal_unit(&city, "committee", "市直机关工委", "city")
        .await
        .expect("committee");
    let unit = create_municipal_unit(&city, "health", "市卫健委机关党委", &committee.id)
        .await
        .expect("unit");
    assert_eq!(unit.ancestor_ids, vec!["city".to_owned(), committee.id.clone()]);
    let again = create_municipal_unit(&city, "health", "市卫健委机关党委", &committee.id)
        .await
        .expect("retry");
    assert_eq!(again.id, unit.id, "a retry with the same request_id creates nothing");

    // Every district copies both, read-only, under its own city root.
    for (name, suite) in &city.districts {
        let copy = eventually(&format!("the unit reaches {name}"), || async {
            in_district(suite, &unit.id).await
        })
        .await;
        assert_eq!(
            (copy.name.as_str(), copy.r#type, copy.parent_id.as_str()),
            (
                "市卫健委机关党委",
                rpb::OrganizationType::Organ as i32,
                committee.id.as_str()
            )
        );
        assert_eq!(copy.ancestor_ids, unit.ancestor_ids, "{name}");
    }
    // So the unit's members in two districts name the same unit, and its admin's token works in both.
    let unit_admin = admin_token(Role::UnitAdmin, &unit.id);
    for name in ["east", "west"] {
        let suite = city.district(name);
        suite
            .registry(&unit_admin)
            .create_member(rpb::CreateMemberRequest {
                request_id: format!("member-{name}"),
                profile: Some(profile(&format!("{name}的党员"), &unit.id, &suite.city.community_a.id)),
            })
            .await
            .unwrap_or_else(|s| panic!("a member of the municipal unit in {name}: {s:?}"));
    }
    // A district may not change the city's orgs, nor hang its own under them.
    let east = city.district("east");
    let mut east_city_admin = east.registry(&admin_token(Role::CityAdmin, "city"));
    let refused = east_city_admin
        .update_organization(rpb::UpdateOrganizationRequest {
            request_id: String::new(),
            organization_id: unit.id.clone(),
            organization: Some(org_input("改名", rpb::OrganizationType::Organ, &committee.id)),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
            etag: String::new(),
        })
        .await
        .expect_err("city-owned");
    dualreport_testkit::assert_reason(&refused, Code::FailedPrecondition, "ERROR_REASON_CITY_OWNED");
    let refused = east_city_admin
        .create_organization(rpb::CreateOrganizationRequest {
            request_id: String::new(),
            organization: Some(org_input("下属支部", rpb::OrganizationType::Organ, &unit.id)),
        })
        .await
        .expect_err("under a city-owned org");
    dualreport_testkit::assert_reason(&refused, Code::FailedPrecondition, "ERROR_REASON_CITY_OWNED");

    // Only the city's admins create reference data, and bad input names its field.
    let refused = city
        .client(&admin_token(Role::DistrictAdmin, &east.city.district.id))
        .create_municipal_unit(cpb::CreateMunicipalUnitRequest {
            request_id: String::new(),
            organization: Some(org_input("x", rpb::OrganizationType::Organ, "city")),
        })
        .await
        .expect_err("a district admin");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let mut admin = city.city_admin();
    let bad = admin
        .create_municipal_unit(cpb::CreateMunicipalUnitRequest {
            request_id: String::new(),
            organization: Some(org_input("某区", rpb::OrganizationType::District, "city")),
        })
        .await
        .expect_err("a district is not reference data");
    assert_invalid(&bad, "organization.type");
    let bad = create_municipal_unit(&city, "", "某单位", "nowhere")
        .await
        .expect_err("unknown parent");
    assert_invalid(&bad, "organization.parent_id");
    let listed = admin
        .list_municipal_units(cpb::ListMunicipalUnitsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .organizations;
    assert_eq!(listed.len(), 2, "{listed:?}");

    // The city down: the districts keep serving with what they copied.
    city.city.stop();
    let north = city.district("north");
    north
        .registry(&unit_admin)
        .create_member(rpb::CreateMemberRequest {
            request_id: "member-north".into(),
            profile: Some(profile("北区的党员", &unit.id, &north.city.community_a.id)),
        })
        .await
        .expect("a known municipal unit while the city is down");
    // Back: what the city created since reaches every district.
    city.city.restart();
    let later = create_municipal_unit(&city, "education", "市教育局机关党委", &committee.id)
        .await
        .expect("later");
    reaches_every_district(&city, &later.id).await;

    // A unit renamed at the city is renamed in every district; its type and
    // parent never change, and a stale etag changes nothing.
    let rename = |request_id: &str, name: &str, paths: &[&str], etag: &str| cpb::UpdateMunicipalUnitRequest {
        request_id: request_id.into(),
        organization_id: later.id.clone(),
        organization: Some(rpb::OrganizationInput {
            name: name.into(),
            leader: "王书记".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
        etag: etag.into(),
    };
    let renamed = admin
        .update_municipal_unit(rename("rename-1", "市教育局党委", &["name", "leader"], &later.etag))
        .await
        .expect("rename")
        .into_inner()
        .organization
        .expect("organization");
    assert_eq!(
        (renamed.name.as_str(), renamed.leader.as_str()),
        ("市教育局党委", "王书记")
    );
    assert_ne!(renamed.etag, later.etag);
    let again = admin
        .update_municipal_unit(rename("rename-1", "市教育局党委", &["name", "leader"], &later.etag))
        .await
        .expect("a retry is answered, not refused")
        .into_inner()
        .organization
        .expect("organization");
    assert_eq!(again.etag, renamed.etag, "the retry wrote nothing more");
    let stale = admin
        .update_municipal_unit(rename("rename-2", "别的名字", &["name"], &later.etag))
        .await
        .expect_err("a stale etag");
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    let moved = admin
        .update_municipal_unit(rename("rename-3", "市教育局党委", &["parent_id"], ""))
        .await
        .expect_err("a move");
    assert_invalid(&moved, "update_mask");
    let empty = admin
        .update_municipal_unit(rename("rename-4", "", &["name"], ""))
        .await
        .expect_err("an empty name");
    assert_invalid(&empty, "organization.name");
    let refused = city
        .client(&admin_token(Role::UnitAdmin, &later.id))
        .update_municipal_unit(rename("rename-5", "自己改名", &["name"], ""))
        .await
        .expect_err("the unit's own admin does not own the reference data");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    for (name, suite) in &city.districts {
        eventually(&format!("the new name reaches {name}"), || async {
            in_district(suite, &later.id)
                .await
                .filter(|o| o.name == "市教育局党委" && o.leader == "王书记")
        })
        .await;
    }
}

async fn a_municipal_units_summary_spans_the_districts_and_names_a_silent_one(backend: Backend) {
    let mut city = CityTier::start(backend, &["east", "west", "north"], 200).await;
    let committee = create_municipal_unit(&city, "committee", "市直机关工委", "city")
        .await
        .expect("committee");
    let unit = create_municipal_unit(&city, "health", "市卫健委机关党委", &committee.id)
        .await
        .expect("unit");
    let other = create_municipal_unit(&city, "roads", "市交通局机关党委", &committee.id)
        .await
        .expect("other");
    reaches_every_district(&city, &other.id).await;
    let year = dualreport_policy::china_today().year();
    let unit_admin = admin_token(Role::UnitAdmin, &unit.id);
    // East: one member reported and confirmed, one not; west: one reported; north: none.
    for (district, name, reports) in [("east", "东甲", true), ("east", "东乙", false), ("west", "西甲", true)] {
        municipal_member(city.district(district), &unit.id, name, reports.then_some(year)).await;
    }
    let port = city.city.port;
    let summary = |token: String| {
        let unit = unit.id.clone();
        async move {
            dualreport_proto::city::v1::city_service_client::CityServiceClient::new(authed(channel(port), &token))
                .get_municipal_summary(cpb::GetMunicipalSummaryRequest {
                    unit_org_id: unit,
                    period: Some(common::Period { year, half: 0 }),
                })
                .await
        }
    };
    let whole = summary(unit_admin.clone()).await.expect("summary").into_inner();
    let rows: Vec<(&str, i32, &str, bool)> = whole
        .rows
        .iter()
        .map(|r| {
            let row = r.row.as_ref().expect("row");
            (r.district.as_str(), row.number, row.name.as_str(), row.reported)
        })
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "numbered through"
    );
    let mut by_name: Vec<(&str, &str, bool)> = rows.iter().map(|r| (r.0, r.2, r.3)).collect();
    by_name.sort();
    assert_eq!(
        by_name,
        vec![("east", "东乙", false), ("east", "东甲", true), ("west", "西甲", true)]
    );
    assert!(whole.complete && whole.missing_districts.is_empty(), "{whole:?}");
    assert_eq!(
        (whole.unit_name.as_str(), whole.districts.len()),
        ("市卫健委机关党委", 3)
    );
    // The city's statistics of every municipal org: its members in every district.
    let units = eventually("the municipal units' report rates", || async {
        let units = city
            .city_admin()
            .list_municipal_unit_statistics(cpb::ListMunicipalUnitStatisticsRequest {
                year,
                page_size: 1,
                page_token: String::new(),
            })
            .await
            .expect("unit statistics")
            .into_inner();
        let mut all = units.units;
        let mut token = units.next_page_token;
        while !token.is_empty() {
            let page = city
                .city_admin()
                .list_municipal_unit_statistics(cpb::ListMunicipalUnitStatisticsRequest {
                    year,
                    page_size: 1,
                    page_token: token,
                })
                .await
                .expect("next page")
                .into_inner();
            all.extend(page.units);
            token = page.next_page_token;
        }
        let health = all.iter().find(|u| u.unit_org_id == unit.id)?;
        (health.members == 3 && health.reported == 2).then_some(all)
    })
    .await;
    assert_eq!(units.len(), 3, "three municipal orgs, one a page");
    let health = units.iter().find(|u| u.unit_org_id == unit.id).expect("the unit");
    assert_eq!(health.report_rate_permille, 666);
    let per_district: Vec<(&str, i32, i32)> = health
        .districts
        .iter()
        .map(|d| (d.district.as_str(), d.members, d.reported))
        .collect();
    assert_eq!(per_district, vec![("east", 2, 1), ("west", 1, 1)]);

    // The committee above the unit and the city read it too; others may not.
    summary(admin_token(Role::UnitAdmin, &committee.id))
        .await
        .expect("the committee's admin");
    summary(admin_token(Role::CityAdmin, "city"))
        .await
        .expect("the city's admin");
    let refused = summary(admin_token(Role::UnitAdmin, &other.id))
        .await
        .expect_err("another unit");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let refused = summary(admin_token(
        Role::DistrictAdmin,
        &city.district("east").city.district.id,
    ))
    .await
    .expect_err("a district admin");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let mut client = city.client(&unit_admin);
    let unknown = client
        .get_municipal_summary(cpb::GetMunicipalSummaryRequest {
            unit_org_id: "nowhere".into(),
            period: Some(common::Period { year, half: 0 }),
        })
        .await
        .expect_err("unknown unit");
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    let bad = client
        .get_municipal_summary(cpb::GetMunicipalSummaryRequest {
            unit_org_id: unit.id.clone(),
            period: Some(common::Period { year, half: 7 }),
        })
        .await
        .expect_err("bad half");
    assert_invalid(&bad, "period.half");

    // The same table as a CSV file, streamed.
    let download_as = |token: String, format: dualreport_proto::feedback::v1::ExportFormat| {
        let unit = unit.id.clone();
        async move {
            let mut stream =
                dualreport_proto::city::v1::city_service_client::CityServiceClient::new(authed(channel(port), &token))
                    .download_municipal_summary(cpb::DownloadMunicipalSummaryRequest {
                        summary: Some(cpb::GetMunicipalSummaryRequest {
                            unit_org_id: unit,
                            period: Some(common::Period { year, half: 0 }),
                        }),
                        format: format as i32,
                    })
                    .await?
                    .into_inner();
            let mut parts = Vec::new();
            while let Some(part) = stream.message().await? {
                parts.push(part);
            }
            Ok::<_, tonic::Status>(parts)
        }
    };
    let download = |token: String| download_as(token, dualreport_proto::feedback::v1::ExportFormat::Unspecified);
    let parts = download(unit_admin.clone()).await.expect("download");
    assert!(
        parts[0].file_name.ends_with(".csv") && !parts[0].incomplete,
        "{:?}",
        parts[0].file_name
    );
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.chunk.clone()).collect();
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.starts_with("\u{feff}序号,区,姓名,是否报到"), "{text}");
    assert_eq!(text.lines().count(), 4, "a header and three rows: {text}");
    assert!(text.contains(",west,西甲,是,"), "{text}");
    // And as XLSX: a ZIP whose (stored) sheet holds the same rows.
    let parts = download_as(unit_admin.clone(), dualreport_proto::feedback::v1::ExportFormat::Xlsx)
        .await
        .expect("xlsx");
    assert!(parts[0].file_name.ends_with(".xlsx"), "{}", parts[0].file_name);
    assert_eq!(
        parts[0].content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.chunk.clone()).collect();
    assert!(bytes.starts_with(b"PK\x03\x04"), "a ZIP");
    let rows = dualreport_tables::read(&bytes).expect("a workbook the library reads");
    assert_eq!(rows.len(), 4, "a header and three rows: {rows:?}");
    assert_eq!(rows[0][..3], ["序号", "区", "姓名"]);
    let west = rows.iter().find(|r| r[2] == "西甲").expect("west's row");
    assert_eq!(
        (west[0].as_str(), west[1].as_str(), west[3].as_str()),
        ("3", "west", "是")
    );
    let bad = city
        .client(&unit_admin)
        .download_municipal_summary(cpb::DownloadMunicipalSummaryRequest {
            summary: Some(cpb::GetMunicipalSummaryRequest {
                unit_org_id: unit.id.clone(),
                period: Some(common::Period { year, half: 0 }),
            }),
            format: 9,
        })
        .await
        .expect_err("an unknown format");
    assert_invalid(&bad, "format");
    let bad = city
        .client(&unit_admin)
        .download_municipal_summary(cpb::DownloadMunicipalSummaryRequest {
            summary: Some(cpb::GetMunicipalSummaryRequest {
                unit_org_id: unit.id.clone(),
                period: Some(common::Period { year, half: 9 }),
            }),
            format: 0,
        })
        .await
        .expect_err("a bad half inside the wrapped request");
    assert_invalid(&bad, "summary.period.half");

    // West goes down: the summary is partial and names it; east's rows stay.
    city.district_mut("west").stop_all();
    let partial = summary(unit_admin.clone())
        .await
        .expect("a partial summary, not an error")
        .into_inner();
    assert!(!partial.complete);
    assert_eq!(partial.missing_districts, vec!["west".to_owned()]);
    assert_eq!(partial.rows.len(), 2);
    assert!(partial.rows.iter().all(|r| r.district == "east"));
    let west = partial
        .districts
        .iter()
        .find(|d| d.district == "west")
        .expect("west's part");
    assert!(!west.answered && !west.error.is_empty(), "{west:?}");
    let parts = download(unit_admin.clone()).await.expect("a partial download");
    assert!(parts[0].incomplete);
    let text: Vec<u8> = parts.iter().flat_map(|p| p.chunk.clone()).collect();
    assert!(
        String::from_utf8(text)
            .expect("utf-8")
            .trim_end()
            .ends_with("未答复的区：west")
    );
    // Back: whole again.
    city.district_mut("west").restart_all();
    eventually("west answers again", || async {
        let s = summary(unit_admin.clone()).await.ok()?.into_inner();
        (s.complete && s.rows.len() == 3).then_some(())
    })
    .await;
}

/// Every page of a municipal list, walked `page_size` at a time, as
/// (district, item) with the districts each page named missing.
async fn walk_pages<T, F, Fut>(page_size: i32, mut fetch: F) -> (Vec<(String, T)>, Vec<String>)
where
    F: FnMut(i32, String) -> Fut,
    Fut: std::future::Future<Output = (Vec<(String, T)>, String, Vec<String>)>,
{
    let (mut all, mut missing, mut token) = (Vec::new(), Vec::new(), String::new());
    for _ in 0..100 {
        let (items, next, gone) = fetch(page_size, std::mem::take(&mut token)).await;
        assert!(
            items.len() <= usize::try_from(page_size).unwrap(),
            "a page holds at most its size"
        );
        all.extend(items);
        missing.extend(gone);
        if next.is_empty() {
            return (all, missing);
        }
        token = next;
    }
    panic!("the walk did not end");
}

async fn a_municipal_units_statistics_ratings_and_warnings_span_the_districts(backend: Backend) {
    use dualreport_proto::feedback::v1 as fpb;
    let mut city = CityTier::start(backend, &["east", "west", "north"], 200).await;
    let unit = create_municipal_unit(&city, "health", "市卫健委机关党委", "city")
        .await
        .expect("unit");
    let other = create_municipal_unit(&city, "roads", "市交通局机关党委", "city")
        .await
        .expect("other");
    reaches_every_district(&city, &other.id).await;
    let year = dualreport_policy::china_today().year();
    let unit_admin = admin_token(Role::UnitAdmin, &unit.id);
    // East: one reported, one not (the unit says why); west: one not; north: none.
    municipal_member(city.district("east"), &unit.id, "东甲", Some(year)).await;
    let east_absent = municipal_member(city.district("east"), &unit.id, "东乙", None).await;
    let west_absent = municipal_member(city.district("west"), &unit.id, "西乙", None).await;
    city.district("east")
        .registry(&unit_admin)
        .record_non_report_reason(rpb::RecordNonReportReasonRequest {
            request_id: "why-east".into(),
            member_id: east_absent.clone(),
            year,
            reason: "长期外派援疆".into(),
        })
        .await
        .expect("the unit records why");
    // East's community A rates the unit, paired with it by the unit's report.
    let east = city.district("east");
    dualreport_testkit::registry::unit_report_received(
        &channel(east.registry.port),
        &unit.id,
        &east.city.community_a.id,
        year,
    )
    .await;
    let rate = || async {
        east.feedback(&admin_token(Role::CommunityAdmin, &east.city.community_a.id))
            .rate_unit(fpb::RateUnitRequest {
                request_id: "rate-health".into(),
                community_id: east.city.community_a.id.clone(),
                unit_org_id: unit.id.clone(),
                year,
                grade: fpb::UnitGrade::Good as i32,
                comment: "按时反馈".into(),
            })
            .await
            .ok()
    };
    eventually("community A may rate the unit it paired with", rate).await;
    // Each district judges the unit's warnings today (past the March deadline).
    for name in ["east", "west", "north"] {
        city.district(name)
            .feedback(&unit_admin)
            .evaluate_warnings(fpb::EvaluateWarningsRequest {
                unit_org_id: unit.id.clone(),
                year,
                as_of: None,
            })
            .await
            .unwrap_or_else(|s| panic!("warnings in {name}: {s:?}"));
    }

    let port = city.city.port;
    let client = move |token: &str| {
        dualreport_proto::city::v1::city_service_client::CityServiceClient::new(authed(channel(port), token))
    };
    // Report statistics: one call, every district's lines.
    let stats = client(&unit_admin)
        .get_municipal_report_statistics(cpb::GetMunicipalReportStatisticsRequest {
            unit_org_id: unit.id.clone(),
            year,
        })
        .await
        .expect("statistics")
        .into_inner();
    assert!(stats.complete && stats.missing_districts.is_empty(), "{stats:?}");
    assert_eq!((stats.registered_members, stats.reported_members), (3, 1), "{stats:?}");
    let per_district: Vec<(&str, i32, i32)> = stats
        .lines
        .iter()
        .filter(|l| l.line.as_ref().is_some_and(|l| l.registered_members > 0))
        .map(|l| {
            let line = l.line.as_ref().expect("line");
            (l.district.as_str(), line.registered_members, line.reported_members)
        })
        .collect();
    assert_eq!(per_district, vec![("east", 2, 1), ("west", 1, 0)]);

    // Who did not report, and why, walked one a page across the districts.
    let unit_id = unit.id.clone();
    let not_reported = |token: String| {
        let unit_id = unit_id.clone();
        async move {
            walk_pages(1, |size, page_token| {
                let token = token.clone();
                let unit = unit_id.clone();
                async move {
                    let r = client(&token)
                        .list_municipal_not_reported_members(cpb::ListMunicipalNotReportedMembersRequest {
                            unit_org_id: unit,
                            year,
                            page_size: size,
                            page_token,
                        })
                        .await
                        .expect("not reported")
                        .into_inner();
                    (
                        r.members
                            .into_iter()
                            .map(|m| (m.district, m.member.expect("member")))
                            .collect(),
                        r.next_page_token,
                        r.missing_districts,
                    )
                }
            })
            .await
        }
    };
    let (absent, missing) = not_reported(unit_admin.clone()).await;
    assert!(missing.is_empty());
    let seen: Vec<(&str, &str, &str)> = absent
        .iter()
        .map(|(d, m)| (d.as_str(), m.member_id.as_str(), m.reason.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("east", east_absent.as_str(), "长期外派援疆"),
            ("west", west_absent.as_str(), "")
        ]
    );

    // The ratings communities gave it, with their district.
    let ratings = client(&unit_admin)
        .list_municipal_unit_ratings(cpb::ListMunicipalUnitRatingsRequest {
            unit_org_id: unit.id.clone(),
            year,
            page_size: 0,
            page_token: String::new(),
        })
        .await
        .expect("ratings")
        .into_inner();
    let graded: Vec<(&str, i32)> = ratings
        .ratings
        .iter()
        .map(|r| (r.district.as_str(), r.rating.as_ref().expect("rating").grade))
        .collect();
    assert_eq!(graded, vec![("east", fpb::UnitGrade::Good as i32)]);

    // Its warnings in every district: both members who did not report.
    let warnings = |size: i32| {
        let unit_admin = unit_admin.clone();
        let unit = unit.id.clone();
        async move {
            walk_pages(size, |size, page_token| {
                let token = unit_admin.clone();
                let unit = unit.clone();
                async move {
                    let r = client(&token)
                        .list_municipal_warnings(cpb::ListMunicipalWarningsRequest {
                            unit_org_id: unit,
                            year,
                            page_size: size,
                            page_token,
                        })
                        .await
                        .expect("warnings")
                        .into_inner();
                    (
                        r.warnings
                            .into_iter()
                            .map(|w| (w.district, w.warning.expect("warning")))
                            .collect(),
                        r.next_page_token,
                        r.missing_districts,
                    )
                }
            })
            .await
        }
    };
    let (all_warnings, _) = warnings(500).await;
    let (paged, _) = warnings(1).await;
    let ids = |w: &[(String, fpb::Warning)]| w.iter().map(|(d, w)| (d.clone(), w.id.clone())).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&all_warnings), "one at a time, the same walk");
    let not_reported_warned: Vec<(&str, &str)> = all_warnings
        .iter()
        .filter(|(_, w)| w.rule == fpb::WarningRule::NotReported as i32)
        .map(|(d, w)| (d.as_str(), w.subject_id.as_str()))
        .collect();
    assert_eq!(
        not_reported_warned,
        vec![("east", east_absent.as_str()), ("west", west_absent.as_str())]
    );

    // The read model counts the warnings in force, by district and rule, and by unit.
    let in_force = |d: &str| all_warnings.iter().filter(|(district, _)| district == d).count();
    let statistics = eventually("the city counts the districts' warnings", || async {
        let s = city
            .city_admin()
            .get_city_statistics(cpb::GetCityStatisticsRequest { year, period: None })
            .await
            .ok()?
            .into_inner();
        let counted = |d: &str| {
            s.districts
                .iter()
                .find(|l| l.district == d)
                .map_or(0, |l| usize::try_from(l.warnings).unwrap())
        };
        (["east", "west", "north"].iter().all(|d| counted(d) >= in_force(d))).then_some(s)
    })
    .await;
    let east_line = statistics
        .districts
        .iter()
        .find(|l| l.district == "east")
        .expect("east");
    let not_reported_rule = east_line
        .warnings_by_rule
        .iter()
        .find(|r| r.rule == fpb::WarningRule::NotReported as i32)
        .expect("east's not-reported warnings");
    assert!(not_reported_rule.count >= 1, "{east_line:?}");
    assert_eq!(
        statistics.city.as_ref().expect("city").warnings,
        statistics.districts.iter().map(|l| l.warnings).sum::<i32>()
    );
    let units = city
        .city_admin()
        .list_municipal_unit_statistics(cpb::ListMunicipalUnitStatisticsRequest {
            year,
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .expect("unit statistics")
        .into_inner();
    let health = units.units.iter().find(|u| u.unit_org_id == unit.id).expect("the unit");
    assert_eq!(
        usize::try_from(health.warnings).unwrap(),
        all_warnings.len(),
        "{health:?}"
    );

    // Another unit's admin, a district admin and a member are refused every one.
    for token in [
        admin_token(Role::UnitAdmin, &other.id),
        admin_token(Role::DistrictAdmin, &city.district("east").city.district.id),
        member_token(&east_absent),
    ] {
        let refused = client(&token)
            .list_municipal_warnings(cpb::ListMunicipalWarningsRequest {
                unit_org_id: unit.id.clone(),
                year,
                page_size: 0,
                page_token: String::new(),
            })
            .await
            .expect_err("out of scope");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
        let refused = client(&token)
            .get_municipal_report_statistics(cpb::GetMunicipalReportStatisticsRequest {
                unit_org_id: unit.id.clone(),
                year,
            })
            .await
            .expect_err("out of scope");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }
    let bad = client(&unit_admin)
        .list_municipal_unit_ratings(cpb::ListMunicipalUnitRatingsRequest {
            unit_org_id: unit.id.clone(),
            year: 12,
            page_size: 0,
            page_token: "not-a-token".into(),
        })
        .await
        .expect_err("a bad year");
    assert_invalid(&bad, "year");
    let bad = client(&unit_admin)
        .list_municipal_unit_ratings(cpb::ListMunicipalUnitRatingsRequest {
            unit_org_id: unit.id.clone(),
            year,
            page_size: 0,
            page_token: "%%%".into(),
        })
        .await
        .expect_err("a bad token");
    assert_invalid(&bad, "page_token");

    // West goes down: partial and saying so, east's answers stay.
    city.district_mut("west").stop_all();
    let partial = client(&unit_admin)
        .get_municipal_report_statistics(cpb::GetMunicipalReportStatisticsRequest {
            unit_org_id: unit.id.clone(),
            year,
        })
        .await
        .expect("partial statistics, not an error")
        .into_inner();
    assert!(!partial.complete);
    assert_eq!(partial.missing_districts, vec!["west".to_owned()]);
    assert_eq!((partial.registered_members, partial.reported_members), (2, 1));
    let (absent, missing) = not_reported(unit_admin.clone()).await;
    assert_eq!(missing, vec!["west".to_owned()]);
    assert_eq!(absent.len(), 1);
    assert_eq!(absent[0].0, "east");
    city.district_mut("west").restart_all();
    eventually("west answers again", || async {
        let s = client(&unit_admin)
            .get_municipal_report_statistics(cpb::GetMunicipalReportStatisticsRequest {
                unit_org_id: unit.id.clone(),
                year,
            })
            .await
            .ok()?
            .into_inner();
        (s.complete && s.registered_members == 3).then_some(())
    })
    .await;
}

/// The city-level webhook: the cloud gets every district's events from one
/// URL, each naming its district, signed, and an event it refused is kept
/// for replay.
async fn the_city_webhook_sends_every_districts_events_with_their_district(backend: Backend) {
    use dualreport_testkit::webhook::{Receiver, SECRET, serve};
    let city = CityTier::start(backend, &["east", "west", "north"], 200).await;
    let receiver = Receiver::default();
    let port = serve(receiver.clone()).await;
    let cloud = || city.client(&mint(Role::Cloud, None, None, 3600));
    let set = |url: &str, secret: &str| cpb::SetWebhookRequest {
        url: url.into(),
        secret: secret.into(),
    };
    // Who may set it, and what it takes.
    let refused = city
        .client(&admin_token(
            Role::DistrictAdmin,
            &city.district("east").city.district.id,
        ))
        .set_webhook(set(&format!("http://127.0.0.1:{port}/hook"), SECRET))
        .await
        .expect_err("a district admin");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let bad = cloud()
        .set_webhook(set("ftp://cloud.example/hook", SECRET))
        .await
        .expect_err("not http");
    assert_invalid(&bad, "url");
    let bad = cloud()
        .set_webhook(set(&format!("http://127.0.0.1:{port}/hook"), "short"))
        .await
        .expect_err("a short secret");
    assert_invalid(&bad, "secret");
    let hook = cloud()
        .set_webhook(set(&format!("http://127.0.0.1:{port}/hook"), SECRET))
        .await
        .expect("the cloud sets the city's webhook")
        .into_inner()
        .webhook
        .expect("webhook");
    assert!(hook.enabled && hook.url.ends_with("/hook"), "{hook:?}");

    // Reports confirmed in two districts reach the one URL, each with its district.
    let period = last_half();
    let east = city.district("east").reported_member("东报", &period).await;
    let west = city.district("west").reported_member("西报", &period).await;
    for (member, district) in [(&east, "east"), (&west, "west")] {
        let (signature, cursor, body) =
            eventually(&format!("{district}'s report reaches the city webhook"), || async {
                receiver
                    .received
                    .lock()
                    .expect("lock")
                    .iter()
                    .find(|(_, _, body)| {
                        let text = String::from_utf8_lossy(body);
                        text.contains(member.as_str()) && text.contains("member_report.confirmed")
                    })
                    .cloned()
            })
            .await;
        assert_eq!(signature, dualreport_webhook::signature(SECRET.as_bytes(), &body));
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(json["district"], district, "{json}");
        assert_eq!(json["cursor"], cursor.as_str(), "{json}");
        assert!(cursor.starts_with("city1."), "{cursor}");
    }

    // The receiver refuses an event: kept for replay, and the feed goes on.
    *receiver.rejecting.lock().expect("lock") = true;
    let north = city.district("north").reported_member("北报", &period).await;
    let failed = eventually("north's refused event is a failed delivery", || async {
        let list = city
            .city_admin()
            .list_failed_deliveries(cpb::ListFailedDeliveriesRequest::default())
            .await
            .ok()?
            .into_inner();
        list.deliveries.into_iter().find(|d| {
            d.event
                .as_ref()
                .is_some_and(|e| e.district == "north" && e.event.as_ref().is_some_and(|e| e.member_id == north))
        })
    })
    .await;
    assert!(!failed.last_error.is_empty(), "{failed:?}");
    *receiver.rejecting.lock().expect("lock") = false;
    let replayed = city
        .city_admin()
        .replay_delivery(cpb::ReplayDeliveryRequest {
            delivery_id: failed.id.clone(),
        })
        .await
        .expect("replay")
        .into_inner();
    assert!(replayed.delivered, "{replayed:?}");
    assert!(receiver.got(&north));
    let state = city
        .city_admin()
        .get_webhook(cpb::GetWebhookRequest {})
        .await
        .expect("webhook")
        .into_inner()
        .webhook
        .expect("webhook");
    assert_eq!(state.failed_deliveries, 0, "{state:?}");
    let gone = city
        .city_admin()
        .replay_delivery(cpb::ReplayDeliveryRequest { delivery_id: failed.id })
        .await
        .expect_err("replayed already");
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
}

/// The city's policy is every district's: a district released with another
/// relocation window is named, with the key, both values, and the district
/// that does not answer is named too.
async fn a_district_not_running_the_citys_policy_is_named(backend: Backend) {
    let mut city = CityTier::start_with(backend, &["east", "west", "north"], 200, |name| {
        if name == "north" {
            vec![("DUALREPORT__POLICY__RELOCATION_DAYS", "45".to_owned())]
        } else {
            Vec::new()
        }
    })
    .await;
    let port = city.city.port;
    let check = |token: String| async move {
        dualreport_proto::city::v1::city_service_client::CityServiceClient::new(authed(channel(port), &token))
            .get_city_policy(cpb::GetCityPolicyRequest {})
            .await
            .map(tonic::Response::into_inner)
    };
    let answer = check(admin_token(Role::CityAdmin, "city")).await.expect("policy");
    assert!(!answer.consistent, "{answer:?}");
    assert_eq!(answer.policy.as_ref().expect("the city's").relocation_days, 30);
    let lines: Vec<(&str, bool, bool)> = answer
        .districts
        .iter()
        .map(|d| (d.district.as_str(), d.answered, d.matches))
        .collect();
    assert_eq!(
        lines,
        vec![("east", true, true), ("north", true, false), ("west", true, true)]
    );
    let north = &answer.districts[1];
    let differences: Vec<(&str, &str, &str)> = north
        .differences
        .iter()
        .map(|d| (d.key.as_str(), d.city_value.as_str(), d.district_value.as_str()))
        .collect();
    assert_eq!(differences, vec![("relocation_days", "30", "45")]);
    assert_eq!(north.policy.as_ref().expect("north's").relocation_days, 45);

    // A district admin sees it too; a member or unit admin does not.
    let district_admin = admin_token(Role::DistrictAdmin, &city.district("east").city.district.id);
    check(district_admin).await.expect("a district admin");
    for token in [
        member_token("someone"),
        admin_token(Role::UnitAdmin, &city.district("east").city.unit.id),
    ] {
        let refused = check(token).await.expect_err("not an admin of a district or the city");
        assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    }

    // West down: named as not answering, never taken for a match.
    city.district_mut("west").stop_all();
    let answer = check(admin_token(Role::CityAdmin, "city")).await.expect("policy");
    let west = answer.districts.iter().find(|d| d.district == "west").expect("west");
    assert!(!west.answered && !west.matches && !west.error.is_empty(), "{west:?}");
}

async fn city_relocations(city: &CityTier) -> Vec<cpb::CityRelocation> {
    city.city_admin()
        .list_city_relocations(cpb::ListCityRelocationsRequest::default())
        .await
        .map(|r| r.into_inner().relocations)
        .unwrap_or_default()
}

async fn declare_move(
    suite: &Suite,
    member: &str,
    to_district: &str,
    to_community: &str,
) -> Result<rpb::Relocation, tonic::Status> {
    suite
        .registry(&member_token(member))
        .declare_relocation(rpb::DeclareRelocationRequest {
            request_id: format!("move-{member}"),
            member_id: member.into(),
            to_community_id: to_community.into(),
            reason: "搬家".into(),
            to_district: to_district.into(),
        })
        .await
        .map(|r| r.into_inner().relocation.expect("relocation"))
}

async fn a_member_moves_between_districts_through_the_city_even_when_it_was_down(backend: Backend) {
    let mut city = CityTier::start(backend, &["east", "west", "north"], 200).await;
    let unit = create_municipal_unit(&city, "health", "市卫健委机关党委", "city")
        .await
        .expect("unit");
    reaches_every_district(&city, &unit.id).await;
    let year = dualreport_policy::china_today().year();
    let unit_admin = admin_token(Role::UnitAdmin, &unit.id);
    let mover = municipal_member(city.district("east"), &unit.id, "李迁", Some(year)).await;
    let (east, west) = (city.district("east"), city.district("west"));

    // The member moves from east to west: east ends the registration at once.
    let relocation = declare_move(east, &mover, "west", &west.city.community_a.id)
        .await
        .expect("declare");
    assert_eq!(relocation.to_district, "west");
    let today = dualreport_policy::china_today();
    let refused = east
        .scoring(&admin_token(Role::CommunityAdmin, &east.city.community_a.id))
        .record_service(dualreport_proto::scoring::v1::RecordServiceRequest {
            request_id: String::new(),
            source_key: "after-the-move".into(),
            member_id: mover.clone(),
            community_id: east.city.community_a.id.clone(),
            served_on: Some(common::Date {
                year: today.year(),
                month: today.month() as i32,
                day: today.day() as i32,
            }),
            content: "社区环境卫生保洁".into(),
            adjustment: 0,
        })
        .await
        .expect_err("east refuses services dated after the move");
    dualreport_testkit::assert_reason(&refused, Code::FailedPrecondition, "ERROR_REASON_NOT_REGISTERED");
    // The city admits the member in west (same id, the new community), to report there.
    let admitted = eventually("the member admitted in west", || async {
        let m = west
            .registry(&unit_admin)
            .get_member(rpb::GetMemberRequest {
                member_id: mover.clone(),
                view: rpb::MemberView::Masked as i32,
            })
            .await
            .ok()?
            .into_inner()
            .member?;
        Some(m)
    })
    .await;
    let profile_there = admitted.profile.expect("profile");
    assert_eq!(
        (
            profile_there.residence_community_id.as_str(),
            profile_there.unit_org_id.as_str(),
            profile_there.name.as_str()
        ),
        (west.city.community_a.id.as_str(), unit.id.as_str(), "李迁")
    );
    let listed = city_relocations(&city).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (
            listed[0].from_district.as_str(),
            listed[0].to_district.as_str(),
            listed[0].status
        ),
        ("east", "west", cpb::CityRelocationStatus::Admitted as i32)
    );
    // DOMAIN step 1: report to the new community within the policy's window (S4: a month).
    let days = east
        .registry(&admin_token(Role::CityAdmin, "city"))
        .get_policy(rpb::GetPolicyRequest {})
        .await
        .expect("policy")
        .into_inner()
        .policy
        .expect("policy")
        .relocation_days;
    let due = today + chrono::Days::new(u64::try_from(days).expect("days"));
    let want = common::Date {
        year: due.year(),
        month: due.month() as i32,
        day: due.day() as i32,
    };
    assert_eq!(relocation.due_on, Some(want), "due {days} days after the move");
    assert_eq!(listed[0].due_on, Some(want), "the city tracks the district's due day");
    assert!(!listed[0].overdue);
    // The member reports in west; the city tells east, and both agree.
    report_and_confirm(
        &channel(west.registry.port),
        &mover,
        &west.city.community_a.id,
        year,
        "第二党支部",
    )
    .await;
    eventually("the relocation fulfilled", || async {
        let listed = city_relocations(&city).await;
        (listed.first()?.status == cpb::CityRelocationStatus::Fulfilled as i32).then_some(())
    })
    .await;
    let in_east = east
        .registry(&admin_token(Role::CityAdmin, "city"))
        .list_relocations(rpb::ListRelocationsRequest {
            org_id: "city".into(),
            ..Default::default()
        })
        .await
        .expect("east's relocations")
        .into_inner()
        .relocations;
    assert_eq!(in_east.len(), 1);
    assert_eq!(in_east[0].status, rpb::RelocationStatus::Fulfilled as i32);

    // Only members of municipal units move between districts.
    let local = dualreport_testkit::registry::unit_member(
        &channel(east.registry.port),
        &east.city,
        "本区党员",
        &east.city.community_a.id,
    )
    .await;
    report_and_confirm(
        &channel(east.registry.port),
        &local.id,
        &east.city.community_a.id,
        year,
        "第一党支部",
    )
    .await;
    let refused = declare_move(east, &local.id, "west", &west.city.community_a.id)
        .await
        .expect_err("a district unit's member");
    dualreport_testkit::assert_reason(&refused, Code::FailedPrecondition, "ERROR_REASON_WRONG_STATE");
    let refused = declare_move(east, &local.id, "West!", &west.city.community_a.id)
        .await
        .expect_err("a bad name");
    assert_invalid(&refused, "to_district");

    // A move while the city is down completes when it returns.
    let second = municipal_member(city.district("east"), &unit.id, "王迁", Some(year)).await;
    city.city.stop();
    let north_community = city.district("north").city.community_a.id.clone();
    declare_move(city.district("east"), &second, "north", &north_community)
        .await
        .expect("declared with the city down");
    city.city.restart();
    let north = city.district("north");
    eventually("admitted in north after the city returned", || async {
        north
            .registry(&unit_admin)
            .get_member(rpb::GetMemberRequest {
                member_id: second.clone(),
                view: rpb::MemberView::Masked as i32,
            })
            .await
            .ok()
    })
    .await;
    report_and_confirm(
        &channel(north.registry.port),
        &second,
        &north_community,
        year,
        "第一党支部",
    )
    .await;
    eventually("the second relocation fulfilled", || async {
        let listed = city_relocations(&city).await;
        let r = listed.iter().find(|r| r.member_id == second)?;
        (r.status == cpb::CityRelocationStatus::Fulfilled as i32).then_some(())
    })
    .await;
    // Nothing was admitted twice: each member exists once in the district moved to.
    let page = |suite: &Suite| {
        let unit = unit.id.clone();
        let token = unit_admin.clone();
        let port = suite.registry.port;
        async move {
            dualreport_testkit::registry::client(&channel(port), &token)
                .list_members(rpb::ListMembersRequest {
                    unit_org_id: unit,
                    ..Default::default()
                })
                .await
                .expect("members")
                .into_inner()
                .members
                .len()
        }
    };
    assert_eq!(page(city.district("west")).await, 1);
    assert_eq!(page(city.district("north")).await, 1);
}
