//! Key rotation of personal information: re-sealing under the active key
//! through the API, a bounded batch per call (the admin CLI loops).

use super::*;
use crate::reseal::ResealRound;

impl Registry {
    /// The key new and re-sealed values are sealed under.
    pub fn active_key(&self) -> &str {
        self.cipher.active_key()
    }

    /// Re-seals up to `limit` members after `after` still under another key.
    /// The city's admins and this district's may; each batch that changed
    /// anything is audited under their org.
    pub async fn reseal_batch(&self, p: &Principal, after: &str, limit: i64) -> Result<ResealRound> {
        let mut conn = self.pool.acquire().await?;
        let org = match p.role {
            Role::CityAdmin | Role::DistrictAdmin => self.admin_org(&mut conn, p).await?,
            _ => None,
        };
        let Some(org) = org else {
            return Err(RegistryError::out_of_scope(
                "only the city's admins and this district's re-seal personal information",
            ));
        };
        let round = crate::reseal::reseal_batch(&mut conn, &self.cipher, after, limit).await?;
        if round.resealed > 0 {
            self.audit(
                &mut conn,
                p,
                "ResealPersonalInformation",
                "member_personal_information",
                round.last.as_deref().unwrap_or_default(),
                &org.id,
                None,
                Some(serde_json::json!({
                    "resealed": round.resealed,
                    "changed_meanwhile": round.changed_meanwhile,
                    "active_key": self.cipher.active_key(),
                })),
            )
            .await?;
        }
        Ok(round)
    }
}
