//! Service-hours certificates (志愿服务证明): a member's confirmed hours at a
//! community over a period, certified by that community (谁组织谁记录),
//! numbered and printed as PDF.

use chrono::Datelike as _;

use super::*;
use crate::domain::record::{activity_minutes, hours_text, hundredths};
use crate::storage::CertificateRow;

/// What issuing certificates needs: the number prefix and the font.
#[derive(Debug, Clone)]
pub struct Certificates {
    /// Starts every number: `<prefix>-<year>-<000001>`.
    pub number_prefix: String,
    /// The CJK font certificates are set in; `Err`: why there is none.
    pub font: std::result::Result<dualreport_documents::Font, String>,
}

impl Volunteering {
    /// Issues (or, for a retried `request_id`, returns again) the
    /// certificate of `member_id`'s confirmed services at `community_id`
    /// served in `window`, and its PDF.
    pub async fn issue_certificate(
        &self,
        p: &Principal,
        request_id: &str,
        community_id: &str,
        member_id: &str,
        window: &DateWindow,
    ) -> Result<(CertificateRow, Vec<u8>)> {
        let community = self.community("community_id", community_id).await?;
        // 谁组织谁记录: only the community that recorded the services certifies them.
        self.require_community_admin(p, community_id).await?;
        let font = self
            .certificates
            .font
            .as_ref()
            .map_err(|why| VolunteeringError::wrong_state(format!("certificates cannot be printed here: {why}")))?;
        const OP: &str = "IssueServiceCertificate";
        if let Some(number) = idempotency::replayed_by_pooled(&self.pool, p, request_id, OP).await? {
            return self.certificate_again(&number, font).await;
        }
        let member = match self.directory.member(member_id).await {
            Err(DirectoryError::NotFound { .. }) => return Err(VolunteeringError::not_found("member", member_id)),
            other => other?,
        };
        let (first, last) = window.days();
        let mut conn = self.pool.acquire().await?;
        let services = db::member_service_minutes(&mut conn, community_id, member_id, (&first, &last)).await?;
        drop(conn);
        if services.is_empty() {
            return Err(VolunteeringError::wrong_state(format!(
                "{} has no confirmed service at {} served from {first} to {last}: there is nothing to certify",
                member.name, community.name
            )));
        }
        let total: i64 = services
            .iter()
            .map(|(minutes, start, end)| hundredths(*minutes, activity_minutes(*start, *end)))
            .sum();
        let today = crate::domain::china_today();
        let mut tx = self.pool.begin().await?;
        if let Some(number) = idempotency::replayed_by(&mut tx, p, request_id, OP).await? {
            drop(tx);
            return self.certificate_again(&number, font).await;
        }
        let sequence = db::next_certificate_number(&mut tx, today.year()).await?;
        let row = CertificateRow {
            number: format!("{}-{}-{sequence:06}", self.certificates.number_prefix, today.year()),
            community_id: community_id.to_owned(),
            community_name: community.name.clone(),
            member_id: member_id.to_owned(),
            member_name: member.name.clone(),
            first_day: first,
            last_day: last,
            services: i64::try_from(services.len()).unwrap_or(i64::MAX),
            hundredths: total,
            issued_by: p.subject.clone(),
            issued_on: today.to_string(),
            issued_at: now_millis(),
        };
        db::insert_certificate(&mut tx, &row).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                OP,
                "service_certificate",
                &row.number,
                community_id,
                None,
                Some(serde_json::json!({
                    "member_id": member_id, "from": row.first_day, "to": row.last_day,
                    "services": row.services, "hours": hours_text(row.hundredths),
                })),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, OP, &row.number).await?;
        // Printed before the commit: a certificate that cannot be printed is never issued.
        let pdf = print(&row, font)?;
        tx.commit().await?;
        Ok((row, pdf))
    }

    async fn certificate_again(
        &self,
        number: &str,
        font: &dualreport_documents::Font,
    ) -> Result<(CertificateRow, Vec<u8>)> {
        let row = db::get_certificate(&mut *self.conn().await?, number)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("service certificate", number))?;
        let pdf = print(&row, font)?;
        Ok((row, pdf))
    }
}

fn print(row: &CertificateRow, font: &dualreport_documents::Font) -> Result<Vec<u8>> {
    let certificate = dualreport_documents::Certificate {
        number: row.number.clone(),
        member_name: row.member_name.clone(),
        community_name: row.community_name.clone(),
        from: row.first_day.clone(),
        to: row.last_day.clone(),
        services: row.services,
        hours: hours_text(row.hundredths),
        issued_on: row.issued_on.clone(),
    };
    dualreport_documents::render(&certificate, font)
        .map_err(|e| VolunteeringError::wrong_state(format!("the certificate cannot be printed: {e}")))
}
