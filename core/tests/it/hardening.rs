//! What a review found an attacker or an accident could do with the data
//! folder, a source file or an exported history, each tried for real.

use std::sync::Arc;

use sendrow_core::run::RunOptions;
use sendrow_core::secrets::MemorySecrets;
use sendrow_core::Core;

use crate::sim;

/// A data folder with the account "main" on `sim` and the connection
/// "Orders" over `orders.csv` holding `rows` under `Order ID,Name,Phone`.
async fn shop(sim: &sendrow_core::sim::Simulator, rows: &str) -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).unwrap();
    crate::add_main_account(&core, sim).await;
    std::fs::write(dir.path().join("orders.csv"), format!("Order ID,Name,Phone\n{rows}")).unwrap();
    let spec = serde_json::json!({
        "name": "Orders",
        "source": {"type": "csv", "path": "orders.csv"},
        "row_key": {"column": "Order ID"},
        "start_from": "all_rows",
        "account": "main",
        "phone_field": "Phone",
        "default_country": "UA",
        "sender": "MyShop",
        "message": "{{Name}} order {{Order ID}}",
        "schedule": null
    });
    core.add_connection(serde_json::from_value(spec).unwrap(), dir.path()).await.unwrap();
    (dir, core)
}

#[tokio::test]
async fn the_history_csv_never_hands_a_spreadsheet_a_formula() {
    let sim = sim().await;
    let rows = "=1+2,\"=HYPERLINK(\"\"http://x\"\")\",+380671234567\n@SUM,-5,050 111 22 33\n";
    let (_dir, core) = shop(&sim, rows).await;
    core.run("Orders", &RunOptions::default()).await.unwrap();
    let csv = core.history_csv("Orders").unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("'=1+2,"), "a row key starting with = is text: {csv}");
    assert!(lines[1].contains(",'+380671234567,"), "so is a phone starting with +: {csv}");
    assert!(lines[1].contains(",\"'=HYPERLINK(\"\"http://x\"\") order =1+2\","), "and a text with =: {csv}");
    assert!(lines[2].starts_with("'@SUM,"), "@ too: {csv}");
    assert!(lines[2].contains(",'-5 order @SUM,"), "and -: {csv}");
    for line in &lines[1..] {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '+', '-', '@']), "no cell starts a formula: {cell:?} in {line}");
        }
    }
}

#[cfg(unix)]
#[test]
fn the_data_folder_and_database_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("new").join("sendrow");
    drop(Core::open(&dir, Arc::new(MemorySecrets::new())).unwrap());
    assert_eq!(mode(&dir), 0o700, "a new data folder is the owner's only");
    let db = dir.join(sendrow_core::store::DB_FILE);
    assert_eq!(mode(&db), 0o600, "and so is its database");

    // A database an older version left readable by all is tightened.
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    drop(Core::open(&dir, Arc::new(MemorySecrets::new())).unwrap());
    assert_eq!(mode(&db), 0o600, "an old database is made private");
    assert_eq!(mode(&dir), 0o755, "a folder that exists is left as the user made it");
}

/// Entries 8x8 cannot answer about (here: umids it never gave) must not
/// take every pass's places: the message after them gets its check.
#[tokio::test]
async fn failed_delivery_checks_do_not_starve_the_rest() {
    use sendrow_core::delivery::PollSettings;
    use sendrow_core::store::{EntryStatus, NewEntry, Outcome, Store};

    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Arc::new(MemorySecrets::new())).unwrap();
    crate::add_main_account(&core, &sim).await;
    let store = Store::open(dir.path()).unwrap();
    let conn =
        store.insert_connection("orders", &serde_json::json!({"account": "main"}), true, chrono::Utc::now()).unwrap();
    let entry = |key: &str| NewEntry {
        row_key: key.into(),
        row_line: None,
        phone: Some("+380671234567".into()),
        text: format!("Order {key}"),
        status: EntryStatus::Pending,
        reason: None,
        is_test: false,
        not_before: None,
        time_slots: None,
    };
    let now = chrono::Utc::now();
    store.insert_entries(conn, &[entry("A"), entry("B"), entry("C")], now).unwrap();
    let broken = store.claim(conn, false, 10, now).unwrap();
    let outcomes: Vec<_> =
        broken.iter().map(|e| (e.id, Outcome::Queued { umid: format!("no-such-umid-{}", e.id) })).collect();
    store.record(&outcomes, now).unwrap();
    store.insert_entries(conn, &[entry("D")], now).unwrap();
    let good = store.claim(conn, false, 10, now).unwrap();
    let sent =
        sendrow_core::send::deliver(&store, &crate::gateway(&sim), &good, None, &Default::default()).await.unwrap();
    assert_eq!(sent.queued, 1, "{sent:?}");

    let settings =
        PollSettings { per_subaccount_gap: std::time::Duration::from_millis(1), batch: 3, ..PollSettings::default() };
    let first = core.check_deliveries(now, &settings).await.unwrap();
    assert_eq!(first.checked, 0, "the oldest three are the broken ones: {first:?}");
    // Later, when all four are due again.
    let later = now + chrono::Duration::minutes(5);
    let second = core.check_deliveries(later, &settings).await.unwrap();
    assert_eq!(second.checked, 1, "the fourth message gets its turn: {second:?}");
    let history = store.history(conn).unwrap();
    let d = history.iter().find(|e| e.row_key == "D").unwrap();
    assert!(d.delivery_state.is_some(), "its delivery state is recorded: {d:?}");
}

/// The keychain also holds 8x8 API keys: a spec naming one as its Google
/// key must never get it sent to Google, neither when saved nor when read.
#[tokio::test]
async fn a_google_key_entry_names_only_a_google_key() {
    use sendrow_core::source::google::GoogleAuth;
    let sim = sim().await;
    let (dir, core) = shop(&sim, "1,Olena,067 123 45 67\n").await;
    let account = core.account("main").unwrap();
    for (mode, entry) in [
        ("api_key", account.secret_ref.as_str()),
        ("service_account", account.secret_ref.as_str()),
        ("api_key", "google-sa:reports"),
        ("service_account", "google-oauth:me@example.com"),
        ("api_key", "google-api-key:"),
    ] {
        let spec = serde_json::json!({
            "name": "Leads",
            "source": {"type": "google_sheets", "spreadsheet": "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd",
                       "sheet": 0, "auth": {"mode": mode, "key_entry": entry}},
            "account": "main",
            "phone_field": "Phone",
            "message": "Hi",
        });
        let err = core.add_connection(serde_json::from_value(spec).unwrap(), dir.path()).await.unwrap_err();
        let words = err.to_string();
        assert!(words.contains("key_entry") && words.contains(entry), "{mode} {entry}: {words}");
        assert_eq!(err.code().as_str(), "invalid_input", "{words}");
    }
    let sent_to_google = GoogleAuth::ApiKey { key_entry: account.secret_ref.clone() };
    assert!(sent_to_google.check_key_entry().is_err(), "and a stored spec is refused at read time too");
    for good in [
        GoogleAuth::ApiKey { key_entry: "google-api-key:main".into() },
        GoogleAuth::ServiceAccount { key_entry: "google-sa:reports".into() },
    ] {
        assert!(good.check_key_entry().is_ok(), "{good:?}");
    }
}

/// A CSV too big to hold safely is refused before a byte is read, naming
/// the file, its size and the limit. (A sparse file: no disk is used.)
#[tokio::test]
async fn a_csv_too_big_to_read_safely_is_refused() {
    use sendrow_core::source::{self, SourceSpec};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    std::fs::File::create(&path).unwrap().set_len(101 * 1024 * 1024).unwrap();
    let err = source::read(&SourceSpec::Csv { path: path.clone() }).await.unwrap_err();
    let words = err.to_string();
    for part in [path.display().to_string().as_str(), "too big", "101.0 MB", "100 MB"] {
        assert!(words.contains(part), "the error names {part:?}: {words}");
    }
    assert!(!err.is_transient(), "it is not retried quietly: {words}");
}

/// One stray value far below and right of the table makes calamine build a
/// range of millions of cells; the sheet is refused before that.
#[tokio::test]
async fn a_sheet_whose_used_range_is_millions_of_cells_is_refused() {
    use sendrow_core::source::{self, SourceSpec};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Orders").unwrap();
    sheet.write_string(0, 0, "Phone").unwrap();
    sheet.write_string(1, 0, "067 123 45 67").unwrap();
    sheet.write_string(999_999, 9, "oops").unwrap();
    book.save(&path).unwrap();
    let err = source::read(&SourceSpec::Xlsx { path: path.clone(), sheet: "Orders".into() }).await.unwrap_err();
    let words = err.to_string();
    for part in [path.display().to_string().as_str(), "A1 to J1000000", "10000000 cells", "5000000 cells"] {
        assert!(words.contains(part), "the error names {part:?}: {words}");
    }

    // The same table without the stray value reads.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("Orders").unwrap();
    sheet.write_string(0, 0, "Phone").unwrap();
    sheet.write_string(1, 0, "067 123 45 67").unwrap();
    book.save(&path).unwrap();
    let table = source::read(&SourceSpec::Xlsx { path, sheet: "Orders".into() }).await.unwrap();
    assert_eq!(table.rows.len(), 1);
}

/// A header row of 100,000 columns is checked for repeats in one pass (the
/// old pairwise check took minutes); the repeat at the far end is found.
#[test]
fn a_very_wide_header_is_checked_for_repeats_in_one_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.csv");
    let mut header: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
    header.push("c5".into());
    std::fs::write(&path, format!("{}\n{}\n", header.join(","), vec!["x"; header.len()].join(","))).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let err = rt.block_on(sendrow_core::source::read(&sendrow_core::source::SourceSpec::Csv { path })).unwrap_err();
    let words = err.to_string();
    assert!(words.contains("columns 6 and 100001 are both named \"c5\""), "{words}");
}

/// An ODS file says "this row, repeated a million times" in a few bytes, and
/// calamine builds every sheet while opening the file: its used range is
/// measured in the XML first. A file LibreOffice writes (empty rows and
/// columns repeated to the sheet's end) still reads.
#[tokio::test]
async fn an_ods_sheet_whose_used_range_is_millions_of_cells_is_refused() {
    use sendrow_core::source::{self, SourceSpec};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.ods");
    let value = |text: &str| {
        format!(r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#)
    };
    let table = |rows: &str| {
        format!(
            r#"<table:table table:name="Notes"><table:table-row>{}</table:table-row></table:table>
<table:table table:name="Orders"><table:table-column table:number-columns-repeated="1024"/>
<table:table-row>{}{}</table:table-row><table:table-row>{}{}</table:table-row>{rows}</table:table>"#,
            value("x").repeat(3),
            value("Name"),
            value("Phone"),
            value("Olena"),
            value("067 123 45 67"),
        )
    };
    // LibreOffice's tail: empty cells and rows repeated to the edge of the sheet.
    let tail = r#"<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#;
    write_ods(&path, &table(tail));
    let spec = SourceSpec::Xlsx { path: path.clone(), sheet: "Orders".into() };
    let read = source::read(&spec).await.expect("a sheet with an empty tail reads");
    assert_eq!((read.headers.len(), read.rows.len()), (2, 1), "{read:?}");

    // A value repeated down 600,000 rows and across 10 columns.
    let stray = r#"<table:table-row table:number-rows-repeated="600000"><table:table-cell table:number-columns-repeated="10" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>"#;
    write_ods(&path, &table(stray));
    let err = source::read(&spec).await.unwrap_err();
    let words = err.to_string();
    for part in [path.display().to_string().as_str(), "\"Orders\"", "A1 to J600002", "6000020 cells", "5000000 cells"] {
        assert!(words.contains(part), "the error names {part:?}: {words}");
    }
}

fn write_ods(path: &std::path::Path, tables: &str) {
    use std::io::Write;
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 office:version="1.2"><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
    );
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;
    for (name, body) in [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        ("META-INF/manifest.xml", manifest),
        ("content.xml", content.as_str()),
    ] {
        zip.start_file(name, stored).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}
