//! Feedback's reads of the registry: a unit's members, their reports and
//! overdue relocations, and the list of unit orgs.

use dualreport_platform::wire::{date_from_pb, date_to_pb, millis_of};
use dualreport_proto::registry::v1 as reg;

use super::{Sources, pages};
use crate::domain::peers::{PendingRelocation, ReportOf, UnitMember};
use crate::domain::{Date, FeedbackError};

impl Sources {
    /// The unit org's members (and its sub-orgs').
    pub async fn unit_members(&self, unit_org_id: &str) -> Result<Vec<UnitMember>, FeedbackError> {
        pages(
            "registry",
            |page_token| {
                let mut c = self.registry.clone();
                let request = reg::ListMembersRequest {
                    unit_org_id: unit_org_id.to_owned(),
                    page_size: 500,
                    page_token,
                    ..Default::default()
                };
                async move { c.list_members(request).await }
            },
            |r| {
                let members = r
                    .members
                    .into_iter()
                    .map(|m| {
                        let profile = m.profile.unwrap_or_default();
                        UnitMember {
                            id: m.id,
                            name: profile.name,
                            residence_community_id: profile.residence_community_id,
                        }
                    })
                    .collect();
                (members, r.next_page_token)
            },
        )
        .await
    }

    /// Member reports of the unit's members in `year`.
    pub async fn member_reports(&self, unit_org_id: &str, year: i32) -> Result<Vec<ReportOf>, FeedbackError> {
        pages(
            "registry",
            |page_token| {
                let mut c = self.registry.clone();
                let request = reg::ListMemberReportsRequest {
                    org_id: unit_org_id.to_owned(),
                    year,
                    page_size: 500,
                    page_token,
                    ..Default::default()
                };
                async move { c.list_member_reports(request).await }
            },
            |r| {
                let reports = r
                    .reports
                    .into_iter()
                    .map(|r| ReportOf {
                        counts: matches!(
                            reg::MemberReportStatus::try_from(r.status),
                            Ok(reg::MemberReportStatus::Confirmed | reg::MemberReportStatus::Ended)
                        ),
                        confirmed_at: r.confirm_time.as_ref().map(millis_of),
                        member_id: r.member_id,
                        community_id: r.community_id,
                    })
                    .collect();
                (reports, r.next_page_token)
            },
        )
        .await
    }

    /// Relocations of the unit's members still pending after their due date.
    pub async fn overdue_relocations(
        &self,
        unit_org_id: &str,
        as_of: Date,
    ) -> Result<Vec<PendingRelocation>, FeedbackError> {
        pages(
            "registry",
            |page_token| {
                let mut c = self.registry.clone();
                let request = reg::ListRelocationsRequest {
                    org_id: unit_org_id.to_owned(),
                    overdue_only: true,
                    page_size: 500,
                    page_token,
                    as_of: Some(date_to_pb(as_of)),
                    ..Default::default()
                };
                async move { c.list_relocations(request).await }
            },
            |r| {
                let relocations = r
                    .relocations
                    .into_iter()
                    .map(|r| PendingRelocation {
                        due_on: r.due_on.as_ref().and_then(date_from_pb),
                        member_id: r.member_id,
                        to_community_id: r.to_community_id,
                    })
                    .collect();
                (relocations, r.next_page_token)
            },
        )
        .await
    }

    /// The ids of every resident-unit org (organ, institution, enterprise, …) the registry holds.
    pub async fn unit_ids(&self) -> Result<Vec<String>, FeedbackError> {
        pages(
            "registry",
            |page_token| {
                let mut c = self.registry.clone();
                let request = reg::ListOrganizationsRequest {
                    page_size: 500,
                    page_token,
                    ..Default::default()
                };
                async move { c.list_organizations(request).await }
            },
            |r| {
                let units = r
                    .organizations
                    .into_iter()
                    .filter(|o| o.r#type >= reg::OrganizationType::Organ as i32)
                    .map(|o| o.id)
                    .collect();
                (units, r.next_page_token)
            },
        )
        .await
    }
}
