//! New-row scenarios on a Google sheet, end to end through `Core::run`: the
//! loopback fake of Google's Sheets API (read with an API key) as the
//! source, the simulator as 8x8. After every change to the sheet exactly the
//! genuinely new rows are texted, and no customer is ever texted twice.

use std::collections::HashMap;
use std::sync::Arc;

use sendrow_core::account::{AccountInput, Target};
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::{MemorySecrets, Secret, SecretStore};
use sendrow_core::sim::{Simulator, SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::source::google::fake::FakeGoogle;
use sendrow_core::Core;

use crate::sim;

const SHEET: &str = "1ScenarioSheetIdAbCdEfGhIjKlMnOpQrStUvWxYz01";
const GID: u32 = 42;

struct Scenario {
    dir: tempfile::TempDir,
    secrets: Arc<MemorySecrets>,
    core: Core,
    google: FakeGoogle,
    sim: Simulator,
}

impl Scenario {
    async fn new(row_key: Option<&str>, header: &[&str], rows: &[&[&str]]) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecrets::new());
        let google = FakeGoogle::start().await.unwrap();
        google.add_api_key("scenario-key", true);
        google.share_with_link(SHEET);
        let sim = sim().await;
        let core = Core::open(dir.path(), secrets.clone()).unwrap();
        let mut s = Scenario { dir, secrets, core, google, sim };
        s.sheet(header, rows);
        s.setup(row_key).await;
        s
    }

    async fn setup(&mut self, row_key: Option<&str>) {
        self.core.set_google_base_url(Some(&self.google.base_url())).unwrap();
        self.secrets.set("google-api-key:main", &Secret::new("scenario-key")).unwrap();
        self.core
            .add_account(AccountInput {
                name: "main".into(),
                subaccount_id: SANDBOX_SUBACCOUNT.into(),
                target: Target::BaseUrl(self.sim.base_url()),
                api_key: Secret::new(SANDBOX_KEY),
            })
            .await
            .unwrap();
        let mut spec = serde_json::json!({
            "name": "Sheet", "account": "main", "phone_field": "Phone", "message": "Hi {{Name}}",
            "source": {"type": "google_sheets", "spreadsheet": SHEET, "sheet": GID,
                       "auth": {"mode": "api_key", "key_entry": "google-api-key:main"}},
            "start_from": "new_rows", "flood_limit": 1000
        });
        if let Some(column) = row_key {
            spec["row_key"] = serde_json::json!({"column": column});
        }
        let spec: ConnectionSpec = serde_json::from_value(spec).unwrap();
        self.core.add_connection(spec, self.dir.path()).await.expect("the Google connection is saved");
    }

    fn sheet(&self, header: &[&str], rows: &[&[&str]]) {
        let mut all: Vec<&[&str]> = vec![header];
        all.extend_from_slice(rows);
        self.google.set_tab(SHEET, GID, "Orders", &all);
    }

    /// One run; returns the names texted by it.
    async fn run(&self) -> Vec<String> {
        let before = self.sim.messages().len();
        self.core.run("Sheet", &RunOptions::default()).await.expect("the run works");
        let mut names: Vec<String> =
            self.sim.messages()[before..].iter().map(|m| m.text.trim_start_matches("Hi ").to_owned()).collect();
        names.sort();
        names
    }

    fn assert_nobody_twice(&self) {
        let mut count: HashMap<String, usize> = HashMap::new();
        for m in self.sim.messages() {
            *count.entry(m.destination).or_default() += 1;
        }
        let twice: Vec<_> = count.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "a customer was texted twice: {twice:?}");
    }
}

const HEADER: &[&str] = &["ID", "Name", "Phone"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_inserts_deletes_sorts_and_blank_rows() {
    let s = Scenario::new(Some("ID"), HEADER, &[&["1", "A", "0671000001"], &["2", "B", "0671000002"]]).await;
    assert!(s.run().await.is_empty(), "rows present when saved are never sent");

    s.sheet(HEADER, &[&["1", "A", "0671000001"], &["2", "B", "0671000002"], &["3", "C", "0671000003"]]);
    assert_eq!(s.run().await, vec!["C"], "append 1");
    s.sheet(
        HEADER,
        &[
            &["1", "A", "0671000001"],
            &["2", "B", "0671000002"],
            &["3", "C", "0671000003"],
            &["4", "D", "0671000004"],
            &["5", "E", "0671000005"],
            &["6", "F", "0671000006"],
        ],
    );
    assert_eq!(s.run().await, vec!["D", "E", "F"], "append 3");

    // Insert in the middle, with a blank row.
    s.sheet(
        HEADER,
        &[
            &["1", "A", "0671000001"],
            &["7", "G", "0671000007"],
            &["", "", ""],
            &["2", "B", "0671000002"],
            &["3", "C", "0671000003"],
            &["4", "D", "0671000004"],
            &["5", "E", "0671000005"],
            &["6", "F", "0671000006"],
        ],
    );
    assert_eq!(s.run().await, vec!["G"], "insert in the middle and a blank row");

    // Delete two, append two.
    s.sheet(
        HEADER,
        &[
            &["1", "A", "0671000001"],
            &["7", "G", "0671000007"],
            &["4", "D", "0671000004"],
            &["5", "E", "0671000005"],
            &["6", "F", "0671000006"],
            &["8", "H", "0671000008"],
            &["9", "I", "0671000009"],
        ],
    );
    assert_eq!(s.run().await, vec!["H", "I"], "delete 2 then append 2");

    // Sorted descending; a non-key cell edited.
    s.sheet(
        HEADER,
        &[
            &["9", "I", "0671000009"],
            &["8", "H", "0671000008"],
            &["7", "G (VIP)", "0671000007"],
            &["6", "F", "0671000006"],
            &["5", "E", "0671000005"],
            &["4", "D", "0671000004"],
            &["1", "A", "0671000001"],
        ],
    );
    assert!(s.run().await.is_empty(), "a sort and an edited name send nothing");
    s.assert_nobody_twice();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_rows_a_renamed_tab_a_cleared_sheet_and_a_restart() {
    let mut s = Scenario::new(None, HEADER, &[&["1", "A", "0672000001"]]).await;
    s.sheet(HEADER, &[&["1", "A", "0672000001"], &["2", "B", "0672000002"], &["2", "B", "0672000002"]]);
    assert_eq!(s.run().await.len(), 2, "two identical rows are two rows (fingerprint + occurrence)");
    assert_eq!(s.sim.messages().len(), 2, "both reached 8x8 once");

    s.google.rename_tab(SHEET, GID, "Замовлення");
    s.sheet(
        HEADER,
        &[&["1", "A", "0672000001"], &["2", "B", "0672000002"], &["2", "B", "0672000002"], &["3", "C", "0672000003"]],
    );
    s.google.rename_tab(SHEET, GID, "Замовлення");
    assert_eq!(s.run().await, vec!["C"], "the renamed tab is still read by its gid");

    s.sheet(HEADER, &[]);
    let cleared = s.core.run("Sheet", &RunOptions::default()).await.unwrap();
    assert!(cleared.warning.is_some(), "an emptied sheet is a warning: {cleared:?}");

    // The app restarts; the rows come back.
    s.core = Core::open(s.dir.path(), s.secrets.clone()).unwrap();
    s.sheet(
        HEADER,
        &[&["1", "A", "0672000001"], &["2", "B", "0672000002"], &["2", "B", "0672000002"], &["3", "C", "0672000003"]],
    );
    assert!(s.run().await.is_empty(), "rows that come back after a clear are not new");

    // A renamed column the message uses pauses the connection.
    s.sheet(&["ID", "Customer", "Phone"], &[&["1", "A", "0672000001"], &["4", "D", "0672000004"]]);
    let err = s.core.run("Sheet", &RunOptions::default()).await.unwrap_err().to_string();
    assert!(err.contains("Name"), "the missing column is named: {err}");
    let mut count: HashMap<String, usize> = HashMap::new();
    for m in s.sim.messages() {
        *count.entry(m.destination).or_default() += 1;
    }
    assert_eq!(count.get("380672000002"), Some(&2), "the two identical rows were two SMS, never a third: {count:?}");
    assert_eq!(count.get("380672000003"), Some(&1), "C once: {count:?}");
    assert_eq!(count.len(), 2, "A (there at save) and D (after the pause) were never sent: {count:?}");
}
