//! Feedback's reads of volunteering: a member's confirmed services and their
//! activities, the member's pledge, a unit's service records and completed
//! agreement projects.

use dualreport_platform::wire::{date_from_pb, millis_of};
use dualreport_proto::volunteering::v1 as vol;

use super::{Sources, failed, pages};
use crate::domain::FeedbackError;
use crate::domain::peers::{ActivityOf, ServedActivity, UnitRecordOf, UnitServiceKind};
use crate::domain::warnings::PledgeState;

impl Sources {
    /// The member's confirmed attendance in `year` (what counts as served).
    pub async fn served(&self, member_id: &str, year: i32) -> Result<Vec<ServedActivity>, FeedbackError> {
        pages(
            "volunteering",
            |page_token| {
                let mut c = self.volunteering.clone();
                let request = vol::ListAttendanceRequest {
                    member_id: member_id.to_owned(),
                    year,
                    page_size: 500,
                    page_token,
                    ..Default::default()
                };
                async move { c.list_attendance(request).await }
            },
            |r| {
                let served = r
                    .attendance
                    .into_iter()
                    .filter(|a| a.status == vol::AttendanceStatus::Confirmed as i32)
                    .map(|a| ServedActivity {
                        attendance_id: a.id,
                        activity_id: a.activity_id,
                        community_id: a.community_id,
                        minutes: i64::from(a.minutes),
                        confirmed_at: a.confirm_time.as_ref().map(millis_of),
                    })
                    .collect();
                (served, r.next_page_token)
            },
        )
        .await
    }

    pub async fn activity(&self, activity_id: &str) -> Result<ActivityOf, FeedbackError> {
        let request = vol::GetActivityRequest {
            activity_id: activity_id.to_owned(),
        };
        let a = self
            .volunteering
            .clone()
            .get_activity(request)
            .await
            .map_err(|s| failed("volunteering", s))?
            .into_inner()
            .activity
            .ok_or_else(|| FeedbackError::internal(anyhow::anyhow!("volunteering answered without the activity")))?;
        Ok(ActivityOf {
            kind: vol::ActivityKind::try_from(a.kind)
                .map(|k| k.as_str_name().trim_start_matches("ACTIVITY_KIND_").to_owned())
                .unwrap_or_else(|_| "UNSPECIFIED".into()),
            id: a.id,
            title: a.title,
        })
    }

    /// Where the member's pledge for the year stands (公开承诺).
    pub async fn pledge(&self, member_id: &str, year: i32) -> Result<PledgeState, FeedbackError> {
        let request = vol::GetPledgeRequest {
            member_id: member_id.to_owned(),
            year,
        };
        let pledge = match self.volunteering.clone().get_pledge(request).await {
            Ok(r) => r.into_inner().pledge,
            Err(s) if s.code() == tonic::Code::NotFound => None,
            Err(s) => return Err(failed("volunteering", s)),
        };
        Ok(match pledge {
            None => PledgeState::Missing,
            Some(pl) => {
                let progress = pl.progress.unwrap_or_default();
                if progress.fulfilled {
                    PledgeState::Fulfilled
                } else {
                    PledgeState::Unmet {
                        services_done: i64::from(progress.services_done),
                        services_promised: i64::from(pl.services),
                    }
                }
            }
        })
    }

    pub async fn unit_records(&self, unit_org_id: &str, year: i32) -> Result<Vec<UnitRecordOf>, FeedbackError> {
        pages(
            "volunteering",
            |page_token| {
                let mut c = self.volunteering.clone();
                let request = vol::ListUnitRecordsRequest {
                    unit_org_id: unit_org_id.to_owned(),
                    year,
                    page_size: 500,
                    page_token,
                };
                async move { c.list_unit_records(request).await }
            },
            |r| {
                let records = r
                    .records
                    .into_iter()
                    .map(|r| UnitRecordOf {
                        served_on: r.served_on.as_ref().and_then(date_from_pb),
                        kind: match vol::UnitServiceKind::try_from(r.kind).unwrap_or(vol::UnitServiceKind::Unspecified)
                        {
                            vol::UnitServiceKind::Unspecified | vol::UnitServiceKind::CommunityActivity => {
                                UnitServiceKind::CommunityActivity
                            }
                            vol::UnitServiceKind::JointMeeting => UnitServiceKind::JointMeeting,
                            vol::UnitServiceKind::ThemePartyDay => UnitServiceKind::ThemePartyDay,
                        },
                    })
                    .collect();
                (records, r.next_page_token)
            },
        )
        .await
    }

    /// How many projects of the unit's co-building agreements (共建协议) for
    /// the year are completed.
    pub async fn completed_projects(&self, unit_org_id: &str, year: i32) -> Result<i64, FeedbackError> {
        let counts = pages(
            "volunteering",
            |page_token| {
                let mut c = self.volunteering.clone();
                let request = vol::ListAgreementsRequest {
                    unit_org_id: unit_org_id.to_owned(),
                    year,
                    page_size: 500,
                    page_token,
                    ..Default::default()
                };
                async move { c.list_agreements(request).await }
            },
            |r| {
                let completed = r
                    .agreements
                    .iter()
                    .map(|a| {
                        a.projects
                            .iter()
                            .filter(|pr| pr.status == vol::ProjectStatus::Completed as i32)
                            .count() as i64
                    })
                    .collect();
                (completed, r.next_page_token)
            },
        )
        .await?;
        Ok(counts.iter().sum())
    }
}
