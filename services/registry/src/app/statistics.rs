//! Report statistics (报到统计): reported and not reported, by unit and by community.

use super::*;
use dualreport_platform::paging::compound_key;

impl Registry {
    pub async fn record_non_report_reason(
        &self,
        p: &Principal,
        member_id: &str,
        year: i32,
        reason: &str,
    ) -> Result<()> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let mut tx = self.pool.begin().await?;
        let member = db::require_member(&mut tx, member_id).await?;
        let unit = self.require_org(&mut tx, &member.unit_org_id).await?;
        self.require_admin_over(&mut tx, p, &unit.path, &format!("member {member_id}'s unit"))
            .await?;
        db::upsert_non_report_reason(&mut tx, member_id, year, reason, &p.subject, now_millis()).await?;
        let after = serde_json::json!({ "year": year, "reason": reason });
        self.audit(
            &mut tx,
            p,
            "RecordNonReportReason",
            "member",
            member_id,
            &unit.id,
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One page of statistics lines: units by id, then communities by id,
    /// each page's counts taken for its own orgs only (a district's thousands
    /// of units are never counted in one statement).
    pub async fn statistics(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<StatisticsPage> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let (mut section, mut after) = match page.after_fields(2).map_err(RegistryError::from)? {
            None => (db::StatsSection::Units, String::new()),
            Some(fields) => match db::StatsSection::from_tag(&fields[0]) {
                Some(section) => (section, fields[1].clone()),
                None => {
                    return Err(RegistryError::invalid(
                        "page_token",
                        "is not a token this service issued",
                    ));
                }
            },
        };
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let mut out = StatisticsPage::default();
        let mut room = page.size;
        loop {
            let mut orgs = db::stats_orgs_under(&mut conn, &org.path, section, &after, room + 1).await?;
            let more = i64::try_from(orgs.len()).unwrap_or(i64::MAX) > room;
            orgs.truncate(usize::try_from(room).unwrap_or(usize::MAX));
            room -= i64::try_from(orgs.len()).unwrap_or(room);
            let last = orgs.last().map(|o| o.id.clone());
            if let Some(last) = &last {
                let ids = db::IdRange { after: &after, last };
                match section {
                    db::StatsSection::Units => out
                        .units
                        .extend(unit_lines(&mut conn, &org.path, year, &ids, orgs).await?),
                    db::StatsSection::Communities => {
                        out.communities
                            .extend(community_lines(&mut conn, &org.path, year, &ids, orgs).await?);
                    }
                }
            }
            match (more, section) {
                (true, _) => {
                    let last = last.unwrap_or_default();
                    out.next_page_token = page.token_for(&compound_key(&[section.tag(), &last]));
                    return Ok(out);
                }
                (false, db::StatsSection::Communities) => return Ok(out),
                (false, db::StatsSection::Units) if room == 0 => {
                    // The units filled the page exactly: communities follow.
                    let first =
                        db::stats_orgs_under(&mut conn, &org.path, db::StatsSection::Communities, "", 1).await?;
                    if !first.is_empty() {
                        out.next_page_token = page.token_for(&compound_key(&[db::StatsSection::Communities.tag(), ""]));
                    }
                    return Ok(out);
                }
                (false, db::StatsSection::Units) => {
                    section = db::StatsSection::Communities;
                    after = String::new();
                }
            }
        }
    }

    /// One page of the members inside `org_id` who have not reported in `year`.
    pub async fn not_reported(
        &self,
        p: &Principal,
        org_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Vec<db::UnitMemberStatus>, String)> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let rows = db::not_reported_under(&mut conn, &org.path, year, page).await?;
        Ok(page.finish(rows, |m| &m.member_id))
    }
}

async fn community_lines(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
    ids: &db::IdRange<'_>,
    communities: Vec<Org>,
) -> Result<Vec<CommunityStats>> {
    let mut counts: HashMap<String, (i64, i64)> = db::community_counts_under(conn, path, year, ids)
        .await?
        .into_iter()
        .map(|(id, units, members)| (id, (units, members)))
        .collect();
    Ok(communities
        .into_iter()
        .map(|community| {
            let (units_reported, members_reported) = counts.remove(&community.id).unwrap_or_default();
            CommunityStats {
                community,
                units_reported,
                members_reported,
            }
        })
        .collect())
}

async fn unit_lines(
    conn: &mut AnyConnection,
    path: &str,
    year: i32,
    ids: &db::IdRange<'_>,
    units: Vec<Org>,
) -> Result<Vec<UnitStats>> {
    let mut counts: HashMap<String, (i64, i64)> = db::unit_member_counts_under(conn, path, year, ids)
        .await?
        .into_iter()
        .map(|(unit, registered, reported)| (unit, (registered, reported)))
        .collect();
    let reported_units: HashSet<String> = db::units_reported_under(conn, path, year, ids)
        .await?
        .into_iter()
        .collect();
    Ok(units
        .into_iter()
        .map(|unit| {
            let (registered, reported) = counts.remove(&unit.id).unwrap_or_default();
            UnitStats {
                registered,
                reported,
                unit_reported: reported_units.contains(&unit.id),
                unit,
            }
        })
        .collect())
}
