//! Domain ↔ proto conversions; enums from the wire name the field when unknown.

use dualreport_platform::error::FieldError;
use dualreport_platform::validate::known;
use dualreport_platform::wire::{date_to_pb, opt_timestamp, timestamp};
use dualreport_proto::volunteering::v1 as pb;

use crate::domain::model::*;

pub fn post_to_pb(p: Post) -> pb::Post {
    pb::Post {
        id: p.id,
        community_id: p.community_id,
        name: p.name,
        description: p.description,
        standard: p.standard,
        create_time: Some(timestamp(p.created_at)),
    }
}

pub fn claim_to_pb(c: Claim) -> pb::Claim {
    pb::Claim {
        id: c.id,
        member_id: c.member_id,
        post_id: c.post_id,
        post_name: c.post_name,
        community_id: c.community_id,
        year: c.year,
        create_time: Some(timestamp(c.created_at)),
    }
}

pub fn team_kind_from_pb(value: i32) -> Result<TeamKind, FieldError> {
    match pb::TeamKind::try_from(value) {
        Ok(pb::TeamKind::Organised) => Ok(TeamKind::Organised),
        Ok(pb::TeamKind::Professional) => Ok(TeamKind::Professional),
        Ok(pb::TeamKind::Interest) => Ok(TeamKind::Interest),
        _ => Err(FieldError::new("kind", "must be ORGANISED, PROFESSIONAL or INTEREST")),
    }
}

fn team_kind_to_pb(kind: TeamKind) -> pb::TeamKind {
    match kind {
        TeamKind::Organised => pb::TeamKind::Organised,
        TeamKind::Professional => pb::TeamKind::Professional,
        TeamKind::Interest => pb::TeamKind::Interest,
    }
}

pub fn team_to_pb(t: Team) -> pb::Team {
    pb::Team {
        id: t.id,
        community_id: t.community_id,
        name: t.name,
        kind: team_kind_to_pb(t.kind).into(),
        post_id: t.post_id,
        member_ids: t.member_ids,
        create_time: Some(timestamp(t.created_at)),
    }
}

pub fn studio_to_pb(s: Studio) -> pb::Studio {
    pb::Studio {
        id: s.id,
        community_id: s.community_id,
        member_id: s.member_id,
        name: s.name,
        services: s.services,
        opening_hours: s.opening_hours,
        create_time: Some(timestamp(s.created_at)),
    }
}

fn i32_of(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

pub fn pledge_to_pb(p: Pledge, progress: Progress) -> pb::Pledge {
    pb::Pledge {
        member_id: p.member_id,
        community_id: p.community_id,
        year: p.year,
        items: p.items,
        services: i32_of(p.services),
        hours: i32_of(p.hours),
        way: p.way,
        progress: Some(pb::PledgeProgress {
            services_done: i32_of(progress.services_done),
            minutes_done: i32_of(progress.minutes_done),
            hours_done: i32_of(progress.hours_done()),
            fulfilled: progress.fulfils(p.services, p.hours),
        }),
        update_time: Some(timestamp(p.updated_at)),
    }
}

pub fn project_status_from_pb(value: i32) -> Result<ProjectStatus, FieldError> {
    match pb::ProjectStatus::try_from(value) {
        Ok(pb::ProjectStatus::Planned) => Ok(ProjectStatus::Planned),
        Ok(pb::ProjectStatus::InProgress) => Ok(ProjectStatus::InProgress),
        Ok(pb::ProjectStatus::Completed) => Ok(ProjectStatus::Completed),
        Ok(pb::ProjectStatus::Cancelled) => Ok(ProjectStatus::Cancelled),
        _ => Err(FieldError::new(
            "status",
            "must be PLANNED, IN_PROGRESS, COMPLETED or CANCELLED",
        )),
    }
}

fn project_status_to_pb(status: ProjectStatus) -> pb::ProjectStatus {
    match status {
        ProjectStatus::Planned => pb::ProjectStatus::Planned,
        ProjectStatus::InProgress => pb::ProjectStatus::InProgress,
        ProjectStatus::Completed => pb::ProjectStatus::Completed,
        ProjectStatus::Cancelled => pb::ProjectStatus::Cancelled,
    }
}

pub fn agreement_to_pb(a: Agreement) -> pb::Agreement {
    pb::Agreement {
        id: a.id,
        unit_org_id: a.unit_org_id,
        community_id: a.community_id,
        year: a.year,
        resources: a.resources,
        needs: a.needs,
        projects: a
            .projects
            .into_iter()
            .map(|p| pb::Project {
                id: p.id,
                name: p.name,
                goal: p.goal,
                expected_effect: p.expected_effect,
                deadline: p.deadline.map(date_to_pb),
                status: project_status_to_pb(p.status).into(),
            })
            .collect(),
        pledge: Some(pb::UnitPledge {
            services: i32_of(a.pledge_services),
            hours: i32_of(a.pledge_hours),
            form: a.pledge_form,
        }),
        services_done: i32_of(a.progress.services_done),
        minutes_done: i32_of(a.progress.minutes_done),
        create_time: Some(timestamp(a.created_at)),
    }
}

/// `None` for UNSPECIFIED (every status).
pub fn order_status_from_pb(value: i32) -> Result<Option<OrderStatus>, FieldError> {
    match pb::OrderStatus::try_from(value) {
        Ok(pb::OrderStatus::Unspecified) => Ok(None),
        Ok(pb::OrderStatus::Open) => Ok(Some(OrderStatus::Open)),
        Ok(pb::OrderStatus::Dispatched) => Ok(Some(OrderStatus::Dispatched)),
        Ok(pb::OrderStatus::Accepted) => Ok(Some(OrderStatus::Accepted)),
        Ok(pb::OrderStatus::Completed) => Ok(Some(OrderStatus::Completed)),
        Ok(pb::OrderStatus::Rated) => Ok(Some(OrderStatus::Rated)),
        Err(_) => Err(FieldError::new("status", "is not a known order status")),
    }
}

fn order_status_to_pb(status: OrderStatus) -> pb::OrderStatus {
    match status {
        OrderStatus::Open => pb::OrderStatus::Open,
        OrderStatus::Dispatched => pb::OrderStatus::Dispatched,
        OrderStatus::Accepted => pb::OrderStatus::Accepted,
        OrderStatus::Completed => pb::OrderStatus::Completed,
        OrderStatus::Rated => pb::OrderStatus::Rated,
    }
}

pub fn order_to_pb(o: Order) -> pb::Order {
    pb::Order {
        id: o.id,
        community_id: o.community_id,
        resident_name: o.resident_name,
        place: o.place,
        content: o.content,
        post_id: o.post_id,
        status: order_status_to_pb(o.status).into(),
        dispatch_note: o.dispatch_note,
        member_id: o.member_id,
        attendance_id: o.attendance_id,
        evidence_ids: o.evidence_ids,
        satisfaction: i32_of(o.satisfaction),
        resident_comment: o.resident_comment,
        create_time: Some(timestamp(o.created_at)),
        update_time: Some(timestamp(o.updated_at)),
    }
}

pub fn wish_status_from_pb(value: i32) -> Result<Option<WishStatus>, FieldError> {
    match pb::WishStatus::try_from(value) {
        Ok(pb::WishStatus::Unspecified) => Ok(None),
        Ok(pb::WishStatus::Open) => Ok(Some(WishStatus::Open)),
        Ok(pb::WishStatus::Claimed) => Ok(Some(WishStatus::Claimed)),
        Ok(pb::WishStatus::Fulfilled) => Ok(Some(WishStatus::Fulfilled)),
        Err(_) => Err(FieldError::new("status", "is not a known wish status")),
    }
}

fn wish_status_to_pb(status: WishStatus) -> pb::WishStatus {
    match status {
        WishStatus::Open => pb::WishStatus::Open,
        WishStatus::Claimed => pb::WishStatus::Claimed,
        WishStatus::Fulfilled => pb::WishStatus::Fulfilled,
    }
}

pub fn wish_to_pb(w: Wish) -> pb::Wish {
    pb::Wish {
        id: w.id,
        community_id: w.community_id,
        beneficiary: w.beneficiary,
        content: w.content,
        status: wish_status_to_pb(w.status).into(),
        member_id: w.member_id,
        unit_org_id: w.unit_org_id,
        evidence_ids: w.evidence_ids,
        attendance_id: w.attendance_id,
        unit_record_id: w.unit_record_id,
        create_time: Some(timestamp(w.created_at)),
        update_time: Some(timestamp(w.updated_at)),
    }
}

pub fn household_to_pb(h: Household) -> pb::Household {
    pb::Household {
        id: h.id,
        member_id: h.member_id,
        community_id: h.community_id,
        label: h.label,
        visits: i32_of(h.visits),
        last_visit_time: opt_timestamp(h.last_visit_at),
    }
}

/// `None` for UNSPECIFIED (every kind, in lists).
pub fn activity_kind_from_pb(value: i32) -> Result<Option<ActivityKind>, FieldError> {
    use pb::ActivityKind as K;
    Ok(Some(match K::try_from(value) {
        Ok(K::Unspecified) => return Ok(None),
        Ok(K::Regular) => ActivityKind::Regular,
        Ok(K::Festival) => ActivityKind::Festival,
        Ok(K::ThemePartyDay) => ActivityKind::ThemePartyDay,
        Ok(K::TeamService) => ActivityKind::TeamService,
        Ok(K::StudioHours) => ActivityKind::StudioHours,
        Ok(K::Order) => ActivityKind::Order,
        Ok(K::Wish) => ActivityKind::Wish,
        Ok(K::HouseholdVisit) => ActivityKind::HouseholdVisit,
        Ok(K::ProjectWork) => ActivityKind::ProjectWork,
        Err(_) => return Err(FieldError::new("kind", "is not a known activity kind")),
    }))
}

fn activity_kind_to_pb(kind: ActivityKind) -> pb::ActivityKind {
    use pb::ActivityKind as K;
    match kind {
        ActivityKind::Regular => K::Regular,
        ActivityKind::Festival => K::Festival,
        ActivityKind::ThemePartyDay => K::ThemePartyDay,
        ActivityKind::TeamService => K::TeamService,
        ActivityKind::StudioHours => K::StudioHours,
        ActivityKind::Order => K::Order,
        ActivityKind::Wish => K::Wish,
        ActivityKind::HouseholdVisit => K::HouseholdVisit,
        ActivityKind::ProjectWork => K::ProjectWork,
    }
}

pub fn activity_to_pb(a: Activity) -> pb::Activity {
    pb::Activity {
        id: a.id,
        community_id: a.community_id,
        kind: activity_kind_to_pb(a.kind).into(),
        title: a.title,
        content: a.content,
        post_id: a.post_id,
        place: a.place,
        start_time: Some(timestamp(a.start_at)),
        end_time: Some(timestamp(a.end_at)),
        capacity: i32_of(a.capacity),
        signed_up: i32_of(a.signed_up),
        organiser: a.organiser,
        contact: a.contact,
        team_id: a.team_id,
        studio_id: a.studio_id,
        agreement_id: a.agreement_id,
        create_time: Some(timestamp(a.created_at)),
    }
}

pub fn attendance_to_pb(a: Attendance) -> pb::Attendance {
    let payment = match a.payment() {
        Payment::None => pb::PaymentStatus::None,
        Payment::Pending => pb::PaymentStatus::Pending,
        Payment::Paid => pb::PaymentStatus::Paid,
    };
    let status = match a.status {
        AttendanceStatus::SignedUp => pb::AttendanceStatus::SignedUp,
        AttendanceStatus::CheckedIn => pb::AttendanceStatus::CheckedIn,
        AttendanceStatus::Confirmed => pb::AttendanceStatus::Confirmed,
    };
    pb::Attendance {
        id: a.id,
        activity_id: a.activity_id,
        member_id: a.member_id,
        community_id: a.community_id,
        status: status.into(),
        minutes: i32_of(a.minutes),
        adjustment: i32_of(a.adjustment),
        note: a.note,
        evidence_ids: a.evidence_ids,
        confirmed_by: a.confirmed_by,
        check_in_time: opt_timestamp(a.check_in_at),
        confirm_time: opt_timestamp(a.confirmed_at),
        payment: payment.into(),
        entry_id: a.entry_id,
        payment_error: a.payment_error,
    }
}

pub fn evidence_kind_from_pb(value: i32) -> Result<EvidenceKind, FieldError> {
    match pb::EvidenceKind::try_from(value) {
        Ok(pb::EvidenceKind::Photo) => Ok(EvidenceKind::Photo),
        Ok(pb::EvidenceKind::Text) => Ok(EvidenceKind::Text),
        _ => Err(FieldError::new("kind", "must be PHOTO or TEXT")),
    }
}

pub fn evidence_to_pb(e: Evidence) -> pb::Evidence {
    pb::Evidence {
        id: e.id,
        community_id: e.community_id,
        kind: match e.kind {
            EvidenceKind::Photo => pb::EvidenceKind::Photo,
            EvidenceKind::Text => pb::EvidenceKind::Text,
        }
        .into(),
        content_type: e.content_type,
        size_bytes: e.size_bytes,
        sha256: e.sha256,
        text: e.text,
        uploaded_by: e.uploaded_by,
        create_time: Some(timestamp(e.created_at)),
    }
}

pub fn unit_service_kind_from_pb(value: i32) -> Result<UnitServiceKind, FieldError> {
    Ok(match known("kind", value)? {
        pb::UnitServiceKind::Unspecified | pb::UnitServiceKind::CommunityActivity => UnitServiceKind::CommunityActivity,
        pb::UnitServiceKind::ThemePartyDay => UnitServiceKind::ThemePartyDay,
        pb::UnitServiceKind::JointMeeting => UnitServiceKind::JointMeeting,
    })
}

pub fn unit_record_to_pb(r: UnitRecord) -> pb::UnitRecord {
    pb::UnitRecord {
        kind: match r.kind {
            UnitServiceKind::CommunityActivity => pb::UnitServiceKind::CommunityActivity,
            UnitServiceKind::ThemePartyDay => pb::UnitServiceKind::ThemePartyDay,
            UnitServiceKind::JointMeeting => pb::UnitServiceKind::JointMeeting,
        } as i32,
        id: r.id,
        unit_org_id: r.unit_org_id,
        community_id: r.community_id,
        served_on: Some(date_to_pb(r.served_on)),
        content: r.content,
        minutes: i32_of(r.minutes),
        agreement_id: r.agreement_id,
        evidence_ids: r.evidence_ids,
        recorded_by: r.recorded_by,
        create_time: Some(timestamp(r.created_at)),
    }
}
