//! Who is registered where: a member's confirmed report at a community (for
//! a year, or on a day) and a unit org's received report.

use super::*;

impl Directory {
    /// Whether the member's report at the community for `year` was confirmed
    /// (it stays valid for the year's earlier services after a relocation ends it).
    pub async fn member_registered(&self, member_id: &str, community_id: &str, year: i32) -> Result<bool> {
        let key = (member_id.to_owned(), community_id.to_owned(), year);
        self.member_report_matches(key, member_id, community_id, year, |_| true)
            .await
    }

    /// Whether the member was registered at the community **on `date`**: a
    /// confirmed report there whose registration covers the day (a member
    /// belongs to one community at a time: after a move the old community's
    /// registration ends on the relocation date and the new one's starts then).
    pub async fn member_registered_on(
        &self,
        member_id: &str,
        community_id: &str,
        date: chrono::NaiveDate,
    ) -> Result<bool> {
        use chrono::Datelike as _;
        let key = (
            format!("on:{member_id}:{}", date.num_days_from_ce()),
            community_id.to_owned(),
            date.year(),
        );
        self.member_report_matches(key, member_id, community_id, date.year(), |r| {
            let from = r
                .registered_from
                .as_ref()
                .and_then(dualreport_platform::wire::date_from_pb);
            let until = r
                .registered_until
                .as_ref()
                .and_then(dualreport_platform::wire::date_from_pb);
            from.is_none_or(|from| from <= date) && until.is_none_or(|until| date < until)
        })
        .await
    }

    /// Whether a confirmed report of the member at the community for `year`
    /// satisfies `accept` (cached under `key` once one does).
    async fn member_report_matches(
        &self,
        key: (String, String, i32),
        member_id: &str,
        community_id: &str,
        year: i32,
        accept: impl Fn(&pb::MemberReport) -> bool + Copy,
    ) -> Result<bool> {
        self.registered(key, |page_token| {
            let mut client = self.client.clone();
            async move {
                let response = client
                    .list_member_reports(pb::ListMemberReportsRequest {
                        member_id: member_id.to_owned(),
                        org_id: String::new(),
                        year,
                        page_size: 100,
                        page_token,
                        ..Default::default()
                    })
                    .await
                    .map_err(|status| upstream(status, "member", member_id))?
                    .into_inner();
                let found = response.reports.iter().any(|r| {
                    r.community_id == community_id
                        && matches!(
                            pb::MemberReportStatus::try_from(r.status),
                            Ok(pb::MemberReportStatus::Confirmed | pb::MemberReportStatus::Ended)
                        )
                        && r.confirm_time.is_some()
                        && accept(r)
                });
                Ok((found, response.next_page_token))
            }
        })
        .await
    }

    /// Whether the unit org's report to the community for `year` was received.
    pub async fn unit_registered(&self, unit_org_id: &str, community_id: &str, year: i32) -> Result<bool> {
        let key = (format!("unit:{unit_org_id}"), community_id.to_owned(), year);
        self.registered(key, |page_token| {
            let mut client = self.client.clone();
            async move {
                let response = client
                    .list_unit_reports(pb::ListUnitReportsRequest {
                        org_id: unit_org_id.to_owned(),
                        year,
                        page_size: 100,
                        page_token,
                        status: pb::UnitReportStatus::Received.into(),
                        submitted: None,
                    })
                    .await
                    .map_err(|status| upstream(status, "organization", unit_org_id))?
                    .into_inner();
                let found = response.reports.iter().any(|r| {
                    r.unit_org_id == unit_org_id
                        && r.community_id == community_id
                        && r.status == pb::UnitReportStatus::Received as i32
                });
                Ok((found, response.next_page_token))
            }
        })
        .await
    }

    /// Pages through `page(token) -> (found on this page, next token)` until a
    /// match (cached) or the last page (not cached).
    async fn registered<F, Fut>(&self, key: (String, String, i32), mut page: F) -> Result<bool>
    where
        F: FnMut(String) -> Fut,
        Fut: std::future::Future<Output = Result<(bool, String)>>,
    {
        if self.registrations.get(&key).is_some() {
            return Ok(true);
        }
        let mut token = String::new();
        loop {
            let (found, next) = page(token).await?;
            if found {
                self.registrations.put(key, ());
                return Ok(true);
            }
            if next.is_empty() {
                return Ok(false);
            }
            token = next;
        }
    }
}
