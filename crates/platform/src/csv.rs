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

/// One cell (RFC 4180): a leading `=`, `+`, `@` or `-` would be a formula in
/// a spreadsheet, so it gets a `'` first (a negative number stays a number);
/// a cell with a comma, quote or line break is quoted.
pub fn cell(value: &str) -> String {
    let formula = value.starts_with(['=', '+', '@']) || (value.starts_with('-') && value.parse::<i64>().is_err());
    let guarded = if formula { format!("'{value}") } else { value.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("扫雪, 清路"), "\"扫雪, 清路\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("-3"), "-3", "negative numbers stay numbers");
        assert_eq!(cell("-cmd"), "'-cmd");
        assert_eq!(cell("@x"), "'@x");
    }
}
