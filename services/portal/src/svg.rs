//! Charts and stars as inline SVG: drawn on the server, readable without
//! script, sharp on a wall screen.

use crate::html::esc;

const STAR: &str = "M10 1l2.6 5.6 6.1.7-4.5 4.2 1.2 6L10 14.6 4.6 17.5l1.2-6L1.3 7.3l6.1-.7z";

/// `stars` gold stars (at most 10 drawn, then the number), labelled for screen readers.
pub fn stars(stars: i32) -> String {
    let drawn = stars.clamp(0, 10);
    let width = (drawn.max(1) * 20).max(20);
    let mut out = format!(
        r#"<svg class="stars" role="img" aria-label="{stars}星" width="{width}" height="20" viewBox="0 0 {width} 20"><title>{stars}星</title>"#
    );
    if drawn == 0 {
        out.push_str(&format!(r##"<path d="{STAR}" fill="none" stroke="#bbb"/>"##));
    }
    for i in 0..drawn {
        out.push_str(&format!(
            r##"<path transform="translate({} 0)" d="{STAR}" fill="#f5b400" stroke="#c88f00"/>"##,
            i * 20
        ));
    }
    out.push_str("</svg>");
    if stars > 10 {
        out.push_str(&format!(" ×{stars}"));
    }
    out
}

/// One bar of a chart: its label, its value, and the text shown beside it.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

/// A horizontal bar chart; `max` is the full width's value (0: the largest bar).
pub fn bar_chart(title: &str, bars: &[Bar], max: f64) -> String {
    if bars.is_empty() {
        return format!(r#"<p class="muted">{}：暂无数据</p>"#, esc(title));
    }
    let max = if max > 0.0 {
        max
    } else {
        bars.iter().map(|b| b.value).fold(0.0, f64::max).max(1.0)
    };
    let row = 26;
    let height = bars.len() * row + 8;
    let mut out = format!(
        r#"<svg class="chart" role="img" aria-label="{t}" width="100%" viewBox="0 0 440 {height}" preserveAspectRatio="xMinYMin meet"><title>{t}</title>"#,
        t = esc(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = i * row + 4;
        let width = ((bar.value.max(0.0) / max).min(1.0) * 170.0).round();
        out.push_str(&format!(
            r##"<text x="126" y="{ty}" text-anchor="end" font-size="13">{label}</text><rect x="132" y="{y}" width="{width}" height="18" fill="#c8161d" rx="2"/><text x="{tx}" y="{ty}" font-size="13">{text}</text>"##,
            ty = y + 14,
            label = esc(&truncate(&bar.label, 9)),
            tx = 136.0 + width,
            text = esc(&bar.text),
        ));
    }
    out.push_str("</svg>");
    out
}

fn truncate(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(chars - 1).collect::<String>())
    }
}

/// A QR code of `url`, as SVG.
pub fn qr(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .build()
            // The renderer writes an XML declaration; inline SVG needs none.
            .split_once("?>")
            .map(|(_, svg)| svg.trim().to_owned())
            .unwrap_or_default(),
        Err(error) => {
            tracing::warn!(%error, "no QR code for this address");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_are_labelled_and_bounded() {
        assert_eq!(stars(3).matches("<path").count(), 3);
        assert!(stars(3).contains("3星"));
        assert_eq!(stars(0).matches("<path").count(), 1, "an empty outline");
        assert!(stars(12).ends_with("×12"));
    }

    #[test]
    fn bars_escape_their_labels() {
        let chart = bar_chart(
            "t",
            &[Bar {
                label: "<b>".into(),
                value: 1.0,
                text: "1".into(),
            }],
            0.0,
        );
        assert!(chart.contains("&lt;b&gt;") && !chart.contains("<b>"));
    }

    #[test]
    fn a_qr_code_is_inline_svg() {
        let svg = qr("http://127.0.0.1:8080/board/x");
        assert!(svg.starts_with("<svg"), "{svg}");
    }
}
