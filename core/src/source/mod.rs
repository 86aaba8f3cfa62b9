//! Data sources: where rows come from, read as a [`Table`] of strings as a
//! person sees them.
//!
//! - [`SourceSpec`]: which source a connection reads (`{"type": "csv", …}`).
//! - [`read`]: one read of a source, into a [`Table`].
//! - `csv`: CSV/TSV files, delimiter and encoding detected.
//! - `sheet`: Excel and ODS workbooks, one sheet by name; `styles` reads each
//!   cell's number format and `numfmt` shows the value through it.
//! - [`rows`]: which rows of a read are new (pure; persisted by `store`).
//! - `google`: a tab of a Google spreadsheet, through the Sheets API or its CSV export.
//!
//! Not here: phone numbers, templates, sending. Readers never decide what is new, and
//! never write to the store.

mod csv;
pub mod google;
mod limits;
mod numfmt;
pub mod rows;
mod sheet;
mod styles;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A source read at one moment: a header row naming the fields, then the data
/// rows, every value a string as displayed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// The header row, in source order: trimmed, non-empty and unique.
    pub headers: Vec<String>,
    /// The data rows, in source order. Blank rows are left out (their lines
    /// still count in [`Row::line`]).
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    /// Where the row is in the source, 1-based, counting the header as line 1:
    /// what the user sees as the row number in a spreadsheet. For a CSV it is
    /// the text line the record starts on (the same unless a quoted value
    /// spans lines).
    pub line: usize,
    /// One value per header (ragged rows are padded with empty strings).
    pub cells: Vec<String>,
    /// The typed value behind each cell, where the source has one (Excel and
    /// ODS number and date cells); empty for CSV and Google. Read it with
    /// [`Row::typed`].
    pub typed: Vec<Option<Typed>>,
}

/// The value a workbook stores behind a cell's text, for what compares
/// values rather than text (conditions, reminders): `1 200,50 ₴` is
/// `Number(1200.5)`, `10%` is `Number(0.1)`, `05.12.2026 14:30` is that
/// `DateTime`. A time of day alone, text, booleans and errors have none.
#[derive(Debug, Clone, Copy)]
pub enum Typed {
    /// A number, as stored (before percent, rounding or currency).
    Number(f64),
    /// A date (at midnight) or a date and time, to the second.
    DateTime(chrono::NaiveDateTime),
}

// Equal when bit-for-bit equal, so a row can still be compared whole (`Eq`).
impl PartialEq for Typed {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Typed::Number(a), Typed::Number(b)) => a.to_bits() == b.to_bits(),
            (Typed::DateTime(a), Typed::DateTime(b)) => a == b,
            _ => false,
        }
    }
}
impl Eq for Typed {}

impl Table {
    /// The index of the column whose header is exactly `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// `row`'s value in the column named `name`; empty when the row is short.
    pub fn value<'a>(&self, row: &'a Row, name: &str) -> Option<&'a str> {
        self.column(name).map(|i| row.cells.get(i).map(String::as_str).unwrap_or(""))
    }
}

impl Table {
    /// Whether the source has its header row but no data row under it yet.
    /// That is the normal state of a brand-new order sheet, so reading it is
    /// not an error; only what needs a row to work with (a test send, a
    /// preview) says so, with [`SourceSpec::no_rows_yet`].
    pub fn is_header_only(&self) -> bool {
        !self.headers.is_empty() && self.rows.iter().all(Row::is_blank)
    }
}

impl Row {
    /// Whether every cell is empty or whitespace: such rows are never data.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }

    /// The typed value of the cell in `column` (an index into the headers):
    /// `None` for text, empty cells, and every cell of a CSV or Google source.
    pub fn typed(&self, column: usize) -> Option<&Typed> {
        self.typed.get(column).and_then(Option::as_ref)
    }

    /// The text that identifies the cell in `column` for new-row detection
    /// (an ID column's value, a fingerprint's part): the trimmed text, except
    /// that a workbook number or date is taken by its value, in the plain form
    /// Sendrow showed before it honoured number formats (`1200.5`,
    /// `2026-12-05 14:30`). So changing a cell's display format, or Sendrow
    /// starting to show it, never makes a row seen before look new.
    pub fn identity(&self, column: usize) -> std::borrow::Cow<'_, str> {
        match self.typed(column) {
            Some(Typed::Number(n)) => sheet::number(*n).into(),
            Some(Typed::DateTime(at)) => {
                use chrono::Timelike;
                let shape = match (at.hour(), at.minute(), at.second()) {
                    (0, 0, 0) => "%Y-%m-%d",
                    (_, _, 0) => "%Y-%m-%d %H:%M",
                    _ => "%Y-%m-%d %H:%M:%S",
                };
                at.format(shape).to_string().into()
            }
            None => self.cells.get(column).map_or("", |c| c.trim()).into(),
        }
    }
}

/// Which source a connection reads, as written in the connection spec
/// (`docs/connection-spec.md`). Each kind of source is one variant; [`read`] dispatches on
/// it, so a new kind is a new variant, a new module and one match arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceSpec {
    /// A CSV or TSV file: `{"type": "csv", "path": "orders.csv"}`.
    Csv {
        /// The file.
        path: PathBuf,
    },
    /// One sheet of an Excel (xlsx, xlsm, xlsb, xls) or ODS workbook:
    /// `{"type": "xlsx", "path": "orders.xlsx", "sheet": "Orders"}`.
    Xlsx {
        /// The workbook; its extension says which format it is.
        path: PathBuf,
        /// The sheet's name as shown on its tab.
        sheet: String,
    },
    /// A tab of a Google spreadsheet:
    /// `{"type": "google_sheets", "spreadsheet": "<URL or ID>", "sheet": 0, "auth": {"mode": "public_csv"}}`.
    GoogleSheets {
        /// The spreadsheet's URL or ID.
        spreadsheet: String,
        /// The tab: its gid (stable when the tab is renamed), or its title,
        /// which saving a connection turns into the gid; when absent, the
        /// gid in the URL, else the first tab (gid 0).
        #[serde(default)]
        sheet: Option<GoogleTab>,
        /// How Sendrow signs in to read it.
        auth: google::GoogleAuth,
    },
}

/// A Google tab as a connection spec names it. Stored connections hold the
/// gid, which survives renames; a title is accepted when saving (`"sheet":
/// "Orders"`) and looked up then, through the Sheets API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum GoogleTab {
    /// The tab's gid (`sheetId`, the number after `#gid=` in its address).
    Gid(u32),
    /// The tab's title as shown on it.
    Title(String),
}

impl<'de> Deserialize<'de> for GoogleTab {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = GoogleTab;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the tab's gid (the number after #gid= in its address) or its title, e.g. \"Orders\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<GoogleTab, E> {
                u32::try_from(v)
                    .map(GoogleTab::Gid)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GoogleTab, E> {
                Ok(GoogleTab::Title(v.to_owned()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// What reading a Google source needs beyond its spec: the keychain (tokens,
/// keys), where Google's endpoints are, and the OAuth client when signing in
/// as a user.
#[derive(Clone, Default)]
pub struct GoogleAccess {
    /// Where tokens and keys are kept; `None` when Google is not set up.
    pub secrets: Option<std::sync::Arc<dyn crate::secrets::SecretStore>>,
    /// Google's endpoints (configurable so tests use a local fake).
    pub endpoints: google::GoogleEndpoints,
    /// The OAuth client for `"mode": "oauth"`.
    pub oauth_client: Option<google::OAuthClient>,
}

impl SourceSpec {
    /// The spec with a relative file path taken as relative to `dir` (the
    /// folder of the connection spec file, say) rather than to wherever the
    /// process happens to run.
    pub fn relative_to(mut self, dir: &Path) -> SourceSpec {
        match &mut self {
            SourceSpec::Csv { path } | SourceSpec::Xlsx { path, .. } => {
                if path.is_relative() {
                    *path = dir.join(&*path);
                }
            }
            SourceSpec::GoogleSheets { .. } => {}
        }
        self
    }

    /// The source as the user knows it, for messages: «orders.csv», the sheet
    /// «Orders» of «orders.xlsx», or the Google sheet's tab by gid (its title
    /// is only known after a read).
    pub fn describe(&self) -> String {
        let name = |path: &Path| path.file_name().unwrap_or(path.as_os_str()).to_string_lossy().into_owned();
        match self {
            SourceSpec::Csv { path } => format!("«{}»", name(path)),
            SourceSpec::Xlsx { path, sheet } => format!("the sheet «{sheet}» of «{}»", name(path)),
            SourceSpec::GoogleSheets { sheet: Some(GoogleTab::Title(title)), .. } => {
                format!("the Google sheet's tab «{title}»")
            }
            SourceSpec::GoogleSheets { spreadsheet, sheet, .. } => {
                let gid = match sheet {
                    Some(GoogleTab::Gid(gid)) => Some(*gid),
                    _ => google::parse_spreadsheet(spreadsheet).ok().and_then(|link| link.gid),
                };
                format!("the Google sheet's tab with gid {}", gid.unwrap_or(0))
            }
        }
    }

    /// The error for something that needs a data row (`to` says what, e.g.
    /// "send a test") when the source has only its header row.
    pub fn no_rows_yet(&self, to: &'static str) -> Error {
        Error::NoRowsYet { source_name: self.describe(), to }
    }

    /// The local file the source reads, if it is one (for watching it).
    pub fn file(&self) -> Option<&Path> {
        match self {
            SourceSpec::Csv { path } | SourceSpec::Xlsx { path, .. } => Some(path),
            SourceSpec::GoogleSheets { .. } => None,
        }
    }
}

/// Reads a file source once (a Google source needs [`read_with`]). File reads
/// run on tokio's blocking pool, so this may be awaited from the scheduler
/// without stalling other connections.
pub async fn read(spec: &SourceSpec) -> Result<Table, Error> {
    read_with(spec, &GoogleAccess::default()).await
}

/// Reads any source once, showing workbook numbers and dates as in Ukraine
/// (the connection spec's default country); see [`read_in`].
pub async fn read_with(spec: &SourceSpec, google: &GoogleAccess) -> Result<Table, Error> {
    read_in(spec, google, "UA").await
}

/// Reads any source once. A workbook carries no locale, so its numbers and
/// dates are shown with the separators and short date of `country` (the
/// connection's `default_country`, e.g. `UA`: `1 200,50`, `05.12.2026`).
pub async fn read_in(spec: &SourceSpec, google: &GoogleAccess, country: &str) -> Result<Table, Error> {
    let (path, sheet) = match spec {
        SourceSpec::Csv { path } => (path.clone(), None),
        SourceSpec::Xlsx { path, sheet } => (path.clone(), Some(sheet.clone())),
        SourceSpec::GoogleSheets { spreadsheet, sheet, auth } => {
            let reader = google_reader(auth, google)?;
            let sheet = google_sheet(&reader, spreadsheet, sheet.as_ref()).await?;
            return Ok(reader.read(&sheet).await?);
        }
    };
    let file = path.clone();
    let locale = numfmt::Locale::of_country(country);
    let task = tokio::task::spawn_blocking(move || match sheet {
        None => csv::read(&file),
        Some(sheet) => sheet::read(&file, &sheet, &locale),
    });
    // The readers return errors rather than panic; a join error means a bug in
    // a library, which is still reported against the file rather than crashing.
    task.await.map_err(|e| Error::Io { path, source: std::io::Error::other(e.to_string()) })?
}

/// The spec with a Google tab named by title turned into its gid, looked up
/// through the Sheets API (what saving a connection stores); any other spec
/// as it is.
pub async fn with_tab_gid(spec: SourceSpec, google: &GoogleAccess) -> Result<SourceSpec, Error> {
    match spec {
        SourceSpec::GoogleSheets { spreadsheet, sheet: Some(GoogleTab::Title(title)), auth } => {
            let reader = google_reader(&auth, google)?;
            let found = google_sheet(&reader, &spreadsheet, Some(&GoogleTab::Title(title))).await?;
            Ok(SourceSpec::GoogleSheets { spreadsheet, sheet: Some(GoogleTab::Gid(found.gid)), auth })
        }
        other => Ok(other),
    }
}

fn google_reader(auth: &google::GoogleAuth, google: &GoogleAccess) -> Result<google::Reader, Error> {
    let secrets =
        google.secrets.clone().ok_or(Error::Google(google::Error::NotConnected { account: "Google".into() }))?;
    Ok(google::Reader::new(auth.clone(), secrets, google.oauth_client.clone()).with_endpoints(google.endpoints.clone()))
}

/// The tab a spec names: its gid, else the tab titled so, else the gid in the
/// pasted address, else the first tab (gid 0).
async fn google_sheet(
    reader: &google::Reader,
    spreadsheet: &str,
    sheet: Option<&GoogleTab>,
) -> Result<google::SheetRef, google::Error> {
    let link = google::parse_spreadsheet(spreadsheet)?;
    let gid = match sheet {
        Some(GoogleTab::Gid(gid)) => *gid,
        Some(GoogleTab::Title(title)) => reader.tab_titled(&link.spreadsheet_id, title).await?.gid,
        None => link.gid.unwrap_or(0),
    };
    Ok(google::SheetRef { spreadsheet_id: link.spreadsheet_id, gid })
}

/// Why a source could not be read. Every message names the file and says
/// what to do; [`Error::is_transient`] tells the scheduler which ones to retry
/// quietly on the next run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file does not exist.
    #[error("the file {} does not exist: check the path in the connection, or whether the file was moved or renamed", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but could not be read (locked, no permission, …).
    #[error("cannot read {}: {source}; if another program has it open exclusively, close it or save a copy elsewhere", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file was caught half-written; nothing was taken from it.
    // Shown while saving a connection as well as by runs, so it promises no
    // "next run" that may not exist.
    #[error("{} looks half-saved ({reason}), so nothing was read from it: wait until the program writing it has finished saving, then try again (a scheduled run simply reads it again next time)", path.display())]
    Incomplete {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The file has no bytes, or no header row.
    #[error("{} is empty: it needs at least a header row naming the columns", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file is not text (an image, a zip, a workbook saved as .csv, …).
    #[error("{} is not a text file{hint}: export the data as CSV, or use the right source type", path.display())]
    Binary {
        /// The file.
        path: PathBuf,
        /// What it seems to be instead, when that is recognisable (starts with ", ").
        hint: String,
    },
    /// Text in an encoding Sendrow does not read.
    #[error("{} is in an encoding Sendrow does not read ({guess}): save it as \"CSV UTF-8\" (or Windows-1251 / UTF-16)", path.display())]
    UnknownEncoding {
        /// The file.
        path: PathBuf,
        /// What it looked like.
        guess: String,
    },
    /// Two columns have the same header.
    #[error("{}: columns {first} and {second} are both named {name:?}; rename one so each column has its own name", path.display())]
    DuplicateHeader {
        /// The file.
        path: PathBuf,
        /// The repeated name.
        name: String,
        /// 1-based position of the first column with it.
        first: usize,
        /// 1-based position of the second.
        second: usize,
    },
    /// A column has values but no header.
    #[error("{}: column {column} has a value on line {line} but no header name; name the column in the header row (in a CSV, a value that contains the delimiter must be in quotes)", path.display())]
    UnnamedColumn {
        /// The file.
        path: PathBuf,
        /// 1-based column.
        column: usize,
        /// The first line with a value there.
        line: usize,
    },
    /// The CSV could not be parsed.
    #[error("{}: cannot read line {line}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Where.
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// Too big to read safely: reading it could exhaust the memory.
    #[error("{} is too big to read safely: {size}, more than Sendrow's limit of {limit}; {advice}", path.display())]
    TooBig {
        /// The file.
        path: PathBuf,
        /// How big it is (bytes, or the sheet's used range).
        size: String,
        /// The limit it passed.
        limit: String,
        /// What to do.
        advice: &'static str,
    },
    /// The workbook has no sheet of that name.
    #[error("{} has no sheet named {sheet:?}; its sheets are: {}", path.display(), list(sheets))]
    NoSuchSheet {
        /// The workbook.
        path: PathBuf,
        /// The name asked for.
        sheet: String,
        /// The names it has.
        sheets: Vec<String>,
    },
    /// The workbook could not be opened or parsed.
    #[error("cannot read the workbook {}: {reason}; open it in Excel or LibreOffice and save it again as .xlsx or .ods", path.display())]
    Workbook {
        /// The workbook.
        path: PathBuf,
        /// What calamine said.
        reason: String,
    },
    /// The source has its header row but no data row, and something needs one.
    #[error("{source_name} has column names but no rows under them yet — add a row to {to}")]
    NoRowsYet {
        /// The source as the user knows it ([`SourceSpec::describe`]).
        source_name: String,
        /// What the row is needed for, e.g. "send a test".
        to: &'static str,
    },
    /// Reading a Google spreadsheet failed; the text says what to do.
    #[error(transparent)]
    Google(#[from] google::Error),
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}

impl Error {
    /// Whether reading again later is likely to work with nothing changed by
    /// the user: the file was being saved.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Incomplete { .. } => true,
            Error::Google(e) => e.is_transient(),
            _ => false,
        }
    }
}

/// Turns raw records into a [`Table`], naming `path` in any error; see [`assemble`].
pub(crate) fn build_table(
    path: &Path,
    records: impl IntoIterator<Item = (usize, Vec<String>)>,
) -> Result<Table, Error> {
    build_table_of_rows(path, records.into_iter().map(|(line, cells)| Row { line, cells, typed: Vec::new() }))
}

/// [`build_table`] for rows that may carry typed values, kept in step with
/// their cells.
pub(crate) fn build_table_of_rows(path: &Path, records: impl IntoIterator<Item = Row>) -> Result<Table, Error> {
    assemble_rows(records).map_err(|shape| match shape {
        Shape::NoHeader => Error::Empty { path: path.to_owned() },
        Shape::DuplicateHeader { name, first, second } => {
            Error::DuplicateHeader { path: path.to_owned(), name, first, second }
        }
        Shape::UnnamedColumn { column, line } => Error::UnnamedColumn { path: path.to_owned(), column, line },
    })
}

/// What keeps records from being a table, before it is known which source
/// they came from: each kind of source words it for its own users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No non-blank record at all, so no header row.
    NoHeader,
    /// Two columns have the same header (1-based positions).
    DuplicateHeader { name: String, first: usize, second: usize },
    /// A value sits in a column with no header (1-based column, its line).
    UnnamedColumn { column: usize, line: usize },
}

/// Turns raw records into a [`Table`]: the first non-blank record is the
/// header, trimmed; blank records are dropped (their lines still count); rows
/// are padded to the header; columns with no header are dropped when empty and
/// refused when they hold a value (it would otherwise vanish unseen); two
/// columns with the same header are refused. `records` yields `(line, cells)`.
/// Every source goes through here, so all of them agree on what a table is.
pub(crate) fn assemble(records: impl IntoIterator<Item = (usize, Vec<String>)>) -> Result<Table, Shape> {
    assemble_rows(records.into_iter().map(|(line, cells)| Row { line, cells, typed: Vec::new() }))
}

/// [`assemble`] for rows that may carry typed values: they are dropped and
/// padded along with their cells.
fn assemble_rows(records: impl IntoIterator<Item = Row>) -> Result<Table, Shape> {
    let mut records = records.into_iter().filter(|r| !r.is_blank());
    let Some(Row { cells: raw_headers, .. }) = records.next() else {
        return Err(Shape::NoHeader);
    };
    let mut headers: Vec<String> = raw_headers.iter().map(|h| h.trim().to_owned()).collect();
    let mut rows: Vec<Row> = records.collect();

    let width = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0).max(headers.len());
    headers.resize(width, String::new());
    let unnamed: Vec<usize> = (0..width).filter(|&i| headers[i].is_empty()).collect();
    // One pass over the cells, not one per unnamed column: the leftmost such
    // column with a value, at its first line (rows come in order, so a column
    // is first met on its first line with a value).
    if !unnamed.is_empty() {
        let mut found: Option<(usize, usize)> = None;
        for row in &rows {
            for (i, cell) in row.cells.iter().enumerate() {
                let left_of_found = match found {
                    Some((column, _)) => i < column,
                    None => true,
                };
                if left_of_found && headers[i].is_empty() && !cell.trim().is_empty() {
                    found = Some((i, row.line));
                }
            }
        }
        if let Some((i, line)) = found {
            return Err(Shape::UnnamedColumn { column: i + 1, line });
        }
    }
    // Linear in the columns: a sheet may have thousands of them.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::with_capacity(width);
    for (second, name) in headers.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(name.as_str(), second) {
            return Err(Shape::DuplicateHeader { name: name.clone(), first: first + 1, second: second + 1 });
        }
    }
    if !unnamed.is_empty() {
        let keep: Vec<bool> = headers.iter().map(|h| !h.is_empty()).collect();
        headers.retain(|h| !h.is_empty());
        for row in &mut rows {
            let mut i = 0;
            row.cells.retain(|_| {
                i += 1;
                keep.get(i - 1).copied().unwrap_or(false)
            });
            let mut i = 0;
            row.typed.retain(|_| {
                i += 1;
                keep.get(i - 1).copied().unwrap_or(false)
            });
        }
    }
    for row in &mut rows {
        row.cells.resize(headers.len(), String::new());
        if !row.typed.is_empty() {
            row.typed.resize(headers.len(), None);
        }
    }
    Ok(Table { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: usize, cells: &[&str]) -> (usize, Vec<String>) {
        (line, cells.iter().map(|c| c.to_string()).collect())
    }

    #[test]
    fn spec_reads_the_json_of_the_connection_spec() {
        let csv: SourceSpec = serde_json::from_str(r#"{"type":"csv","path":"orders.csv"}"#).unwrap();
        assert_eq!(csv, SourceSpec::Csv { path: "orders.csv".into() }, "the csv form of §7");
        let xlsx: SourceSpec = serde_json::from_str(r#"{"type":"xlsx","path":"o.ods","sheet":"Замовлення"}"#).unwrap();
        assert_eq!(xlsx, SourceSpec::Xlsx { path: "o.ods".into(), sheet: "Замовлення".into() }, "ods goes by xlsx");
        let typo = serde_json::from_str::<SourceSpec>(r#"{"type":"csv","path":"a.csv","sheeet":"x"}"#);
        assert!(typo.is_err(), "an unknown key is refused rather than ignored");
        let round = serde_json::to_value(&xlsx).unwrap();
        assert_eq!(round["type"], "xlsx", "it writes the same form back");
    }

    #[test]
    fn a_google_tab_is_a_gid_or_a_title() {
        let tab = |json: &str| serde_json::from_str::<GoogleTab>(json);
        assert_eq!(tab("123456789").unwrap(), GoogleTab::Gid(123456789), "a gid, as specs always had it");
        assert_eq!(tab("\"Orders\"").unwrap(), GoogleTab::Title("Orders".into()), "a title");
        assert_eq!(tab("\"2024\"").unwrap(), GoogleTab::Title("2024".into()), "a title that looks like a number");
        for bad in ["-1", "4294967296", "1.5", "true", "[]"] {
            let err = tab(bad).expect_err(bad).to_string();
            assert!(err.contains("the tab's gid (the number after #gid="), "{bad} says what is accepted: {err}");
        }
        assert_eq!(serde_json::to_string(&GoogleTab::Gid(7)).unwrap(), "7", "a gid is written back as a number");
    }

    #[test]
    fn relative_paths_are_taken_from_the_given_folder() {
        let spec = SourceSpec::Csv { path: "orders.csv".into() }.relative_to(Path::new("/data"));
        assert_eq!(spec, SourceSpec::Csv { path: "/data/orders.csv".into() }, "joined to the folder");
        let abs = SourceSpec::Csv { path: "/x/o.csv".into() }.relative_to(Path::new("/data"));
        assert_eq!(abs, SourceSpec::Csv { path: "/x/o.csv".into() }, "absolute paths are kept");
    }

    #[test]
    fn ragged_rows_are_padded_and_blank_rows_dropped() {
        let t = build_table(
            Path::new("f"),
            [rec(1, &[" Name ", "Phone", ""]), rec(2, &["Anna"]), rec(3, &["", " "]), rec(4, &["Bo", "1", ""])],
        )
        .unwrap();
        assert_eq!(t.headers, ["Name", "Phone"], "headers trimmed, the empty trailing one dropped");
        assert_eq!(t.rows.len(), 2, "the blank line 3 is not a row");
        assert_eq!(t.rows[0].cells, ["Anna", ""], "the short row is padded");
        assert_eq!(t.rows[1].line, 4, "lines keep counting across the blank row");
    }

    #[test]
    fn a_value_without_a_header_is_refused() {
        let err = build_table(Path::new("f.csv"), [rec(1, &["A", "B"]), rec(2, &["1", "2", "3"])]).unwrap_err();
        assert!(matches!(err, Error::UnnamedColumn { column: 3, line: 2, .. }), "names column and line: {err:?}");
    }

    #[test]
    fn duplicate_headers_are_named() {
        let err = build_table(Path::new("f.csv"), [rec(1, &["Phone", "Name", "Phone"])]).unwrap_err();
        assert!(matches!(err, Error::DuplicateHeader { first: 1, second: 3, .. }), "both positions: {err:?}");
        assert!(err.to_string().contains("\"Phone\""), "the message names the header: {err}");
    }
}
