//! A certificate rendered with the system's CJK font reads back as its text
//! (pdftotext, from Debian's poppler-utils) and carries only a font subset.

use dualreport_documents::{Certificate, Font, render};

/// Debian's fonts-noto-cjk, as `.ci/run` installs it and the image carries it.
const FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

fn certificate() -> Certificate {
    Certificate {
        number: "FW-2026-000017".into(),
        member_name: "李红梅".into(),
        community_name: "农科路社区".into(),
        from: "2026-01-01".into(),
        to: "2026-06-30".into(),
        services: 4,
        hours: "7.5".into(),
        issued_on: "2026-07-03".into(),
    }
}

#[test]
fn a_certificate_is_a_searchable_pdf_with_a_small_embedded_font() {
    let font = Font::load(FONT, None).expect("the CJK font (fonts-noto-cjk)");
    let pdf = render(&certificate(), &font).expect("render");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.len() < 120_000, "a subset, not the 20 MB font: {} bytes", pdf.len());
    assert!(pdf.windows(9).any(|w| w == b"FontFile3"), "the font is embedded");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, &pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext (Debian's poppler-utils; .ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8").replace([' ', '\n'], "");
    for expected in [
        "志愿服务证明",
        "编号：FW-2026-000017",
        "兹证明李红梅同志于2026年1月1日至2026年6月30日期间",
        "参加志愿服务4次",
        "共计7.5小时",
        "农科路社区（盖章）",
        "2026年7月3日",
    ] {
        assert!(text.contains(expected), "{expected} is not in:\n{text}");
    }
}

#[test]
fn a_font_without_chinese_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("not-a-font.ttf");
    std::fs::write(&path, b"not a font").expect("write");
    let error = Font::load(path.to_str().expect("path"), None).expect_err("refused");
    assert!(error.to_string().contains("not-a-font.ttf"), "{error}");
    let missing = Font::load("/nonexistent/font.ttc", None).expect_err("refused");
    assert!(missing.to_string().contains("/nonexistent/font.ttc"), "{missing}");
}

#[test]
fn the_certificate_is_kept_as_an_artefact() {
    let font = Font::load(FONT, None).expect("font");
    let pdf = render(&certificate(), &font).expect("render");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("certificate.pdf"), &pdf).expect("write");
}
