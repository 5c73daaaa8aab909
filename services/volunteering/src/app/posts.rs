//! Posts (岗位) and claims (认岗): a community publishes posts, reported members claim them.

use super::*;

impl Volunteering {
    /// Gives a community the standard catalogue the first time it is used.
    pub(super) async fn ensure_catalogue(conn: &mut AnyConnection, community_id: &str) -> Result<()> {
        if db::count_posts(conn, community_id).await? > 0 {
            return Ok(());
        }
        let now = now_millis();
        for (name, description) in STANDARD_POSTS {
            let post = Post {
                id: new_id(),
                community_id: community_id.to_owned(),
                name: name.to_owned(),
                description: description.to_owned(),
                standard: true,
                created_at: now,
            };
            db::insert_post_if_absent(conn, &post).await?;
        }
        Ok(())
    }

    pub async fn list_posts(&self, p: &Principal, community_id: &str, page: &PageRequest) -> Result<Page<Post>> {
        self.require_community_reader(p, community_id).await?;
        let mut tx = self.pool.begin().await?;
        Self::ensure_catalogue(&mut tx, community_id).await?;
        let posts = db::list_posts(&mut tx, community_id, page).await?;
        tx.commit().await?;
        Ok(page.finish_by(posts, db::post_key))
    }

    pub(super) async fn post(
        conn: &mut AnyConnection,
        field: &str,
        id: &str,
        community_id: Option<&str>,
    ) -> Result<Post> {
        let post = db::get_post(conn, id)
            .await?
            .ok_or_else(|| VolunteeringError::invalid(field, format!("no post {id}")))?;
        if let Some(community) = community_id
            && post.community_id != community
        {
            return Err(VolunteeringError::invalid(
                field,
                format!("post {id} belongs to another community"),
            ));
        }
        Ok(post)
    }

    pub async fn create_post(&self, p: &Principal, request_id: &str, post: Post) -> Result<Post> {
        self.community("community_id", &post.community_id).await?;
        self.require_community_admin(p, &post.community_id).await?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "CreatePost").await? {
            return db::get_post(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("post", &id));
        }
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "CreatePost").await? {
            drop(tx);
            return db::get_post(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("post", &id));
        }
        Self::ensure_catalogue(&mut tx, &post.community_id).await?;
        match db::insert_post(&mut tx, &post).await {
            Err(e) if e.is_duplicate() => {
                return Err(VolunteeringError::AlreadyExists(format!(
                    "community {} already has a post named {}",
                    post.community_id, post.name
                )));
            }
            other => other?,
        }
        self.directory
            .audit(
                &mut tx,
                p,
                "CreatePost",
                "post",
                &post.id,
                &post.community_id,
                None,
                Some(serde_json::json!({"name": post.name, "description": post.description})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "CreatePost", &post.id).await?;
        tx.commit().await?;
        Ok(post)
    }

    pub async fn claim_post(
        &self,
        p: &Principal,
        request_id: &str,
        member_id: &str,
        post_id: &str,
        year: i32,
    ) -> Result<Claim> {
        Self::require_self(p, member_id)?;
        if let Some(id) = idempotency::replayed_by_pooled(&self.pool, p, request_id, "ClaimPost").await? {
            return db::get_claim(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("claim", &id));
        }
        let post = Self::post(&mut *self.conn().await?, "post_id", post_id, None).await?;
        self.require_registered_for_claim(member_id, &post.community_id, year)
            .await?;
        let mut tx = self.pool.begin().await?;
        if let Some(id) = idempotency::replayed_by(&mut tx, p, request_id, "ClaimPost").await? {
            drop(tx);
            return db::get_claim(&mut *self.conn().await?, &id)
                .await?
                .ok_or_else(|| VolunteeringError::not_found("claim", &id));
        }
        if let Some(existing) = db::claim_of(&mut tx, member_id, post_id, year).await? {
            return Ok(existing);
        }
        if !db::take_claim_slot(&mut tx, member_id, year, self.rules.max_posts_claimed).await? {
            return Err(VolunteeringError::OutOfBounds(format!(
                "member {member_id} already holds {} posts for {year}, the most the policy allows",
                self.rules.max_posts_claimed
            )));
        }
        let claim = Claim {
            id: new_id(),
            member_id: member_id.to_owned(),
            post_id: post.id.clone(),
            post_name: post.name.clone(),
            community_id: post.community_id.clone(),
            year,
            created_at: now_millis(),
        };
        db::insert_claim(&mut tx, &claim).await?;
        self.directory
            .audit(
                &mut tx,
                p,
                "ClaimPost",
                "claim",
                &claim.id,
                &claim.community_id,
                None,
                Some(serde_json::json!({"member_id": claim.member_id, "post_id": claim.post_id, "year": claim.year})),
            )
            .await?;
        idempotency::remember(&mut tx, p, request_id, "ClaimPost", &claim.id).await?;
        tx.commit().await?;
        Ok(claim)
    }

    pub async fn withdraw_claim(&self, p: &Principal, claim_id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let claim = db::get_claim(&mut tx, claim_id)
            .await?
            .ok_or_else(|| VolunteeringError::not_found("claim", claim_id))?;
        Self::require_self(p, &claim.member_id)?;
        if db::delete_claim(&mut tx, claim_id).await? {
            db::release_claim_slot(&mut tx, &claim.member_id, claim.year).await?;
            let before =
                serde_json::json!({ "member_id": claim.member_id, "post_id": claim.post_id, "year": claim.year });
            self.directory
                .audit(
                    &mut tx,
                    p,
                    "WithdrawClaim",
                    "claim",
                    claim_id,
                    &claim.community_id,
                    Some(before),
                    None,
                )
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims of a member (with whether they meet the minimum) or of a community.
    pub async fn list_claims(
        &self,
        p: &Principal,
        member_id: &str,
        community_id: &str,
        year: i32,
        page: &PageRequest,
    ) -> Result<(Page<Claim>, bool)> {
        let by_member = !member_id.is_empty();
        if by_member {
            self.require_member_reader(p, member_id).await?;
        } else {
            self.require_community_reader(p, community_id).await?;
        }
        let mut conn = self.conn().await?;
        let key = if by_member { member_id } else { community_id };
        let rows = db::list_claims(&mut conn, by_member, key, year, page).await?;
        let meets = by_member && db::count_claims(&mut conn, member_id, year).await? >= self.rules.min_posts_claimed;
        Ok((page.finish(rows, |c| &c.id), meets))
    }
}
