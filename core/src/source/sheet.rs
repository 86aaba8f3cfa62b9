//! Excel (xlsx, xlsm, xlsb, xls) and ODS workbooks, read through `calamine`:
//! one sheet, chosen by name, into a [`Table`] of values as a person sees them.
//!
//! Each number and date cell is shown through its own number format, read by
//! `styles` and rendered by `numfmt` with the connection's country
//! (`1 200,50 ₴`, `10%`, `05.12.2026 14:30`); the value behind it is kept as a
//! [`Typed`]. Cells with no format (General), or a format this does not
//! render, or a workbook whose formats cannot be read (xls, xlsb), fall back
//! to plain values: whole numbers without a decimal part (a phone saved as
//! the number 380671234567 stays `380671234567`, never `3.80671234567E+11`),
//! other numbers rounded to the 15 significant digits Excel shows, with the
//! country's decimal separator; dates as `YYYY-MM-DD` (with ` HH:MM`, and
//! `:SS` when there are seconds, when the cell has a time). Text stays as
//! typed (a number typed into a text cell included), booleans are
//! `TRUE`/`FALSE`, errors `#DIV/0!` and kin.
//!
//! Not here: formulas (their last saved values are used), merged cells (only
//! the top-left one has the value), conditional formats.

use std::io::Cursor;
use std::path::Path;
use std::sync::Arc;

use calamine::{Data, Reader, Sheets};
use chrono::NaiveDateTime;

use super::numfmt::{date_time_to_serial, general, serial_to_date_time, Format, Locale};
use super::styles::CellFormats;
use super::{build_table_of_rows, Error, Row, Table, Typed};

/// The workbook's bytes, read once so calamine and `styles` see the same file
/// even while it is being saved over.
type Bytes = Cursor<Arc<[u8]>>;

/// Reads sheet `sheet` of the workbook at `path`, showing numbers and dates
/// the way `locale` writes them.
pub(crate) fn read(path: &Path, sheet: &str, locale: &Locale) -> Result<Table, Error> {
    // Refused before a byte is read into memory.
    super::limits::check_workbook_file(path, sheet)?;
    let bytes: Arc<[u8]> = match std::fs::read(path) {
        Ok(bytes) => bytes.into(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Error::NotFound { path: path.to_owned() }),
        Err(source) => return Err(Error::Io { path: path.to_owned(), source }),
    };
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let mut workbook = open(Cursor::new(bytes.clone()), &extension).map_err(|e| workbook_error(path, e))?;
    let sheets = workbook.sheet_names();
    if !sheets.iter().any(|s| s == sheet) {
        return Err(Error::NoSuchSheet { path: path.to_owned(), sheet: sheet.to_owned(), sheets });
    }
    super::limits::check_used_range(path, &mut workbook, sheet)?;
    let range = workbook.worksheet_range(sheet).map_err(|e| workbook_error(path, e))?;
    let formats = CellFormats::read(&bytes, &extension, sheet, locale);
    // calamine's range starts at the first used cell; line numbers must be
    // the sheet's own row numbers, so offset by where it starts.
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let records = range.rows().enumerate().map(|(i, cells)| {
        let row = first_row + i as u32;
        let (cells, typed) = cells
            .iter()
            .enumerate()
            .map(|(j, cell)| shown(cell, formats.at(row, first_column + j as u32), locale))
            .unzip();
        Row { line: row as usize + 1, cells, typed }
    });
    match build_table_of_rows(path, records) {
        // An empty sheet is a workbook with a header-less sheet, not an empty file.
        Err(Error::Empty { .. }) => Ok(Table::default()),
        other => other,
    }
}

/// Opens the workbook as its extension says, as `calamine::open_workbook_auto`
/// does for a path (so its errors name the format), or by trying each format.
fn open(bytes: Bytes, extension: &str) -> Result<Sheets<Bytes>, calamine::Error> {
    use calamine::open_workbook_from_rs as from;
    Ok(match extension {
        "xls" | "xla" => Sheets::Xls(from(bytes).map_err(calamine::Error::Xls)?),
        "xlsx" | "xlsm" | "xlam" => Sheets::Xlsx(from(bytes).map_err(calamine::Error::Xlsx)?),
        "xlsb" => Sheets::Xlsb(from(bytes).map_err(calamine::Error::Xlsb)?),
        "ods" => Sheets::Ods(from(bytes).map_err(calamine::Error::Ods)?),
        _ => calamine::open_workbook_auto_from_rs(bytes)?,
    })
}

fn workbook_error(path: &Path, e: calamine::Error) -> Error {
    match e {
        calamine::Error::Io(source) if source.kind() == std::io::ErrorKind::NotFound => {
            Error::NotFound { path: path.to_owned() }
        }
        calamine::Error::Io(source) => Error::Io { path: path.to_owned(), source },
        other => Error::Workbook { path: path.to_owned(), reason: other.to_string() },
    }
}

/// A cell as the spreadsheet shows it, through its number format when it
/// has one, and the typed value behind it.
fn shown(cell: &Data, format: Option<&Format>, locale: &Locale) -> (String, Option<Typed>) {
    let through = |serial: f64| format.and_then(|f| f.render(serial, locale));
    match cell {
        Data::Float(_) | Data::Int(_) => {
            let value = match cell {
                Data::Int(i) => *i as f64,
                Data::Float(f) => *f,
                _ => unreachable!("matched above"),
            };
            // A date format on a plain number (calamine did not see it as one).
            let typed = match format.filter(|f| f.is_date()) {
                Some(_) => serial_to_date_time(value, 0).map(Typed::DateTime),
                None => Some(Typed::Number(value)),
            };
            (through(value).unwrap_or_else(|| general(value, locale)), typed)
        }
        Data::DateTime(d) if d.is_duration() => (through(d.as_f64()).unwrap_or_else(|| duration(d.as_f64())), None),
        Data::DateTime(d) => {
            let at = excel_date_time(d);
            // calamine knows the workbook's epoch (1900 or 1904); formats count from 1900.
            let serial = match at {
                Some(at) if d.as_f64() >= 1.0 => date_time_to_serial(at),
                _ => d.as_f64(),
            };
            let typed = at.filter(|_| d.as_f64() >= 1.0).map(Typed::DateTime);
            (through(serial).unwrap_or_else(|| date_time(d)), typed)
        }
        Data::DateTimeIso(s) => match parse_iso(s) {
            Some(at) => {
                (through(date_time_to_serial(at)).unwrap_or_else(|| iso_date_time(s)), Some(Typed::DateTime(at)))
            }
            None => (iso_date_time(s), None),
        },
        Data::DurationIso(s) => {
            let plain = iso_time(s);
            let seconds = iso_seconds(s);
            let text = seconds.and_then(|sec| through(f64::from(sec) / 86_400.0));
            (text.or(plain).unwrap_or_else(|| s.clone()), None)
        }
        other => (display(other), None),
    }
}

/// An ODS date value (`2026-12-05` or `2026-12-05T14:30:00`).
fn parse_iso(s: &str) -> Option<NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .or_else(|| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
}

/// An Excel date-time as calamine reads it (its own epoch), to the second.
fn excel_date_time(d: &calamine::ExcelDateTime) -> Option<NaiveDateTime> {
    let serial = d.as_f64();
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let seconds = (serial.fract() * 86_400.0).round() as i64;
    let (year, month, day, ..) = d.to_ymd_hms_milli();
    let date = chrono::NaiveDate::from_ymd_opt(year.into(), month.into(), day.into())?;
    date.and_hms_opt(0, 0, 0)?.checked_add_signed(chrono::Duration::seconds(seconds))
}

/// A cell with no number format to go through, as the spreadsheet shows it.
fn display(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Data::DateTime(d) if d.is_duration() => duration(d.as_f64()),
        Data::DateTime(d) => date_time(d),
        Data::DateTimeIso(s) => iso_date_time(s),
        Data::DurationIso(s) => iso_time(s).unwrap_or_else(|| s.clone()),
        Data::Error(e) => e.to_string(),
    }
}

/// A number as Excel's General format shows it, without its exponent form:
/// whole numbers (phones, order numbers) exactly, others to 15 significant
/// digits so `0.1 + 0.2` shows `0.3`.
pub(crate) fn number(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    // Below 2^53 every whole f64 is an exact integer, so the cast is lossless.
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        return format!("{}", f as i64);
    }
    let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    format!("{rounded}")
}

/// An Excel serial date-time as `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or,
/// for a time with no date, `HH:MM[:SS]`.
fn date_time(d: &calamine::ExcelDateTime) -> String {
    let serial = d.as_f64();
    if !(0.0..2_958_466.0).contains(&serial) {
        // Outside Excel's dates (years 1900 to 9999): show the number.
        return number(serial);
    }
    // Round to the second: 10:30 is stored as 0.4375 and often comes back as
    // 10:29:59.999. calamine keeps the workbook's 1900/1904 epoch private, so
    // the date comes from it and a carry past midnight is added here.
    let mut seconds = (serial.fract() * 86_400.0).round() as u32;
    let (year, month, day, ..) = d.to_ymd_hms_milli();
    let mut date = chrono::NaiveDate::from_ymd_opt(year.into(), month.into(), day.into());
    if seconds == 86_400 {
        seconds = 0;
        date = date.and_then(|d| d.succ_opt());
    }
    if serial < 1.0 {
        return clock(seconds);
    }
    // Excel's phantom 1900-02-29 has no real date: show the number.
    let Some(date) = date else { return number(serial) };
    let date = date.format("%Y-%m-%d");
    if seconds == 0 {
        date.to_string()
    } else {
        format!("{date} {}", clock(seconds))
    }
}

fn clock(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if s == 0 {
        format!("{h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// A duration (`[h]:mm:ss`) in days, as hours that may pass 24.
fn duration(days: f64) -> String {
    let seconds = (days * 86_400.0).round();
    let sign = if seconds < 0.0 { "-" } else { "" };
    let seconds = seconds.abs() as u64;
    format!("{sign}{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
}

/// ODS stores dates as ISO 8601 text; shown the same way as Excel dates.
fn iso_date_time(s: &str) -> String {
    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        let text = dt.format("%Y-%m-%d %H:%M").to_string();
        return match dt.format("%S").to_string().as_str() {
            "00" if text.ends_with("00:00") => dt.format("%Y-%m-%d").to_string(),
            "00" => text,
            _ => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
        };
    }
    s.to_owned()
}

/// ODS stores times of day as ISO 8601 durations (`PT10H30M00S`); shown as
/// a clock time like Excel's.
fn iso_time(s: &str) -> Option<String> {
    iso_seconds(s).map(clock)
}

/// The seconds of an ODS time (`PT10H30M00S`), when it is one that fits.
fn iso_seconds(s: &str) -> Option<u32> {
    let rest = s.strip_prefix("PT")?;
    let (h, rest) = rest.split_once('H')?;
    let (m, rest) = rest.split_once('M')?;
    let sec: f64 = rest.strip_suffix('S')?.parse::<f64>().ok()?.round();
    // A duration too long to count in seconds is shown as written.
    if !(0.0..=f64::from(u32::MAX)).contains(&sec) {
        return None;
    }
    let total = h
        .parse::<u32>()
        .ok()?
        .checked_mul(3600)?
        .checked_add(m.parse::<u32>().ok()?.checked_mul(60)?)?
        .checked_add(sec as u32)?;
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{ExcelDateTime, ExcelDateTimeType};

    fn excel_date(serial: f64) -> String {
        date_time(&ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false))
    }

    #[test]
    fn numbers_look_as_typed() {
        for (value, shown) in [
            (380671234567.0, "380671234567"),
            (12.5, "12.5"),
            (3.0, "3"),
            (-7.0, "-7"),
            (0.1 + 0.2, "0.3"),
            (1234.5678, "1234.5678"),
            (0.000125, "0.000125"),
        ] {
            assert_eq!(number(value), shown, "{value:?} shows as a person typed it");
        }
    }

    #[test]
    fn serial_dates_become_dates() {
        assert_eq!(excel_date(45943.0), "2025-10-13", "a date without a time");
        assert_eq!(excel_date(45943.5), "2025-10-13 12:00", "noon");
        assert_eq!(excel_date(45943.0 + 0.4375 - 1e-9), "2025-10-13 10:30", "rounded to the second, not 10:29:59");
        assert_eq!(excel_date(45943.0 + 12345.0 / 86_400.0), "2025-10-13 03:25:45", "seconds shown when there are any");
        assert_eq!(excel_date(45657.0 + 86_399.9 / 86_400.0), "2025-01-01", "rounding past midnight moves the day");
        assert_eq!(excel_date(0.75), "18:00", "a time with no date");
        assert_eq!(duration(1.5), "36:00:00", "durations count hours past a day");
    }

    #[test]
    fn ods_dates_read_the_same_way() {
        assert_eq!(iso_date_time("2025-10-13T00:00:00"), "2025-10-13", "midnight is a plain date");
        assert_eq!(iso_date_time("2025-10-13T09:05:00"), "2025-10-13 09:05", "a time without seconds");
        assert_eq!(iso_date_time("2025-10-13"), "2025-10-13", "a bare date is kept");
        assert_eq!(iso_time("PT10H30M00S").as_deref(), Some("10:30"), "a time of day");
        assert_eq!(iso_time("P1D"), None, "other durations are left as written");
        assert_eq!(iso_time("PT4294967295H00M00S"), None, "hours that overflow are left as written, not a panic");
        assert_eq!(iso_time("PT1H4294967295M00S"), None, "so are minutes");
        assert_eq!(iso_time("PT0H0M1e20S"), None, "and seconds");
        assert_eq!(iso_time("PT1193046H28M16S"), None, "and a total one second past the largest count");
        assert_eq!(iso_time("PT1193046H28M15S").as_deref(), Some("1193046:28:15"), "the largest one still shows");
    }
}
