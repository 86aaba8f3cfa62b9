//! Sources end to end: real files read by the real readers, new rows detected
//! and committed to a real SQLite store in a temp folder. Each scenario is a
//! sequence of file states; after each, exactly the genuinely new rows must
//! come out, and no row may come out twice over the whole sequence. The
//! scenarios run on a CSV file and on an .xlsx workbook alike (the
//! `csv::` and `xlsx::` tests): the same steps through two readers.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::MemorySecrets;
use sendrow_core::source::rows::{Observation, Outcome, Pause, RowKey, Rules, StartFrom};
use sendrow_core::source::{self, Error, SourceSpec};
use sendrow_core::store::observe;
use sendrow_core::store::{self, Store};
use sendrow_core::Core;

/// The kind of file a scenario saves its states as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csv,
    Xlsx,
}

impl Kind {
    fn file_name(self) -> &'static str {
        match self {
            Kind::Csv => "orders.csv",
            Kind::Xlsx => "orders.xlsx",
        }
    }

    fn spec(self, path: PathBuf) -> SourceSpec {
        match self {
            Kind::Csv => SourceSpec::Csv { path },
            Kind::Xlsx => SourceSpec::Xlsx { path, sheet: "Orders".into() },
        }
    }

    /// Saves a header and lines of comma-separated cells (no quoting): a CSV
    /// file as written, or a workbook with one cell per value on the sheet
    /// "Orders", each line on its own row so blank lines stay blank rows.
    fn save(self, path: &Path, header: &str, lines: &[&str]) {
        match self {
            Kind::Csv => {
                let mut text = format!("{header}\r\n");
                for line in lines {
                    text.push_str(line);
                    text.push_str("\r\n");
                }
                std::fs::write(path, text).unwrap();
            }
            Kind::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                let sheet = book.add_worksheet().set_name("Orders").unwrap();
                for (row, line) in std::iter::once(&header).chain(lines).enumerate() {
                    for (column, value) in line.split(',').enumerate().filter(|(_, v)| !v.is_empty()) {
                        sheet.write_string(row as u32, column as u16, value).unwrap();
                    }
                }
                book.save(path).unwrap();
            }
        }
    }
}

/// Runs each scenario (an `async fn(Kind)`) as one test per kind of file.
macro_rules! on_csv_and_xlsx {
    ($($scenario:ident),* $(,)?) => {
        mod csv {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(super::Kind::Csv).await
            })*
        }
        mod xlsx {
            $(#[tokio::test]
            async fn $scenario() {
                super::$scenario(super::Kind::Xlsx).await
            })*
        }
    };
}

on_csv_and_xlsx!(
    appending_one_then_three_rows_hands_on_exactly_those,
    a_row_inserted_in_the_middle_is_new_and_the_last_row_is_not,
    deleting_two_then_appending_two_hands_on_the_two,
    sorting_hands_on_nothing,
    a_blank_row_in_the_middle_neither_hides_nor_repeats_rows,
    an_edited_cell_is_not_new_with_an_id_column,
    an_edited_cell_is_new_with_fingerprints_except_in_a_column_added_later,
    identical_rows_are_two_rows_and_a_third_is_one_more,
    a_renamed_column_pauses_and_renaming_it_back_resumes,
    a_cleared_sheet_is_a_warning_and_the_rows_coming_back_are_not_new,
    a_restart_between_reads_remembers_what_was_seen,
    rows_with_a_missing_or_repeated_id_are_reported_and_go_once_fixed,
);

/// One connection reading one file, with everything it handed on.
struct Harness {
    dir: tempfile::TempDir,
    kind: Kind,
    store: Store,
    id: i64,
    key: RowKey,
    start_from: StartFrom,
    used: Vec<String>,
    handed_on: Vec<String>,
}

impl Harness {
    fn new(kind: Kind, key: RowKey, start_from: StartFrom) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = store.insert_connection("orders", &serde_json::json!({}), true, Utc::now()).unwrap();
        let used = vec!["Name".to_owned(), "Phone".to_owned()];
        Harness { dir, kind, store, id, key, start_from, used, handed_on: Vec::new() }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join(self.kind.file_name())
    }

    /// Saves the file with a header and these lines.
    fn save(&self, header: &str, lines: &[&str]) {
        self.kind.save(&self.path(), header, lines);
    }

    /// One run: read, detect, commit; returns the observation and the names
    /// of the rows handed on.
    async fn run(&mut self) -> (Observation, Vec<String>) {
        let table = source::read(&self.kind.spec(self.path())).await.expect("the file reads");
        let rules = Rules { key: &self.key, start_from: self.start_from, used_columns: &self.used, phone_column: None };
        let obs = observe(&self.store, self.id, table, &rules, Utc::now()).unwrap();
        let names: Vec<String> = self
            .store
            .commit_observation(&obs, |_tx| {
                let names = obs.new_rows().iter().map(|r| obs.value(&r.row, "Name").unwrap_or("").to_owned());
                Ok::<_, store::Error>(names.collect())
            })
            .unwrap();
        self.handed_on.extend(names.iter().cloned());
        (obs, names)
    }

    async fn new_names(&mut self) -> Vec<String> {
        self.run().await.1
    }

    /// Closes the store and opens it again, as a restarted app would.
    fn restart(&mut self) {
        self.store = Store::open(self.dir.path()).unwrap();
    }

    /// Nothing was ever handed on twice.
    fn assert_each_once(&self) {
        let unique: HashSet<&String> = self.handed_on.iter().collect();
        assert_eq!(unique.len(), self.handed_on.len(), "a row was handed on twice: {:?}", self.handed_on);
    }
}

const HEADER: &str = "Name,Phone,City";

fn rows(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("{n},+38067{:07},Kyiv", n.len() * 1000 + n.as_bytes()[0] as usize)).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

async fn appending_one_then_three_rows_hands_on_exactly_those(kind: Kind) {
    for key in [RowKey::Fingerprint, RowKey::Column("Name".into())] {
        let mut h = Harness::new(kind, key.clone(), StartFrom::NewRows);
        h.save(HEADER, &strs(&rows(&["Anna", "Bohdan", "Chrystia"])));
        let (baseline, names) = h.run().await;
        assert_eq!(baseline.outcome, Outcome::Baseline, "{key:?}: the first read of new_rows is a baseline");
        assert_eq!(baseline.total, 3, "{key:?}: it reports how many rows it took as seen");
        assert!(names.is_empty(), "{key:?}: rows present at the start are never sent");

        h.save(HEADER, &strs(&rows(&["Anna", "Bohdan", "Chrystia", "Dmytro"])));
        assert_eq!(h.new_names().await, ["Dmytro"], "{key:?}: one appended row");
        h.save(HEADER, &strs(&rows(&["Anna", "Bohdan", "Chrystia", "Dmytro", "Eva", "Fedir", "Halyna"])));
        assert_eq!(h.new_names().await, ["Eva", "Fedir", "Halyna"], "{key:?}: three appended rows, in order");
        assert!(h.new_names().await.is_empty(), "{key:?}: an unchanged file has nothing new");
        h.assert_each_once();
    }
}

async fn a_row_inserted_in_the_middle_is_new_and_the_last_row_is_not(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::NewRows);
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan", "Chrystia"])));
    h.run().await;
    h.save(HEADER, &strs(&rows(&["Anna", "Zoia", "Bohdan", "Chrystia"])));
    assert_eq!(h.new_names().await, ["Zoia"], "the inserted row, not Chrystia pushed down a line");
    h.assert_each_once();
}

async fn deleting_two_then_appending_two_hands_on_the_two(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::NewRows);
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan", "Chrystia", "Dmytro"])));
    h.run().await;
    h.save(HEADER, &strs(&rows(&["Anna", "Dmytro"])));
    assert!(h.new_names().await.is_empty(), "deleting rows makes nothing new");
    h.save(HEADER, &strs(&rows(&["Anna", "Dmytro", "Eva", "Fedir"])));
    assert_eq!(h.new_names().await, ["Eva", "Fedir"], "the two rows that took the deleted rows' places are new");
    h.assert_each_once();
}

async fn sorting_hands_on_nothing(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::AllRows);
    h.save(HEADER, &strs(&rows(&["Chrystia", "Anna", "Bohdan"])));
    let (first, names) = h.run().await;
    assert_eq!(first.total, 3, "all_rows reports the count");
    assert_eq!(names, ["Chrystia", "Anna", "Bohdan"], "all_rows hands on every existing row");
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan", "Chrystia"])));
    assert!(h.new_names().await.is_empty(), "the same rows in another order are not new");
    h.assert_each_once();
}

async fn a_blank_row_in_the_middle_neither_hides_nor_repeats_rows(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::NewRows);
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan"])));
    h.run().await;
    let r = rows(&["Anna", "Bohdan", "Chrystia"]);
    h.save(HEADER, &[&r[0], "", ",,", &r[1], &r[2]]);
    let (obs, names) = h.run().await;
    assert_eq!(names, ["Chrystia"], "the row after the blank lines is still found");
    assert_eq!(obs.new_rows()[0].row.line, 6, "and reported on the line the user sees");
    h.assert_each_once();
}

async fn an_edited_cell_is_not_new_with_an_id_column(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Column("Order".into()), StartFrom::NewRows);
    h.used.push("Order".into());
    let header = "Order,Name,Phone,City";
    h.save(header, &["1001,Anna,+380671234567,Kyiv", "1002,Bohdan,+380501234567,Lviv"]);
    h.run().await;
    h.save(header, &["1001,Anna,+380671234567,Odesa", "1002,Bohdan K.,+380501234567,Lviv"]);
    assert!(h.new_names().await.is_empty(), "edits of other cells keep the order number, so nothing is new");
    h.assert_each_once();
}

async fn an_edited_cell_is_new_with_fingerprints_except_in_a_column_added_later(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::NewRows);
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan"])));
    h.run().await;
    let edited = rows(&["Anna", "Bohdan"])[1].replace("Kyiv", "Lviv");
    h.save(HEADER, &[&rows(&["Anna"])[0], &edited]);
    assert_eq!(h.new_names().await, ["Bohdan"], "without an ID there is no telling an edit from a new row");
    let with_status: Vec<String> =
        [rows(&["Anna"])[0].clone(), edited.clone()].iter().map(|r| format!("{r},called")).collect();
    h.save(&format!("{HEADER},Status"), &strs(&with_status));
    assert!(h.new_names().await.is_empty(), "filling in a column added after the start is not an edit");
    h.assert_each_once();
}

async fn identical_rows_are_two_rows_and_a_third_is_one_more(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::AllRows);
    let same = "Anna,+380671234567,Kyiv";
    h.save(HEADER, &[same, "Bohdan,+380501234567,Lviv", same]);
    assert_eq!(h.new_names().await, ["Anna", "Bohdan", "Anna"], "two identical orders are two orders");
    h.save(HEADER, &[same, "Bohdan,+380501234567,Lviv", same, same]);
    assert_eq!(h.new_names().await, ["Anna"], "a third identical row is exactly one new row");
    h.save(HEADER, &[same, same, same, "Bohdan,+380501234567,Lviv"]);
    assert!(h.new_names().await.is_empty(), "moving identical rows around changes nothing");
}

async fn a_renamed_column_pauses_and_renaming_it_back_resumes(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::NewRows);
    h.save(HEADER, &strs(&rows(&["Anna"])));
    h.run().await;
    h.save("Name,Telephone,City", &strs(&rows(&["Anna", "Bohdan"])));
    let (obs, names) = h.run().await;
    assert!(names.is_empty(), "nothing is handed on while a used column is missing");
    let pause = obs.pause().expect("a renamed column the connection uses is a pause");
    assert!(matches!(pause, Pause::ColumnsMissing { missing, .. } if missing == &["Phone"]), "names it: {pause:?}");
    assert!(pause.to_string().contains("\"Phone\"") && pause.to_string().contains("\"Telephone\""), "{pause}");

    h.save("City,Name,Phone", &["Kyiv,Anna,+380670004065", "Lviv,Bohdan,+380670006066"]);
    let (obs, names) = h.run().await;
    assert_eq!(names, ["Bohdan"], "back under its name, with columns reordered: only the row added meanwhile");
    let bohdan = &obs.new_rows()[0].row;
    assert_eq!(obs.value(bohdan, "Phone"), Some("+380670006066"), "values are found by header after a reorder");
    h.assert_each_once();
}

async fn a_cleared_sheet_is_a_warning_and_the_rows_coming_back_are_not_new(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::NewRows);
    let names: Vec<String> = (0..30).map(|i| format!("Client{i:02}")).collect();
    h.save(HEADER, &strs(&rows(&strs(&names))));
    h.run().await;

    h.save(HEADER, &[]);
    let (obs, handed) = h.run().await;
    assert_eq!(obs.outcome, Outcome::Shrunk { previous: 30 }, "zero rows where there were 30 is held");
    assert!(handed.is_empty(), "and hands on nothing");
    let warning = h.store.row_warning(h.id).unwrap().expect("the warning is remembered for the user");
    assert!(warning.contains("0 row(s)") && warning.contains("30"), "it says what happened: {warning}");

    h.restart();
    let mut back = rows(&strs(&names));
    back.push("Newcomer,+380671110000,Kyiv".into());
    h.save(HEADER, &strs(&back));
    assert_eq!(h.new_names().await, ["Newcomer"], "the restored rows are not new; the one added since is");
    assert_eq!(h.store.row_warning(h.id).unwrap(), None, "a normal read clears the warning");
    h.assert_each_once();
}

async fn a_restart_between_reads_remembers_what_was_seen(kind: Kind) {
    let mut h = Harness::new(kind, RowKey::Fingerprint, StartFrom::AllRows);
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan"])));
    assert_eq!(h.new_names().await.len(), 2, "first run hands on both");
    h.restart();
    assert!(h.new_names().await.is_empty(), "after a restart the same rows are still seen");
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan", "Chrystia"])));
    h.restart();
    assert_eq!(h.new_names().await, ["Chrystia"], "and the one added while stopped is new");
    h.assert_each_once();
}

async fn rows_with_a_missing_or_repeated_id_are_reported_and_go_once_fixed(kind: Kind) {
    for start_from in [StartFrom::AllRows, StartFrom::NewRows] {
        let mut h = Harness::new(kind, RowKey::Column("Order".into()), start_from);
        h.used.push("Order".into());
        let header = "Order,Name,Phone";
        let (anna, bohdan, chrystia, dmytro) =
            ("Anna,+380671000001", "Bohdan,+380671000002", "Chrystia,+380671000003", "Dmytro,+380671000004");
        let line = |id: &str, rest: &str| format!("{id},{rest}");
        h.save(header, &[&line("1001", anna), &line("", bohdan), &line("1001", chrystia), &line("", dmytro)]);
        let (obs, names) = h.run().await;
        let first: &[&str] = if start_from == StartFrom::AllRows { &["Anna"] } else { &[] };
        assert_eq!(names, first, "{start_from:?}: only the row with an ID of its own");
        let note = obs.warning().expect("the skipped rows are reported");
        assert_eq!(
            note,
            "the rows on lines 3 and 5 have no \"Order\", and line 4 repeats \"Order\" 1001 of line 2: they are not \
             sent. Give each row its own \"Order\" (or delete a row entered twice) and they go with the next run",
            "{start_from:?}: names the lines, why, and what to do"
        );
        assert_eq!(h.store.row_note(h.id).unwrap().as_deref(), Some(note), "kept for the connection's card");
        assert_eq!(h.store.row_warning(h.id).unwrap(), None, "as a note: it holds no other row back");

        // The IDs are filled in; the repeated one is not corrected yet.
        h.save(header, &[&line("1001", anna), &line("1002", bohdan), &line("1001", chrystia), &line("1004", dmytro)]);
        let (obs, names) = h.run().await;
        assert_eq!(names, ["Bohdan", "Dmytro"], "{start_from:?}: rows skipped for an empty ID were not marked seen");
        assert_eq!(
            obs.warning(),
            Some(
                "line 4 repeats \"Order\" 1001 of line 2: it is not sent. Give each row its own \"Order\" (or delete a \
                 row entered twice) and it goes with the next run"
            ),
            "{start_from:?}: only the row still skipped"
        );

        h.save(header, &[&line("1001", anna), &line("1002", bohdan), &line("1003", chrystia), &line("1004", dmytro)]);
        let (obs, names) = h.run().await;
        assert_eq!(names, ["Chrystia"], "{start_from:?}: the corrected ID goes");
        assert_eq!(obs.warning(), None, "{start_from:?}: nothing left to report");
        assert_eq!(h.store.row_note(h.id).unwrap(), None, "{start_from:?}: and the card's note is gone");
        assert!(h.new_names().await.is_empty(), "{start_from:?}: nothing twice");
        h.assert_each_once();
    }
}

#[tokio::test]
async fn a_half_saved_file_is_retried_not_lost() {
    let mut h = Harness::new(Kind::Csv, RowKey::Fingerprint, StartFrom::NewRows);
    h.save(HEADER, &strs(&rows(&["Anna"])));
    h.run().await;
    let full = rows(&["Anna", "Bohdan"]).join("\r\n");
    std::fs::write(h.path(), format!("{HEADER}\r\n{}", &full[..full.len() - 10])).unwrap();
    let err = source::read(&SourceSpec::Csv { path: h.path() }).await.unwrap_err();
    assert!(err.is_transient(), "a file cut mid-line is retried next run: {err}");
    h.save(HEADER, &strs(&rows(&["Anna", "Bohdan"])));
    assert_eq!(h.new_names().await, ["Bohdan"], "the row caught half-written is handed on once it is whole");
    h.assert_each_once();
}

// ---- malformed input: each gets its own error, naming the file ----

/// Reads `bytes` saved as `name` in `dir`.
async fn read_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (PathBuf, Result<source::Table, Error>) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let result = source::read(&SourceSpec::Csv { path: path.clone() }).await;
    (path, result)
}

fn assert_names_file(err: &Error, path: &Path) {
    assert!(err.to_string().contains(&path.display().to_string()), "the message names the file: {err}");
    assert!(!err.is_transient(), "a malformed file is not fixed by waiting: {err:?}");
}

#[tokio::test]
async fn malformed_files_get_specific_errors() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let missing = dir.join("no-such-folder").join("orders.csv");
    let err = source::read(&SourceSpec::Csv { path: missing.clone() }).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "missing file: {err:?}");
    assert_names_file(&err, &missing);

    let (path, result) = read_bytes(dir, "empty.csv", b"").await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "empty file: {err:?}");
    assert_names_file(&err, &path);

    let (_, result) = read_bytes(dir, "header.csv", b"Name;Phone\r\n").await;
    let table = result.expect("a header alone is a valid, empty source");
    assert!(table.rows.is_empty() && table.headers == ["Name", "Phone"], "zero rows, headers kept: {table:?}");

    let (path, result) =
        read_bytes(dir, "garbage.csv", &[0x00, 0x13, 0xff, 0x00, 0x7f, 0x00, 0x00, 0x01, 0x02, 0x00]).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Binary { .. }), "binary garbage: {err:?}");
    assert_names_file(&err, &path);

    let (gbk, _, _) = encoding_rs::GBK.encode("姓名,电话\n张伟,13800138000\n王芳,13900139000\n北京市朝阳区,010\n");
    let (path, result) = read_bytes(dir, "chinese.csv", &gbk).await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::UnknownEncoding { .. }), "an encoding we do not read: {err:?}");
    assert_names_file(&err, &path);

    let (path, result) = read_bytes(dir, "dup.csv", b"Name,Phone,Name\nAnna,067,Anna\n").await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::DuplicateHeader { ref name, .. } if name == "Name"), "duplicate header: {err:?}");
    assert_names_file(&err, &path);

    let (path, result) = read_bytes(dir, "unnamed.csv", b"Name,,Phone\nAnna,note,067\n").await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::UnnamedColumn { column: 2, line: 2, .. }), "empty header with data: {err:?}");
    assert_names_file(&err, &path);
}

// ---- workbooks ----

fn xlsx(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    book.add_worksheet().set_name("Notes").unwrap();
    let sheet = book.add_worksheet().set_name("Замовлення").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let stamp = Format::new().set_num_format("dd.mm.yyyy hh:mm");
    for (col, name) in ["Name", "Phone", "Total", "Qty", "Ordered", "Paid at", "Ok"].iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    sheet.write_string(1, 0, "Анна").unwrap();
    sheet.write_number(1, 1, 380671234567.0).unwrap();
    sheet.write_number(1, 2, 12.5).unwrap();
    sheet.write_number(1, 3, 3.0).unwrap();
    sheet.write_datetime_with_format(1, 4, ExcelDateTime::from_ymd(2025, 10, 13).unwrap(), &date).unwrap();
    let paid = ExcelDateTime::from_ymd(2025, 10, 13).unwrap().and_hms(14, 30, 0).unwrap();
    sheet.write_datetime_with_format(1, 5, paid, &stamp).unwrap();
    sheet.write_boolean(1, 6, true).unwrap();
    // Row 3 stays blank; row 4 is short.
    sheet.write_string(3, 0, "Bohdan").unwrap();
    sheet.write_number(3, 1, 380501234567.0).unwrap();
    book.save(path).unwrap();
}

fn ods(path: &Path) {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let files = [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet".to_owned()),
        (
            "META-INF/manifest.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#
                .to_owned(),
        ),
        ("content.xml", ods_content()),
    ];
    for (name, body) in files {
        zip.start_file(name, stored).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

fn ods_content() -> String {
    let cell =
        |attrs: &str, text: &str| format!("<table:table-cell {attrs}><text:p>{text}</text:p></table:table-cell>");
    let header: String =
        ["Name", "Phone", "Total", "Ordered", "At"].iter().map(|h| cell(r#"office:value-type="string""#, h)).collect();
    let row = [
        cell(r#"office:value-type="string""#, "Анна"),
        cell(r#"office:value-type="float" office:value="380671234567""#, "380671234567"),
        cell(r#"office:value-type="float" office:value="12.5""#, "12.5"),
        cell(r#"office:value-type="date" office:date-value="2025-10-13""#, "13.10.25"),
        cell(r#"office:value-type="time" office:time-value="PT14H30M00S""#, "14:30"),
    ]
    .concat();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Orders">
<table:table-row>{header}</table:table-row><table:table-row>{row}</table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"#
    )
}

#[tokio::test]
async fn xlsx_values_read_as_a_person_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.xlsx");
    xlsx(&path);
    let spec = SourceSpec::Xlsx { path: path.clone(), sheet: "Замовлення".into() };
    let table = source::read(&spec).await.expect("the workbook reads");
    assert_eq!(table.headers, ["Name", "Phone", "Total", "Qty", "Ordered", "Paid at", "Ok"], "header row");
    let anna = &table.rows[0];
    for (column, shown) in [
        ("Name", "Анна"),
        ("Phone", "380671234567"),
        ("Total", "12,5"),
        ("Qty", "3"),
        ("Ordered", "2025-10-13"),
        ("Paid at", "13.10.2025 14:30"),
        ("Ok", "TRUE"),
    ] {
        assert_eq!(table.value(anna, column), Some(shown), "{column} shows as in the spreadsheet");
    }
    assert_eq!(table.rows.len(), 2, "the blank row 3 is skipped");
    let bohdan = &table.rows[1];
    assert_eq!(bohdan.line, 4, "and still counted: Bohdan is on row 4");
    assert_eq!(table.value(bohdan, "Total"), Some(""), "a short row is padded");

    let wrong = SourceSpec::Xlsx { path: path.clone(), sheet: "Orders".into() };
    let err = source::read(&wrong).await.unwrap_err();
    assert!(matches!(err, Error::NoSuchSheet { .. }), "a wrong sheet name: {err:?}");
    let text = err.to_string();
    assert!(text.contains("\"Orders\"") && text.contains("\"Notes\", \"Замовлення\""), "lists the sheets: {text}");

    let gone = SourceSpec::Xlsx { path: dir.path().join("nope.xlsx"), sheet: "A".into() };
    let err = source::read(&gone).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }) && err.to_string().contains("nope.xlsx"), "missing: {err}");

    let bad = dir.path().join("bad.xlsx");
    std::fs::write(&bad, b"this is not a workbook").unwrap();
    let err = source::read(&SourceSpec::Xlsx { path: bad, sheet: "A".into() }).await.unwrap_err();
    assert!(matches!(err, Error::Workbook { .. }) && err.to_string().contains("bad.xlsx"), "not a workbook: {err}");
}

#[tokio::test]
async fn ods_reads_through_the_xlsx_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.ods");
    ods(&path);
    let table = source::read(&SourceSpec::Xlsx { path, sheet: "Orders".into() }).await.expect("the ODS reads");
    let anna = &table.rows[0];
    for (column, shown) in
        [("Name", "Анна"), ("Phone", "380671234567"), ("Total", "12,5"), ("Ordered", "2025-10-13"), ("At", "14:30")]
    {
        assert_eq!(table.value(anna, column), Some(shown), "{column} shows as in LibreOffice");
    }
}

#[tokio::test]
async fn a_workbook_source_detects_new_rows_like_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = store.insert_connection("book", &serde_json::json!({}), true, Utc::now()).unwrap();
    let path = dir.path().join("orders.xlsx");
    xlsx(&path);
    let spec = SourceSpec::Xlsx { path: path.clone(), sheet: "Замовлення".into() };
    let key = RowKey::Column("Phone".into());
    let rules = Rules { key: &key, start_from: StartFrom::AllRows, used_columns: &[], phone_column: None };
    let obs = observe(&store, id, source::read(&spec).await.unwrap(), &rules, Utc::now()).unwrap();
    let keys: Vec<&str> = obs.new_rows().iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys, ["380671234567", "380501234567"], "phone IDs as typed, never in exponent form");
    store.commit_observation(&obs, |_| Ok::<_, store::Error>(())).unwrap();
    let again = observe(&store, id, source::read(&spec).await.unwrap(), &rules, Utc::now()).unwrap();
    assert!(again.new_rows().is_empty(), "the same workbook read again has nothing new");
}

// ---- header only: a new order sheet saves and runs; what needs a row says so ----

#[tokio::test]
async fn a_header_only_file_saves_but_a_test_send_asks_for_a_row() {
    let sim = crate::sim().await;
    for (kind, named) in [(Kind::Csv, "«orders.csv»"), (Kind::Xlsx, "the sheet «Orders» of «orders.xlsx»")] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(kind.file_name());
        kind.save(&path, "Name,Phone,City", &[]);
        let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).unwrap();
        crate::add_main_account(&core, &sim).await;
        let source = serde_json::to_value(kind.spec(kind.file_name().into())).unwrap();
        let spec: ConnectionSpec = serde_json::from_value(serde_json::json!({
            "name": "Orders", "source": source, "account": "main", "phone_field": "Phone", "message": "Hi {{Name}}"
        }))
        .unwrap();

        let draft = core.check_draft(&spec, dir.path()).await.expect("a header-only source is a good draft");
        assert!(draft.preview.is_none() && draft.sample.total == 0, "{kind:?}: no row to preview: {draft:?}");
        let expected = format!("{named} has column names but no rows under them yet — add a row to see a preview");
        assert_eq!(draft.no_rows.as_deref(), Some(expected.as_str()), "{kind:?}: the draft says why, naming the file");
        let saved = core.add_connection(spec, dir.path()).await.expect("a brand-new order sheet can be saved");
        assert_eq!(saved.rows, 0, "{kind:?}: and it has no rows yet");
        let run = core.run("Orders", &RunOptions::default()).await.expect("a run of a header-only source is fine");
        assert_eq!((run.new_rows, run.error), (0, None), "{kind:?}: nothing to send, nothing wrong");

        let err = core.test_send("Orders", None, None).await.expect_err("a test send needs a row");
        assert!(
            matches!(err, sendrow_core::Error::Source(Error::NoRowsYet { .. })),
            "{kind:?}: its own error: {err:?}"
        );
        let expected = format!("{named} has column names but no rows under them yet — add a row to send a test");
        assert_eq!(err.to_string(), expected, "{kind:?}: names the file and what to do");
        assert_eq!(err.code().as_str(), "source_no_rows", "{kind:?}: a code of its own for the window");

        kind.save(&path, "Name,Phone,City", &["Anna,+380671234567,Kyiv"]);
        let test = core.test_send("Orders", None, None).await.expect("with a row the test send goes out");
        assert_eq!(test.text, "Hi Anna", "{kind:?}: the new row is the one tested");
    }
    assert_eq!(sim.messages().len(), 2, "only the two tests with a row reached 8x8");
}

// ---- rows skipped for their ID reach the user wherever a run is shown ----

#[tokio::test]
async fn a_row_without_an_id_is_shown_by_the_card_the_preview_and_the_run() {
    let sim = crate::sim().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::write(&csv, "Order ID,Name,Phone\n1,Anna,+380671000001\n,Bohdan,+380671000002\n").unwrap();
    let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).unwrap();
    crate::add_main_account(&core, &sim).await;
    let spec: ConnectionSpec = serde_json::from_value(serde_json::json!({
        "name": "Orders", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "Order ID"},
        "start_from": "new_rows", "account": "main", "phone_field": "Phone", "message": "Hi {{Name}}"
    }))
    .unwrap();
    core.add_connection(spec, dir.path()).await.unwrap();
    let said = |text: Option<String>| text.is_some_and(|t| t.contains("line 3 has no \"Order ID\": it is not sent"));
    assert!(said(core.connection_view("Orders").unwrap().note), "the card says so from the moment it is saved");
    let (items, warning) = core.preview("Orders", None).await.unwrap();
    assert!(items.is_empty() && said(warning), "the preview sends nothing and says why Bohdan is not in it");
    let run = core.run("Orders", &RunOptions::default()).await.unwrap();
    assert!(run.sent == 0 && said(run.warning.clone()), "the run's summary says so: {run:?}");

    core.dismiss_warning("Orders").unwrap();
    assert_eq!(core.connection_view("Orders").unwrap().note, None, "the note can be dismissed");
    std::fs::write(&csv, "Order ID,Name,Phone\n1,Anna,+380671000001\n2,Bohdan,+380671000002\n").unwrap();
    let run = core.run("Orders", &RunOptions::default()).await.unwrap();
    assert_eq!((run.sent, run.warning), (1, None), "with an ID Bohdan goes, and there is nothing left to say");
    assert_eq!(sim.messages().iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["Hi Bohdan"], "only Bohdan");
}
