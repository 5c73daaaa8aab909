//! The gRPC layer: proto → domain (failures name the field), call [`City`],
//! domain → proto. Prost types stop here.

pub mod access;
mod municipal;
mod reference;
mod statistics;
mod webhook;

use std::time::Duration;

use dualreport_platform::auth::principal;
use dualreport_platform::error::{self as err, FieldError};
use dualreport_platform::wire::{page, timestamp};
use dualreport_proto::city::v1 as pb;
use dualreport_proto::city::v1::city_service_server::CityService;
use dualreport_proto::common::v1::{ErrorReason, Half};
use dualreport_proto::feedback::v1 as fpb;
use dualreport_proto::scoring::v1 as spb;
use tonic::{Code, Request, Response, Status};

use crate::app::City;
use crate::domain::{
    BoardLine, CityError, CityRelocation, Cursor, Event, Period, RelocationStatus, SubjectKind, cursor, district_name,
    parse_cursor,
};

pub struct CityApi {
    city: City,
    watch_poll: Duration,
    /// The webhook's client (for replays) and whether `http://` URLs are allowed.
    webhook: (dualreport_webhook::Poster, bool),
}

impl CityApi {
    pub fn new(city: City, watch_poll: Duration, webhook: (dualreport_webhook::Poster, bool)) -> Self {
        Self {
            city,
            watch_poll,
            webhook,
        }
    }
}

/// Every domain error → status, exhaustively: a new variant is a compile error here.
fn to_status(error: CityError) -> Status {
    match error {
        CityError::Common(failure) => failure.into(),
        CityError::Unavailable(m) => err::status(Code::Unavailable, ErrorReason::UpstreamUnavailable, m),
    }
}

fn bad(e: FieldError) -> Status {
    err::invalid_fields(&[e])
}

type R<T> = Result<Response<T>, Status>;

fn period(field: &str, value: Option<&dualreport_proto::common::v1::Period>) -> Result<Period, FieldError> {
    let p = value.ok_or_else(|| FieldError::new(field, "is required"))?;
    if !(2000..=9999).contains(&p.year) {
        return Err(FieldError::new(
            format!("{field}.year"),
            "must be a year from 2000 to 9999",
        ));
    }
    match Half::try_from(p.half) {
        Ok(Half::First | Half::Second) => Ok(Period {
            year: p.year,
            half: p.half,
        }),
        _ => Err(FieldError::new(
            format!("{field}.half"),
            "must be HALF_FIRST or HALF_SECOND (a settlement is per half-year)",
        )),
    }
}

fn status_to_pb(c: Cursor) -> pb::DistrictStatus {
    let at = |ms: i64| (ms > 0).then(|| timestamp(ms));
    pb::DistrictStatus {
        district: c.district,
        journal: c.journal,
        after_sequence: c.after_sequence,
        as_of: at(c.newest_occur_ms),
        read_time: at(c.read_at_ms),
        up: c.up,
        error: c.error,
    }
}

fn event_to_pb(e: Event) -> pb::WatchEventsResponse {
    pb::WatchEventsResponse {
        event: Some(fpb::Event {
            cursor: cursor(e.sequence),
            kind: e.kind,
            source: e.source,
            occur_time: Some(timestamp(e.occur_time)),
            subject_id: e.subject_id,
            district_id: e.district_id,
            community_id: e.community_id,
            unit_org_id: e.unit_org_id,
            member_id: e.member_id,
            text: e.text,
            evidence_ids: e.evidence_ids,
        }),
        district: e.district,
    }
}

fn relocation_to_pb(r: CityRelocation, today: &str) -> pb::CityRelocation {
    let overdue = r.is_overdue(today);
    let status = match r.status {
        RelocationStatus::Declared => pb::CityRelocationStatus::Declared,
        RelocationStatus::Admitted => pb::CityRelocationStatus::Admitted,
        RelocationStatus::Reported => pb::CityRelocationStatus::Reported,
        RelocationStatus::Fulfilled => pb::CityRelocationStatus::Fulfilled,
        RelocationStatus::Failed => pb::CityRelocationStatus::Failed,
    };
    let due_on = chrono_date(&r.due_on);
    pb::CityRelocation {
        from_district: r.from_district,
        relocation_id: r.relocation_id,
        member_id: r.member_id,
        to_district: r.to_district,
        to_community_id: r.to_community_id,
        declare_time: Some(timestamp(r.declared_at)),
        due_on,
        status: status as i32,
        overdue,
        attempts: i32::try_from(r.attempts).unwrap_or(i32::MAX),
        last_error: r.last_error,
        update_time: Some(timestamp(r.updated_at)),
    }
}

/// A stored `YYYY-MM-DD` as a proto date (none when empty or malformed).
fn chrono_date(text: &str) -> Option<dualreport_proto::common::v1::Date> {
    let mut parts = text.splitn(3, '-').map(|p| p.parse::<i32>().ok());
    match (parts.next().flatten(), parts.next().flatten(), parts.next().flatten()) {
        (Some(year), Some(month), Some(day)) => Some(dualreport_proto::common::v1::Date { year, month, day }),
        _ => None,
    }
}

fn line_to_pb(l: BoardLine) -> pb::CityBoardLine {
    let kind = match l.subject_kind {
        SubjectKind::Member => spb::SubjectKind::Member,
        SubjectKind::UnitOrg => spb::SubjectKind::UnitOrg,
    };
    pb::CityBoardLine {
        district: l.district,
        community_id: l.community_id,
        settlement_id: l.settlement_id,
        version: l.version,
        subject: Some(spb::Subject {
            kind: kind as i32,
            id: l.subject_id,
        }),
        subject_name: l.subject_name,
        points: l.points,
        stars: l.stars,
    }
}

#[tonic::async_trait]
impl CityService for CityApi {
    async fn list_districts(&self, request: Request<pb::ListDistrictsRequest>) -> R<pb::ListDistrictsResponse> {
        let p = principal(&request)?;
        let districts = self.city.list_districts(&p).await.map_err(to_status)?;
        Ok(Response::new(pb::ListDistrictsResponse {
            districts: districts.into_iter().map(status_to_pb).collect(),
        }))
    }

    type WatchEventsStream = dualreport_platform::watch::Follow<pb::WatchEventsResponse>;

    async fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> R<Self::WatchEventsStream> {
        let p = principal(&request)?;
        let district = self.city.watch_scope(&p).await.map_err(to_status)?;
        let r = request.into_inner();
        let after = parse_cursor(&r.cursor).map_err(bad)?;
        let last = self.city.last_sequence().await.map_err(to_status)?;
        if after > last {
            return Err(err::invalid_field(
                "cursor",
                "is beyond the newest event; pass a cursor this feed returned",
            ));
        }
        let waiting = dualreport_platform::watch::Waiting {
            appended: self.city.appended.clone(),
            poll: self.watch_poll,
            backlog_only: r.backlog_only,
        };
        let city = self.city.clone();
        let stream = dualreport_platform::watch::follow(waiting, after, move |after, limit| {
            let city = city.clone();
            let district = district.clone();
            async move {
                let events = city
                    .events_after(after, limit, district.as_deref())
                    .await
                    .map_err(to_status)?;
                Ok(events.into_iter().map(|e| (e.sequence, event_to_pb(e))).collect())
            }
        });
        Ok(Response::new(stream))
    }

    async fn create_municipal_unit(
        &self,
        request: Request<pb::CreateMunicipalUnitRequest>,
    ) -> R<pb::CreateMunicipalUnitResponse> {
        reference::create_municipal_unit(&self.city, request).await
    }

    async fn update_municipal_unit(
        &self,
        request: Request<pb::UpdateMunicipalUnitRequest>,
    ) -> R<pb::UpdateMunicipalUnitResponse> {
        reference::update_municipal_unit(&self.city, request).await
    }

    async fn get_city_policy(&self, request: Request<pb::GetCityPolicyRequest>) -> R<pb::GetCityPolicyResponse> {
        let p = principal(&request)?;
        let lines = self.city.city_policy(&p).await.map_err(to_status)?;
        let consistent = lines.iter().all(crate::policy::DistrictPolicy::matches);
        Ok(Response::new(pb::GetCityPolicyResponse {
            policy: Some(dualreport_policy::wire::to_pb(&self.city.policy)),
            districts: lines
                .into_iter()
                .map(|line| pb::DistrictPolicy {
                    matches: line.matches(),
                    answered: line.policy.is_some(),
                    district: line.district,
                    error: line.error,
                    differences: line
                        .differences
                        .into_iter()
                        .map(|(key, city_value, district_value)| pb::PolicyDifference {
                            key,
                            city_value,
                            district_value,
                        })
                        .collect(),
                    policy: line.policy,
                })
                .collect(),
            consistent,
        }))
    }

    async fn list_municipal_units(
        &self,
        request: Request<pb::ListMunicipalUnitsRequest>,
    ) -> R<pb::ListMunicipalUnitsResponse> {
        reference::list_municipal_units(&self.city, request).await
    }

    async fn list_reference_changes(
        &self,
        request: Request<pb::ListReferenceChangesRequest>,
    ) -> R<pb::ListReferenceChangesResponse> {
        reference::list_reference_changes(&self.city, request).await
    }

    type DownloadMunicipalSummaryStream = municipal::DownloadStream;

    async fn download_municipal_summary(
        &self,
        request: Request<pb::DownloadMunicipalSummaryRequest>,
    ) -> R<Self::DownloadMunicipalSummaryStream> {
        municipal::download_municipal_summary(&self.city, request).await
    }

    async fn get_municipal_summary(
        &self,
        request: Request<pb::GetMunicipalSummaryRequest>,
    ) -> R<pb::GetMunicipalSummaryResponse> {
        municipal::get_municipal_summary(&self.city, request).await
    }

    async fn get_municipal_report_statistics(
        &self,
        request: Request<pb::GetMunicipalReportStatisticsRequest>,
    ) -> R<pb::GetMunicipalReportStatisticsResponse> {
        municipal::get_municipal_report_statistics(&self.city, request).await
    }

    async fn list_municipal_not_reported_members(
        &self,
        request: Request<pb::ListMunicipalNotReportedMembersRequest>,
    ) -> R<pb::ListMunicipalNotReportedMembersResponse> {
        municipal::list_municipal_not_reported_members(&self.city, request).await
    }

    async fn list_municipal_unit_ratings(
        &self,
        request: Request<pb::ListMunicipalUnitRatingsRequest>,
    ) -> R<pb::ListMunicipalUnitRatingsResponse> {
        municipal::list_municipal_unit_ratings(&self.city, request).await
    }

    async fn list_municipal_warnings(
        &self,
        request: Request<pb::ListMunicipalWarningsRequest>,
    ) -> R<pb::ListMunicipalWarningsResponse> {
        municipal::list_municipal_warnings(&self.city, request).await
    }

    async fn set_webhook(&self, request: Request<pb::SetWebhookRequest>) -> R<pb::SetWebhookResponse> {
        webhook::set_webhook(self, request).await
    }

    async fn get_webhook(&self, request: Request<pb::GetWebhookRequest>) -> R<pb::GetWebhookResponse> {
        webhook::get_webhook(self, request).await
    }

    async fn list_failed_deliveries(
        &self,
        request: Request<pb::ListFailedDeliveriesRequest>,
    ) -> R<pb::ListFailedDeliveriesResponse> {
        webhook::list_failed_deliveries(self, request).await
    }

    async fn replay_delivery(&self, request: Request<pb::ReplayDeliveryRequest>) -> R<pb::ReplayDeliveryResponse> {
        webhook::replay_delivery(self, request).await
    }

    async fn list_city_relocations(
        &self,
        request: Request<pb::ListCityRelocationsRequest>,
    ) -> R<pb::ListCityRelocationsResponse> {
        let p = principal(&request)?;
        let r = request.into_inner();
        let status = match pb::CityRelocationStatus::try_from(r.status) {
            Ok(pb::CityRelocationStatus::Unspecified) => None,
            Ok(pb::CityRelocationStatus::Declared) => Some(RelocationStatus::Declared),
            Ok(pb::CityRelocationStatus::Admitted) => Some(RelocationStatus::Admitted),
            Ok(pb::CityRelocationStatus::Reported) => Some(RelocationStatus::Reported),
            Ok(pb::CityRelocationStatus::Fulfilled) => Some(RelocationStatus::Fulfilled),
            Ok(pb::CityRelocationStatus::Failed) => Some(RelocationStatus::Failed),
            Err(_) => {
                return Err(err::invalid_field(
                    "status",
                    format!("{} is not a value of this enum", r.status),
                ));
            }
        };
        let page = page(r.page_size, &r.page_token)?;
        let today = dualreport_policy::china_today().to_string();
        let (rows, next) = self
            .city
            .list_relocations(&p, status, r.overdue_only.then_some(today.as_str()), &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListCityRelocationsResponse {
            relocations: rows.into_iter().map(|r| relocation_to_pb(r, &today)).collect(),
            next_page_token: next,
        }))
    }

    async fn get_city_statistics(
        &self,
        request: Request<pb::GetCityStatisticsRequest>,
    ) -> R<pb::GetCityStatisticsResponse> {
        statistics::get_city_statistics(&self.city, request).await
    }

    async fn list_municipal_unit_statistics(
        &self,
        request: Request<pb::ListMunicipalUnitStatisticsRequest>,
    ) -> R<pb::ListMunicipalUnitStatisticsResponse> {
        statistics::list_municipal_unit_statistics(&self.city, request).await
    }

    async fn list_city_board(&self, request: Request<pb::ListCityBoardRequest>) -> R<pb::ListCityBoardResponse> {
        principal(&request)?;
        let r = request.into_inner();
        let period = period("period", r.period.as_ref()).map_err(bad)?;
        let district = if r.district.is_empty() {
            None
        } else {
            Some(district_name("district", &r.district).map_err(bad)?)
        };
        let page = page(r.page_size, &r.page_token)?;
        let (lines, next) = self
            .city
            .board(period, district.as_deref(), &page)
            .await
            .map_err(to_status)?;
        Ok(Response::new(pb::ListCityBoardResponse {
            lines: lines.into_iter().map(line_to_pb).collect(),
            next_page_token: next,
        }))
    }
}
