//! The keys tokens are verified with: the development secret, PEM public
//! keys and a JWKS, and the files' modification times that tell when to read
//! them again.

use anyhow::Context as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use secrecy::ExposeSecret;

use crate::settings::AuthSettings;

pub(super) struct VerifyingKey {
    pub(super) kid: Option<String>,
    pub(super) algorithm: Algorithm,
    pub(super) key: DecodingKey,
}

/// Modification times of the key files (a mounted Secret's symlink swap changes them).
pub(super) fn key_file_stamps(settings: &AuthSettings) -> Vec<Option<std::time::SystemTime>> {
    settings
        .public_key_files
        .iter()
        .chain(settings.jwks_file.iter())
        .map(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
        .collect()
}

/// Every verifying key the settings name: the development secret, the PEM
/// public keys and the JWKS.
pub(super) fn load_keys(settings: &AuthSettings) -> anyhow::Result<Vec<VerifyingKey>> {
    let mut keys = Vec::new();
    if let Some(secret) = &settings.dev_hs256_secret {
        keys.push(VerifyingKey {
            kid: None,
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret.expose_secret().as_bytes()),
        });
    }
    for path in &settings.public_key_files {
        let pem = std::fs::read(path).with_context(|| format!("reading public key {path}"))?;
        let (algorithm, key) = if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
            (Algorithm::RS256, key)
        } else {
            let key = DecodingKey::from_ec_pem(&pem)
                .with_context(|| format!("{path} is neither an RSA nor an EC public key"))?;
            (Algorithm::ES256, key)
        };
        keys.push(VerifyingKey {
            kid: None,
            algorithm,
            key,
        });
    }
    if let Some(path) = &settings.jwks_file {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading JWKS {path}"))?;
        let set: jsonwebtoken::jwk::JwkSet =
            serde_json::from_str(&text).with_context(|| format!("parsing JWKS {path}"))?;
        for jwk in &set.keys {
            let algorithm = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => anyhow::bail!("JWKS {path}: only RSA and EC keys are accepted"),
            };
            keys.push(VerifyingKey {
                kid: jwk.common.key_id.clone(),
                algorithm,
                key: DecodingKey::from_jwk(jwk)?,
            });
        }
    }
    anyhow::ensure!(
        !keys.is_empty(),
        "no token keys configured: set auth.dev_hs256_secret (development) or auth.public_key_files / auth.jwks_file"
    );
    Ok(keys)
}
