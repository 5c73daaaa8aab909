//! `registry reseal`: re-encrypts every member's personal information under the
//! active key (`registry.pii_active_key`), so that an old key can be dropped
//! from the Secret. It works in batches, each member by a conditional update (a
//! member updated meanwhile is already under the active key and is left alone),
//! so it is safe beside running replicas, and resumable: a rerun picks up what
//! is still sealed under another key. Progress goes to stderr.

use dualreport_platform::crypto::FieldCipher;
use dualreport_platform::db;

use crate::settings::Settings;
use crate::storage::{self, SealedFields};

#[derive(Debug, Clone, clap::Subcommand)]
pub enum RegistryCommand {
    /// Re-encrypt personal information under the active key (resumable), so
    /// that old keys can be removed; prints progress on stderr.
    Reseal {
        /// Members read and re-sealed per batch.
        #[arg(long, default_value_t = 500)]
        batch: i64,
    },
}

pub async fn run(settings: Settings, command: RegistryCommand) -> anyhow::Result<()> {
    match command {
        RegistryCommand::Reseal { batch } => {
            let resealed = reseal(&settings, batch.clamp(1, 10_000)).await?;
            println!(
                "resealed {resealed} member(s) under key {:?}",
                settings.registry.pii_active_key
            );
            Ok(())
        }
    }
}

/// Re-seals what is not under the active key; returns how many members changed.
pub async fn reseal(settings: &Settings, batch: i64) -> anyhow::Result<u64> {
    let cipher = FieldCipher::new(&settings.registry.all_pii_keys()?, &settings.registry.pii_active_key)?;
    let database = db::connect(&settings.database).await?;
    let mut conn = database.pool.acquire().await?;
    let active = cipher.active_key().to_owned();
    let (mut after, mut done, mut skipped) = (String::new(), 0u64, 0u64);
    loop {
        let round = reseal_batch(&mut conn, &cipher, &after, batch).await?;
        let Some(last) = round.last else { break };
        after = last;
        done += round.resealed;
        skipped += round.changed_meanwhile;
        eprintln!("reseal: {done} member(s) re-sealed under {active:?} (last id {after}), {skipped} changed meanwhile");
    }
    Ok(done)
}

/// What one batch of [`reseal_batch`] did.
#[derive(Debug, Default)]
pub struct ResealRound {
    pub resealed: u64,
    pub changed_meanwhile: u64,
    /// The last member looked at; `None` when none was left to re-seal.
    pub last: Option<String>,
}

/// Re-seals up to `batch` members after `after` (by id) still sealed under
/// another key, each by a conditional update. Shared by the `reseal`
/// subcommand and the `ResealPersonalInformation` RPC.
pub async fn reseal_batch(
    conn: &mut sqlx::AnyConnection,
    cipher: &FieldCipher,
    after: &str,
    batch: i64,
) -> anyhow::Result<ResealRound> {
    let active = cipher.active_key().to_owned();
    let rows = storage::sealed_under_other_keys(conn, &active, after, batch).await?;
    let mut round = ResealRound {
        last: rows.last().map(|r| r.id.clone()),
        ..ResealRound::default()
    };
    for old in &rows {
        let phone_aad = format!("{}/phone", old.id);
        let address_aad = format!("{}/home_address", old.id);
        let new = SealedFields {
            id: old.id.clone(),
            phone: cipher.seal(&cipher.open(&old.phone, &phone_aad)?, &phone_aad)?,
            home_address: cipher.seal(&cipher.open(&old.home_address, &address_aad)?, &address_aad)?,
        };
        if storage::replace_sealed(conn, old, &new).await? {
            round.resealed += 1;
        } else {
            round.changed_meanwhile += 1;
        }
    }
    Ok(round)
}
