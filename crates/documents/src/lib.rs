//! The suite's printed documents, as PDF: a service-hours certificate
//! (志愿服务证明) a member can hand to their employer.
//!
//! PDF is written by `pdf-writer`; the CJK font is embedded as a subset of
//! only the glyphs the document uses (`subsetter`), so a certificate is a few
//! tens of kilobytes and prints the same on every reader, with a ToUnicode
//! map so its text can be searched and copied. The font is a file the
//! deployment provides (Debian's `fonts-noto-cjk` by default): OpenType with
//! CFF outlines (embedded as `FontFile3`/`OpenType`) or TrueType.

mod pdf;

pub use pdf::render;

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the font file {path} cannot be read: {error}")]
    FontUnreadable { path: String, error: String },
    #[error("the font file {0} holds no face with Chinese glyphs")]
    NoChineseFace(String),
    #[error("the font cannot be embedded: {0}")]
    Subset(String),
}

/// A font file read once, and which of its faces sets Chinese text.
#[derive(Clone)]
pub struct Font {
    data: std::sync::Arc<Vec<u8>>,
    index: u32,
    path: String,
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Font")
            .field("path", &self.path)
            .field("index", &self.index)
            .finish()
    }
}

impl Font {
    /// Reads `path`; `index` picks the face of a collection (`.ttc`), else
    /// the first face whose name says Simplified Chinese (`SC`), else the
    /// first that has glyphs for 志愿服务证明.
    pub fn load(path: &str, index: Option<u32>) -> Result<Self, DocumentError> {
        let data = std::fs::read(path).map_err(|e| DocumentError::FontUnreadable {
            path: path.to_owned(),
            error: e.to_string(),
        })?;
        let faces = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let covers = |face: &ttf_parser::Face<'_>| "志愿服务证明".chars().all(|c| face.glyph_index(c).is_some());
        let chosen = match index {
            Some(i) => ttf_parser::Face::parse(&data, i).ok().filter(covers).map(|_| i),
            None => {
                let parsed: Vec<(u32, ttf_parser::Face<'_>)> = (0..faces)
                    .filter_map(|i| ttf_parser::Face::parse(&data, i).ok().map(|f| (i, f)))
                    .filter(|(_, f)| covers(f))
                    .collect();
                parsed
                    .iter()
                    .find(|(_, f)| family(f).is_some_and(|n| n.contains(" SC") || n.ends_with("SC")))
                    .or(parsed.first())
                    .map(|(i, _)| *i)
            }
        };
        let index = chosen.ok_or_else(|| DocumentError::NoChineseFace(path.to_owned()))?;
        Ok(Self {
            data: std::sync::Arc::new(data),
            index,
            path: path.to_owned(),
        })
    }

    fn face(&self) -> Result<ttf_parser::Face<'_>, DocumentError> {
        ttf_parser::Face::parse(&self.data, self.index).map_err(|e| DocumentError::Subset(e.to_string()))
    }
}

fn family(face: &ttf_parser::Face<'_>) -> Option<String> {
    face.names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
        .find_map(|n| n.to_string())
}

/// What a service-hours certificate (志愿服务证明) says.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// The certificate's number, unique in the district (e.g. `FW-2026-000017`).
    pub number: String,
    pub member_name: String,
    /// The community that recorded the services and issues the certificate.
    pub community_name: String,
    /// `YYYY-MM-DD`, both days included.
    pub from: String,
    pub to: String,
    /// Confirmed services in the period.
    pub services: i64,
    /// Hours served, as printed (e.g. `12.5`).
    pub hours: String,
    /// `YYYY-MM-DD`, China Standard Time.
    pub issued_on: String,
}

impl Certificate {
    /// The certificate's lines, heading first.
    pub fn paragraphs(&self) -> Vec<String> {
        vec![
            format!(
                "兹证明{}同志于{}至{}期间，在{}参加志愿服务{}次，经社区确认的服务时长共计{}小时。",
                self.member_name,
                chinese_date(&self.from),
                chinese_date(&self.to),
                self.community_name,
                self.services,
                self.hours
            ),
            "服务时长按活动实际服务时间记录，不含往返时间；本证明依据社区登记的服务记录出具（谁组织谁记录）。"
                .to_owned(),
            "特此证明。".to_owned(),
        ]
    }
}

/// `2026-03-05` as 2026年3月5日.
pub fn chinese_date(date: &str) -> String {
    let mut parts = date.splitn(3, '-').map(|p| p.trim_start_matches('0'));
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) if !y.is_empty() && !m.is_empty() && !d.is_empty() => format!("{y}年{m}月{d}日"),
        _ => date.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_the_chinese_way() {
        assert_eq!(chinese_date("2026-03-05"), "2026年3月5日");
        assert_eq!(chinese_date("2026-12-31"), "2026年12月31日");
        assert_eq!(chinese_date("garbage"), "garbage");
    }
}
