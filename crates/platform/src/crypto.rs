//! Field encryption for personal information: AES-256-GCM with a key id stored
//! beside each ciphertext, so keys rotate without re-encrypting old rows.
//!
//! Keys come from settings as base64 of 32 bytes (from a Secret in
//! production); new values are sealed with the active key, and any
//! configured key opens old ones. The associated data binds a ciphertext to
//! its row and column, so values cannot be swapped between members.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context as _;
use base64::Engine as _;
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};

const NONCE_LEN: usize = 12;

/// A sealed value: `nonce || ciphertext`, and the id of the key that sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

pub struct FieldCipher {
    keys: HashMap<String, Aes256Gcm>,
    active: String,
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldCipher")
            .field("active", &self.active)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl FieldCipher {
    /// `keys`: key id → base64 of 32 random bytes; `active` seals new values.
    pub fn new(keys: &HashMap<String, SecretString>, active: &str) -> anyhow::Result<Self> {
        let mut ciphers = HashMap::new();
        for (id, key) in keys {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(key.expose_secret().trim())
                .with_context(|| format!("personal-information key {id:?} is not base64"))?;
            anyhow::ensure!(
                bytes.len() == 32,
                "personal-information key {id:?} must be 32 bytes, not {}",
                bytes.len()
            );
            let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| anyhow::anyhow!("key {id:?} is unusable"))?;
            ciphers.insert(id.clone(), cipher);
        }
        anyhow::ensure!(
            ciphers.contains_key(active),
            "the active personal-information key {active:?} is not among the configured keys"
        );
        Ok(Self {
            keys: ciphers,
            active: active.to_owned(),
        })
    }

    /// The key id that seals new values.
    pub fn active_key(&self) -> &str {
        &self.active
    }

    pub fn seal(&self, plaintext: &str, associated: &str) -> anyhow::Result<Sealed> {
        let cipher = &self.keys[&self.active];
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        Ok(Sealed {
            key_id: self.active.clone(),
            bytes,
        })
    }

    pub fn open(&self, sealed: &Sealed, associated: &str) -> anyhow::Result<String> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .with_context(|| format!("personal-information key {:?} is not configured", sealed.key_id))?;
        anyhow::ensure!(sealed.bytes.len() > NONCE_LEN, "sealed value too short");
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into()?;
        let plaintext = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("decryption failed (wrong key or tampered value)"))?;
        Ok(String::from_utf8(plaintext)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretString {
        SecretString::from(base64::engine::general_purpose::STANDARD.encode([byte; 32]))
    }

    #[test]
    fn seals_opens_and_rotates() {
        let old = FieldCipher::new(&HashMap::from([("k1".to_owned(), key(1))]), "k1").expect("cipher");
        let sealed = old.seal("13812345678", "m1/phone").expect("seal");
        assert_eq!(sealed.key_id, "k1");
        assert!(!sealed.bytes.windows(11).any(|w| w == b"13812345678"));
        let rotated = FieldCipher::new(
            &HashMap::from([("k1".to_owned(), key(1)), ("k2".to_owned(), key(2))]),
            "k2",
        )
        .expect("cipher");
        assert_eq!(rotated.open(&sealed, "m1/phone").expect("open"), "13812345678");
        assert!(rotated.open(&sealed, "m2/phone").is_err(), "bound to its row");
        assert_eq!(rotated.seal("x", "a").expect("seal").key_id, "k2");
    }
}
