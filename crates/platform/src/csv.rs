//! CSV as the suite exports it: UTF-8 with a byte-order mark (so spreadsheet
//! programs read the Chinese headers), CRLF lines, and cells that could be a
//! spreadsheet formula quoted away.

/// Starts every CSV file.
pub const BOM: &str = "\u{feff}";

/// Appends one line of `cells` to `out`.
pub fn line<'a>(cells: impl IntoIterator<Item = &'a str>, out: &mut String) {
    let cells: Vec<String> = cells.into_iter().map(cell).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// One cell: a leading `=`, `+`, `-` or `@` would be a formula in a
/// spreadsheet, so it gets a `'` first; a cell with a comma, quote or line
/// break is quoted.
pub fn cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}
