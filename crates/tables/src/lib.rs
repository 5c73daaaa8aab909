//! The suite's table files (the seeds' 附录 tables, exports, imports): one
//! [`Table`] of typed cells, written as
//!
//! - **XLSX** by `rust_xlsxwriter`: numbers as numbers, dates as dates
//!   (`yyyy-mm-dd`), a bold frozen header row, and column widths fitted to
//!   the content (a CJK character counts twice);
//! - **CSV** by the `csv` crate: UTF-8 with a byte-order mark (so spreadsheet
//!   programs read the Chinese headers), CRLF lines, and one formula guard
//!   ([`guard`]) that keeps negative numbers numeric;
//!
//! and read back from either ([`read`]), for imports and for tests that
//! check what a file holds rather than its bytes.

use std::borrow::Cow;

/// Starts every CSV file.
pub const BOM: &str = "\u{feff}";

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// Hours and the like.
    Decimal(f64),
    /// A calendar day.
    Date {
        year: i32,
        month: u32,
        day: u32,
    },
    Empty,
}

impl Cell {
    /// The cell as text (CSV, and how [`read`] gives every cell back).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(s) => Cow::Borrowed(s),
            Cell::Integer(n) => Cow::Owned(n.to_string()),
            Cell::Decimal(x) => Cow::Owned(decimal(*x)),
            Cell::Date { year, month, day } => Cow::Owned(format!("{year:04}-{month:02}-{day:02}")),
            Cell::Empty => Cow::Borrowed(""),
        }
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_owned())
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Integer(value)
    }
}

impl From<i32> for Cell {
    fn from(value: i32) -> Self {
        Cell::Integer(i64::from(value))
    }
}

/// A number as text: no trailing `.0`, at most four decimals.
fn decimal(x: f64) -> String {
    let text = format!("{x:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_owned() } else { text.to_owned() }
}

/// A table: its sheet's name, the template's headers and its rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(sheet: &str, headers: &[&str]) -> Self {
        Self {
            sheet: sheet.to_owned(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    #[error("the file is not a spreadsheet this suite reads: {0}")]
    Unreadable(String),
}

/// A text cell that a spreadsheet would take for a formula (`=`, `+`, `@`,
/// `-`, a tab or a carriage return first) gets a `'` first; a negative
/// number stays a number.
pub fn guard(value: &str) -> Cow<'_, str> {
    let number = value.parse::<f64>().is_ok_and(f64::is_finite);
    let formula = value.starts_with(['=', '+', '@', '\t', '\r']) || (value.starts_with('-') && !number);
    if formula {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// Appends one CSV line of `cells` (guarded, quoted as RFC 4180 needs) to
/// `out`: for files streamed a page at a time (the audit export). Writing
/// into memory cannot fail, so there is no error to return.
pub fn csv_line<'a>(cells: impl IntoIterator<Item = &'a str>, out: &mut Vec<u8>) {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    // The csv crate fails only on its writer's I/O errors; a Vec has none.
    let _ = writer.write_record(cells.into_iter().map(|c| guard(c).into_owned()));
    let _ = writer.flush();
}

/// [`csv_line`] into text.
pub fn csv_line_text<'a>(cells: impl IntoIterator<Item = &'a str>, out: &mut String) {
    let mut bytes = Vec::new();
    csv_line(cells, &mut bytes);
    // Every cell was UTF-8, and the writer adds only ASCII.
    out.push_str(&String::from_utf8_lossy(&bytes));
}

/// The table as CSV: the BOM, the header line, one line per row.
pub fn csv(table: &Table) -> Vec<u8> {
    let mut out = BOM.as_bytes().to_vec();
    csv_line(table.headers.iter().map(String::as_str), &mut out);
    for row in &table.rows {
        let cells: Vec<Cow<'_, str>> = row.iter().map(Cell::text).collect();
        csv_line(cells.iter().map(|c| c.as_ref()), &mut out);
    }
    out
}

/// The display width of a cell's text: a CJK (wide) character counts twice.
fn width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    if cleaned.is_empty() {
        "Sheet1".to_owned()
    } else {
        cleaned
    }
}

/// The table as an XLSX workbook of one sheet.
pub fn xlsx(table: &Table) -> Result<Vec<u8>, Error> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.sheet))?;
    let bold = Format::new().set_bold();
    let day = Format::new().set_num_format("yyyy-mm-dd");
    let mut widths: Vec<usize> = table.headers.iter().map(|h| width(h)).collect();
    for (c, header) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col(c), header, &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, cell) in row.iter().enumerate() {
            let at = col(c);
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, at, s)?;
                }
                Cell::Integer(n) => {
                    // Exact in a double up to 2^53: counts, points, hours.
                    #[allow(clippy::cast_precision_loss)]
                    sheet.write_number(r, at, *n as f64)?;
                }
                Cell::Decimal(x) => {
                    sheet.write_number(r, at, *x)?;
                }
                Cell::Date { year, month, day: d } => {
                    let date = ExcelDateTime::from_ymd(
                        u16::try_from(*year).unwrap_or(1900),
                        u8::try_from(*month).unwrap_or(1),
                        u8::try_from(*d).unwrap_or(1),
                    )?;
                    sheet.write_datetime_with_format(r, at, &date, &day)?;
                }
                Cell::Empty => {}
            }
            if widths.len() <= c {
                widths.resize(c + 1, 0);
            }
            widths[c] = widths[c].max(width(&cell.text()));
        }
    }
    for (c, w) in widths.iter().enumerate() {
        // A little room, never a column wider than a screen's third.
        #[allow(clippy::cast_precision_loss)]
        sheet.set_column_width(col(c), (*w + 2).min(60) as f64)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(workbook.save_to_buffer()?)
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// The rows of a CSV (UTF-8, with or without a BOM) or XLSX file (its first
/// sheet), header first, every cell as text: numbers without a trailing
/// `.0`, dates as `YYYY-MM-DD`. Which one it is, the bytes say (an XLSX is
/// a ZIP).
pub fn read(bytes: &[u8]) -> Result<Vec<Vec<String>>, Error> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Vec<String>>, Error> {
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Vec<String>>, Error> {
    use calamine::{Data, Reader, Xlsx};
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| Error::Unreadable(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| Error::Unreadable("the workbook has no sheet".into()))?
        .map_err(|e| Error::Unreadable(e.to_string()))?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Int(n) => n.to_string(),
                    Data::Float(x) => decimal(*x),
                    Data::Bool(b) => b.to_string(),
                    Data::DateTime(dt) => serial_day(dt.as_f64()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                    Data::Error(e) => format!("{e:?}"),
                })
                .collect()
        })
        .collect())
}

/// An Excel day serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn serial_day(serial: f64) -> String {
    // Days since 1970-01-01, then the civil date (Howard Hinnant's algorithm).
    #[allow(clippy::cast_possible_truncation)]
    let days = serial.floor() as i64 - 25_569;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let mut t = Table::new("附录F", &["序号", "姓名", "积分", "服务时长", "日期"]);
        t.push(vec![
            Cell::Integer(1),
            "张三, 李四".into(),
            Cell::Integer(-3),
            Cell::Decimal(1.5),
            Cell::Date {
                year: 2026,
                month: 3,
                day: 9,
            },
        ]);
        t.push(vec![
            Cell::Integer(2),
            "=SUM(A1)".into(),
            Cell::Integer(12),
            Cell::Decimal(2.0),
            Cell::Empty,
        ]);
        t
    }

    #[test]
    fn the_guard_keeps_numbers_and_stops_formulas() {
        assert_eq!(guard("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(guard("-3"), "-3", "a negative number stays a number");
        assert_eq!(guard("-2.5"), "-2.5");
        assert_eq!(guard("-cmd"), "'-cmd");
        assert_eq!(guard("+1 555"), "'+1 555");
        assert_eq!(guard("@x"), "'@x");
        assert_eq!(guard("\tx"), "'\tx");
        assert_eq!(guard("扫雪"), "扫雪");
    }

    #[test]
    fn csv_has_a_bom_crlf_quotes_and_guards() {
        let bytes = csv(&table());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("\u{feff}序号,姓名,积分,服务时长,日期\r\n"), "{text}");
        assert!(text.contains("1,\"张三, 李四\",-3,1.5,2026-03-09\r\n"), "{text}");
        assert!(text.contains("2,'=SUM(A1),12,2,\r\n"), "{text}");
        let back = read(&bytes).unwrap();
        assert_eq!(back[1], vec!["1", "张三, 李四", "-3", "1.5", "2026-03-09"]);
    }

    #[test]
    fn xlsx_keeps_numbers_as_numbers_and_dates_as_dates() {
        let bytes = xlsx(&table()).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
        let rows = read(&bytes).unwrap();
        assert_eq!(rows[0], vec!["序号", "姓名", "积分", "服务时长", "日期"]);
        assert_eq!(rows[1], vec!["1", "张三, 李四", "-3", "1.5", "2026-03-09"]);
        // A formula-like text is stored as text, never evaluated.
        assert_eq!(rows[2][1], "=SUM(A1)");
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        assert!(
            matches!(range.get((1, 2)), Some(Data::Float(x)) if (*x + 3.0).abs() < 1e-9),
            "a number"
        );
        assert!(matches!(range.get((1, 4)), Some(Data::DateTime(_))), "a date");
        assert_eq!(book.sheet_names(), vec!["附录F".to_owned()]);
    }

    #[test]
    fn serial_days_are_civil_dates() {
        assert_eq!(serial_day(45_000.0), "2023-03-15");
        assert_eq!(serial_day(25_569.0), "1970-01-01");
        assert_eq!(sheet_name("a/b:c[1]"), "abc1");
    }
}
