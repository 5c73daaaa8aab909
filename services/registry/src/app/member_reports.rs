//! Member reports (党员报到): letters, reports to the community of residence, confirmation and the register.

use super::*;

impl Registry {
    pub async fn issue_letter(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        community_id: &str,
        year: i32,
    ) -> Result<Letter> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "IssueIntroductionLetter").await? {
            return db::require_letter(&mut tx, &id).await;
        }
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let member = db::require_member(&mut tx, member_id).await?;
        let unit = self.require_org(&mut tx, &member.unit_org_id).await?;
        self.require_admin_over(&mut tx, p, &unit.path, &format!("member {member_id}'s unit"))
            .await?;
        let community = self.community(&mut tx, community_id, "community_id").await?;
        let sequence = db::next_counter(&mut tx, &format!("letter-{year}")).await?;
        let letter = Letter {
            id: new_id(),
            number: letter_number(&self.number_prefix, year, sequence),
            unit_org_id: unit.id,
            member_id: member.id,
            community_id: community.id,
            year,
            issued_at: now_millis(),
        };
        db::insert_letter(&mut tx, &letter, &p.subject).await?;
        let after = serde_json::json!({
            "number": letter.number, "member_id": letter.member_id,
            "community_id": letter.community_id, "year": letter.year,
        });
        self.audit(
            &mut tx,
            p,
            "IssueIntroductionLetter",
            "letter",
            &letter.id,
            &letter.unit_org_id,
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "IssueIntroductionLetter", &letter.id).await?;
        tx.commit().await?;
        Ok(letter)
    }

    /// The member reports at a community (itself, through the community's front
    /// desk, or organised by its unit). One active report per member per year.
    pub async fn submit_member_report(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        community_id: &str,
        year: i32,
        letter_id: &str,
    ) -> Result<MemberReport> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "SubmitMemberReport").await? {
            return db::require_member_report(&mut tx, &id).await;
        }
        let member = db::require_member(&mut tx, member_id).await?;
        let community = self.community(&mut tx, community_id, "community_id").await?;
        let allowed = match &p.scope {
            Scope::Member(me) => *me == member.id,
            Scope::Service | Scope::Cloud | Scope::Public => false,
            Scope::Org(_) => {
                let unit = self.require_org(&mut tx, &member.unit_org_id).await?;
                let actor = self.admin_org(&mut tx, p).await?;
                actor.is_some_and(|a| a.covers(&community.path) || a.covers(&unit.path))
            }
        };
        if !allowed {
            return Err(RegistryError::out_of_scope(format!(
                "{} may not report for member {member_id}",
                p.role.as_str()
            )));
        }
        self.check_window(self.policy.member_report_window, year, "member reports")?;
        let letter = if letter_id.is_empty() {
            None
        } else {
            let letter = db::letter(&mut tx, letter_id)
                .await?
                .ok_or_else(|| RegistryError::invalid("letter_id", format!("unknown letter {letter_id:?}")))?;
            if letter.member_id != member.id || letter.community_id != community.id || letter.year != year {
                return Err(RegistryError::LetterRequired(format!(
                    "letter {} introduces member {} to community {} for {}, not this report",
                    letter.number, letter.member_id, letter.community_id, letter.year
                )));
            }
            Some(letter)
        };
        if self.policy.letter_required && letter.is_none() {
            return Err(RegistryError::LetterRequired(
                "policy requires an introduction letter from the member's unit org".into(),
            ));
        }
        if let Some(existing) = db::active_member_report(&mut tx, &member.id, year).await? {
            return Err(RegistryError::AlreadyExists(format!(
                "member {} already has an active report for {year} ({})",
                member.id, existing.id
            )));
        }
        let report = MemberReport {
            id: new_id(),
            member_id: member.id.clone(),
            community_id: community.id,
            year,
            status: MemberReportStatus::Submitted,
            letter_id: letter.map(|l| l.id),
            unit_org_id: member.unit_org_id.clone(),
            branch: String::new(),
            submitted_at: now_millis(),
            confirmed_at: None,
            ended_at: None,
            receipt: None,
            registered_from: None,
            registered_until: None,
        };
        match db::insert_member_report(&mut tx, &report).await {
            Err(e) if e.is_duplicate() => {
                return Err(RegistryError::AlreadyExists(format!(
                    "member {} already has an active report for {year}",
                    member.id
                )));
            }
            other => other?,
        }
        let after = serde_json::json!({
            "member_id": report.member_id, "community_id": report.community_id,
            "year": report.year, "status": "submitted",
        });
        self.audit(
            &mut tx,
            p,
            "SubmitMemberReport",
            "member_report",
            &report.id,
            &report.community_id,
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "SubmitMemberReport", &report.id).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The community confirms: the member enters its register in `branch`
    /// and a receipt goes back to the unit org.
    pub async fn confirm_member_report(
        &self,
        p: &Principal,
        request_id: &str,
        report_id: &str,
        branch: &str,
    ) -> Result<MemberReport> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "ConfirmMemberReport").await? {
            return db::require_member_report(&mut tx, &id).await;
        }
        let report = db::require_member_report(&mut tx, report_id).await?;
        let community = self.require_org(&mut tx, &report.community_id).await?;
        self.require_admin_over(&mut tx, p, &community.path, &format!("community {}", community.id))
            .await?;
        if report.status != MemberReportStatus::Submitted {
            return Err(RegistryError::wrong_state(format!(
                "member report {report_id} is {}",
                report.status.as_str()
            )));
        }
        // Claim the report first: a concurrent second call waits on the row, then finds it confirmed.
        if !db::confirm_member_report(&mut tx, &report.id, branch, now_millis()).await? {
            return Err(RegistryError::wrong_state(format!(
                "report {report_id} was already confirmed"
            )));
        }
        self.issue_receipt(&mut tx, ReceiptFor::Member(&report)).await?;
        // A member belongs to one community at a time: after a move, the new
        // registration starts on the relocation date.
        if let Some(declared_at) = db::pending_relocation_declared_at(&mut tx, &report.member_id).await? {
            let moved_on = dualreport_policy::china_date(declared_at);
            if chrono::Datelike::year(&moved_on) == report.year {
                db::set_registered_from(&mut tx, &report.id, moved_on).await?;
            }
        }
        db::fulfil_relocations(&mut tx, &report.member_id, &report.id).await?;
        let (before, after) = (
            serde_json::json!({ "status": "submitted" }),
            serde_json::json!({ "status": "confirmed" }),
        );
        let community_id = report.community_id.clone();
        self.audit(
            &mut tx,
            p,
            "ConfirmMemberReport",
            "member_report",
            &report.id,
            &community_id,
            Some(before),
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "ConfirmMemberReport", &report.id).await?;
        let report = db::require_member_report(&mut tx, report_id).await?;
        journal::append(
            &mut tx,
            &journal::Fact {
                kind: "member_report.confirmed",
                occur_millis: report.confirmed_at.unwrap_or_else(now_millis),
                subject_id: report.id.clone(),
                district_id: community.district_id.clone().unwrap_or_default(),
                community_id: report.community_id.clone(),
                unit_org_id: report.unit_org_id.clone(),
                member_id: report.member_id.clone(),
                text: format!("{} 年度报到已确认（{}）", report.year, community.name),
                evidence_ids: Vec::new(),
                year: report.year,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    pub async fn get_member_report(&self, p: &Principal, id: &str) -> Result<MemberReport> {
        let mut conn = self.pool.acquire().await?;
        let report = db::require_member_report(&mut conn, id).await?;
        self.require_reader_of(
            &mut conn,
            p,
            &[&report.unit_org_id, &report.community_id],
            Some(&report.member_id),
        )
        .await?;
        Ok(report)
    }

    pub async fn list_member_reports(
        &self,
        p: &Principal,
        member_id: &str,
        org_id: &str,
        filter: &MemberReportFilter,
        page: &PageRequest,
    ) -> Result<(Vec<MemberReport>, String)> {
        let mut conn = self.pool.acquire().await?;
        let rows = if !member_id.is_empty() {
            let member = db::require_member(&mut conn, member_id).await?;
            self.require_member_access(&mut conn, p, &member, true).await?;
            db::list_member_reports(&mut conn, Some(member_id), None, filter, page).await?
        } else {
            let org = self.scoped_org(&mut conn, p, org_id).await?;
            db::list_member_reports(&mut conn, None, Some(&org.path), filter, page).await?
        };
        Ok(page.finish(rows, |r| &r.id))
    }

    pub async fn get_receipt(&self, p: &Principal, number: &str) -> Result<Receipt> {
        let mut conn = self.pool.acquire().await?;
        let receipt = db::receipt(&mut conn, number)
            .await?
            .ok_or_else(|| RegistryError::not_found("receipt", number))?;
        self.require_reader_of(
            &mut conn,
            p,
            &[&receipt.unit_org_id, &receipt.community_id],
            receipt.member_id.as_deref(),
        )
        .await?;
        Ok(receipt)
    }

    pub async fn register(
        &self,
        p: &Principal,
        community_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Vec<db::RegisterRow>, String)> {
        let mut conn = self.pool.acquire().await?;
        let community = self.scoped_org(&mut conn, p, community_id).await?;
        let year = if year == 0 {
            chrono::Datelike::year(&china_today())
        } else {
            year
        };
        let rows = db::register(&mut conn, &community.id, year, page).await?;
        Ok(page.finish(rows, |r| &r.report_id))
    }
}
