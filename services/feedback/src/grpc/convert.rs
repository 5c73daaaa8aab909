//! Domain → proto.

use dualreport_platform::wire::{opt_timestamp, timestamp};
use dualreport_proto::feedback::v1 as pb;

use crate::domain::model::*;
use crate::domain::warnings::Rule;
use crate::domain::{Period, cursor};
use crate::storage::StoredWarning;

pub fn period_to_pb(p: Period) -> pb::Period {
    pb::Period {
        year: p.year,
        half: p.half,
    }
}

pub fn summary_to_pb(t: SummaryTable) -> pb::SummaryTable {
    pb::SummaryTable {
        complete: t.complete(),
        unit_org_id: t.unit_org_id,
        unit_name: t.unit_name,
        community_id: t.community_id,
        period: Some(period_to_pb(t.period)),
        rows: t
            .rows
            .into_iter()
            .map(|r| pb::SummaryRow {
                number: r.number,
                member_id: r.member_id,
                name: r.name,
                reported: r.reported,
                reported_community_id: r.reported_community_id,
                points: i32::try_from(r.points).unwrap_or(i32::MAX),
                stars: i32::try_from(r.stars).unwrap_or(i32::MAX),
                comment: r.comment,
                incomplete: !r.missing.is_empty(),
                missing: r.missing,
            })
            .collect(),
        missing_sources: t.missing_sources,
        build_time: Some(timestamp(t.built_at)),
    }
}

pub fn comment_to_pb(c: MemberComment) -> pb::MemberComment {
    pb::MemberComment {
        community_id: c.community_id,
        member_id: c.member_id,
        period: Some(period_to_pb(c.period)),
        comment: c.comment,
        author: c.author,
        update_time: Some(timestamp(c.updated_at)),
    }
}

pub fn notice_to_pb(n: Notice) -> pb::Notice {
    pb::Notice {
        id: n.id,
        community_id: n.community_id,
        unit_org_id: n.unit_org_id,
        district_id: n.district_id,
        period: Some(period_to_pb(n.period)),
        title: n.title,
        body: n.body,
        urgent: n.urgent,
        summary: n.summary.map(summary_to_pb),
        status: match n.status {
            NoticeStatus::Sent => pb::NoticeStatus::Sent,
            NoticeStatus::Acknowledged => pb::NoticeStatus::Acknowledged,
        } as i32,
        sent_by: n.sent_by,
        send_time: Some(timestamp(n.sent_at)),
        acknowledged_by: n.acknowledged_by,
        acknowledge_time: opt_timestamp(n.acknowledged_at),
    }
}

pub fn grade_from_pb(value: i32) -> Option<Grade> {
    match pb::UnitGrade::try_from(value).ok()? {
        pb::UnitGrade::Excellent => Some(Grade::Excellent),
        pb::UnitGrade::Good => Some(Grade::Good),
        pb::UnitGrade::Fair => Some(Grade::Fair),
        pb::UnitGrade::Poor => Some(Grade::Poor),
        pb::UnitGrade::Unspecified => None,
    }
}

pub fn rating_to_pb(r: UnitRating) -> pb::UnitRating {
    pb::UnitRating {
        community_id: r.community_id,
        unit_org_id: r.unit_org_id,
        year: r.year,
        grade: match r.grade {
            Grade::Excellent => pb::UnitGrade::Excellent,
            Grade::Good => pb::UnitGrade::Good,
            Grade::Fair => pb::UnitGrade::Fair,
            Grade::Poor => pb::UnitGrade::Poor,
        } as i32,
        comment: r.comment,
        rated_by: r.rated_by,
        update_time: Some(timestamp(r.updated_at)),
    }
}

pub fn card_to_pb(c: Card) -> pb::PerformanceCard {
    pb::PerformanceCard {
        services: i32::try_from(c.entries.len()).unwrap_or(i32::MAX),
        minutes: i32::try_from(c.entries.iter().map(|e| e.minutes).sum::<i64>()).unwrap_or(i32::MAX),
        member_id: c.member_id,
        name: c.name,
        year: c.year,
        lines: c
            .lines
            .into_iter()
            .map(|l| pb::CardLine {
                activity_kind: l.activity_kind,
                way: l.way,
                services: i32::try_from(l.services).unwrap_or(i32::MAX),
                minutes: i32::try_from(l.minutes).unwrap_or(i32::MAX),
            })
            .collect(),
        entries: c
            .entries
            .into_iter()
            .map(|e| pb::CardEntry {
                attendance_id: e.attendance_id,
                activity_id: e.activity_id,
                title: e.title,
                activity_kind: e.activity_kind,
                community_id: e.community_id,
                minutes: i32::try_from(e.minutes).unwrap_or(i32::MAX),
                confirm_time: opt_timestamp(e.confirmed_at),
            })
            .collect(),
    }
}

pub fn objection_to_pb(o: Objection) -> pb::Objection {
    pb::Objection {
        id: o.id,
        raised_by: o.raised_by,
        subject_kind: o.subject_kind,
        subject_id: o.subject_id,
        entry_id: o.entry_id,
        community_id: o.community_id,
        district_id: o.district_id,
        content: o.content,
        department: o.department,
        status: match o.status {
            ObjectionStatus::Open => pb::ObjectionStatus::Open,
            ObjectionStatus::Assigned => pb::ObjectionStatus::Assigned,
            ObjectionStatus::Upheld => pb::ObjectionStatus::Upheld,
            ObjectionStatus::Rejected => pb::ObjectionStatus::Rejected,
        } as i32,
        result: o.result,
        correction_points: i32::try_from(o.correction_points).unwrap_or(0),
        correction_entry_id: o.correction_entry_id,
        correction_error: o.correction_error,
        history: o
            .history
            .into_iter()
            .map(|s| pb::ObjectionStep {
                action: s.action,
                actor: s.actor,
                text: s.text,
                evidence_ids: s.evidence_ids,
                time: Some(timestamp(s.at)),
            })
            .collect(),
        raise_time: Some(timestamp(o.raised_at)),
        decide_time: opt_timestamp(o.decided_at),
    }
}

pub fn method_from_pb(value: i32) -> Option<Method> {
    match pb::CheckMethod::try_from(value).ok()? {
        pb::CheckMethod::Visited => Some(Method::Visited),
        pb::CheckMethod::Phoned => Some(Method::Phoned),
        pb::CheckMethod::Unspecified => None,
    }
}

pub fn spot_check_to_pb(s: SpotCheck) -> pb::SpotCheck {
    pb::SpotCheck {
        id: s.id,
        unit_org_id: s.unit_org_id,
        year: s.year,
        sample_percent: i32::try_from(s.sample_percent).unwrap_or(0),
        seed: s.seed,
        population: i32::try_from(s.population).unwrap_or(i32::MAX),
        items: s
            .items
            .into_iter()
            .map(|i| pb::SpotCheckItem {
                member_id: i.member_id,
                community_id: i.community_id,
                method: match i.method {
                    Method::Pending => pb::CheckMethod::Unspecified,
                    Method::Visited => pb::CheckMethod::Visited,
                    Method::Phoned => pb::CheckMethod::Phoned,
                } as i32,
                findings: i.findings,
                checked_by: i.checked_by,
                check_time: opt_timestamp(i.checked_at),
            })
            .collect(),
        drawn_by: s.drawn_by,
        draw_time: Some(timestamp(s.drawn_at)),
    }
}

pub fn rule_to_pb(rule: Rule) -> pb::WarningRule {
    match rule {
        Rule::NotReported => pb::WarningRule::NotReported,
        Rule::RelocationNotReported => pb::WarningRule::RelocationNotReported,
        Rule::BelowServiceMinimum => pb::WarningRule::BelowServiceMinimum,
        Rule::BelowActivityMinimum => pb::WarningRule::BelowActivityMinimum,
        Rule::PledgeUnmet => pb::WarningRule::PledgeUnmet,
        Rule::UnitMonthlyActivities => pb::WarningRule::UnitMonthlyActivities,
        Rule::UnitQuarterlyMeetings => pb::WarningRule::UnitQuarterlyMeetings,
        Rule::UnitThemeDays => pb::WarningRule::UnitThemeDays,
        Rule::UnitProjects => pb::WarningRule::UnitProjects,
    }
}

pub fn warning_to_pb(w: StoredWarning) -> pb::Warning {
    let f = w.finding;
    pb::Warning {
        id: w.id,
        rule: rule_to_pb(f.rule) as i32,
        subject_kind: f.subject_kind.to_owned(),
        subject_id: f.subject_id,
        subject_name: f.subject_name,
        year: w.year,
        evidence: f.evidence,
        community_id: f.community_id,
        unit_org_id: f.unit_org_id,
        blocks_excellent: f.blocks_excellent,
        raise_time: Some(timestamp(w.raised_at)),
        withdraw_time: w.withdrawn.as_ref().map(|(at, _)| timestamp(*at)),
        withdraw_reason: w.withdrawn.map(|(_, why)| why).unwrap_or_default(),
    }
}

pub fn event_to_pb(e: Event) -> pb::Event {
    pb::Event {
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
    }
}

pub fn webhook_to_pb(hook: Option<Webhook>, failed: i64) -> pb::Webhook {
    dualreport_webhook::to_pb(hook, failed, cursor)
}

pub fn failed_to_pb(d: FailedDelivery) -> pb::FailedDelivery {
    pb::FailedDelivery {
        id: d.id,
        event: Some(event_to_pb(d.event)),
        attempts: i32::try_from(d.attempts).unwrap_or(i32::MAX),
        last_error: d.last_error,
        fail_time: Some(timestamp(d.failed_at)),
    }
}
