//! Settlement (评星): freeze a community's half-year, review, publish, and read the board.

use super::*;

impl Scoring {
    /// Computes the period's lines and stores them as the next version.
    pub(super) async fn settle_version(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        community: &OrgInfo,
        period: Period,
        latest: Option<&Settlement>,
        reason: &str,
    ) -> Result<Settlement> {
        let s = Settlement {
            id: new_id(),
            community_id: community.id.clone(),
            scope_path: community.path(),
            period,
            version: latest.map_or(1, |l| l.version + 1),
            status: SettlementStatus::Draft,
            reason: reason.to_owned(),
            current: false,
            settled_by: p.subject.clone(),
            settled_at: now_millis(),
            assembly_date: None,
            reviewed_by: String::new(),
            reviewed_at: None,
            published_by: String::new(),
            published_at: None,
            points_per_star: self.rules.points_per_star,
            max_stars: self.rules.max_stars,
            line_count: 0,
        };
        match db::insert_settlement(conn, &s).await {
            Err(e) if e.is_duplicate() => {
                return Err(ScoringError::conflict(format!(
                    "{} was settled concurrently; read the settlements and retry",
                    period.key()
                )));
            }
            other => other?,
        }
        let s = Settlement {
            line_count: db::settle_lines(conn, &s).await?,
            ..s
        };
        // The caller's transaction rolls the new version back with this error.
        if let Some(latest) = latest
            && db::same_points(conn, latest, &s).await?
        {
            return Err(ScoringError::NothingChanged(period.key(), latest.version));
        }
        Ok(s)
    }

    pub async fn settle(
        &self,
        p: &Principal,
        request_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<Settlement> {
        self.require_community_writer(p, community_id, false).await?;
        let community = self.community("community_id", community_id).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "SettlePeriod").await? {
            return self.require_settlement(&mut tx, &id).await;
        }
        if !period.has_ended(self.today()) {
            return Err(ScoringError::PeriodNotEnded(period.key()));
        }
        let latest = db::latest_settlement(&mut tx, community_id, period).await?;
        let s = self
            .settle_version(&mut tx, p, &community, period, latest.as_ref(), "settled")
            .await?;
        let before = latest.as_ref().map(settlement_fields);
        self.directory
            .audit(
                &mut tx,
                p,
                "SettlePeriod",
                "settlement",
                &s.id,
                community_id,
                before,
                Some(settlement_fields(&s)),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "SettlePeriod", &s.id).await?;
        tx.commit().await?;
        tracing::info!(settlement = %s.id, community = community_id, period = %period, version = s.version, "settled");
        Ok(s)
    }

    pub(super) async fn require_settlement(&self, conn: &mut AnyConnection, id: &str) -> Result<Settlement> {
        db::settlement(conn, id)
            .await?
            .ok_or_else(|| ScoringError::not_found("settlement", id))
    }

    pub async fn review(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        assembly_date: Option<Date>,
        recorded_by: &str,
    ) -> Result<Settlement> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = idempotency::replayed_by(&mut conn, p, request_id, "ReviewSettlement").await? {
            return self.require_settlement(&mut conn, &id).await;
        }
        let s = self.require_settlement(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &s.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "ReviewSettlement").await? {
            return self.require_settlement(&mut tx, &id).await;
        }
        let date = crate::domain::settlement::assembly_date(s.period, assembly_date, self.today())
            .map_err(|why| ScoringError::invalid("assembly_date", why))?;
        if !db::review_settlement(&mut tx, id, date, recorded_by, now_millis()).await? {
            let now = self.require_settlement(&mut tx, id).await?;
            return Err(ScoringError::wrong_state(format!(
                "settlement {id} is {}; only a draft can be reviewed",
                now.status.as_str()
            )));
        }
        idempotency::remember(&mut tx, p, request_id, "ReviewSettlement", id).await?;
        let before = settlement_fields(&s);
        let s = self.require_settlement(&mut tx, id).await?;
        let after = settlement_fields(&s);
        self.directory
            .audit(
                &mut tx,
                p,
                "ReviewSettlement",
                "settlement",
                id,
                &s.community_id,
                Some(before),
                Some(after),
            )
            .await?;
        tx.commit().await?;
        Ok(s)
    }

    pub async fn publish(&self, p: &Principal, request_id: &str, id: &str) -> Result<Settlement> {
        let mut conn = self.pool.acquire().await?;
        if let Some(id) = idempotency::replayed_by(&mut conn, p, request_id, "PublishSettlement").await? {
            return self.require_settlement(&mut conn, &id).await;
        }
        let s = self.require_settlement(&mut conn, id).await?;
        drop(conn);
        self.require_community_writer(p, &s.community_id, false).await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "PublishSettlement").await? {
            return self.require_settlement(&mut tx, &id).await;
        }
        if let Some(current) = db::current_version(&mut tx, &s.community_id, s.period).await?
            && current > s.version
        {
            return Err(ScoringError::wrong_state(format!(
                "version {current} of this period is already published; version {} is older",
                s.version
            )));
        }
        if !db::publish_settlement(&mut tx, &s, &p.subject, now_millis()).await? {
            // Say what it is now (a concurrent call may have just published it),
            // not what it was when this call read it.
            let now = self.require_settlement(&mut tx, id).await?;
            return Err(ScoringError::wrong_state(match now.status {
                SettlementStatus::Draft => format!(
                    "settlement {id} is a draft: the members-and-residents assembly must review it before it is published"
                ),
                SettlementStatus::Published => format!("settlement {id} is already published"),
                SettlementStatus::Reviewed => {
                    format!("settlement {id} changed while it was being published; read it again")
                }
            }));
        }
        idempotency::remember(&mut tx, p, request_id, "PublishSettlement", id).await?;
        let before = settlement_fields(&s);
        let s = self.require_settlement(&mut tx, id).await?;
        let after = settlement_fields(&s);
        self.directory
            .audit(
                &mut tx,
                p,
                "PublishSettlement",
                "settlement",
                id,
                &s.community_id,
                Some(before),
                Some(after),
            )
            .await?;
        journal::append(
            &mut tx,
            &journal::Fact {
                kind: "settlement.published",
                occur_millis: s.published_at.unwrap_or_else(now_millis),
                subject_id: s.id.clone(),
                district_id: s
                    .scope_path
                    .split('/')
                    .filter(|id| !id.is_empty())
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned(),
                community_id: s.community_id.clone(),
                text: format!("{} 积分结算第 {} 版已公示（{} 人）", s.period, s.version, s.line_count),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(settlement = %s.id, version = s.version, "published");
        Ok(s)
    }

    /// Published versions are public; drafts and reviewed ones are for admins
    /// over the community.
    pub(super) async fn require_settlement_reader(&self, p: &Principal, s: &Settlement) -> Result<()> {
        if s.status == SettlementStatus::Published || p.role == Role::Service {
            return Ok(());
        }
        if self
            .admin_covers(p, &self.directory.org(&s.community_id).await?)
            .await?
        {
            return Ok(());
        }
        Err(ScoringError::out_of_scope(format!(
            "settlement {} is not published; only admins over its community may read it",
            s.id
        )))
    }

    pub async fn get_settlement(&self, p: &Principal, id: &str) -> Result<Settlement> {
        let mut conn = self.pool.acquire().await?;
        let s = self.require_settlement(&mut conn, id).await?;
        drop(conn);
        self.require_settlement_reader(p, &s).await?;
        Ok(s)
    }

    /// A page of a settlement's lines, for whoever may read the settlement.
    pub async fn settlement_lines(
        &self,
        p: &Principal,
        id: &str,
        size: i64,
        after: Option<&db::LineCursor>,
    ) -> Result<(Vec<Line>, Option<db::LineCursor>)> {
        let s = self.get_settlement(p, id).await?;
        let mut conn = self.pool.acquire().await?;
        let mut lines = db::settlement_lines(&mut conn, &s.id, after, size + 1).await?;
        let next = if lines.len() as i64 > size {
            lines.truncate(usize::try_from(size).unwrap_or(usize::MAX));
            lines.last().map(db::LineCursor::of)
        } else {
            None
        };
        Ok((lines, next))
    }

    pub async fn list_settlements(
        &self,
        p: &Principal,
        of: SettlementsOf,
        period: Option<Period>,
        status: Option<SettlementStatus>,
        page: &PageRequest,
    ) -> Result<(Vec<Settlement>, String)> {
        let (org, of) = match of {
            SettlementsOf::Community(id) => {
                let community = self.community("community_id", &id).await?;
                (community, SettlementsOf::Community(id))
            }
            SettlementsOf::Subtree(org_id) => {
                let org = self.org("org_id", &org_id).await?;
                let path = org.path();
                (org, SettlementsOf::Subtree(path))
            }
        };
        let privileged = p.role == Role::Service || self.admin_covers(p, &org).await?;
        // Others see published versions only: a drafts queue is not theirs.
        let status = match (privileged, status) {
            (true, status) => status,
            (false, None | Some(SettlementStatus::Published)) => Some(SettlementStatus::Published),
            (false, Some(_)) => return Ok((Vec::new(), String::new())),
        };
        let mut conn = self.pool.acquire().await?;
        let rows = db::list_settlements(&mut conn, &of, period, status, page).await?;
        Ok(page.finish(rows, |s| &s.id))
    }

    /// The vanguard board: public to every authenticated caller.
    /// The org a board is of: a community, street, district or the city.
    async fn board_org(&self, org_id: &str) -> Result<OrgInfo> {
        match self.directory.org(org_id).await {
            Err(DirectoryError::NotFound { .. }) => {
                Err(ScoringError::invalid("org_id", format!("no organization {org_id}")))
            }
            Ok(org) if org.kind == OrgKind::Unit => Err(ScoringError::invalid(
                "org_id",
                "must be a community, street, district or the city",
            )),
            other => Ok(other?),
        }
    }

    pub async fn board(
        &self,
        org_id: &str,
        period: Period,
        kind: SubjectKind,
        size: i64,
        after: Option<&BoardCursor>,
    ) -> Result<BoardPage> {
        let org = self.board_org(org_id).await?;
        let mut conn = self.pool.acquire().await?;
        let mut rows = db::board(&mut conn, org_id, period, kind, after, size + 1).await?;
        drop(conn);
        let next = if rows.len() as i64 > size {
            rows.truncate(size as usize);
            rows.last().map(|r| BoardCursor {
                stars: r.line.stars,
                points: r.line.points,
                subject_id: r.line.subject.id.clone(),
                community_id: r.community_id.clone(),
            })
        } else {
            None
        };
        // A page names few communities, and the directory caches each.
        let mut community_names = std::collections::BTreeMap::new();
        for row in &rows {
            if !community_names.contains_key(&row.community_id) {
                let name = self
                    .directory
                    .org(&row.community_id)
                    .await
                    .map(|o| o.name)
                    .unwrap_or_default();
                community_names.insert(row.community_id.clone(), name);
            }
        }
        Ok(BoardPage {
            org_name: org.name,
            rows,
            community_names,
            next,
        })
    }

    /// Subjects per star level on `org_id`'s published board, every level
    /// from the policy's `max_stars` down to 0.
    pub async fn board_statistics(&self, org_id: &str, period: Period, kind: SubjectKind) -> Result<BoardStatistics> {
        let org = self.board_org(org_id).await?;
        let mut conn = self.pool.acquire().await?;
        let counted = db::star_levels(&mut conn, org_id, period, kind).await?;
        let top = counted
            .iter()
            .map(|c| c.stars)
            .chain([self.rules.max_stars])
            .max()
            .unwrap_or_default();
        let levels = (0..=top)
            .rev()
            .map(|stars| {
                counted
                    .iter()
                    .find(|c| c.stars == stars)
                    .copied()
                    .unwrap_or(db::StarCount {
                        stars,
                        subjects: 0,
                        points: 0,
                    })
            })
            .collect();
        Ok(BoardStatistics {
            org_name: org.name,
            levels,
        })
    }

    pub async fn registration_table(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        period: Period,
    ) -> Result<RegistrationTable> {
        let subject = Subject::member(member_id);
        self.require_reader(p, &subject, Some(community_id)).await?;
        let member = self.directory.member(member_id).await?;
        let mut conn = self.pool.acquire().await?;
        let rows = db::period_entries(&mut conn, &subject, community_id, period).await?;
        let total_points: i64 = rows.iter().map(|e| e.points).sum();
        let latest = db::latest_settlement(&mut conn, community_id, period).await?;
        Ok(RegistrationTable {
            member,
            community_id: community_id.to_owned(),
            period,
            rows,
            total_points,
            stars: self.rules.stars(total_points),
            settlement_status: latest.map(|s| s.status),
        })
    }
}
