//! One A4 page, set in one embedded CJK font subset.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str};

use crate::{Certificate, DocumentError, Font, chinese_date};

const A4: (f32, f32) = (595.0, 842.0);
const MARGIN: f32 = 72.0;
const FONT: Name<'static> = Name(b"F1");

/// Text placed on the page: where it starts, its size, its characters.
struct Run {
    x: f32,
    y: f32,
    size: f32,
    text: String,
}

/// The certificate as a one-page PDF.
pub fn render(certificate: &Certificate, font: &Font) -> Result<Vec<u8>, DocumentError> {
    let face = font.face()?;
    let per_em = f32::from(face.units_per_em());
    let advance = |c: char| -> f32 {
        face.glyph_index(c)
            .and_then(|g| face.glyph_hor_advance(g))
            .map_or(per_em, f32::from)
            / per_em
    };
    let width_of = |text: &str, size: f32| text.chars().map(advance).sum::<f32>() * size;

    let mut runs = Vec::new();
    let title = "志愿服务证明";
    runs.push(Run {
        x: (A4.0 - width_of(title, 28.0)) / 2.0,
        y: A4.1 - 150.0,
        size: 28.0,
        text: title.to_owned(),
    });
    let number = format!("编号：{}", certificate.number);
    runs.push(Run {
        x: A4.0 - MARGIN - width_of(&number, 11.0),
        y: A4.1 - 90.0,
        size: 11.0,
        text: number,
    });
    let mut y = A4.1 - 230.0;
    let body = 15.0;
    for paragraph in certificate.paragraphs() {
        let indent = body * 2.0;
        for (i, line) in wrap(&paragraph, A4.0 - 2.0 * MARGIN, indent, |t| width_of(t, body))
            .into_iter()
            .enumerate()
        {
            runs.push(Run {
                x: MARGIN + if i == 0 { indent } else { 0.0 },
                y,
                size: body,
                text: line,
            });
            y -= body * 1.9;
        }
        y -= body * 0.6;
    }
    for (text, dy) in [
        (format!("{}（盖章）", certificate.community_name), 0.0),
        (chinese_date(&certificate.issued_on), body * 2.0),
    ] {
        runs.push(Run {
            x: A4.0 - MARGIN - width_of(&text, body),
            y: y - 60.0 - dy,
            size: body,
            text,
        });
    }

    // Every glyph the page uses, renumbered for the subset (CID = new glyph id).
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut used: Vec<(u16, char, f32)> = Vec::new();
    for c in runs.iter().flat_map(|r| r.text.chars()) {
        let glyph = face.glyph_index(c).map_or(0, |g| g.0);
        let cid = remapper.remap(glyph);
        if !used.iter().any(|(id, _, _)| *id == cid) {
            used.push((cid, c, advance(c) * 1000.0));
        }
    }
    let subset =
        subsetter::subset(&font.data, font.index, &remapper).map_err(|e| DocumentError::Subset(e.to_string()))?;
    let cff = face.tables().cff.is_some();

    let (catalog, pages, page, contents) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4));
    let (type0, cid_font, descriptor, file, to_unicode) =
        (Ref::new(5), Ref::new(6), Ref::new(7), Ref::new(8), Ref::new(9));
    let info = Ref::new(10);
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, A4.0, A4.1))
        .parent(pages)
        .contents(contents);
    p.resources().fonts().pair(FONT, type0);
    p.finish();

    let base = format!("DRSUBS+{}", postscript_name(&face));
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(Name(base.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font)
        .to_unicode(to_unicode);
    let mut cid = pdf.cid_font(cid_font);
    cid.subtype(if cff { CidFontType::Type0 } else { CidFontType::Type2 })
        .base_font(Name(base.as_bytes()))
        .system_info(system)
        .font_descriptor(descriptor)
        .default_width(1000.0);
    if !cff {
        cid.cid_to_gid_map_predefined(Name(b"Identity"));
    }
    let mut sorted = used.clone();
    sorted.sort_by_key(|(id, _, _)| *id);
    {
        let mut widths = cid.widths();
        for (id, _, width) in &sorted {
            widths.consecutive(*id, [*width]);
        }
    }
    cid.finish();

    let scale = |v: i16| f32::from(v) * 1000.0 / per_em;
    let bbox = face.global_bounding_box();
    let mut d = pdf.font_descriptor(descriptor);
    d.name(Name(base.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(bbox.x_min),
            scale(bbox.y_min),
            scale(bbox.x_max),
            scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(face.ascender()))
        .descent(scale(face.descender()))
        .cap_height(face.capital_height().map_or(700.0, scale))
        .stem_v(80.0);
    if cff {
        d.font_file3(file);
    } else {
        d.font_file2(file);
    }
    d.finish();
    let mut stream = pdf.stream(file, &subset);
    if cff {
        stream.pair(Name(b"Subtype"), Name(b"OpenType"));
    }
    stream.finish();

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system);
    for (id, c, _) in &used {
        cmap.pair(*id, *c);
    }
    pdf.cmap(to_unicode, &cmap.finish());

    let mut content = Content::new();
    content.begin_text();
    for run in &runs {
        let mut codes = Vec::with_capacity(run.text.len() * 2);
        for c in run.text.chars() {
            let glyph = face.glyph_index(c).map_or(0, |g| g.0);
            codes.extend_from_slice(&remapper.get(glyph).unwrap_or(0).to_be_bytes());
        }
        content
            .set_font(FONT, run.size)
            .set_text_matrix([1.0, 0.0, 0.0, 1.0, run.x, run.y])
            .show(Str(&codes));
    }
    content.end_text();
    let content = content.finish();
    pdf.stream(contents, &content);

    pdf.document_info(info)
        .title(pdf_writer::TextStr("志愿服务证明"))
        .producer(pdf_writer::TextStr("dualreport"));
    Ok(pdf.finish())
}

/// Lines of `text` no wider than `width`, the first `indent` narrower.
fn wrap(text: &str, width: f32, indent: f32, measure: impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        let room = if lines.is_empty() { width - indent } else { width };
        let mut next = line.clone();
        next.push(c);
        // Closing punctuation stays on the line it closes (避头).
        if measure(&next) > room && !line.is_empty() && !"，。；：、）".contains(c) {
            lines.push(std::mem::take(&mut line));
        }
        line.push(c);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn postscript_name(face: &ttf_parser::Face<'_>) -> String {
    face.names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
        .find_map(|n| n.to_string())
        .unwrap_or_else(|| "CJKFont".to_owned())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}
