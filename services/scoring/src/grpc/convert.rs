//! proto ↔ domain. Inputs that fail name their request field.

use dualreport_platform::error::{FieldError, invalid_fields};
use dualreport_platform::validate::known;
use dualreport_platform::wire::{date_from_pb, date_to_pb, opt_timestamp, timestamp};
use dualreport_proto::common::v1::Date as PbDate;
use dualreport_proto::scoring::v1 as pb;
use tonic::Status;

use crate::app::RegistrationTable;
use crate::domain::ledger::{Entry, EntryKind, ProjectScorer, Rules, SpecialCategory};
use crate::domain::market::{Item, Redemption, RedemptionStatus};
use crate::domain::period::{Half, Period};
use crate::domain::settlement::{Line, Settlement, SettlementStatus};
use crate::domain::{Date, Subject, SubjectKind};
use crate::storage::BoardRow;

pub fn bad(error: FieldError) -> Status {
    invalid_fields(&[error])
}

pub fn date(d: Option<&PbDate>) -> Option<Date> {
    d.and_then(date_from_pb)
}

pub fn period_from_pb(field: &str, p: Option<&pb::Period>) -> Result<Period, Status> {
    let p = p.ok_or_else(|| bad(FieldError::new(field, "is required")))?;
    let half = match known(&format!("{field}.half"), p.half).map_err(bad)? {
        pb::Half::First => Some(Half::First),
        pb::Half::Second => Some(Half::Second),
        pb::Half::Unspecified => None,
    };
    Period::new(field, p.year, half).map_err(bad)
}

/// An optional period: unset (or all zero) means "any".
pub fn opt_period_from_pb(field: &str, p: Option<&pb::Period>) -> Result<Option<Period>, Status> {
    match p {
        None => Ok(None),
        Some(p) if p.year == 0 && p.half == 0 => Ok(None),
        Some(p) => period_from_pb(field, Some(p)).map(Some),
    }
}

/// One (community, half-year, points earned, stars) line of a balance or totals.
pub fn period_points_to_pb((community_id, period, earned, stars): (String, Period, i64, i64)) -> pb::PeriodPoints {
    let clamp = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    pb::PeriodPoints {
        period: Some(period_to_pb(period)),
        community_id,
        earned: clamp(earned),
        stars: clamp(stars),
    }
}

pub fn period_to_pb(p: Period) -> pb::Period {
    pb::Period {
        year: p.year,
        half: match p.half {
            Half::First => pb::Half::First,
            Half::Second => pb::Half::Second,
        }
        .into(),
    }
}

pub fn subject_kind_from_pb(field: &str, kind: i32) -> Result<SubjectKind, Status> {
    match pb::SubjectKind::try_from(kind) {
        Ok(pb::SubjectKind::Member) => Ok(SubjectKind::Member),
        Ok(pb::SubjectKind::UnitOrg) => Ok(SubjectKind::UnitOrg),
        _ => Err(bad(FieldError::new(field, "must be MEMBER or UNIT_ORG"))),
    }
}

pub fn subject_from_pb(field: &str, s: Option<&pb::Subject>) -> Result<Subject, Status> {
    let s = s.ok_or_else(|| bad(FieldError::new(field, "is required")))?;
    Ok(Subject {
        kind: subject_kind_from_pb(&format!("{field}.kind"), s.kind)?,
        id: crate::domain::id(&format!("{field}.id"), &s.id).map_err(bad)?,
    })
}

fn subject_kind_to_pb(kind: SubjectKind) -> pb::SubjectKind {
    match kind {
        SubjectKind::Member => pb::SubjectKind::Member,
        SubjectKind::UnitOrg => pb::SubjectKind::UnitOrg,
    }
}

pub fn subject_to_pb(s: &Subject) -> pb::Subject {
    pb::Subject {
        kind: subject_kind_to_pb(s.kind).into(),
        id: s.id.clone(),
    }
}

pub fn special_category_from_pb(value: i32) -> Result<SpecialCategory, Status> {
    match pb::SpecialCategory::try_from(value) {
        Ok(pb::SpecialCategory::LongTermHelp) => Ok(SpecialCategory::LongTermHelp),
        Ok(pb::SpecialCategory::UrgentTask) => Ok(SpecialCategory::UrgentTask),
        Ok(pb::SpecialCategory::Bravery) => Ok(SpecialCategory::Bravery),
        _ => Err(bad(FieldError::new(
            "category",
            "must be LONG_TERM_HELP, URGENT_TASK or BRAVERY",
        ))),
    }
}

pub fn project_scorer_from_pb(value: i32) -> Result<ProjectScorer, Status> {
    match pb::ProjectScorer::try_from(value) {
        Ok(pb::ProjectScorer::Community) => Ok(ProjectScorer::Community),
        Ok(pb::ProjectScorer::Beneficiaries) => Ok(ProjectScorer::Beneficiaries),
        _ => Err(bad(FieldError::new("scorer", "must be COMMUNITY or BENEFICIARIES"))),
    }
}

fn entry_kind_to_pb(kind: EntryKind) -> pb::EntryKind {
    match kind {
        EntryKind::Service => pb::EntryKind::Service,
        EntryKind::Special => pb::EntryKind::Special,
        EntryKind::Project => pb::EntryKind::Project,
        EntryKind::Correction => pb::EntryKind::Correction,
        EntryKind::Redemption => pb::EntryKind::Redemption,
        EntryKind::RedemptionReversal => pb::EntryKind::RedemptionReversal,
    }
}

pub fn points(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX })
}

pub fn entry_to_pb(e: Entry) -> pb::Entry {
    pb::Entry {
        subject: Some(subject_to_pb(&e.subject)),
        kind: entry_kind_to_pb(e.kind).into(),
        points: points(e.points),
        occurred_on: Some(date_to_pb(e.occurred_on)),
        period: Some(period_to_pb(e.period)),
        record_time: Some(timestamp(e.recorded_at)),
        base_points: points(e.base_points),
        adjustment: points(e.adjustment),
        special_category: match e.special_category {
            None => pb::SpecialCategory::Unspecified,
            Some(SpecialCategory::LongTermHelp) => pb::SpecialCategory::LongTermHelp,
            Some(SpecialCategory::UrgentTask) => pb::SpecialCategory::UrgentTask,
            Some(SpecialCategory::Bravery) => pb::SpecialCategory::Bravery,
        }
        .into(),
        project_scorer: match e.project_scorer {
            None => pb::ProjectScorer::Unspecified,
            Some(ProjectScorer::Community) => pb::ProjectScorer::Community,
            Some(ProjectScorer::Beneficiaries) => pb::ProjectScorer::Beneficiaries,
        }
        .into(),
        corrects_entry_id: e.corrects_entry_id.unwrap_or_default(),
        id: e.id,
        community_id: e.community_id,
        content: e.content,
        source_key: e.source_key,
        recorded_by: e.recorded_by,
        project_id: e.project_id,
        redemption_id: e.redemption_id,
    }
}

pub fn settlement_status_to_pb(status: SettlementStatus) -> pb::SettlementStatus {
    match status {
        SettlementStatus::Draft => pb::SettlementStatus::Draft,
        SettlementStatus::Reviewed => pb::SettlementStatus::Reviewed,
        SettlementStatus::Published => pb::SettlementStatus::Published,
    }
}

pub fn line_to_pb(l: Line) -> pb::SettlementLine {
    pb::SettlementLine {
        subject: Some(subject_to_pb(&l.subject)),
        subject_name: l.subject_name,
        points: points(l.points),
        stars: points(l.stars),
    }
}

pub fn settlement_to_pb(s: Settlement) -> pb::Settlement {
    pb::Settlement {
        id: s.id,
        community_id: s.community_id,
        period: Some(period_to_pb(s.period)),
        version: points(s.version),
        status: settlement_status_to_pb(s.status).into(),
        reason: s.reason,
        current: s.current,
        settled_by: s.settled_by,
        settle_time: Some(timestamp(s.settled_at)),
        assembly_date: s.assembly_date.map(date_to_pb),
        reviewed_by: s.reviewed_by,
        review_time: opt_timestamp(s.reviewed_at),
        published_by: s.published_by,
        publish_time: opt_timestamp(s.published_at),
        points_per_star: points(s.points_per_star),
        max_stars: points(s.max_stars),
        line_count: points(s.line_count),
    }
}

pub fn board_row_to_pb(r: BoardRow) -> pb::BoardRow {
    pb::BoardRow {
        rank: points(r.rank),
        line: Some(line_to_pb(r.line)),
        community_id: r.community_id,
        community_name: String::new(),
    }
}

pub fn item_to_pb(i: Item) -> pb::Item {
    pb::Item {
        id: i.id,
        community_id: i.community_id,
        name: i.name,
        description: i.description,
        price_points: points(i.price_points),
        stock: points(i.stock),
        active: i.active,
        update_time: Some(timestamp(i.updated_at)),
        create_time: Some(timestamp(i.created_at)),
        etag: dualreport_platform::etag::of(i.updated_at),
    }
}

pub fn redemption_to_pb(r: Redemption) -> pb::Redemption {
    pb::Redemption {
        id: r.id,
        member_id: r.member_id,
        community_id: r.community_id,
        item_id: r.item_id,
        item_name: r.item_name,
        quantity: points(r.quantity),
        points: points(r.points),
        status: match r.status {
            RedemptionStatus::Completed => pb::RedemptionStatus::Completed,
            RedemptionStatus::Cancelled => pb::RedemptionStatus::Cancelled,
        }
        .into(),
        entry_id: r.entry_id,
        reversal_entry_id: r.reversal_entry_id.unwrap_or_default(),
        create_time: Some(timestamp(r.created_at)),
        cancel_time: opt_timestamp(r.cancelled_at),
        cancel_reason: r.cancel_reason,
    }
}

pub fn registration_table_to_pb(t: RegistrationTable) -> pb::RegistrationTable {
    pb::RegistrationTable {
        member_id: t.member.id,
        member_name: t.member.name,
        community_id: t.community_id,
        period: Some(period_to_pb(t.period)),
        rows: t
            .rows
            .into_iter()
            .enumerate()
            .map(|(i, e)| pb::RegistrationRow {
                number: i32::try_from(i + 1).unwrap_or(i32::MAX),
                served_on: Some(date_to_pb(e.occurred_on)),
                content: e.content,
                points: points(e.points),
                kind: entry_kind_to_pb(e.kind).into(),
                entry_id: e.id,
            })
            .collect(),
        total_points: points(t.total_points),
        stars: points(t.stars),
        settlement_status: t
            .settlement_status
            .map_or(pb::SettlementStatus::Unspecified, settlement_status_to_pb)
            .into(),
    }
}

/// 附录D.1 as CSV: a title row, the member and half-year, then
/// 序号/服务时间/服务内容/积分 rows and the half-year total and stars.
pub fn registration_csv(t: &pb::RegistrationTable, period: Period) -> String {
    let mut out = String::new();
    let mut row = |cells: &[&str]| dualreport_platform::csv::line(cells.iter().copied(), &mut out);
    row(&["(半年度)在职党员志愿服务积分评星登记表"]);
    row(&[
        "姓名",
        &t.member_name,
        "社区",
        &t.community_id,
        "半年度",
        &period.chinese(),
    ]);
    row(&["序号", "服务时间", "服务内容", "积分"]);
    for r in &t.rows {
        let on = r
            .served_on
            .as_ref()
            .and_then(date_from_pb)
            .map(|d| d.to_string())
            .unwrap_or_default();
        row(&[&r.number.to_string(), &on, &r.content, &r.points.to_string()]);
    }
    row(&["半年积分情况", &t.total_points.to_string()]);
    row(&["半年评定星级情况", &t.stars.to_string()]);
    out
}

pub fn rules_to_pb(r: &Rules) -> pb::ScoringRules {
    pb::ScoringRules {
        preset: r.preset.to_owned(),
        base_points: points(r.base_points),
        max_adjustment: points(r.max_adjustment),
        project_points_cap: points(r.project_points_cap),
        points_per_star: points(r.points_per_star),
        max_stars: points(r.max_stars),
    }
}
