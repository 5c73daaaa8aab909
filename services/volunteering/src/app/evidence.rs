//! Evidence (佐证材料): photos and text attached to a service, stored in the blob store.

use super::*;

impl Volunteering {
    /// Stores a photo (bytes to the blob store, named by hash) or a text.
    /// Community admins upload for their community; members for communities
    /// where they are registered this year.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_evidence(
        &self,
        p: &Principal,
        request_id: &str,
        community_id: &str,
        kind: EvidenceKind,
        content_type: &str,
        data: Bytes,
        text: String,
    ) -> Result<Evidence> {
        self.community("community_id", community_id).await?;
        match &p.scope {
            Scope::Member(member) => {
                self.require_registered_on(member, community_id, china_today()).await?;
            }
            _ => self.require_community_admin(p, community_id).await?,
        }
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "UploadEvidence").await? {
            return db::get_evidence(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("evidence", &id));
        }
        let limits = self.rules.evidence;
        let (content_type, size, sha256, object_key) = match kind {
            EvidenceKind::Photo => {
                let content_type = crate::domain::evidence::photo(content_type, &data, limits)?;
                let sha256 = crate::domain::evidence::sha256(&data);
                let key = format!("{community_id}/{sha256}");
                let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
                self.blobs.put(&key, data).await?;
                (content_type.to_owned(), size, sha256, key)
            }
            EvidenceKind::Text => {
                if !data.is_empty() {
                    return Err(VolunteeringError::invalid("data", "a text evidence carries no bytes"));
                }
                if text.is_empty() {
                    return Err(VolunteeringError::invalid("text", "must not be empty"));
                }
                let size = i64::try_from(text.len()).unwrap_or(i64::MAX);
                (
                    "text/plain".to_owned(),
                    size,
                    crate::domain::evidence::sha256(text.as_bytes()),
                    String::new(),
                )
            }
        };
        let record = Evidence {
            id: new_id(),
            community_id: community_id.to_owned(),
            kind,
            content_type,
            size_bytes: size,
            sha256,
            text,
            object_key,
            uploaded_by: p.subject.clone(),
            created_at: now_millis(),
        };
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "UploadEvidence").await? {
            drop(tx);
            return db::get_evidence(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("evidence", &id));
        }
        db::insert_evidence(&mut tx, &record).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                "UploadEvidence",
                "evidence",
                &record.id,
                &record.community_id,
                None,
                Some(serde_json::json!({"size_bytes": record.size_bytes, "sha256": record.sha256})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "UploadEvidence", &record.id).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn get_evidence(&self, p: &Principal, id: &str, include_data: bool) -> Result<(Evidence, Bytes)> {
        let record = db::get_evidence(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("evidence", id))?;
        self.require_community_reader(p, &record.community_id).await?;
        let data = if include_data && record.kind == EvidenceKind::Photo {
            self.blobs.get(&record.object_key).await?
        } else {
            Bytes::new()
        };
        Ok((record, data))
    }
}
