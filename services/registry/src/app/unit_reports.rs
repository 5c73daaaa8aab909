//! Unit reports (单位报到): a unit reports to its community, gets a receipt, and is confirmed.

use super::*;

impl Registry {
    pub(super) fn check_window(&self, window: crate::domain::policy::Window, year: i32, what: &str) -> Result<()> {
        if !valid_year(year) {
            return Err(RegistryError::invalid("year", "must be between 2000 and 2100"));
        }
        let today = china_today();
        if window.contains(year, today) {
            Ok(())
        } else {
            use crate::domain::policy::Window;
            Err(RegistryError::OutsideWindow(format!(
                "{what} for {year} are accepted from {year}-{} to {year}-{} (today is {today})",
                Window::format(window.start),
                Window::format(window.end)
            )))
        }
    }

    pub(super) async fn community(&self, conn: &mut AnyConnection, id: &str, field: &str) -> Result<Org> {
        match self.org(conn, id).await? {
            Some(org) if org.org_type == OrgType::Community => Ok(org),
            Some(_) => Err(RegistryError::invalid(field, "is not a community")),
            None => Err(RegistryError::invalid(field, format!("unknown org {id:?}"))),
        }
    }

    pub async fn submit_unit_report(
        &self,
        p: &Principal,
        request_id: &str,
        draft: UnitReportDraft,
    ) -> Result<UnitReport> {
        let UnitReportDraft {
            unit_org_id,
            community_id,
            year,
            resources,
            suggestions,
        } = draft;
        let (unit_org_id, community_id) = (unit_org_id.as_str(), community_id.as_str());
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "SubmitUnitReport").await? {
            return db::require_unit_report(&mut tx, &id).await;
        }
        let unit = match self.org(&mut tx, unit_org_id).await? {
            Some(u) if u.org_type.is_unit() => u,
            Some(_) => return Err(RegistryError::invalid("unit_org_id", "is not a resident unit's org")),
            None => {
                return Err(RegistryError::invalid(
                    "unit_org_id",
                    format!("unknown org {unit_org_id:?}"),
                ));
            }
        };
        let community = self.community(&mut tx, community_id, "community_id").await?;
        let actor = self
            .admin_org(&mut tx, p)
            .await?
            .ok_or_else(|| RegistryError::out_of_scope(format!("{} may not submit unit reports", p.role.as_str())))?;
        // The unit chooses; its superior org assigns; a street assigns a community inside it (S2).
        let assignment = if actor.id == unit.id {
            Assignment::Chosen
        } else if actor.covers(&unit.path) {
            Assignment::BySuperior
        } else if actor.org_type == OrgType::Street && actor.covers(&community.path) {
            Assignment::ByStreet
        } else {
            return Err(RegistryError::out_of_scope(format!(
                "{} may not report for unit {}",
                p.role.as_str(),
                unit.id
            )));
        };
        self.check_window(self.policy.unit_report_window, year, "unit reports")?;
        if db::unit_report_of(&mut tx, &unit.id, year).await?.is_some() {
            return Err(RegistryError::AlreadyExists(format!(
                "unit {} has already reported for {year}",
                unit.id
            )));
        }
        let report = UnitReport {
            id: new_id(),
            unit_org_id: unit.id.clone(),
            community_id: community.id.clone(),
            year,
            status: UnitReportStatus::Submitted,
            assignment,
            assigned_by_org_id: (assignment != Assignment::Chosen).then(|| actor.id.clone()),
            org_name: unit.name.clone(),
            details: unit.details.clone(),
            superior_org_id: unit.parent_id.clone(),
            resources,
            suggestions,
            submitted_at: now_millis(),
            receipt: None,
        };
        match db::insert_unit_report(&mut tx, &report).await {
            Err(e) if e.is_duplicate() => {
                return Err(RegistryError::AlreadyExists(format!(
                    "unit {} has already reported for {year}",
                    unit.id
                )));
            }
            other => other?,
        }
        let after = serde_json::json!({
            "unit_org_id": report.unit_org_id, "community_id": report.community_id,
            "year": report.year, "status": "submitted",
        });
        self.audit(
            &mut tx,
            p,
            "SubmitUnitReport",
            "unit_report",
            &report.id,
            &report.community_id,
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "SubmitUnitReport", &report.id).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Numbers, dates and stores a receipt for `receipt`'s report.
    /// Numbers, dates and stores the receipt of a claimed report, and
    /// attaches it to the report.
    pub(super) async fn issue_receipt(&self, conn: &mut AnyConnection, report: ReceiptFor<'_>) -> Result<Receipt> {
        let (kind, report_id, year, community_id, unit_org_id, member_id) = match report {
            ReceiptFor::Unit(r) => (ReceiptKind::Unit, &r.id, r.year, &r.community_id, &r.unit_org_id, None),
            ReceiptFor::Member(r) => (
                ReceiptKind::Member,
                &r.id,
                r.year,
                &r.community_id,
                &r.unit_org_id,
                Some(r.member_id.clone()),
            ),
        };
        let counter = match kind {
            ReceiptKind::Unit => format!("receipt-unit-{year}"),
            ReceiptKind::Member => format!("receipt-member-{year}"),
        };
        let sequence = db::next_counter(conn, &counter).await?;
        let receipt = Receipt {
            number: receipt_number(&self.number_prefix, year, kind, sequence),
            issued_at: now_millis(),
            year,
            community_id: community_id.clone(),
            unit_org_id: unit_org_id.clone(),
            member_id,
            report_id: report_id.clone(),
        };
        db::insert_receipt(conn, &receipt).await?;
        match kind {
            ReceiptKind::Unit => db::attach_unit_receipt(conn, report_id, &receipt.number).await?,
            ReceiptKind::Member => db::attach_member_receipt(conn, report_id, &receipt.number).await?,
        }
        Ok(receipt)
    }

    /// The community receives a unit's report and issues the receipt; this
    /// establishes the unit–community pair for the year.
    pub async fn receive_unit_report(&self, p: &Principal, request_id: &str, report_id: &str) -> Result<UnitReport> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "ReceiveUnitReport").await? {
            return db::require_unit_report(&mut tx, &id).await;
        }
        let report = db::require_unit_report(&mut tx, report_id).await?;
        let community = self.require_org(&mut tx, &report.community_id).await?;
        self.require_admin_over(&mut tx, p, &community.path, &format!("community {}", community.id))
            .await?;
        if report.status != UnitReportStatus::Submitted {
            return Err(RegistryError::wrong_state(format!(
                "unit report {report_id} is already {}",
                report.status.as_str()
            )));
        }
        // Claim the report first: a concurrent second call waits on the row, then finds it received.
        if !db::receive_unit_report(&mut tx, &report.id).await? {
            return Err(RegistryError::wrong_state(format!(
                "report {report_id} was already received"
            )));
        }
        self.issue_receipt(&mut tx, ReceiptFor::Unit(&report)).await?;
        let (before, after) = (
            serde_json::json!({ "status": "submitted" }),
            serde_json::json!({ "status": "received" }),
        );
        let community = report.community_id.clone();
        self.audit(
            &mut tx,
            p,
            "ReceiveUnitReport",
            "unit_report",
            &report.id,
            &community,
            Some(before),
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "ReceiveUnitReport", &report.id).await?;
        let report = db::require_unit_report(&mut tx, report_id).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// Admins over the unit or the community, and services, may read a unit report.
    pub async fn get_unit_report(&self, p: &Principal, id: &str) -> Result<UnitReport> {
        let mut conn = self.pool.acquire().await?;
        let report = db::require_unit_report(&mut conn, id).await?;
        self.require_reader_of(&mut conn, p, &[&report.unit_org_id, &report.community_id], None)
            .await?;
        Ok(report)
    }

    /// Services read everything; a member reads what names it; admins read what
    /// lies in their subtree by any of `org_ids`.
    pub(super) async fn require_reader_of(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        org_ids: &[&str],
        member_id: Option<&str>,
    ) -> Result<()> {
        match &p.scope {
            Scope::Service => return Ok(()),
            Scope::Member(me) if Some(me.as_str()) == member_id => return Ok(()),
            Scope::Member(_) | Scope::Cloud | Scope::Public => {}
            Scope::Org(_) => {
                if let Some(actor) = self.admin_org(conn, p).await? {
                    for id in org_ids {
                        if let Some(org) = self.org(conn, id).await?
                            && actor.covers(&org.path)
                        {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Err(RegistryError::out_of_scope(format!(
            "{} may not read this record",
            p.role.as_str()
        )))
    }

    pub async fn list_unit_reports(
        &self,
        p: &Principal,
        org_id: &str,
        filter: &UnitReportFilter,
        page: &PageRequest,
    ) -> Result<(Vec<UnitReport>, String)> {
        let mut conn = self.pool.acquire().await?;
        let org = self.scoped_org(&mut conn, p, org_id).await?;
        let rows = db::list_unit_reports(&mut conn, &org.path, filter, page).await?;
        Ok(page.finish(rows, |r| &r.id))
    }
}
