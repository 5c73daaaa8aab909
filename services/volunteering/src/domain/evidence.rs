//! Evidence of service (S2 保障措施2: 图片+文字): what a photo or a text must
//! look like before it is stored.

use dualreport_platform::error::FieldError;
use sha2::{Digest as _, Sha256};

/// The photo formats accepted, by their first bytes (the declared content type
/// must agree with what the bytes are).
const PHOTO_TYPES: [(&str, &[u8]); 3] = [
    ("image/jpeg", &[0xFF, 0xD8, 0xFF]),
    ("image/png", &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
    ("image/webp", b"RIFF"),
];

/// Limits from `[evidence]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_photo_bytes: usize,
    pub max_text_chars: usize,
}

/// Checks a photo: not empty, not above the limit, a JPEG, PNG or WebP whose
/// bytes match the declared `content_type`.
pub fn photo(content_type: &str, data: &[u8], limits: Limits) -> Result<&'static str, FieldError> {
    if data.is_empty() {
        return Err(FieldError::new("data", "a photo must not be empty"));
    }
    if data.len() > limits.max_photo_bytes {
        return Err(FieldError::new(
            "data",
            format!(
                "the photo has {} bytes; at most {} are accepted",
                data.len(),
                limits.max_photo_bytes
            ),
        ));
    }
    let sniffed = PHOTO_TYPES
        .iter()
        .find(|(name, magic)| {
            data.starts_with(magic) && (*name != "image/webp" || data.get(8..12) == Some(b"WEBP".as_slice()))
        })
        .map(|(name, _)| *name)
        .ok_or_else(|| FieldError::new("data", "is not a JPEG, PNG or WebP image"))?;
    if !content_type.eq_ignore_ascii_case(sniffed) {
        return Err(FieldError::new(
            "content_type",
            format!("says {content_type:?} but the data is {sniffed}"),
        ));
    }
    Ok(sniffed)
}

/// Lower-case hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_photo_bytes: 16,
        max_text_chars: 10,
    };

    #[test]
    fn photos_are_sniffed_and_bounded() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        assert_eq!(photo("image/png", &png, LIMITS).ok(), Some("image/png"));
        assert_eq!(photo("image/jpeg", &png, LIMITS).unwrap_err().field, "content_type");
        assert_eq!(photo("image/png", b"GIF89a", LIMITS).unwrap_err().field, "data");
        assert_eq!(photo("image/png", &[0x89; 17], LIMITS).unwrap_err().field, "data");
        assert_eq!(photo("image/png", &[], LIMITS).unwrap_err().field, "data");
        let webp = *b"RIFF\0\0\0\0WEBPVP8 ";
        assert_eq!(photo("image/webp", &webp, LIMITS).ok(), Some("image/webp"));
        assert!(photo("image/webp", b"RIFF\0\0\0\0WAVE", LIMITS).is_err());
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
