//! New-row scenarios on a Google sheet, end to end through `Core::run`: the
//! loopback fake of Google as the source, the simulator as 8x8. After every
//! change to the sheet exactly the genuinely new rows are texted, and no
//! customer is ever texted twice. Every scenario runs in every way of signing
//! in (the `api_key::`, `public_csv::`, `service_account::` and `oauth::`
//! tests): the Sheets API with each kind of credential, and the CSV export.

use std::collections::HashMap;
use std::sync::Arc;

use sendrow_core::account::{AccountInput, Target};
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::{MemorySecrets, Secret, SecretStore};
use sendrow_core::sim::{Simulator, SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::source::google::fake::{service_account_key, FakeGoogle, DEFAULT_USER};
use sendrow_core::Core;

use crate::sim;

const SHEET: &str = "1ScenarioSheetIdAbCdEfGhIjKlMnOpQrStUvWxYz01";
const GID: u32 = 42;
const SA_EMAIL: &str = "sendrow-rows@proj.iam.gserviceaccount.com";
const CLIENT_ID: &str = "456-rows.apps.googleusercontent.com";

/// How the connection signs in to read the sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// An API key; the sheet is shared with anyone with the link.
    ApiKey,
    /// The CSV export link, no API; shared with anyone with the link.
    PublicCsv,
    /// A service account's key; the sheet is shared with its e-mail.
    ServiceAccount,
    /// A user signed in through the browser; the sheet is shared with them.
    OAuth,
}

/// Runs each scenario (an `async fn(Mode)`) as one test per mode.
macro_rules! in_every_mode {
    ($($scenario:ident),* $(,)?) => {
        in_every_mode!(@mode api_key, ApiKey, $($scenario),*);
        in_every_mode!(@mode public_csv, PublicCsv, $($scenario),*);
        in_every_mode!(@mode service_account, ServiceAccount, $($scenario),*);
        in_every_mode!(@mode oauth, OAuth, $($scenario),*);
    };
    (@mode $module:ident, $mode:ident, $($scenario:ident),*) => {
        mod $module {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(super::Mode::$mode).await
            })*
        }
    };
}

in_every_mode!(
    appends_inserts_deletes_sorts_and_blank_rows,
    identical_rows_a_renamed_tab_a_cleared_sheet_and_a_restart,
    a_tab_cleared_completely_is_a_warning_and_its_rows_coming_back_are_not_new,
    a_header_only_tab_saves_but_a_test_send_asks_for_a_row,
);

struct Scenario {
    dir: tempfile::TempDir,
    secrets: Arc<MemorySecrets>,
    core: Core,
    google: FakeGoogle,
    sim: Simulator,
}

impl Scenario {
    async fn new(mode: Mode, row_key: Option<&str>, header: &[&str], rows: &[&[&str]]) -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecrets::new());
        let google = FakeGoogle::start().await.unwrap();
        let sim = sim().await;
        let core = Core::open(dir.path(), secrets.clone()).unwrap();
        let mut s = Scenario { dir, secrets, core, google, sim };
        s.sheet(header, rows);
        let auth = s.sign_in(mode).await;
        s.setup(row_key, auth).await;
        s
    }

    /// Shares the sheet the way `mode` needs and stores its credentials;
    /// returns the spec's `auth` object.
    async fn sign_in(&self, mode: Mode) -> serde_json::Value {
        self.core.set_google_base_url(Some(&self.google.base_url())).unwrap();
        match mode {
            Mode::ApiKey => {
                self.google.add_api_key("scenario-key", true);
                self.google.share_with_link(SHEET);
                self.secrets.set("google-api-key:main", &Secret::new("scenario-key")).unwrap();
                serde_json::json!({"mode": "api_key", "key_entry": "google-api-key:main"})
            }
            Mode::PublicCsv => {
                self.google.share_with_link(SHEET);
                serde_json::json!({"mode": "public_csv"})
            }
            Mode::ServiceAccount => {
                let (key, public_key) = service_account_key(SA_EMAIL);
                self.google.add_service_account(SA_EMAIL, &public_key);
                self.google.share_with(SHEET, SA_EMAIL);
                self.core.store_google_key("google-sa:rows", Secret::new(key)).unwrap();
                serde_json::json!({"mode": "service_account", "key_entry": "google-sa:rows"})
            }
            Mode::OAuth => {
                self.google.add_oauth_client(CLIENT_ID, "GOCSPX-rows");
                self.google.share_with(SHEET, DEFAULT_USER);
                self.core.set_google_oauth_client(CLIENT_ID, Secret::new("GOCSPX-rows")).unwrap();
                let (url, pending) = self.core.start_google_sign_in().await.unwrap();
                // The browser follows the consent screen's redirect to the app's loopback page.
                let (finished, page) =
                    tokio::join!(self.core.finish_google_sign_in(pending, DEFAULT_USER), reqwest::get(&url));
                finished.expect("the sign-in completes");
                page.expect("the browser reaches the loopback page");
                serde_json::json!({"mode": "oauth", "account": DEFAULT_USER})
            }
        }
    }

    async fn setup(&mut self, row_key: Option<&str>, auth: serde_json::Value) {
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
            "source": {"type": "google_sheets", "spreadsheet": SHEET, "sheet": GID, "auth": auth},
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

async fn appends_inserts_deletes_sorts_and_blank_rows(mode: Mode) {
    let s = Scenario::new(mode, Some("ID"), HEADER, &[&["1", "A", "0671000001"], &["2", "B", "0671000002"]]).await;
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

async fn identical_rows_a_renamed_tab_a_cleared_sheet_and_a_restart(mode: Mode) {
    let mut s = Scenario::new(mode, None, HEADER, &[&["1", "A", "0672000001"]]).await;
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

async fn a_tab_cleared_completely_is_a_warning_and_its_rows_coming_back_are_not_new(mode: Mode) {
    let rows: &[&[&str]] = &[&["1", "A", "0673000001"], &["2", "B", "0673000002"]];
    let s = Scenario::new(mode, Some("ID"), HEADER, rows).await;
    assert!(s.run().await.is_empty(), "rows present when saved are never sent");

    // Select all → Delete: the header goes too, and Google sends no `values` at all.
    s.google.set_tab(SHEET, GID, "Orders", &[]);
    let cleared = s.core.run("Sheet", &RunOptions::default()).await.expect("an empty tab is not a failed run");
    assert!(cleared.warning.as_deref().is_some_and(|w| w.contains("0 row(s)")), "it is a warning: {cleared:?}");
    assert_eq!(cleared.new_rows, 0, "and nothing is sent");
    let view = s.core.connection_view("Sheet").unwrap();
    assert_eq!(view.status, "active", "a cleared tab is not a renamed column: no pause: {:?}", view.status_reason);

    s.sheet(HEADER, &[rows[0], rows[1], &["3", "C", "0673000003"]]);
    assert_eq!(s.run().await, vec!["C"], "the rows put back are not new; the one added since is");
    s.assert_nobody_twice();
}

async fn a_header_only_tab_saves_but_a_test_send_asks_for_a_row(mode: Mode) {
    let s = Scenario::new(mode, None, HEADER, &[]).await;
    assert!(s.run().await.is_empty(), "a new order sheet with only its header runs and sends nothing");
    let err = s.core.test_send("Sheet", None, None).await.expect_err("a test send needs a row");
    assert_eq!(
        err.to_string(),
        "the Google sheet's tab with gid 42 has column names but no rows under them yet — add a row to send a test",
        "the tab is named and the user told what to do"
    );
    assert_eq!(err.code().as_str(), "source_no_rows", "a code of its own for the window");

    s.sheet(HEADER, &[&["1", "A", "0674000001"]]);
    let test = s.core.test_send("Sheet", None, None).await.expect("with a row the test goes out");
    assert_eq!(test.text, "Hi A", "the new row is the one tested");
    assert_eq!(s.sim.messages().len(), 1, "only the test with a row reached 8x8");
}
