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
        let rows = storage::sealed_under_other_keys(&mut conn, &active, &after, batch).await?;
        let Some(last) = rows.last() else { break };
        after = last.id.clone();
        for old in &rows {
            let phone_aad = format!("{}/phone", old.id);
            let address_aad = format!("{}/home_address", old.id);
            let new = SealedFields {
                id: old.id.clone(),
                phone: cipher.seal(&cipher.open(&old.phone, &phone_aad)?, &phone_aad)?,
                home_address: cipher.seal(&cipher.open(&old.home_address, &address_aad)?, &address_aad)?,
            };
            if storage::replace_sealed(&mut conn, old, &new).await? {
                done += 1;
            } else {
                skipped += 1;
            }
        }
        eprintln!("reseal: {done} member(s) re-sealed under {active:?} (last id {after}), {skipped} changed meanwhile");
    }
    Ok(done)
}
