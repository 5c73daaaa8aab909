//! CSV as the suite exports it, through the suite's one CSV writer and
//! formula guard (`dualreport-tables`): UTF-8 with a byte-order mark (so
//! spreadsheet programs read the Chinese headers), CRLF lines, and cells that
//! could be a spreadsheet formula quoted away (a negative number stays a number).

pub use dualreport_tables::BOM;

/// Appends one line of `cells` to `out`.
pub fn line<'a>(cells: impl IntoIterator<Item = &'a str>, out: &mut String) {
    dualreport_tables::csv_line_text(cells, out);
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        let mut out = String::new();
        line(["扫雪, 清路", "say \"hi\"", "=SUM(A1)", "-3", "-cmd", "@x"], &mut out);
        assert_eq!(out, "\"扫雪, 清路\",\"say \"\"hi\"\"\",'=SUM(A1),-3,'-cmd,'@x\r\n");
    }
}
