//! Attendance (签到/确认): sign-up, check-in with the activity's code, the community's
//! confirmation (the payment is queued in the same transaction) and the lists.

use super::*;
use crate::domain::attendance::{Confirmation, check_adjustment};

impl Volunteering {
    pub(super) async fn attendance(&self, id: &str) -> Result<Attendance> {
        db::get_attendance(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("attendance", id))
    }

    /// A member signs up for a scheduled activity at a community where they are registered.
    pub async fn sign_up(
        &self,
        p: &Principal,
        request_id: &str,
        activity_id: &str,
        member_id: &str,
    ) -> Result<Attendance> {
        Self::require_self(p, member_id)?;
        let activity = self.activity(activity_id).await?;
        if let Some(existing) = db::attendance_of(&mut *self.conn().await?, activity_id, member_id).await? {
            return Ok(existing);
        }
        if activity.kind.is_individual() {
            return Err(VolunteeringError::wrong_state(format!(
                "activity {activity_id} records one member's work; it takes no sign-ups"
            )));
        }
        if activity.finished(now_millis()) {
            return Err(VolunteeringError::ActivityFinished(format!(
                "activity {activity_id} has ended"
            )));
        }
        self.require_registered_on(member_id, &activity.community_id, china_date(activity.start_at))
            .await?;
        let mut tx = self.pool.begin().await?;
        let attendance = Self::seat(&mut tx, &activity, member_id, AttendanceStatus::SignedUp).await?;
        self.directory.audit(&mut tx, p, "SignUp", "attendance", &attendance.id, &attendance.community_id, None, Some(serde_json::json!({"member_id": attendance.member_id, "activity_id": attendance.activity_id, "status": "signed_up"})))
            .await?;
        idempotency::remember(&mut tx, p, request_id, "SignUp", &attendance.id).await?;
        tx.commit().await?;
        Ok(attendance)
    }

    /// Takes a place and writes the attendance; a concurrent sign-up of the
    /// same member loses on the unique key.
    pub(super) async fn seat(
        conn: &mut AnyConnection,
        activity: &Activity,
        member_id: &str,
        status: AttendanceStatus,
    ) -> Result<Attendance> {
        if !db::take_seat(conn, &activity.id).await? {
            return Err(VolunteeringError::CapacityFull(format!(
                "activity {} has all {} places taken",
                activity.id, activity.capacity
            )));
        }
        let now = now_millis();
        let attendance = Attendance {
            id: new_id(),
            activity_id: activity.id.clone(),
            member_id: member_id.to_owned(),
            community_id: activity.community_id.clone(),
            status,
            minutes: activity.minutes(),
            adjustment: 0,
            note: String::new(),
            evidence_ids: Vec::new(),
            confirmed_by: String::new(),
            check_in_at: (status == AttendanceStatus::CheckedIn).then_some(now),
            confirmed_at: None,
            served_on: china_date(activity.start_at),
            content: activity.title.clone(),
            entry_id: String::new(),
            payment_error: String::new(),
        };
        match db::insert_attendance(conn, &attendance).await {
            Err(e) if e.is_duplicate() => Err(VolunteeringError::conflict(format!(
                "member {member_id} signed up for activity {} concurrently; retry",
                activity.id
            ))),
            other => other.map(|()| attendance),
        }
    }

    /// Checks in with the code the organiser shows, from an hour before the
    /// start to the end. A member who did not sign up takes a free place.
    pub async fn check_in(&self, p: &Principal, activity_id: &str, member_id: &str, code: &str) -> Result<Attendance> {
        Self::require_self(p, member_id)?;
        let activity = self.activity(activity_id).await?;
        let now = now_millis();
        let mut conn = self.conn().await?;
        let existing = db::attendance_of(&mut conn, activity_id, member_id).await?;
        if let Some(a) = &existing
            && a.status != AttendanceStatus::SignedUp
        {
            return Ok(a.clone());
        }
        if activity.finished(now) {
            return Err(VolunteeringError::ActivityFinished(format!(
                "activity {activity_id} has ended"
            )));
        }
        if now < activity.start_at - 3_600_000 {
            return Err(VolunteeringError::wrong_state(format!(
                "check-in for activity {activity_id} opens an hour before it starts"
            )));
        }
        let (current, expires_at) = db::check_in_code(&mut conn, activity_id).await?;
        if current.is_empty() || !crate::domain::code_matches(code, &current) {
            return Err(VolunteeringError::invalid(
                "code",
                "does not match the code the organiser shows",
            ));
        }
        if now > expires_at {
            return Err(VolunteeringError::CodeExpired(
                "the check-in code expired; ask the organiser for a new one".into(),
            ));
        }
        drop(conn);
        match existing {
            Some(attendance) => {
                let mut tx = self.pool.begin().await?;
                db::check_in(&mut tx, &attendance.id, now).await?;
                let checked_in = db::get_attendance(&mut tx, &attendance.id)
                    .await?
                    .ok_or_else(|| VolunteeringError::not_found("attendance", &attendance.id))?;
                let (before, after) = (
                    serde_json::json!({ "status": "signed_up" }),
                    serde_json::json!({ "status": "checked_in", "member_id": member_id }),
                );
                self.directory
                    .audit(
                        &mut tx,
                        p,
                        "CheckIn",
                        "attendance",
                        &attendance.id,
                        &activity.community_id,
                        Some(before),
                        Some(after),
                    )
                    .await?;
                tx.commit().await?;
                Ok(checked_in)
            }
            None => {
                self.require_registered_on(member_id, &activity.community_id, china_date(activity.start_at))
                    .await?;
                let mut tx = self.pool.begin().await?;
                let attendance = Self::seat(&mut tx, &activity, member_id, AttendanceStatus::CheckedIn).await?;
                let after = serde_json::json!({ "status": "checked_in", "member_id": member_id });
                self.directory
                    .audit(
                        &mut tx,
                        p,
                        "CheckIn",
                        "attendance",
                        &attendance.id,
                        &activity.community_id,
                        None,
                        Some(after),
                    )
                    .await?;
                tx.commit().await?;
                Ok(attendance)
            }
        }
    }

    /// The community admin confirms a checked-in attendance with a quality
    /// adjustment; the attendance and its outbox row are written together.
    pub async fn confirm_attendance(
        &self,
        p: &Principal,
        request_id: &str,
        attendance_id: &str,
        adjustment: i64,
        note: String,
        evidence_ids: Vec<String>,
    ) -> Result<Attendance> {
        let adjustment = check_adjustment(adjustment, self.rules.max_adjustment)?;
        let mut conn = self.conn().await?;
        let mut attendance = db::get_attendance(&mut conn, attendance_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("attendance", attendance_id))?;
        drop(conn);
        self.require_community_admin(p, &attendance.community_id).await?;
        if idempotency::replayed_by_pooled(&self.pool, p, request_id, "ConfirmAttendance")
            .await?
            .is_some()
        {
            return self.attendance(attendance_id).await;
        }
        let activity = self.activity(&attendance.activity_id).await?;
        let now = now_millis();
        attendance.check_confirmable(&activity, now)?;
        let mut tx = self.pool.begin().await?;
        if idempotency::replayed_by(&mut tx, p, request_id, "ConfirmAttendance")
            .await?
            .is_some()
        {
            drop(tx);
            return self.attendance(attendance_id).await;
        }
        Self::check_evidence(&mut tx, "evidence_ids", &evidence_ids, &attendance.community_id).await?;
        attendance.confirm(
            &activity,
            &p.subject,
            now,
            Confirmation {
                adjustment,
                note,
                evidence_ids,
            },
        )?;
        if !db::confirm(&mut tx, &attendance).await? {
            return Err(VolunteeringError::wrong_state(format!(
                "attendance {attendance_id} was already confirmed"
            )));
        }
        db::enqueue_payment(&mut tx, attendance_id, now, &trace_context::current_traceparent()).await?;
        self.directory.audit(&mut tx, p, "ConfirmAttendance", "attendance", attendance_id, &attendance.community_id, Some(serde_json::json!({"status": "checked_in"})), Some(serde_json::json!({"status": "confirmed", "minutes": attendance.minutes, "adjustment": attendance.adjustment, "note": attendance.note})))
            .await?;
        idempotency::remember(&mut tx, p, request_id, "ConfirmAttendance", attendance_id).await?;
        let mut text = format!("{}：{}", activity.title, activity.content);
        if !attendance.note.is_empty() {
            text.push('；');
            text.push_str(&attendance.note);
        }
        journal::append(
            &mut tx,
            &journal::Fact {
                kind: "attendance.confirmed",
                occur_millis: now,
                subject_id: attendance.id.clone(),
                community_id: attendance.community_id.clone(),
                member_id: attendance.member_id.clone(),
                text,
                evidence_ids: attendance.evidence_ids.clone(),
                ..Default::default()
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            attendance = attendance_id,
            adjustment,
            "attendance confirmed; payment queued"
        );
        Ok(attendance)
    }

    pub async fn list_attendance(
        &self,
        p: &Principal,
        of: &AttendanceOf,
        filter: &AttendanceFilter,
        page: &PageRequest,
    ) -> Result<Page<Attendance>> {
        let communities: Arc<Vec<String>>;
        let rows = match of {
            AttendanceOf::Member(member_id) => {
                self.require_member_reader(p, member_id).await?;
                db::AttendanceRows::Member(member_id)
            }
            AttendanceOf::Activity(activity_id) => {
                let activity = self.activity(activity_id).await?;
                let org = self.community("community_id", &activity.community_id).await?;
                self.require_overseer(p, &org, &format!("the attendance of activity {activity_id}"))
                    .await?;
                db::AttendanceRows::Activity(activity_id)
            }
            AttendanceOf::Community(community_id) => {
                let org = self.community("community_id", community_id).await?;
                self.require_overseer(p, &org, &format!("the attendance at community {community_id}"))
                    .await?;
                db::AttendanceRows::Communities(std::slice::from_ref(community_id))
            }
            AttendanceOf::Subtree(org_id) => {
                communities = self.subtree_communities(p, org_id, "attendance").await?;
                db::AttendanceRows::Communities(&communities)
            }
        };
        let mut conn = self.conn().await?;
        let rows = db::list_attendance(&mut conn, rows, filter, page).await?;
        Ok(page.finish(rows, |a| &a.id))
    }
}
