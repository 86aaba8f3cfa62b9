//! Excel and ODS cells reach the SMS as the sheet shows them: workbooks with
//! real number formats (written by `rust_xlsxwriter`, and ODS files laid out
//! as LibreOffice Calc saves them) read through the source reader, the
//! preview and a run against the simulator.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::MemorySecrets;
use sendrow_core::source::{self, GoogleAccess, SourceSpec, Table, Typed};
use sendrow_core::Core;

const HEADERS: [&str; 11] =
    ["Ім'я", "Телефон", "Дата", "Візит", "Коротка дата", "Сума", "Знижка", "Код", "Кількість", "Вага", "Баланс"];

/// An order sheet as a Ukrainian shop keeps it in Excel.
fn xlsx(path: &Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("Замовлення").unwrap();
    for (col, name) in HEADERS.iter().enumerate() {
        sheet.write_string(0, col as u16, *name).unwrap();
    }
    let date = Format::new().set_num_format("DD.MM.YYYY");
    let stamp = Format::new().set_num_format("DD.MM.YYYY HH:MM");
    let short = Format::new().set_num_format_index(14);
    let money = Format::new().set_num_format("#,##0.00 \"₴\"");
    let percent = Format::new().set_num_format("0%");
    let text = Format::new().set_num_format("@");
    let balance = Format::new().set_num_format("#,##0.00\\ \"₴\";[Red]\\-#,##0.00\\ \"₴\"");
    sheet.write_string(1, 0, "Олена").unwrap();
    sheet.write_number(1, 1, 380671234567.0).unwrap();
    sheet.write_datetime_with_format(1, 2, ExcelDateTime::from_ymd(2026, 12, 5).unwrap(), &date).unwrap();
    let visit = ExcelDateTime::from_ymd(2026, 12, 5).unwrap().and_hms(14, 30, 0).unwrap();
    sheet.write_datetime_with_format(1, 3, visit, &stamp).unwrap();
    sheet.write_datetime_with_format(1, 4, ExcelDateTime::from_ymd(2026, 12, 5).unwrap(), &short).unwrap();
    sheet.write_number_with_format(1, 5, 1200.5, &money).unwrap();
    sheet.write_number_with_format(1, 6, 0.1, &percent).unwrap();
    sheet.write_string_with_format(1, 7, "00123", &text).unwrap();
    sheet.write_number(1, 8, 3.0).unwrap();
    sheet.write_number(1, 9, 0.1 + 0.2).unwrap();
    sheet.write_number_with_format(1, 10, -1234.5, &balance).unwrap();
    book.save(path).unwrap();
}

/// The same order as LibreOffice Calc saves it: automatic data styles in
/// content.xml, a common one in styles.xml, the currency's negative part
/// through `style:map`, one column formatted as a whole.
fn ods(path: &Path) {
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;
    for (name, body) in [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet".to_owned()),
        ("META-INF/manifest.xml", manifest.to_owned()),
        ("styles.xml", ods_styles()),
        ("content.xml", ods_content()),
    ] {
        zip.start_file(name, stored).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

const ODS_NAMESPACES: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3""#;

fn ods_styles() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {ODS_NAMESPACES}><office:styles>
 <number:percentage-style style:name="N10"><number:number number:decimal-places="0" number:min-decimal-places="0" number:min-integer-digits="1"/><number:text>%</number:text></number:percentage-style>
 <style:style style:name="Відсоток" style:family="table-cell" style:data-style-name="N10"/>
</office:styles></office:document-styles>"#
    )
}

fn ods_content() -> String {
    let cell =
        |attrs: &str, text: &str| format!("<table:table-cell {attrs}><text:p>{text}</text:p></table:table-cell>");
    let header: String = HEADERS.iter().map(|h| cell(r#"office:value-type="string""#, h)).collect();
    let row = [
        cell(r#"office:value-type="string""#, "Олена"),
        cell(r#"office:value-type="float" office:value="380671234567""#, "380671234567"),
        cell(r#"table:style-name="ce1" office:value-type="date" office:date-value="2026-12-05""#, "05.12.2026"),
        cell(
            r#"table:style-name="ce2" office:value-type="date" office:date-value="2026-12-05T14:30:00""#,
            "05.12.2026 14:30",
        ),
        // The column's own style, not the cell's, gives this one its format.
        cell(r#"office:value-type="date" office:date-value="2026-12-05""#, "05.12.26"),
        cell(
            r#"table:style-name="ce4" office:value-type="currency" office:currency="UAH" office:value="1200.5""#,
            "1 200,50 ₴",
        ),
        cell(r#"table:style-name="ce5" office:value-type="percentage" office:value="0.1""#, "10%"),
        cell(r#"table:style-name="ce6" office:value-type="string""#, "00123"),
        cell(r#"office:value-type="float" office:value="3""#, "3"),
        cell(r#"office:value-type="float" office:value="0.30000000000000004""#, "0,3"),
        cell(
            r#"table:style-name="ce4" office:value-type="currency" office:currency="UAH" office:value="-1234.5""#,
            "-1 234,50 ₴",
        ),
    ]
    .concat();
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content {ODS_NAMESPACES}><office:automatic-styles>
 <number:date-style style:name="N37" number:automatic-order="true"><number:day number:style="long"/><number:text>.</number:text><number:month number:style="long"/><number:text>.</number:text><number:year number:style="long"/></number:date-style>
 <number:date-style style:name="N50"><number:day number:style="long"/><number:text>.</number:text><number:month number:style="long"/><number:text>.</number:text><number:year number:style="long"/><number:text> </number:text><number:hours number:style="long"/><number:text>:</number:text><number:minutes number:style="long"/></number:date-style>
 <number:date-style style:name="N51"><number:day number:style="long"/><number:text>.</number:text><number:month number:style="long"/><number:text>.</number:text><number:year/></number:date-style>
 <number:currency-style style:name="N104P0" style:volatile="true"><number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1" number:grouping="true"/><number:text> </number:text><number:currency-symbol number:language="uk" number:country="UA">₴</number:currency-symbol></number:currency-style>
 <number:currency-style style:name="N104"><style:text-properties fo:color="#ff0000"/><number:text>-</number:text><number:number number:decimal-places="2" number:min-decimal-places="2" number:min-integer-digits="1" number:grouping="true"/><number:text> </number:text><number:currency-symbol number:language="uk" number:country="UA">₴</number:currency-symbol><style:map style:condition="value()&gt;=0" style:apply-style-name="N104P0"/></number:currency-style>
 <number:text-style style:name="N100"><number:text-content/></number:text-style>
 <style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N37"/>
 <style:style style:name="ce2" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N50"/>
 <style:style style:name="ce3" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N51"/>
 <style:style style:name="ce4" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N104"/>
 <style:style style:name="ce5" style:family="table-cell" style:parent-style-name="Відсоток"/>
 <style:style style:name="ce6" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N100"/>
</office:automatic-styles><office:body><office:spreadsheet><table:table table:name="Замовлення">
<table:table-column table:number-columns-repeated="4" table:default-cell-style-name="Default"/>
<table:table-column table:default-cell-style-name="ce3"/>
<table:table-column table:number-columns-repeated="6" table:default-cell-style-name="Default"/>
<table:table-row>{header}</table:table-row><table:table-row>{row}</table:table-row>
<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>
</table:table></office:spreadsheet></office:body></office:document-content>"##
    )
}

/// What a Ukrainian shop owner sees in each column, in Excel and in Calc
/// (only the built-in short date differs: Calc's column shows a two-digit year).
fn shown_in_ukraine(short_date: &str) -> [(&'static str, String); 11] {
    [
        ("Ім'я", "Олена".into()),
        ("Телефон", "380671234567".into()),
        ("Дата", "05.12.2026".into()),
        ("Візит", "05.12.2026 14:30".into()),
        ("Коротка дата", short_date.into()),
        ("Сума", "1 200,50 ₴".into()),
        ("Знижка", "10%".into()),
        ("Код", "00123".into()),
        ("Кількість", "3".into()),
        ("Вага", "0,3".into()),
        ("Баланс", "-1 234,50 ₴".into()),
    ]
}

async fn read(path: &Path, country: &str) -> Table {
    let spec = SourceSpec::Xlsx { path: path.to_owned(), sheet: "Замовлення".into() };
    source::read_in(&spec, &GoogleAccess::default(), country).await.expect("the workbook reads")
}

fn check_typed(table: &Table, what: &str) {
    let row = &table.rows[0];
    let typed = |name: &str| row.typed(table.column(name).unwrap()).copied();
    let visit = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap().and_hms_opt(14, 30, 0).unwrap();
    assert_eq!(typed("Візит"), Some(Typed::DateTime(visit)), "{what}: a date-time cell keeps its date and time");
    let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap().and_hms_opt(0, 0, 0).unwrap();
    assert_eq!(typed("Дата"), Some(Typed::DateTime(day)), "{what}: a date is at midnight");
    assert_eq!(typed("Сума"), Some(Typed::Number(1200.5)), "{what}: the amount behind its currency");
    assert_eq!(typed("Знижка"), Some(Typed::Number(0.1)), "{what}: the fraction behind the percent");
    assert_eq!(typed("Баланс"), Some(Typed::Number(-1234.5)), "{what}: a negative amount stays negative");
    assert_eq!(typed("Ім'я"), None, "{what}: text has no typed value");
    assert_eq!(typed("Код"), None, "{what}: nor has a number kept as text");
}

#[tokio::test]
async fn xlsx_cells_show_through_their_formats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.xlsx");
    xlsx(&path);
    let table = read(&path, "UA").await;
    assert_eq!(table.headers, HEADERS, "the header row");
    for (column, shown) in shown_in_ukraine("05.12.2026") {
        assert_eq!(table.value(&table.rows[0], column), Some(shown.as_str()), "{column} as Excel shows it in Ukraine");
    }
    check_typed(&table, "xlsx");

    let us = read(&path, "US").await;
    for (column, shown) in [
        ("Коротка дата", "12/5/2026"),
        ("Сума", "1,200.50 ₴"),
        ("Вага", "0.3"),
        ("Баланс", "-1,234.50 ₴"),
        ("Дата", "05.12.2026"),
        ("Телефон", "380671234567"),
    ] {
        assert_eq!(us.value(&us.rows[0], column), Some(shown), "{column} with a US connection's separators");
    }
}

#[tokio::test]
async fn ods_cells_show_through_their_data_styles() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.ods");
    ods(&path);
    let table = read(&path, "UA").await;
    assert_eq!(table.headers, HEADERS, "the header row");
    assert_eq!(table.rows.len(), 1, "the styled empty tail is no rows");
    for (column, shown) in shown_in_ukraine("05.12.26") {
        assert_eq!(table.value(&table.rows[0], column), Some(shown.as_str()), "{column} as Calc shows it in Ukraine");
    }
    check_typed(&table, "ods");
}

#[tokio::test]
async fn csv_rows_have_no_typed_values() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    std::fs::write(&path, "Name,Total\nОлена,1200.5\n").unwrap();
    let table = source::read(&SourceSpec::Csv { path }).await.unwrap();
    assert_eq!(table.value(&table.rows[0], "Total"), Some("1200.5"), "CSV text as written");
    assert_eq!(table.rows[0].typed(1), None, "and no typed value");
}

/// The issue's own example: the preview, the wizard's sample and the SMS
/// itself read as the sheet shows, for both kinds of workbook.
#[tokio::test]
async fn the_preview_and_the_sms_read_as_the_sheet_shows() {
    let sim = crate::sim().await;
    for (file, write) in [("orders.xlsx", xlsx as fn(&Path)), ("orders.ods", ods)] {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join(file));
        let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).unwrap();
        crate::add_main_account(&core, &sim).await;
        let spec: ConnectionSpec = serde_json::from_value(serde_json::json!({
            "name": "Замовлення", "account": "main", "phone_field": "Телефон", "start_from": "all_rows",
            "source": {"type": "xlsx", "path": file, "sheet": "Замовлення"},
            "message": "{{Ім'я}}: {{Дата}}, {{Сума}}, знижка {{Знижка}}"
        }))
        .unwrap();
        let expected = "Олена: 05.12.2026, 1 200,50 ₴, знижка 10%";

        let draft = core.check_draft(&spec, dir.path()).await.expect("the draft checks");
        assert_eq!(draft.preview.expect("a row to preview").text, expected, "{file}: the preview");
        assert!(
            draft.sample.rows[0].contains(&"1 200,50 ₴".to_owned()),
            "{file}: the wizard's sample: {:?}",
            draft.sample
        );
        let source = spec.source.clone().relative_to(dir.path());
        let sample = core.inspect_source(&source, "UA", 5).await.expect("the wizard reads the source");
        assert!(sample.rows[0].contains(&"05.12.2026 14:30".to_owned()), "{file}: the first step's sample: {sample:?}");

        core.add_connection(spec, dir.path()).await.expect("the connection saves");
        let run = core.run("Замовлення", &RunOptions::default()).await.expect("the run goes");
        assert_eq!(run.error, None, "{file}: nothing went wrong");
        let sent: Vec<String> = sim.messages().into_iter().map(|m| m.text).collect();
        assert_eq!(sent.last().map(String::as_str), Some(expected), "{file}: the SMS 8x8 got");
    }
}

/// Rows are known by their values, not their display: reformatting a sheet
/// (or Sendrow starting to honour formats) never makes a row seen before new.
#[tokio::test]
async fn a_new_display_format_makes_no_row_new() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    use sendrow_core::source::rows::{RowKey, Rules, StartFrom};
    use sendrow_core::store::observe;
    use sendrow_core::store::{self, Store};

    let save = |path: &Path, money: &str, day: &str, id: &str| {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet().set_name("Замовлення").unwrap();
        for (col, name) in ["Номер", "Телефон", "Сума", "Дата"].iter().enumerate() {
            sheet.write_string(0, col as u16, *name).unwrap();
        }
        for (i, (total, phone)) in [(1200.5, 380671234567.0), (99.0, 380501234567.0)].iter().enumerate() {
            let row = i as u32 + 1;
            sheet.write_number_with_format(row, 0, 120.0 + f64::from(row), &Format::new().set_num_format(id)).unwrap();
            sheet.write_number(row, 1, *phone).unwrap();
            sheet.write_number_with_format(row, 2, *total, &Format::new().set_num_format(money)).unwrap();
            let date = ExcelDateTime::from_ymd(2026, 12, 5).unwrap();
            sheet.write_datetime_with_format(row, 3, date, &Format::new().set_num_format(day)).unwrap();
        }
        book.save(path).unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let path = dir.path().join("orders.xlsx");
    for key in [RowKey::Fingerprint, RowKey::Column("Номер".into())] {
        let id =
            store.insert_connection(&format!("{key:?}"), &serde_json::json!({}), true, chrono::Utc::now()).unwrap();
        let rules = Rules { key: &key, start_from: StartFrom::AllRows, used_columns: &[], phone_column: None };
        save(&path, "General", "yyyy-mm-dd", "General");
        let first = observe(&store, id, read(&path, "UA").await, &rules, chrono::Utc::now()).unwrap();
        assert_eq!(first.new_rows().len(), 2, "{key:?}: both rows are new at first");
        if let RowKey::Column(_) = key {
            let keys: Vec<&str> = first.new_rows().iter().map(|r| r.key.as_str()).collect();
            assert_eq!(keys, ["121", "122"], "the ID as a plain number");
        }
        store.commit_observation(&first, |_| Ok::<_, store::Error>(())).unwrap();

        save(&path, "#,##0.00 \"₴\"", "DD.MM.YYYY", "000000");
        let table = read(&path, "UA").await;
        assert_eq!(table.value(&table.rows[0], "Сума"), Some("1 200,50 ₴"), "{key:?}: the new display is read");
        assert_eq!(table.value(&table.rows[0], "Номер"), Some("000121"), "{key:?}: the ID shows padded");
        let again = observe(&store, id, table, &rules, chrono::Utc::now()).unwrap();
        assert!(again.new_rows().is_empty(), "{key:?}: reformatting made nothing new: {:?}", again.new_rows());
    }
}
