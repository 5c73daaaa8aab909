//! What the demo prints when it is done: what it built, tokens for each
//! role, and grpcurl lines to try.

use dualreport_platform::auth::Role;

use crate::city::City;
use crate::client::Demo;
use crate::feedback::Feedback;

/// What the steps did, for the summary.
pub struct Tally {
    pub claimed: usize,
    pub attended: usize,
    pub awards: usize,
    pub published: usize,
    pub feedback: Feedback,
}

pub fn print(demo: &Demo, city: &City, root: &str, tally: &Tally) -> anyhow::Result<()> {
    let (districts, communities, units, members, year) = (
        &city.districts,
        &city.communities,
        &city.units,
        &city.members,
        city.year,
    );
    let Tally {
        claimed,
        attended,
        awards,
        published,
        feedback: Feedback {
            notices,
            objection,
            warnings,
        },
    } = tally;
    let city = root;
    let (district, district_name) = &districts[0];
    let community = &communities[0];
    println!("\ndualreport demo city is ready:");
    println!(
        "  {} districts, {} communities, {} units, {} members reported, {awards} services awarded",
        districts.len(),
        communities.len(),
        units.len(),
        members.len()
    );
    println!(
        "  {claimed} posts claimed and pledges made, {attended} attendances confirmed on evidence today (paid to scoring by volunteering's outbox)"
    );
    println!(
        "  {notices} feedback notices sent to units, {} objection upheld, {warnings} warnings standing",
        usize::from(objection.is_some())
    );
    if *published > 0 {
        println!("  {year} H1 settled, reviewed and published at {published} communities (the vanguard board is live)");
    } else {
        println!("  (the first half-year has not ended yet: nothing to settle today)");
    }
    let city_token = demo.token(Role::CityAdmin, Some(city), None)?;
    let community_token = demo.token(Role::CommunityAdmin, Some(&community.id), None)?;
    let member_token = members
        .first()
        .map(|(m, _)| demo.token(Role::Member, None, Some(m)))
        .transpose()?
        .unwrap_or_default();
    println!("\ntokens (12 h):");
    println!("  export CITY={city_token}");
    println!("  export COMMUNITY={community_token}   # {}", community.name);
    println!("  export MEMBER={member_token}");
    let unit = &units[0];
    let unit_token = demo.token(Role::UnitAdmin, Some(&unit.id), None)?;
    let cloud_token = demo.token(Role::Cloud, None, None)?;
    println!("  export UNIT={unit_token}");
    println!("  export CLOUD={cloud_token}   # the party-building cloud's feed");
    println!("\ntry:");
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $CITY\" -d '{{\"org_id\":\"{district}\",\"year\":{year}}}' localhost:50051 dualreport.registry.v1.RegistryService/GetReportStatistics   # {district_name}"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $MEMBER\" -d '{{\"org_id\":\"{district}\",\"period\":{{\"year\":{year},\"half\":\"HALF_FIRST\"}},\"subject_kind\":\"SUBJECT_KIND_MEMBER\",\"page_size\":10}}' localhost:50053 dualreport.scoring.v1.ScoringService/GetBoard"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $COMMUNITY\" -d '{{\"community_id\":\"{}\"}}' localhost:50053 dualreport.scoring.v1.ScoringService/ListItems",
        community.id
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $UNIT\" -d '{{\"unit_org_id\":\"{}\",\"period\":{{\"year\":{year}}}}}' localhost:50054 dualreport.feedback.v1.FeedbackService/GetSummaryTable",
        unit.id
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $UNIT\" -d '{{}}' localhost:50054 dualreport.feedback.v1.FeedbackService/ListNotices"
    );
    println!(
        "  grpcurl -plaintext -H \"authorization: Bearer $CLOUD\" -d '{{\"backlog_only\":true}}' localhost:50054 dualreport.feedback.v1.FeedbackService/WatchEvents"
    );
    println!("\nin a browser (the portal of `make run`):");
    println!("  http://localhost:8080/board/{district}?period={year}H1   # the district's public board");
    println!(
        "  http://localhost:8080/board/{}?period={year}H1   # {}'s",
        community.id, community.name
    );
    println!(
        "  http://localhost:8080/login   # development login: role community_admin, org {}",
        community.id
    );
    Ok(())
}
