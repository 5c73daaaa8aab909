//! Members (党员): profiles with sealed personal information, imports, masked reads and the access log.

use super::*;

impl Registry {
    pub(super) fn seal_row(&self, id: &str, profile: &Profile, created_at: i64) -> Result<MemberRow> {
        Ok(MemberRow {
            id: id.to_owned(),
            unit_org_id: profile.unit_org_id.clone(),
            residence_community_id: profile.residence_community_id.clone(),
            name: profile.name.clone(),
            gender: profile.gender,
            birth_year: profile.birth_year,
            education: profile.education.clone(),
            joined_party_on: profile.joined_party_on,
            membership_status: profile.membership_status,
            category: profile.category,
            employer: profile.employer.clone(),
            position: profile.position.clone(),
            phone: self.cipher.seal(&profile.phone, &format!("{id}/phone"))?,
            home_address: self.cipher.seal(&profile.home_address, &format!("{id}/home_address"))?,
            skills: profile.skills.clone(),
            service_intentions: profile.service_intentions.clone(),
            available_time_slots: profile.available_time_slots.clone(),
            created_at,
            updated_at: now_millis(),
        })
    }

    pub(super) fn open_row(&self, row: &MemberRow, whole: bool) -> Result<MemberView> {
        let phone = self.cipher.open(&row.phone, &format!("{}/phone", row.id))?;
        let address = self
            .cipher
            .open(&row.home_address, &format!("{}/home_address", row.id))?;
        Ok(MemberView {
            id: row.id.clone(),
            profile: Profile {
                name: row.name.clone(),
                gender: row.gender,
                birth_year: row.birth_year,
                education: row.education.clone(),
                joined_party_on: row.joined_party_on,
                membership_status: row.membership_status,
                category: row.category,
                employer: row.employer.clone(),
                position: row.position.clone(),
                unit_org_id: row.unit_org_id.clone(),
                home_address: if whole { address } else { mask_address(&address) },
                residence_community_id: row.residence_community_id.clone(),
                phone: if whole { phone } else { mask_phone(&phone) },
                skills: row.skills.clone(),
                service_intentions: row.service_intentions.clone(),
                available_time_slots: row.available_time_slots.clone(),
            },
            masked: !whole,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    /// Writes one access row per personal field `p` reads of member `id`
    /// (phone and home address), with the paths that decide who may read the log.
    pub(super) async fn log_personal_reads(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        id: &str,
        paths: &MemberPaths,
    ) -> Result<()> {
        let now = now_millis();
        for field in [PHONE, HOME_ADDRESS] {
            db::insert_access(
                conn,
                &db::AccessRow {
                    id: new_id(),
                    reader_subject: p.subject.clone(),
                    reader_role: p.role.as_str().to_owned(),
                    member_id: id.to_owned(),
                    field: field.to_owned(),
                    accessed_at: now,
                    unit_path: paths.unit.clone(),
                    community_path: paths.community.clone(),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Facts for the journal about members joining (`member.created`) or
    /// changing unit or community (`member.updated`): the city tier's
    /// roster of each district, from which it counts report rates.
    pub(super) async fn member_facts(
        &self,
        conn: &mut AnyConnection,
        kind: &'static str,
        members: &[(&str, &str, &str)],
    ) -> Result<Vec<journal::Fact>> {
        let mut districts: HashMap<String, String> = HashMap::new();
        let mut facts = Vec::with_capacity(members.len());
        let now = now_millis();
        for &(id, unit, community) in members {
            if !districts.contains_key(community) {
                let district = self
                    .org(conn, community)
                    .await?
                    .and_then(|c| c.district_id)
                    .unwrap_or_default();
                districts.insert(community.to_owned(), district);
            }
            facts.push(journal::Fact {
                kind,
                occur_millis: now,
                subject_id: id.to_owned(),
                district_id: districts.get(community).cloned().unwrap_or_default(),
                community_id: community.to_owned(),
                unit_org_id: unit.to_owned(),
                member_id: id.to_owned(),
                text: String::new(),
                evidence_ids: Vec::new(),
                year: 0,
            });
        }
        Ok(facts)
    }

    /// The unit org and residence community a profile names must exist and be
    /// of the right kind; `field_prefix` names them in errors.
    pub(super) async fn check_profile_refs(
        &self,
        conn: &mut AnyConnection,
        profile: &Profile,
        prefix: &str,
    ) -> Result<Org> {
        let unit = self.org(conn, &profile.unit_org_id).await?;
        let unit = match unit {
            Some(unit) if unit.org_type.is_unit() => unit,
            Some(_) => {
                return Err(RegistryError::invalid(
                    &format!("{prefix}.unit_org_id"),
                    "is not a resident unit's org",
                ));
            }
            None => {
                return Err(RegistryError::invalid(
                    &format!("{prefix}.unit_org_id"),
                    format!("unknown org {:?}", profile.unit_org_id),
                ));
            }
        };
        match self.org(conn, &profile.residence_community_id).await? {
            Some(c) if c.org_type == OrgType::Community => Ok(unit),
            Some(_) => Err(RegistryError::invalid(
                &format!("{prefix}.residence_community_id"),
                "is not a community",
            )),
            None => Err(RegistryError::invalid(
                &format!("{prefix}.residence_community_id"),
                format!("unknown org {:?}", profile.residence_community_id),
            )),
        }
    }

    pub async fn create_member(&self, p: &Principal, request_id: &str, profile: Profile) -> Result<MemberView> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreateMember").await? {
            let row = db::require_member(&mut tx, &id).await?;
            return self.open_row(&row, false);
        }
        let unit = self.check_profile_refs(&mut tx, &profile, "profile").await?;
        self.require_admin_over(&mut tx, p, &unit.path, &format!("unit {}", unit.id))
            .await?;
        let row = self.seal_row(&new_id(), &profile, now_millis())?;
        db::insert_member(&mut tx, &row).await?;
        let facts = self
            .member_facts(
                &mut tx,
                "member.created",
                &[(&row.id, &row.unit_org_id, &row.residence_community_id)],
            )
            .await?;
        journal::append_all(&mut tx, &facts).await?;
        let after = member_fields(&profile);
        self.audit(
            &mut tx,
            p,
            "CreateMember",
            "member",
            &row.id,
            &profile.unit_org_id,
            None,
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "CreateMember", &row.id).await?;
        tx.commit().await?;
        self.open_row(&row, false)
    }

    /// A member; `whole` opens phone and address for the member or an admin
    /// in scope and logs each field read.
    pub async fn get_member(&self, p: &Principal, id: &str, whole: bool) -> Result<MemberView> {
        if !whole {
            // A masked read writes nothing: one statement, the scope from the tree cache.
            let mut conn = self.pool.acquire().await?;
            let row = db::require_member(&mut conn, id).await?;
            self.require_member_access(&mut conn, p, &row, true).await?;
            return self.open_row(&row, false);
        }
        let mut tx = self.pool.begin().await?;
        let row = db::require_member(&mut tx, id).await?;
        {
            // The paths decide the scope and are written with each access row.
            let paths = self.member_paths(&mut tx, &row).await?;
            if !self.may_act_on_member_at(&mut tx, p, &row.id, &paths).await? {
                return Err(RegistryError::out_of_scope(format!(
                    "{} may not read member {id}'s personal information",
                    p.role.as_str()
                )));
            }
            self.log_personal_reads(&mut tx, p, &row.id, &paths).await?;
        }
        let view = self.open_row(&row, whole)?;
        tx.commit().await?;
        Ok(view)
    }

    /// Masked members of a unit subtree or of a residence community.
    pub async fn list_members(
        &self,
        p: &Principal,
        unit_org_id: &str,
        community_id: &str,
        page: &PageRequest,
    ) -> Result<(Vec<MemberView>, String)> {
        let mut conn = self.pool.acquire().await?;
        let (unit_path, community) = match (unit_org_id.is_empty(), community_id.is_empty()) {
            (false, true) => (Some(self.scoped_org(&mut conn, p, unit_org_id).await?.path), None),
            (true, false) => (None, Some(self.scoped_org(&mut conn, p, community_id).await?.id)),
            _ => {
                return Err(RegistryError::invalid(
                    "unit_org_id",
                    "give exactly one of unit_org_id or community_id",
                ));
            }
        };
        let rows = db::list_members(&mut conn, unit_path.as_deref(), community.as_deref(), page).await?;
        let (rows, token) = page.finish(rows, |m| &m.id);
        let views = rows
            .iter()
            .map(|row| self.open_row(row, false))
            .collect::<Result<Vec<_>>>()?;
        Ok((views, token))
    }

    /// Applies the masked profile fields. The member edits its own contact
    /// details; admins over the unit edit everything but the unit.
    pub async fn update_member(
        &self,
        p: &Principal,
        request_id: &str,
        id: &str,
        update: Profile,
        mask: &[String],
        etag: &str,
    ) -> Result<MemberView> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "UpdateMember").await? {
            let row = db::require_member(&mut tx, &id).await?;
            return self.open_row(&row, false);
        }
        let row = db::require_member(&mut tx, id).await?;
        self.require_member_access(&mut tx, p, &row, false).await?;
        etag::check("member", id, etag, row.updated_at)?;
        let mut profile = self.open_row(&row, true)?.profile;
        let before = member_fields(&profile);
        for path in mask {
            if !profile.set_field(path, &update) {
                let other = path;
                return Err(RegistryError::invalid(
                    "update_mask",
                    format!("{other:?} cannot be updated"),
                ));
            }
        }
        self.check_profile_refs(&mut tx, &profile, "profile").await?;
        let previous = row.updated_at;
        let mut row = self.seal_row(&row.id, &profile, row.created_at)?;
        row.updated_at = etag::next_update_time(previous, row.updated_at);
        if !db::update_member(&mut tx, &row, previous).await? {
            return Err(etag::changed_meanwhile("member", id).into());
        }
        if before["unit_org_id"] != serde_json::json!(profile.unit_org_id)
            || before["residence_community_id"] != serde_json::json!(profile.residence_community_id)
        {
            let facts = self
                .member_facts(
                    &mut tx,
                    "member.updated",
                    &[(&row.id, &row.unit_org_id, &row.residence_community_id)],
                )
                .await?;
            journal::append_all(&mut tx, &facts).await?;
        }
        let after = member_fields(&profile);
        let unit = profile.unit_org_id.clone();
        self.audit(
            &mut tx,
            p,
            "UpdateMember",
            "member",
            &row.id,
            &unit,
            Some(before),
            Some(after),
        )
        .await?;
        idempotency::remember(&mut tx, p, request_id, "UpdateMember", &row.id).await?;
        tx.commit().await?;
        self.open_row(&row, false)
    }

    /// Imports one batch of a roster: every row is checked first; the batch is
    /// written in one transaction only when no row has an error. The orgs a
    /// batch names are looked up once each, and the rows go in with
    /// multi-row INSERTs.
    pub async fn import_batch(
        &self,
        p: &Principal,
        request_id: &str,
        rows: Vec<Result<Profile, Vec<FieldError>>>,
    ) -> Result<ImportOutcome> {
        // Checks and sealing need no transaction: a connection only for the
        // orgs the cache does not hold, so the next batch of a stream is
        // prepared while this one is written.
        let mut conn = self.pool.acquire().await?;
        let admin = self.admin_org(&mut conn, p).await?;
        let mut in_scope: HashMap<String, bool> = HashMap::new();
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            match row {
                Err(row_errors) => errors.extend(row_errors.into_iter().map(|e| (i, e))),
                Ok(profile) => match self.check_profile_refs(&mut conn, &profile, "row").await {
                    Err(RegistryError::Common(dualreport_platform::failure::Failure::Invalid(row_errors))) => {
                        errors.extend(row_errors.into_iter().map(|e| (i, e)))
                    }
                    Err(other) => return Err(other),
                    Ok(unit) => {
                        let covered = *in_scope
                            .entry(unit.id.clone())
                            .or_insert_with(|| admin.as_ref().is_some_and(|a| a.covers(&unit.path)));
                        if covered {
                            valid.push(profile);
                        } else {
                            errors.push((i, FieldError::new("row.unit_org_id", "outside the caller's scope")));
                        }
                    }
                },
            }
        }
        drop(conn);
        let now = now_millis();
        let rows = if errors.is_empty() {
            valid
                .iter()
                .map(|profile| self.seal_row(&new_id(), profile, now))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        let mut tx = self.pool.begin().await?;
        if let Some(first) = idempotency::replayed_by(&mut tx, p, request_id, "ImportMembers").await? {
            return Ok(ImportOutcome::Replayed(
                first.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            ));
        }
        if !errors.is_empty() {
            return Ok(ImportOutcome::Rejected(errors));
        }
        db::insert_members(&mut tx, &rows).await?;
        let joined: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|row| {
                (
                    row.id.as_str(),
                    row.unit_org_id.as_str(),
                    row.residence_community_id.as_str(),
                )
            })
            .collect();
        let facts = self.member_facts(&mut tx, "member.created", &joined).await?;
        journal::append_all(&mut tx, &facts).await?;
        let ids: Vec<String> = rows.into_iter().map(|row| row.id).collect();
        // One record per batch (a roster is up to 100k members), filed under the importer's org.
        if let Some(admin) = &admin {
            let after = serde_json::json!({ "members": ids.len(), "member_ids": ids });
            let batch = if request_id.is_empty() {
                ids.first().cloned().unwrap_or_default()
            } else {
                request_id.to_owned()
            };
            self.audit(
                &mut tx,
                p,
                "ImportMembers",
                "member_batch",
                &batch,
                &admin.id,
                None,
                Some(after),
            )
            .await?;
        }
        idempotency::remember(&mut tx, p, request_id, "ImportMembers", &ids.join(",")).await?;
        tx.commit().await?;
        Ok(ImportOutcome::Committed(ids))
    }

    pub async fn list_accesses(
        &self,
        p: &Principal,
        member_id: &str,
        page: &PageRequest,
    ) -> Result<(Vec<db::AccessRow>, String)> {
        let mut conn = self.pool.acquire().await?;
        let org = self
            .admin_org(&mut conn, p)
            .await?
            .ok_or_else(|| RegistryError::out_of_scope("only admins read the personal-information access log"))?;
        if !member_id.is_empty() {
            let row = db::require_member(&mut conn, member_id).await?;
            self.require_member_access(&mut conn, p, &row, false).await?;
        }
        let member = (!member_id.is_empty()).then_some(member_id);
        let rows = db::list_accesses(&mut conn, &org.path, member, page).await?;
        Ok(page.finish(rows, |a| &a.id))
    }
}
