//! A municipal unit across districts: its summary table (and its file), its
//! report statistics and its lists, each a fan-out with the caller's token.

use dualreport_platform::validate::Violations;

use super::*;

/// The caller's bearer token, passed on to the districts (each checks the
/// caller's scope again: the city never widens it with its own role).
fn bearer<T>(request: &Request<T>) -> Result<String, Status> {
    request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or_else(|| Status::unauthenticated("a bearer token is required"))
}

/// A period of the summary: a year, or one half of it.
fn summary_period(
    value: Option<&dualreport_proto::common::v1::Period>,
) -> Result<dualreport_proto::common::v1::Period, Status> {
    let p = value.ok_or_else(|| err::invalid_field("period", "is required"))?;
    if !(2000..=9999).contains(&p.year) {
        return Err(err::invalid_field("period.year", "must be a year from 2000 to 9999"));
    }
    if Half::try_from(p.half).is_err() {
        return Err(err::invalid_field(
            "period.half",
            "must be HALF_UNSPECIFIED (the year), HALF_FIRST or HALF_SECOND",
        ));
    }
    Ok(*p)
}

/// The summary a request asks for, as the caller may see it.
async fn summary_of(
    city: &City,
    p: &dualreport_platform::auth::Principal,
    token: &str,
    r: &pb::GetMunicipalSummaryRequest,
) -> Result<crate::summary::MunicipalSummary, Status> {
    let unit = dualreport_platform::validate::id("unit_org_id", &r.unit_org_id).map_err(bad)?;
    let period = summary_period(r.period.as_ref())?;
    city.municipal_summary(p, token, &unit, period).await.map_err(to_status)
}

/// The bytes of one download message at most: well inside any client's default 4 MiB.
const DOWNLOAD_CHUNK_BYTES: usize = 256 * 1024;

pub(super) type DownloadStream = std::pin::Pin<
    Box<dyn tokio_stream::Stream<Item = Result<pb::DownloadMunicipalSummaryResponse, Status>> + Send + 'static>,
>;

pub(super) async fn download_municipal_summary(
    city: &City,
    request: Request<pb::DownloadMunicipalSummaryRequest>,
) -> R<DownloadStream> {
    let p = principal(&request)?;
    let token = bearer(&request)?;
    let r = request.into_inner();
    let format = match fpb::ExportFormat::try_from(r.format) {
        Ok(format) => format,
        Err(_) => {
            return Err(err::invalid_field(
                "format",
                format!("{} is not a value of this enum", r.format),
            ));
        }
    };
    let summary = summary_of(city, &p, &token, &r.summary.unwrap_or_default())
        .await
        .map_err(|s| err::nested("summary", s))?;
    let incomplete = !summary.complete();
    let table = crate::summary::table(&summary);
    let (bytes, extension, content_type) = match format {
        fpb::ExportFormat::Xlsx => (
            dualreport_tables::xlsx(&table).map_err(|e| err::internal(&e))?,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        fpb::ExportFormat::Csv | fpb::ExportFormat::Unspecified => {
            (dualreport_tables::csv(&table), "csv", "text/csv; charset=utf-8")
        }
    };
    let file_name = format!("{}-附录F-{}.{extension}", summary.unit.name, summary.period.year);
    let chunks: Vec<Result<pb::DownloadMunicipalSummaryResponse, Status>> = bytes
        .chunks(DOWNLOAD_CHUNK_BYTES)
        .enumerate()
        .map(|(i, chunk)| {
            Ok(pb::DownloadMunicipalSummaryResponse {
                file_name: if i == 0 { file_name.clone() } else { String::new() },
                content_type: if i == 0 { content_type.into() } else { String::new() },
                incomplete: i == 0 && incomplete,
                chunk: chunk.to_vec(),
            })
        })
        .collect();
    Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
}

pub(super) async fn get_municipal_summary(
    city: &City,
    request: Request<pb::GetMunicipalSummaryRequest>,
) -> R<pb::GetMunicipalSummaryResponse> {
    let p = principal(&request)?;
    let token = bearer(&request)?;
    let r = request.into_inner();
    let summary = summary_of(city, &p, &token, &r).await?;
    let complete = summary.complete();
    let missing_districts = summary.missing_districts();
    Ok(Response::new(pb::GetMunicipalSummaryResponse {
        unit_org_id: summary.unit.id.clone(),
        unit_name: summary.unit.name.clone(),
        period: Some(summary.period),
        rows: summary
            .rows
            .into_iter()
            .map(|(district, row)| pb::MunicipalSummaryRow {
                district,
                row: Some(row),
            })
            .collect(),
        complete,
        missing_districts,
        districts: summary.parts.into_iter().map(part_to_pb).collect(),
        build_time: Some(timestamp(dualreport_policy::now_millis())),
    }))
}

/// The unit and year every municipal fan-out read takes.
fn unit_and_year(unit_org_id: &str, year: i32) -> Result<(String, i32), Status> {
    let mut v = Violations::default();
    let unit = v.check(dualreport_platform::validate::id("unit_org_id", unit_org_id));
    if !(2000..=9999).contains(&year) {
        v.add("year", "must be a year from 2000 to 9999");
    }
    if !v.is_empty() {
        return Err(err::invalid_fields(&v.0));
    }
    Ok((unit.unwrap_or_default(), year))
}

fn part_to_pb(part: crate::summary::Part) -> pb::DistrictPart {
    pb::DistrictPart {
        district: part.district,
        answered: part.answered,
        complete: part.complete,
        missing_sources: part.missing_sources,
        error: part.error,
        rows: i32::try_from(part.rows).unwrap_or(i32::MAX),
    }
}

pub(super) async fn get_municipal_report_statistics(
    city: &City,
    request: Request<pb::GetMunicipalReportStatisticsRequest>,
) -> R<pb::GetMunicipalReportStatisticsResponse> {
    let p = principal(&request)?;
    let token = bearer(&request)?;
    let r = request.into_inner();
    let (unit, year) = unit_and_year(&r.unit_org_id, r.year)?;
    let s = city
        .municipal_statistics(&p, &token, &unit, year)
        .await
        .map_err(to_status)?;
    let missing_districts: Vec<String> = s
        .parts
        .iter()
        .filter(|part| !part.answered)
        .map(|part| part.district.clone())
        .collect();
    Ok(Response::new(pb::GetMunicipalReportStatisticsResponse {
        unit_org_id: s.unit.id,
        unit_name: s.unit.name,
        year: s.year,
        registered_members: s.lines.iter().map(|(_, l)| l.registered_members).sum(),
        reported_members: s.lines.iter().map(|(_, l)| l.reported_members).sum(),
        lines: s
            .lines
            .into_iter()
            .map(|(district, line)| pb::MunicipalUnitLine {
                district,
                line: Some(line),
            })
            .collect(),
        complete: missing_districts.is_empty(),
        missing_districts,
        districts: s.parts.into_iter().map(part_to_pb).collect(),
    }))
}

/// A paged municipal list's request: (unit, year, page).
fn municipal_page(
    unit_org_id: &str,
    year: i32,
    page_size: i32,
    page_token: &str,
) -> Result<(String, i32, dualreport_platform::paging::PageRequest), Status> {
    let (unit, year) = unit_and_year(unit_org_id, year)?;
    Ok((unit, year, page(page_size, page_token)?))
}

pub(super) async fn list_municipal_not_reported_members(
    city: &City,
    request: Request<pb::ListMunicipalNotReportedMembersRequest>,
) -> R<pb::ListMunicipalNotReportedMembersResponse> {
    let p = principal(&request)?;
    let token = bearer(&request)?;
    let r = request.into_inner();
    let (unit, year, page) = municipal_page(&r.unit_org_id, r.year, r.page_size, &r.page_token)?;
    let w = city
        .municipal_list(&p, &unit, "members not reported", &page, |d, page| {
            d.not_reported(&token, &unit, year, page)
        })
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListMunicipalNotReportedMembersResponse {
        members: w
            .items
            .into_iter()
            .map(|(district, member)| pb::MunicipalNotReportedMember {
                district,
                member: Some(member),
            })
            .collect(),
        next_page_token: w.next_page_token,
        missing_districts: w.missing_districts,
    }))
}

pub(super) async fn list_municipal_unit_ratings(
    city: &City,
    request: Request<pb::ListMunicipalUnitRatingsRequest>,
) -> R<pb::ListMunicipalUnitRatingsResponse> {
    let p = principal(&request)?;
    let token = bearer(&request)?;
    let r = request.into_inner();
    let (unit, year, page) = municipal_page(&r.unit_org_id, r.year, r.page_size, &r.page_token)?;
    let w = city
        .municipal_list(&p, &unit, "ratings", &page, |d, page| {
            d.unit_ratings(&token, &unit, year, page)
        })
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListMunicipalUnitRatingsResponse {
        ratings: w
            .items
            .into_iter()
            .map(|(district, rating)| pb::MunicipalUnitRating {
                district,
                rating: Some(rating),
            })
            .collect(),
        next_page_token: w.next_page_token,
        missing_districts: w.missing_districts,
    }))
}

pub(super) async fn list_municipal_warnings(
    city: &City,
    request: Request<pb::ListMunicipalWarningsRequest>,
) -> R<pb::ListMunicipalWarningsResponse> {
    let p = principal(&request)?;
    let token = bearer(&request)?;
    let r = request.into_inner();
    let (unit, year, page) = municipal_page(&r.unit_org_id, r.year, r.page_size, &r.page_token)?;
    let w = city
        .municipal_list(&p, &unit, "warnings", &page, |d, page| {
            d.warnings(&token, &unit, year, page)
        })
        .await
        .map_err(to_status)?;
    Ok(Response::new(pb::ListMunicipalWarningsResponse {
        warnings: w
            .items
            .into_iter()
            .map(|(district, warning)| pb::MunicipalWarning {
                district,
                warning: Some(warning),
            })
            .collect(),
        next_page_token: w.next_page_token,
        missing_districts: w.missing_districts,
    }))
}
