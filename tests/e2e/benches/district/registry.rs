//! The registry at a district's size: one bulk import of every member,
//! authenticated reads (and scoring's and volunteering's), and overload.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dualreport_platform::auth::Role;
use dualreport_proto::registry::v1 as reg;
use dualreport_proto::scoring::v1 as sc;
use dualreport_proto::volunteering::v1 as vol;
use dualreport_testkit::{admin_token, member_token};

use crate::Bench;
use crate::baselines::copy_baseline;
use crate::measure::{channels, header, line, load, ms, read_line, rss_line};

/// ImportMembers: one call, 5,000-row batches over 20 units. Returns the
/// units and the imported member ids.
pub async fn import(b: &Bench<'_>) -> (Vec<String>, Vec<String>) {
    let (suite, sizes, city, district) = (b.suite, b.sizes, &b.suite.city, &b.district);
    let postgres = b.postgres;
    let mut city_admin = b.city_admin();
    header("registry: bulk import");
    let mut units = Vec::new();
    for u in 0..20 {
        units.push(
            dualreport_testkit::registry::create_org(
                &mut city_admin,
                &format!("单位{u}"),
                reg::OrganizationType::Enterprise,
                district,
            )
            .await
            .id,
        );
    }
    let batches: Vec<_> = (0..sizes.members.div_ceil(5_000))
        .map(|b| reg::ImportMembersRequest {
            request_id: format!("bench-{b}"),
            rows: (b * 5_000..((b + 1) * 5_000).min(sizes.members))
                .map(|i| reg::MemberProfile {
                    phone: format!("139{i:08}"),
                    ..dualreport_testkit::registry::profile(
                        &format!("成员{i}"),
                        &units[i % units.len()],
                        if i % 2 == 0 {
                            &city.community_a.id
                        } else {
                            &city.community_b.id
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let started = Instant::now();
    let replies = dualreport_testkit::registry::import(&mut city_admin, batches).await;
    let import = started.elapsed();
    let ids: Vec<String> = replies.iter().flat_map(|r| r.member_ids.clone()).collect();
    assert_eq!(ids.len(), sizes.members, "every row imported");
    let rows_per_s = sizes.members as f64 / import.as_secs_f64();
    match postgres {
        true => {
            let copy = copy_baseline(&suite.databases[0].url, sizes.members, &units[0], &city.community_a.id).await;
            let copy_rate = sizes.members as f64 / copy.as_secs_f64();
            let ratio = rows_per_s / copy_rate;
            line(
                &format!("ImportMembers {}k rows, one call", sizes.members / 1000),
                format!("{rows_per_s:.0} rows/s ({:.1} s)", import.as_secs_f64()),
                format!("COPY {copy_rate:.0} rows/s"),
                Some(ratio),
                "≥ 0.5× COPY",
                Some(ratio >= 0.5),
            );
        }
        false => line(
            &format!("ImportMembers {}k rows, one call", sizes.members / 1000),
            format!("{rows_per_s:.0} rows/s ({:.1} s)", import.as_secs_f64()),
            "—".into(),
            None,
            "",
            None,
        ),
    }
    rss_line(suite, "after the import");
    (units, ids)
}

/// Authenticated reads through gRPC, then GetMember at twice the admission limit.
pub async fn reads(b: &Bench<'_>, ids: &Arc<Vec<String>>) {
    let (suite, sizes, city, district) = (b.suite, b.sizes, &b.suite.city, &b.district);
    let (baseline_db, seconds) = (&b.baseline_db, b.seconds);
    header("reads (authenticated, through gRPC)");
    let district_admin = admin_token(Role::DistrictAdmin, district);
    let registry_clients: Vec<_> = channels(suite.registry.port, 8)
        .into_iter()
        .map(|c| dualreport_testkit::registry::client(&c, &district_admin))
        .collect();
    let get_member = {
        let ids = ids.clone();
        move |mut c: dualreport_testkit::registry::Client, n: u64| {
            let id = ids[(n as usize * 7919) % ids.len()].clone();
            async move {
                c.get_member(reg::GetMemberRequest {
                    member_id: id,
                    view: reg::MemberView::Masked as i32,
                })
                .await
                .map(|_| ())
            }
        }
    };
    let unloaded = load(&registry_clients, 1, sizes.load, get_member.clone()).await;
    line(
        "GetMember masked c=1 (unloaded)",
        format!("p50 {:.2} ms p99 {:.2} ms", ms(unloaded.p50), ms(unloaded.p99)),
        String::new(),
        None,
        "",
        None,
    );
    let mut peak = 0f64;
    let mut at_peak_p99 = Duration::ZERO;
    for c in [16, 64] {
        let l = load(&registry_clients, c, sizes.load, get_member.clone()).await;
        if l.rps > peak {
            peak = l.rps;
            at_peak_p99 = l.p99;
        }
        read_line(
            &format!("GetMember masked c={c}"),
            &l,
            baseline_db.as_deref(),
            c,
            seconds,
        );
    }

    let scoring_clients: Vec<_> = channels(suite.scoring.port, 8)
        .into_iter()
        .map(|c| {
            sc::scoring_service_client::ScoringServiceClient::new(dualreport_testkit::authed(c, &member_token("m1")))
        })
        .collect();
    let get_balance = |mut c: sc::scoring_service_client::ScoringServiceClient<_>, _n: u64| async move {
        c.get_balance(sc::GetBalanceRequest {
            subject: Some(sc::Subject {
                kind: sc::SubjectKind::Member as i32,
                id: "m1".into(),
            }),
        })
        .await
        .map(|_| ())
    };
    for c in [16, 64] {
        let l = load(&scoring_clients, c, sizes.load, get_balance).await;
        read_line(&format!("GetBalance c={c}"), &l, baseline_db.as_deref(), c, seconds);
    }

    let community_admin = b.community_admin();
    suite
        .volunteering(&community_admin)
        .create_post(vol::CreatePostRequest {
            request_id: "bench-post".into(),
            community_id: city.community_a.id.clone(),
            name: "基准测试岗".into(),
            description: "基准测试用的岗位".into(),
        })
        .await
        .expect("post");
    let volunteering_clients: Vec<_> = channels(suite.volunteering.port, 8)
        .into_iter()
        .map(|c| {
            vol::volunteering_service_client::VolunteeringServiceClient::new(dualreport_testkit::authed(
                c,
                &community_admin,
            ))
        })
        .collect();
    let community_a = city.community_a.id.clone();
    let list_posts = move |mut c: vol::volunteering_service_client::VolunteeringServiceClient<_>, _n: u64| {
        let community_id = community_a.clone();
        async move {
            c.list_posts(vol::ListPostsRequest {
                community_id,
                ..Default::default()
            })
            .await
            .map(|_| ())
        }
    };
    for c in [16, 64] {
        let l = load(&volunteering_clients, c, sizes.load, list_posts.clone()).await;
        read_line(&format!("ListPosts c={c}"), &l, baseline_db.as_deref(), c, seconds);
    }

    // ── Overload: admission sheds at once instead of queueing.
    header("overload (GetMember at twice the admission limit, callers backing off when shed)");
    let over = load(&registry_clients, 80, sizes.load, get_member.clone()).await;
    let goodput = over.rps / peak;
    line(
        "goodput at c=80",
        format!("{:.0} req/s ({} shed)", over.rps, over.failed),
        format!("peak {peak:.0} req/s"),
        Some(goodput),
        "≥ 0.8× peak",
        Some(goodput >= 0.8),
    );
    let stretch = over.p99.as_secs_f64() / unloaded.p99.as_secs_f64().max(1e-6);
    line(
        "accepted p99 at c=80",
        format!("{:.2} ms", ms(over.p99)),
        format!("unloaded p99 {:.2} ms", ms(unloaded.p99)),
        Some(stretch),
        "≤ 3× unloaded",
        Some(stretch <= 3.0),
    );
    let _ = at_peak_p99;
}
