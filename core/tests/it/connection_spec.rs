//! Every way saving a connection can refuse a spec, through the same path as
//! `connection add --file`: the spec's JSON text is parsed, then checked
//! against the real store, a real CSV file and an account verified by the
//! loopback simulator. Each refusal must name the field, the bad value and
//! what would be accepted (or what to do), and must leave nothing saved.

use std::path::Path;
use std::sync::Arc;

use sendrow_core::connection::ConnectionSpec;
use sendrow_core::secrets::MemorySecrets;
use sendrow_core::sim::Simulator;
use sendrow_core::Core;
use serde_json::{json, Value};

use crate::sim;

const COLUMNS: &str = r#""Order ID", "Name", "Phone""#;

struct Folder {
    dir: tempfile::TempDir,
    core: Core,
    _sim: Simulator,
}

impl Folder {
    /// A data folder with the account "main", `orders.csv` and a saved
    /// connection "Existing" to collide with and run after.
    async fn open() -> Folder {
        let sim = sim().await;
        let dir = tempfile::tempdir().unwrap();
        let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).unwrap();
        crate::add_main_account(&core, &sim).await;
        std::fs::write(dir.path().join("orders.csv"), "Order ID,Name,Phone\n1,Olena,067 123 45 67\n").unwrap();
        let folder = Folder { dir, core, _sim: sim };
        folder.add(json!({"name": "Existing", "schedule": null})).await.expect("a valid spec is saved");
        folder
    }

    fn base(&self) -> &Path {
        self.dir.path()
    }

    /// The spec file's text: a valid spec with `extra`'s top-level keys
    /// replaced.
    fn spec_text(extra: &Value) -> String {
        let mut spec = json!({
            "name": "Orders",
            "source": {"type": "csv", "path": "orders.csv"},
            "row_key": {"column": "Order ID"},
            "start_from": "all_rows",
            "account": "main",
            "phone_field": "Phone",
            "default_country": "UA",
            "sender": "MyShop",
            "message": "{{Name}}, your order {{Order ID}} is confirmed.",
            "schedule": {"every_minutes": 15}
        });
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        spec.to_string()
    }

    /// Parses and saves, as `connection add --file` does.
    async fn add(&self, extra: Value) -> Result<(), String> {
        let spec = ConnectionSpec::parse(&Self::spec_text(&extra)).map_err(|e| e.to_string())?;
        self.core.add_connection(spec, self.base()).await.map(|_| ()).map_err(|e| e.to_string())
    }

    fn names(&self) -> Vec<String> {
        self.core.connections().unwrap().into_iter().map(|c| c.name).collect()
    }
}

/// `message` names `field` (as `field: `) and contains every one of `parts`.
#[track_caller]
fn check_message(what: &str, message: &str, field: &str, parts: &[&str]) {
    assert!(message.contains(&format!("{field}: ")), "{what} should be refused naming {field:?}: {message}");
    for part in parts {
        assert!(message.contains(part), "{what}: the message should contain {part:?}: {message}");
    }
}

#[tokio::test]
async fn every_refusal_names_the_field_the_value_and_what_is_accepted() {
    let folder = Folder::open().await;
    let google = json!({"type": "google_sheets", "spreadsheet": "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "auth": {"mode": "public_csv"}});
    let long_name = "x".repeat(81);
    let cases: Vec<(Value, &str, Vec<&str>)> = vec![
        // Read from the spec text.
        (json!({"start_from": "later"}), "start_from", vec!["`later`", "`new_rows`", "`all_rows`"]),
        (json!({"date_format": "MM/DD/YYYY"}), "date_format", vec!["`MM/DD/YYYY`", "`YYYY-MM-DD`", "`DD.MM.YYYY`"]),
        (json!({"flood_limit": -1}), "flood_limit", vec!["`-1`", "expected a whole number of 0 or more"]),
        (
            json!({"schedule": {"every_minutes": 15, "at": ["09:00"]}}),
            "schedule",
            vec![
                "this is not a schedule",
                "{\"every_minutes\": 15}, {\"at\": [\"09:00\"]}",
                "{\"on_change\": true} or null",
            ],
        ),
        (json!({"colour": "red"}), "colour", vec!["`colour`", "expected one of", "`message`"]),
        // The spec alone.
        (json!({"name": ""}), "name", vec!["\"\"", "1 to 80 characters"]),
        (json!({"name": " Orders"}), "name", vec!["\" Orders\"", "without leading or trailing spaces"]),
        (json!({"name": long_name}), "name", vec![&long_name, "1 to 80 characters"]),
        (json!({"message": ""}), "message", vec!["the message is empty", "type the text of the SMS"]),
        (json!({"message": "Hi {{Name"}), "message", vec!["character 4", "\"{{Name\"", "end it with }}"]),
        (json!({"message": "Hi {Name}}"}), "message", vec!["character 9", "closes nothing", "{{Column}}"]),
        (json!({"message": "Hi {{ }}"}), "message", vec!["character 4", "is empty", "put a column header"]),
        (json!({"message": "At {{$hour}}"}), "message", vec!["{{$hour}}", "{{$time}}, {{$date}}"]),
        (json!({"default_country": "XX"}), "default_country", vec!["\"XX\"", "two-letter ISO code", "UA, US"]),
        (json!({"sender": ""}), "sender", vec!["empty", "up to 11", "leave the field out"]),
        (json!({"sender": "Моя крамниця"}), "sender", vec!["\"Моя крамниця\"", "\"М\"", "Latin letters A-Z"]),
        (json!({"sender": "My Lovely Shop"}), "sender", vec!["\"My Lovely Shop\"", "14 characters", "at most 11"]),
        (json!({"sender": "+12345678901234567"}), "sender", vec!["\"+12345678901234567\"", "at most 16"]),
        (json!({"phone_field": ""}), "phone_field", vec!["\"\" is empty", "name the column"]),
        (json!({"schedule": {"every_minutes": 7}}), "schedule.every_minutes", vec!["7 minutes", "[1, 5, 10, 15, 30"]),
        (json!({"schedule": {"at": []}}), "schedule.at", vec!["[]", "at least one", "\"09:00\""]),
        (json!({"schedule": {"at": ["09:00", "25:00"]}}), "schedule.at", vec!["\"25:00\"", "HH:MM", "18:30"]),
        (json!({"schedule": {"after": ""}}), "schedule.after", vec!["\"\"", "name of the connection"]),
        (json!({"schedule": {"after": "Orders"}}), "schedule.after", vec!["\"Orders\"", "after itself", "another"]),
        (json!({"schedule": {"on_change": false}}), "schedule.on_change", vec!["false", "use true", "null"]),
        (
            json!({"source": google, "schedule": {"on_change": true}}),
            "schedule.on_change",
            vec!["true", "Google sheet", "{\"every_minutes\": N}", "[1, 5, 10"],
        ),
        (json!({"quiet_hours": {"from": "9pm", "to": "08:00"}}), "quiet_hours.from", vec!["\"9pm\"", "HH:MM"]),
        (json!({"quiet_hours": {"from": "21:00", "to": "8am"}}), "quiet_hours.to", vec!["\"8am\"", "HH:MM"]),
        (json!({"flood_limit": 0}), "flood_limit", vec!["0 would hold", "1 or more", "default is 100"]),
        (
            json!({"pause_after_failures": 0}),
            "pause_after_failures",
            vec!["0 would pause", "1 or more", "default is 5"],
        ),
        (json!({"price_per_segment": -0.5}), "price_per_segment", vec!["-0.5", "0 or more"]),
        // Against the store.
        (json!({"name": "Existing"}), "name", vec!["\"Existing\"", "already exists", "choose another name"]),
        (json!({"account": "ghost"}), "account", vec!["\"ghost\"", "[\"main\"]", "sendrow account add"]),
        (json!({"schedule": {"after": "Nobody"}}), "schedule.after", vec!["\"Nobody\"", "[\"Existing\"]"]),
        // Against the source.
        (json!({"source": {"type": "csv", "path": "missing.csv"}}), "source", vec!["missing.csv"]),
        (json!({"phone_field": "Mobile"}), "phone_field", vec!["\"Mobile\"", COLUMNS]),
        (json!({"row_key": {"column": "ID"}}), "row_key.column", vec!["\"ID\"", COLUMNS]),
        (json!({"message": "Hi {{Surname}} {{name}}"}), "message", vec!["\"Surname\", \"name\"", COLUMNS]),
    ];
    for (extra, field, parts) in cases {
        let err = folder.add(extra.clone()).await.expect_err(&format!("{extra} is refused"));
        check_message(&extra.to_string(), &err, field, &parts);
    }
    assert_eq!(folder.names(), vec!["Existing"], "no refused spec left anything behind");
}

#[tokio::test]
async fn unknown_accounts_and_connections_are_listed_or_said_to_be_none() {
    let folder = Folder::open().await;
    let spec = ConnectionSpec::parse(&Folder::spec_text(&json!({"account": "ghost"}))).unwrap();
    let draft = folder.core.check_draft(&spec, folder.base()).await.expect_err("the wizard's check refuses it");
    check_message("a draft", &draft.to_string(), "account", &["\"ghost\"", "[\"main\"]", "sendrow account add"]);

    folder.core.remove_connection("Existing", false).unwrap();
    let after = folder.add(json!({"schedule": {"after": "Nobody"}})).await.expect_err("nothing to run after");
    check_message("no connections", &after, "schedule.after", &["\"Nobody\"", "no connections yet"]);
    folder.core.remove_account("main").unwrap();
    let none = folder.add(json!({"account": "ghost"})).await.expect_err("no account, nothing to send with");
    check_message("no accounts", &none, "account", &["\"ghost\"", "no accounts yet", "sendrow account add"]);
}

#[tokio::test]
async fn editing_refuses_a_loop_and_a_new_row_key_naming_both() {
    let folder = Folder::open().await;
    folder.add(json!({"name": "B", "schedule": {"after": "Existing"}})).await.unwrap();
    folder.add(json!({"name": "C", "schedule": {"after": "B"}})).await.unwrap();

    let looped =
        ConnectionSpec::parse(&Folder::spec_text(&json!({"name": "Existing", "schedule": {"after": "C"}}))).unwrap();
    let err = folder.core.update_connection(looped, folder.base()).await.expect_err("a loop is refused").to_string();
    check_message(
        "a loop",
        &err,
        "schedule.after",
        &["\"C\"", "Existing → C → B → Existing", "does not run after \"Existing\""],
    );

    let rekeyed = ConnectionSpec::parse(&Folder::spec_text(&json!({"name": "B", "row_key": null}))).unwrap();
    let err = folder.core.update_connection(rekeyed, folder.base()).await.expect_err("a new key is refused");
    check_message(
        "a new row key",
        &err.to_string(),
        "row_key",
        &["from the column \"Order ID\" to the rows' content", "keep the column \"Order ID\"", "new_rows"],
    );
    let kept = folder.core.connection_view("Existing").unwrap();
    assert_eq!(kept.schedule, None, "the refused edit changed nothing");
}

#[tokio::test]
async fn an_empty_sheet_is_said_to_have_no_header_row() {
    let folder = Folder::open().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().set_name("Orders").unwrap();
    book.save(folder.base().join("empty.xlsx")).unwrap();
    let source = json!({"type": "xlsx", "path": "empty.xlsx", "sheet": "Orders"});
    let err = folder.add(json!({"source": source})).await.expect_err("nothing to check the columns against");
    check_message(
        "an empty sheet",
        &err,
        "source",
        &["the sheet «Orders» of «empty.xlsx» is empty", "no header row", "first row", "\"Phone\""],
    );
    assert!(!err.contains("its columns are"), "no empty list of columns: {err}");
    let spec = ConnectionSpec::parse(&Folder::spec_text(&json!({"source": source}))).unwrap();
    let draft = folder.core.check_draft(&spec, folder.base()).await.expect_err("the wizard's check says the same");
    assert_eq!(draft.to_string(), err, "the same words in the wizard");
    assert_eq!(folder.names(), vec!["Existing"], "nothing saved");
}

#[tokio::test]
async fn a_baseline_that_cannot_be_recorded_leaves_no_connection() {
    let folder = Folder::open().await;
    // Another handle on the same database makes recording seen rows fail,
    // as a full disk would, after the source was read and checked.
    let db = rusqlite::Connection::open(folder.base().join("data").join(sendrow_core::store::DB_FILE)).unwrap();
    db.execute_batch(
        "CREATE TRIGGER no_rows BEFORE INSERT ON seen_rows BEGIN SELECT RAISE(ABORT, 'disk is full'); END;",
    )
    .unwrap();
    let err = folder.add(json!({"start_from": "new_rows"})).await.expect_err("the baseline cannot be recorded");
    assert!(err.contains("disk is full"), "the reason comes back: {err}");
    assert_eq!(folder.names(), vec!["Existing"], "no half-saved connection whose rows would all look new");

    db.execute_batch("DROP TRIGGER no_rows;").unwrap();
    folder.add(json!({"start_from": "new_rows"})).await.expect("the same spec saves once the store works");
    let summary = folder.core.run("Orders", &sendrow_core::run::RunOptions::default()).await.unwrap();
    assert_eq!(summary.new_rows, 0, "the row present at save time was recorded as seen: {summary:?}");
}
