//! Google Sheets connections from the command line against the loopback fake
//! of Google's endpoints: a link-shared sheet by its CSV export, an API key
//! kept in the real keychain, a service account signed in by JWT, and a
//! renamed tab still read by its gid.

use crate::common::{require_keychain_session, sendrow, text, Sim};
use sendrow_core::source::google::fake::{self, FakeGoogle};

const SHEET: &str = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG";

fn connect(dir: &std::path::Path, sim: &Sim, google: &FakeGoogle, auth: serde_json::Value) {
    let add =
        sendrow(dir, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    assert!(add.status.success(), "account: {}", text(&add.stderr));
    let base = sendrow(dir, &["google", "base-url", &google.base_url()], "");
    assert!(base.status.success(), "Google endpoints point at the fake: {}", text(&base.stderr));
    let spec = serde_json::json!({
        "name": "Sheet", "account": "main", "phone_field": "Phone", "message": "Hi {{Name}}",
        "source": {"type": "google_sheets", "spreadsheet": format!("https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=7"), "auth": auth},
        "row_key": {"column": "ID"}, "start_from": "all_rows"
    });
    std::fs::write(dir.join("spec.json"), spec.to_string()).unwrap();
    let saved = sendrow(dir, &["connection", "add", "--file", dir.join("spec.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "the Google connection is saved: {}", text(&saved.stderr));
}

fn sheet(google: &FakeGoogle, title: &str) {
    google.set_tab(SHEET, 7, title, &[&["ID", "Name", "Phone"], &["1", "Olena", "067 123 45 67"], &["2", "Ivan"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_shared_sheet_is_read_through_its_csv_export_and_sent() {
    require_keychain_session();
    let google = FakeGoogle::start().await.unwrap();
    sheet(&google, "Orders");
    google.share_with_link(SHEET);
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    connect(dir.path(), &sim, &google, serde_json::json!({"mode": "public_csv"}));
    let preview = sendrow(dir.path(), &["preview", "Sheet", "--json"], "");
    let items: serde_json::Value = serde_json::from_slice(&preview.stdout).unwrap();
    assert_eq!(items[0]["phone"], "+380671234567", "rows come from the sheet: {items}");
    assert_eq!(items[1]["status"], "missing_phone", "a ragged row is padded, not dropped: {items}");
    let run = sendrow(dir.path(), &["run", "Sheet", "--json"], "");
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["sent"], 1, "the sheet's row was texted: {summary}");
    assert_eq!(sim.messages().await.len(), 1, "and 8x8 has it once");
    let _ = sendrow(dir.path(), &["account", "remove", "main"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_and_a_service_account_read_from_the_real_keychain() {
    require_keychain_session();
    let google = FakeGoogle::start().await.unwrap();
    sheet(&google, "Orders");
    google.share_with_link(SHEET);
    google.add_api_key("AIza-test-key-123", true);
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stored = sendrow(d, &["google", "key", "google-api-key:main"], "AIza-test-key-123");
    assert!(stored.status.success(), "the API key goes to the keychain: {}", text(&stored.stderr));
    connect(d, &sim, &google, serde_json::json!({"mode": "api_key", "key_entry": "google-api-key:main"}));
    google.rename_tab(SHEET, 7, "Замовлення");
    let preview = sendrow(d, &["preview", "Sheet", "--json"], "");
    assert!(preview.status.success(), "a renamed tab is still found by its gid: {}", text(&preview.stderr));
    assert!(!text(&preview.stderr).contains("AIza-test-key-123"), "the key is never printed");

    let (key_json, public_key) = fake::service_account_key("reports@demo.iam.gserviceaccount.com");
    google.add_service_account("reports@demo.iam.gserviceaccount.com", &public_key);
    google.share_with(SHEET, "reports@demo.iam.gserviceaccount.com");
    let sa = sendrow(d, &["google", "key", "google-sa:reports"], &key_json);
    assert!(sa.status.success(), "the service account key is accepted: {}", text(&sa.stderr));
    assert!(text(&sa.stdout).contains("reports@demo.iam.gserviceaccount.com"), "and says whom to share with");
    let spec = serde_json::json!({
        "name": "By service account", "account": "main", "phone_field": "Phone", "message": "Hi {{Name}}",
        "source": {"type": "google_sheets", "spreadsheet": SHEET, "sheet": 7,
                   "auth": {"mode": "service_account", "key_entry": "google-sa:reports"}},
        "row_key": {"column": "ID"}, "start_from": "all_rows"
    });
    std::fs::write(d.join("sa.json"), spec.to_string()).unwrap();
    let saved = sendrow(d, &["connection", "add", "--file", d.join("sa.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "a sheet shared with the service account is read: {}", text(&saved.stderr));
    let preview = sendrow(d, &["preview", "By service account", "--json"], "");
    let items: serde_json::Value = serde_json::from_slice(&preview.stdout).unwrap();
    assert_eq!(items[0]["text"], "Hi Olena", "through a signed JWT and the Sheets API: {items}");
    let bad = sendrow(d, &["google", "key", "google-sa:broken"], "{\"not\": \"a key\"}");
    assert!(!bad.status.success(), "a file that is not a service-account key is refused");
    let found = std::fs::read_dir(d).unwrap().any(|e| {
        let bytes = std::fs::read(e.unwrap().path()).unwrap_or_default();
        bytes.windows(17).any(|w| w == b"AIza-test-key-123")
    });
    assert!(!found, "no Google key in the data folder");
    for entry in ["google-api-key:main", "google-sa:reports"] {
        let _ = sendrow(d, &["google", "forget", entry], "");
    }
    let _ = sendrow(d, &["account", "remove", "main"], "");
}
