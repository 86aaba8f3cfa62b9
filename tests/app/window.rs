//! End-to-end tests of the real desktop window, driven through tauri-driver
//! and WebKitWebDriver the way a shop owner would use it: the first start
//! with the sandbox, accounts with a wrong and a right key, a CSV connection
//! built through every step of the wizard (chips, preview, UCS-2 warning,
//! test send), daily times with the 5-minute rule, a forced run, the history,
//! the opt-out list and settings, and the switch to Ukrainian; plus the
//! keyboard path of a first start with a real account. API keys must never
//! leak into the page or the data folder. Each screen is saved as
//! `target/screenshots/NN-name.png`.
//!
//! It needs an X display and a D-Bus session with an unlocked GNOME Keyring
//! (the app stores keys in the Secret Service): `scripts/test`, the README's
//! test command, provides both.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::common::{cmdline, output_within, processes, single_instance_owner, Group, CLI_PATIENCE};

/// Every wait is bounded by this; polling keeps the test independent of speed.
const PATIENCE: Duration = Duration::from_secs(20);
/// The bound on opening a WebDriver session: starting the app and WebKit is
/// the slowest step, more so on a busy machine.
const SESSION_PATIENCE: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(100);

const SANDBOX_SUBACCOUNT: &str = "sandbox_hq";
const SANDBOX_KEY: &str = "sandbox-key";
/// Distinctive so a leak anywhere can be found by a plain substring search.
const WRONG_KEY: &str = "wrong-key-SHOULD-NOT-LEAK-123";

const RUN_HINT: &str = "run it with `scripts/test` (the README's test command), which provides Xvfb, \
    a throwaway D-Bus session and an unlocked GNOME Keyring";

/// The child processes of one test run, stopped even when an assert panics:
/// each is a process group (tauri-driver's holds WebKitWebDriver, the app and
/// WebKit's processes), killed whole when dropped.
struct Processes {
    _sim: Group,
    // Held open so the simulator never writes into a closed pipe.
    _sim_stdout: BufReader<ChildStdout>,
    driver: Option<Group>,
    /// tauri-driver's output (WebKitWebDriver's and the app's too), shown
    /// when a session cannot start.
    logs: tempfile::TempDir,
}

impl Processes {
    /// Stops tauri-driver with SIGTERM: only its signal handler stops
    /// WebKitWebDriver (and with it the app) cleanly. Whatever of its group
    /// is still there after PATIENCE is killed.
    fn stop_driver(&mut self) {
        let Some(mut driver) = self.driver.take() else {
            return;
        };
        let _ = Command::new("kill").args(["-TERM", &driver.id().to_string()]).status();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let _ = driver.try_wait(); // reaps tauri-driver, which would stay a member as a zombie
            if driver.members().is_empty() {
                return;
            }
            std::thread::sleep(POLL);
        }
        eprintln!("tauri-driver's processes outlived SIGTERM by {PATIENCE:?}; killing them: {:?}", driver.members());
        // Dropping the group kills what is left of it: WebKitWebDriver, the app, WebKit.
    }

    fn driver_log(&self) -> String {
        let text = std::fs::read_to_string(self.logs.path().join("tauri-driver.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Why a WebDriver session may not have started, for the test's failure.
    fn session_diagnosis(&self) -> String {
        let mut why = Vec::new();
        if let Some(owner) = single_instance_owner() {
            let ours = self.driver.as_ref().is_some_and(|d| d.members().contains(&owner));
            if !ours {
                why.push(format!(
                    "another Sendrow (pid {owner}: {:?}) holds the single-instance name \
                     app.sendrow.desktop.SingleInstance, so the app this test started handed over to it and quit; \
                     a test before this one left it running",
                    cmdline(owner)
                ));
            }
        }
        let members: Vec<String> = processes()
            .into_iter()
            .filter(|p| self.driver.as_ref().is_some_and(|d| d.members().contains(&p.pid)))
            .map(|p| format!("{} {}", p.pid, p.name))
            .collect();
        why.push(format!("the test's processes: {members:?}"));
        why.push(format!("tauri-driver said (last lines):\n{}", self.driver_log()));
        why.join("\n")
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

/// Starts `sendrow sim --port 0 ARGS…` and returns it with the URL it listens on.
fn start_sim(args: &[&str]) -> (Group, BufReader<ChildStdout>, String) {
    let mut sim = Group::spawn(
        Command::new(env!("CARGO_BIN_EXE_sendrow")).args(["sim", "--port", "0"]).args(args).stdout(Stdio::piped()),
    )
    .expect("the sendrow binary must start its 8x8 simulator");
    let mut stdout = BufReader::new(sim.stdout.take().expect("sim stdout is piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the simulator prints its address on stdout");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the simulator's first line must be `listening on URL`, got {line:?}"))
        .to_owned();
    (sim, stdout, url)
}

/// tauri-driver on PATH, else where `cargo install` puts it.
fn find_tauri_driver() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("tauri-driver"))
        .find(|p| p.is_file());
    let in_cargo_home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/tauri-driver"));
    on_path.or(in_cargo_home.filter(|p| p.is_file())).unwrap_or_else(|| {
        panic!("tauri-driver not found on PATH or in ~/.cargo/bin: install it with `cargo install tauri-driver --version '^2' --locked`")
    })
}

/// A port nobody listens on right now, so parallel runs do not collide on 4444.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free local port").port()
}

/// The UI's strings, read from the same files the window loads.
fn ui_strings(lang: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("ui/i18n/{lang}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn string<'a>(strings: &'a Value, key: &str) -> &'a str {
    strings[key].as_str().unwrap_or_else(|| panic!("the UI strings have no {key:?}"))
}

/// Polls `probe` until it yields a value; panics with `what` after PATIENCE.
async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {PATIENCE:?} waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

async fn find(client: &Client, css: &str) -> Element {
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("the window must have {css}: {e}"))
}

async fn displayed(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(el) => el.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

async fn wait_displayed(client: &Client, css: &str) -> Element {
    wait_for(&format!("{css} to be visible"), || async {
        let el = client.find(Locator::Css(css)).await.ok()?;
        el.is_displayed().await.ok()?.then_some(el)
    })
    .await
}

async fn text_of(client: &Client, css: &str) -> String {
    find(client, css).await.text().await.unwrap_or_else(|e| panic!("cannot read the text of {css}: {e}"))
}

async fn type_into(client: &Client, css: &str, text: &str) {
    let field = wait_displayed(client, css).await;
    field.clear().await.unwrap_or_else(|e| panic!("cannot clear {css}: {e}"));
    field.send_keys(text).await.unwrap_or_else(|e| panic!("cannot type into {css}: {e}"));
}

async fn click(client: &Client, css: &str) {
    wait_displayed(client, css).await.click().await.unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

async fn has_class(el: &Element, class: &str) -> bool {
    let classes = el.attr("class").await.expect("a badge's class attribute").unwrap_or_default();
    classes.split_whitespace().any(|c| c == class)
}

/// Whether a sendrow window on `data_dir` still runs (Linux: reads /proc), so
/// the last file check sees what the app left behind, not a moving target.
fn app_running(data_dir: &str) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else { return false };
    procs.flatten().any(|p| {
        std::fs::read(p.path().join("cmdline")).is_ok_and(|cmd| {
            let args: Vec<&[u8]> = cmd.split(|&b| b == 0).collect();
            args.first().is_some_and(|exe| exe.ends_with(b"sendrow")) && args.contains(&data_dir.as_bytes())
        })
    })
}

/// Panics if any file under `dir` contains one of `secrets`, byte for byte.
fn assert_no_secret_in_files(dir: &Path, secrets: &[&str], when: &str) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            // The app may delete -wal/-shm between listing and reading.
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            files += 1;
            for secret in secrets {
                let leaked = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(
                    !leaked,
                    "API key {secret:?} leaked into {} ({when}): keys belong in the keychain only",
                    path.display()
                );
            }
        }
    }
    assert!(files > 0, "the data folder {} must hold the app's files ({when})", dir.display());
}

/// Only one window at a time: two WebKitWebDriver sessions on one display
/// would steal each other's focus and keyboard input.
pub(crate) static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn require_display_and_bus() {
    assert!(std::env::var_os("DISPLAY").is_some(), "this test opens a real window and DISPLAY is not set; {RUN_HINT}");
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "this test stores API keys in the Secret Service and there is no D-Bus session; {RUN_HINT}"
    );
}

/// A running app on `data_dir` behind tauri-driver, with the test's own 8x8
/// simulator (a separate process, so the test can read what it received).
struct Session {
    client: Client,
    procs: Processes,
    sim_url: String,
    data_dir: String,
    /// The app's own HOME: start at login writes ~/.config/autostart there.
    home: tempfile::TempDir,
}

impl Session {
    async fn start(data_dir: &Path) -> Session {
        Session::start_with(data_dir, &[], |_| {}).await
    }

    /// Like `start`, with arguments for the simulator and a step that
    /// prepares the data folder (given the simulator's URL) before the app starts.
    async fn start_with(data_dir: &Path, sim_args: &[&str], prepare: impl FnOnce(&str)) -> Session {
        let (sim, sim_stdout, sim_url) = start_sim(sim_args);
        // Owned before `prepare`, so a failing preparation still stops the simulator.
        let logs = tempfile::tempdir().expect("a temp folder for tauri-driver's output");
        let mut procs = Processes { _sim: sim, _sim_stdout: sim_stdout, driver: None, logs };
        prepare(&sim_url);
        // A Sendrow left running would take this test's launch over (single instance).
        let free = wait_for_or_none(|| std::future::ready(single_instance_owner().is_none().then_some(()))).await;
        if free.is_none() {
            panic!("cannot start the test's app: {}", procs.session_diagnosis());
        }
        let data_dir = data_dir.to_str().expect("a UTF-8 temp path").to_owned();
        let (port, native_port) = (free_port(), free_port());
        let home = tempfile::tempdir().expect("a temp home folder");
        let log = std::fs::File::create(procs.logs.path().join("tauri-driver.log")).expect("a log file");
        let driver = Group::spawn(
            Command::new(find_tauri_driver())
                .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
                .env("HOME", home.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("the log file, twice"))
                .stderr(log),
        )
        .expect("tauri-driver must start");
        procs.driver = Some(driver);
        wait_for("tauri-driver to listen", || {
            let exited = procs.driver.as_mut().and_then(|d| d.try_wait().ok().flatten());
            assert!(exited.is_none(), "tauri-driver exited early with {exited:?}");
            std::future::ready(TcpStream::connect(("127.0.0.1", port)).ok())
        })
        .await;
        // `args` rather than the environment, so a SENDROW_DATA_DIR of the
        // developer's shell can never point the test at real data.
        let caps = json!({
            "browserName": "wry",
            "tauri:options": {
                "application": env!("CARGO_BIN_EXE_sendrow"),
                "args": ["--data-dir", data_dir],
            },
        });
        // The test binary's rustls has two providers (ring, aws-lc): choose one.
        sendrow_core::install_tls_provider();
        let mut builder = ClientBuilder::rustls().expect("a rustls WebDriver connector");
        builder.capabilities(caps.as_object().expect("capabilities are an object").clone());
        let url = format!("http://127.0.0.1:{port}");
        let connecting = builder.connect(&url);
        let client = match tokio::time::timeout(SESSION_PATIENCE, connecting).await {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => panic!(
                "tauri-driver could not open a session with the sendrow window: {e}\n{}",
                procs.session_diagnosis()
            ),
            Err(_) => panic!(
                "no WebDriver session with the sendrow window within {SESSION_PATIENCE:?}\n{}",
                procs.session_diagnosis()
            ),
        };
        Session { client, procs, sim_url, data_dir, home }
    }

    /// Closes the window and waits until the app has really quit.
    async fn stop(mut self) {
        self.client.clone().close().await.expect("the WebDriver session must close");
        self.procs.stop_driver();
        let data_dir = self.data_dir.clone();
        wait_for("the app to quit with its WebDriver session", || {
            std::future::ready((!app_running(&data_dir)).then_some(()))
        })
        .await;
    }

    /// What the test's simulator accepted so far.
    async fn sim_messages(&self) -> Vec<Value> {
        let url = format!("{}/_sim/messages", self.sim_url);
        reqwest::get(&url).await.expect("the simulator answers").json().await.expect("the simulator lists JSON")
    }
}

/// Saves what the window shows as `target/screenshots/NN-name.png`.
async fn shoot(client: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let png = client.screenshot().await.expect("a WebDriver screenshot");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("screenshot: {}", path.display());
}

/// Waits until the text of `css` satisfies `ok`, and returns it.
async fn wait_text(client: &Client, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let last = std::cell::RefCell::new(String::new());
    let found = wait_for_or_none(|| async {
        let el = client.find(Locator::Css(css)).await.ok()?;
        let text = el.text().await.ok()?;
        let good = ok(&text);
        *last.borrow_mut() = text.clone();
        good.then_some(text)
    })
    .await;
    found.unwrap_or_else(|| {
        panic!("timed out after {PATIENCE:?} waiting for {what} in {css}; it says {:?}", last.borrow())
    })
}

async fn wait_for_or_none<T, F, Fut>(mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn attr_of(client: &Client, css: &str, name: &str) -> String {
    find(client, css).await.attr(name).await.expect("an attribute").unwrap_or_default()
}

/// Fills and submits a connect-an-account form whose ids start with `p`,
/// choosing "Another address…" so the account points at the simulator.
async fn fill_account_form(client: &Client, p: &str, name: &str, base_url: &str, key: &str) {
    type_into(client, &format!("#{p}-name"), name).await;
    let region = wait_displayed(client, &format!("#{p}-region")).await;
    // The second account is added in a re-opened form that remembers the
    // previous region; choosing it again must still show the address field.
    region.select_by_value("custom").await.expect("the region list must offer `custom`");
    type_into(client, &format!("#{p}-base-url"), base_url).await;
    type_into(client, &format!("#{p}-subaccount"), SANDBOX_SUBACCOUNT).await;
    type_into(client, &format!("#{p}-key"), key).await;
    click(client, &format!("#{p}-submit")).await;
}

/// Waits for the account's row to show a status badge, failing fast with the
/// form's own error if the add was refused.
async fn wait_for_badge(client: &Client, name: &str, error_box: &str) -> Element {
    let badge = format!(r#"[data-account="{name}"] .badge"#);
    wait_for(&format!("account {name:?} with a status badge"), || async {
        if displayed(client, error_box).await {
            panic!("adding account {name:?} failed: {}", text_of(client, error_box).await);
        }
        client.find(Locator::Css(&badge)).await.ok()
    })
    .await
}

/// The card of a connection on the main screen, and something inside it.
fn card(name: &str, inner: &str) -> String {
    format!(r#"article[data-connection="{name}"] {inner}"#)
}

/// A local time `minutes` from now, as the schedule editor takes it.
fn local_hhmm(minutes: i64) -> String {
    (chrono::Local::now() + chrono::Duration::minutes(minutes)).format("%H:%M").to_string()
}

async fn press(client: &Client, key: fantoccini::key::Key) {
    let focused = client.active_element().await.expect("something has the keyboard focus");
    focused.send_keys(&key.to_string()).await.expect("a key press reaches the focused element");
}

/// A CSV like a shop's order export: Ukrainian headers and names, a phone
/// written the way people type it.
const ORDERS_CSV: &str =
    "Order ID,Ім'я,Телефон,Сума\n1,Олена,067 123 45 67,450 грн\n2,Ivan,+380 50 111 22 33,1200 грн\n";

#[tokio::test(flavor = "multi_thread")]
async fn shop_owner_goes_through_the_seed_flow_in_the_real_window() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let en = ui_strings("en");
    let uk = ui_strings("uk");
    let data = tempfile::tempdir().expect("a temp data folder");
    let files = tempfile::tempdir().expect("a temp folder for the shop's files");
    let orders = files.path().join("orders.csv");
    std::fs::write(&orders, ORDERS_CSV).expect("the orders CSV is written");
    let session = Session::start(data.path()).await;
    let client = &session.client;
    let sim_url = session.sim_url.clone();

    // 1. First start: nothing connected, so the window offers the sandbox or a real account.
    wait_displayed(client, "#view-welcome").await;
    assert_eq!(
        text_of(client, "#welcome-title").await,
        string(&en, "welcome.title"),
        "a fresh data folder greets in English when the OS locale is not Ukrainian"
    );
    assert!(displayed(client, "#start-real").await, "the first start must also offer connecting a real 8x8 account");
    let about = text_of(client, "#about").await;
    assert!(about.contains(&session.data_dir), "the window must use the test's data folder, footer says {about:?}");
    shoot(client, "01-welcome").await;

    // 2. The sandbox: an account on the built-in simulator and a sample connection.
    click(client, "#start-sandbox").await;
    let flow = wait_text(client, &card("Sample orders", ".flow"), "the sample connection", |t| !t.is_empty()).await;
    assert_eq!(flow, "orders.csv → 8x8 · Sandbox", "the sample connection reads its CSV and sends through the Sandbox");
    click(client, &card("Sample orders", "button.run")).await;
    let last =
        wait_text(client, &card("Sample orders", ".last-run"), "the sample's first run", |t| t.contains("sent 3"))
            .await;
    assert!(last.contains("failed 0"), "the built-in simulator accepts all three sample orders: {last:?}");
    shoot(client, "02-sandbox-connections").await;

    // 3. Accounts: a wrong key is kept but inactive, with 8x8's reason.
    click(client, "#tab-accounts").await;
    let sandbox = wait_for_badge(client, "Sandbox", "#f-error").await;
    assert!(has_class(&sandbox, "active").await, "the sandbox account is active against the built-in simulator");
    click(client, "#show-add").await;
    fill_account_form(client, "f", "Shop typo", &sim_url, WRONG_KEY).await;
    let badge = wait_for_badge(client, "Shop typo", "#f-error").await;
    assert!(has_class(&badge, "inactive").await, "8x8 refuses a wrong key, so the account must be inactive");
    let reason = text_of(client, r#"tr[data-account="Shop typo"] .reason"#).await;
    assert!(
        reason.contains("Request was not authenticated properly") && reason.contains(string(&en, "status.checkAccess")),
        "the row must say why 8x8 refused the key and ask to check access to the login; it says {reason:?}"
    );
    shoot(client, "03-accounts").await;

    // 4. Wizard step 1: the CSV, its columns and rows, and where to start.
    click(client, "#tab-connections").await;
    click(client, "#new-connection").await;
    type_into(client, "#w-path", orders.to_str().expect("a UTF-8 path")).await;
    click(client, "#w-read").await;
    let columns = wait_text(client, "#w-columns", "the columns found", |t| t.contains("Телефон")).await;
    assert!(columns.contains("2 rows"), "the sample must count the two data rows: {columns:?}");
    assert_eq!(
        text_of(client, "#w-all-rows").await,
        "All 2 rows already there too",
        "the start-from choice shows how many rows are already there"
    );
    assert_eq!(
        find(client, "#w-name").await.prop("value").await.unwrap().as_deref(),
        Some("orders"),
        "named after the file"
    );
    type_into(client, "#w-name", "Orders").await;
    click(client, r#"input[name="start-from"][value="all_rows"]"#).await;
    shoot(client, "04-wizard-source").await;
    click(client, "#w-next").await;

    // Steps 2 and 3: the receiver 8x8 and the action Send SMS.
    let receiver = wait_text(client, r#".step[data-step="2"]"#, "the receiver step", |t| t.contains("8x8")).await;
    assert!(receiver.contains(string(&en, "receiver.title")), "step 2 is the seed's receiver choice: {receiver:?}");
    shoot(client, "05-wizard-receiver").await;
    click(client, "#w-next").await;
    let action = wait_text(client, r#".step[data-step="3"]"#, "the action step", |t| !t.is_empty()).await;
    assert!(action.contains(string(&en, "action.sms")), "step 3 offers the action Send SMS: {action:?}");
    click(client, "#w-next").await;

    // Step 4: the inactive account is refused by the backend; a right key is connected inline.
    let typo = wait_displayed(client, r#"label[data-account="Shop typo"]"#).await;
    let typo_text = typo.text().await.expect("the inactive account's card");
    assert!(
        typo_text.contains(string(&en, "status.inactive")) && typo_text.contains(string(&en, "status.checkAccess")),
        "an inactive account is listed with its state and the access warning: {typo_text:?}"
    );
    click(client, r#"label[data-account="Shop typo"] input"#).await;
    click(client, "#w-next").await;
    let refused = wait_text(client, "#w-error", "the step to refuse an inactive account", |t| !t.is_empty()).await;
    assert!(
        refused.contains(string(&en, "error.account_inactive")),
        "Next must not go on with an account 8x8 refuses: {refused:?}"
    );
    shoot(client, "06-wizard-account-inactive").await;
    click(client, "#w-connect-toggle").await;
    fill_account_form(client, "wa", "Shop main", &sim_url, SANDBOX_KEY).await;
    let main_badge = wait_for_badge(client, "Shop main", "#wa-error").await;
    assert!(has_class(&main_badge, "active").await, "the right key makes an active account");
    let chosen = find(client, r#"label[data-account="Shop main"] input"#).await;
    assert!(chosen.is_selected().await.unwrap(), "an account connected inline is the one chosen");
    shoot(client, "07-wizard-account").await;
    click(client, "#w-next").await;

    // Step 5: phone column, sender, a message built with chips, and the live preview.
    wait_displayed(client, "#w-message").await;
    let phone = find(client, "#w-phone").await.prop("value").await.unwrap();
    assert_eq!(phone.as_deref(), Some("Телефон"), "the phone column is guessed from its header");
    type_into(client, "#w-sender", "MyShop").await;
    type_into(client, "#w-message", "Вітаємо, ").await;
    click(client, "#chip-col-1").await; // Ім'я
    find(client, "#w-message").await.send_keys("! Замовлення ").await.unwrap();
    click(client, "#chip-col-0").await; // Order ID
    find(client, "#w-message").await.send_keys(" на ").await.unwrap();
    click(client, "#chip-col-3").await; // Сума
    find(client, "#w-message").await.send_keys(" прийнято ").await.unwrap();
    click(client, "#chip-var-date").await;
    let template = find(client, "#w-message").await.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(
        template, "Вітаємо, {{Ім'я}}! Замовлення {{Order ID}} на {{Сума}} прийнято {{$date}}",
        "chips insert {{…}} where the cursor is"
    );
    let today = chrono::Local::now().format("%d.%m.%Y").to_string();
    let expected = format!("Вітаємо, Олена! Замовлення 1 на 450 грн прийнято {today}");
    let preview = wait_text(client, "#w-preview-text", "the preview from the first row", |t| {
        t.contains("прийнято 0") || t.contains(&today)
    })
    .await;
    assert_eq!(preview, expected, "the preview renders the first row with today's date");
    let warning = wait_text(client, "#w-ucs2", "the UCS-2 warning", |t| !t.is_empty()).await;
    assert!(warning.contains("UCS-2"), "a Ukrainian text must warn that it goes as UCS-2: {warning:?}");
    assert!(displayed(client, "#w-ucs2 mark").await, "the characters that force UCS-2 are highlighted");
    let counter = text_of(client, "#w-counter").await;
    assert!(
        counter.starts_with("UCS-2") && counter.contains("1 SMS part"),
        "the counter says UCS-2, one part: {counter:?}"
    );
    assert!(displayed(client, "#w-preview-text mark").await, "culprits are marked in the preview text too");
    shoot(client, "08-wizard-message").await;
    click(client, "#w-next").await;

    // Step 6: the connection is saved; the test SMS goes to the row's phone.
    let to = wait_text(client, "#w-test-row-phone", "the test recipient", |t| !t.is_empty()).await;
    assert!(to.contains("+380671234567"), "the test goes to the first row's phone, normalised: {to:?}");
    click(client, "#w-test-send").await;
    let result = wait_text(client, "#w-test-result", "the test result", |t| !t.is_empty()).await;
    assert!(
        result.contains("8x8 accepted the test SMS") && result.contains("Message ID:"),
        "a test 8x8 queued shows the message ID: {result:?}"
    );
    assert!(has_class(&find(client, "#w-test-result").await, "ok").await, "an accepted test is shown as success");
    let sent = session.sim_messages().await;
    assert_eq!(sent.len(), 1, "exactly one SMS reached 8x8 for the test: {sent:?}");
    assert_eq!(sent[0]["destination"], "380671234567", "the test went to the row's phone");
    assert_eq!(sent[0]["text"], expected.as_str(), "8x8 got the previewed text");
    shoot(client, "09-wizard-test").await;
    click(client, "#w-next").await;

    // Step 7: daily times; one only 2 minutes away shows the 5-minute rule in place.
    click(client, r#"input[name="ws-kind"][value="at"]"#).await;
    let rule = wait_text(client, "#ws-rule", "the 5-minute rule", |t| !t.is_empty()).await;
    assert_eq!(rule, string(&en, "sched.rule"), "the rule is explained where the times are chosen");
    let soon = local_hhmm(2);
    type_into(client, "#ws-time-0", &soon).await;
    let note =
        wait_text(client, "#ws-note-0", "the first run of a time 2 minutes away", |t| t.contains("less than 5")).await;
    assert!(note.contains("tomorrow") || note.contains(","), "a time too close runs a day later: {note:?}");
    click(client, "#ws-add-time").await;
    type_into(client, "#ws-time-1", "23:30").await;
    wait_text(client, "#ws-note-1", "the first run of a second time", |t| t.contains("first run")).await;
    assert_eq!(
        attr_of(client, "#w-auto", "aria-checked").await,
        "true",
        "the last step turns auto-update on by default"
    );
    shoot(client, "10-wizard-schedule").await;
    click(client, "#w-next").await;

    // The main screen: the new connection with its schedule, toggle and next run.
    let schedule = wait_text(client, &card("Orders", ".schedule-text"), "the saved schedule", |t| !t.is_empty()).await;
    assert_eq!(schedule, format!("every day at {soon}, 23:30"), "the card shows the daily times");
    assert_eq!(attr_of(client, &card("Orders", ".switch"), "aria-checked").await, "true", "auto-update is on");
    let next = text_of(client, &card("Orders", ".next-run")).await;
    assert!(next.contains(":"), "an enabled daily schedule has a next run time: {next:?}");
    shoot(client, "11-connections").await;

    // The gear shows the same schedule; Escape closes it.
    click(client, &card("Orders", r#"button[aria-label^="When"]"#)).await;
    wait_displayed(client, "#gear-dialog").await;
    let time = find(client, "#g-time-0").await.prop("value").await.unwrap();
    assert_eq!(time.as_deref(), Some(soon.as_str()), "the gear edits the saved schedule");
    shoot(client, "12-gear").await;
    press(client, fantoccini::key::Key::Escape).await;
    wait_for("Escape to close the gear dialog", || async { (!displayed(client, "#gear-dialog").await).then_some(()) })
        .await;

    // The arrow: a run now sends the second row only (the test counted as row 1's SMS).
    click(client, &card("Orders", "button.run")).await;
    let last = wait_text(client, &card("Orders", ".last-run"), "the forced run", |t| t.contains("sent")).await;
    let note = text_of(client, &card("Orders", r#"p[id^="note-"]"#)).await;
    assert!(
        last.contains("sent 1 · failed 0 · unknown 0"),
        "the run texts only row 2: {last:?}; the run said {note:?}"
    );
    let sent = session.sim_messages().await;
    assert_eq!(sent.len(), 2, "the test plus one run message, never row 1 twice: {sent:?}");
    assert_eq!(sent[1]["destination"], "380501112233", "the run texted the second row");
    shoot(client, "13-after-run").await;

    // History: one line per message: the test, row 1 (counted as sent by
    // the test, with the same umid) and row 2 from the run.
    click(client, &card("Orders", "button[id^=history-]")).await;
    wait_text(client, "#history-title", "the history title", |t| t.contains("Orders")).await;
    let rows = wait_for("three history rows", || async {
        let rows = client.find_all(Locator::Css("#history-body tr")).await.ok()?;
        (rows.len() == 3).then_some(rows)
    })
    .await;
    let mut texts = Vec::new();
    for row in &rows {
        texts.push(row.text().await.expect("a history row's text"));
    }
    assert!(texts.iter().all(|t| t.contains("Sent to 8x8")), "both messages were queued by 8x8: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("test")), "the test send is marked as a test: {texts:?}");
    assert!(texts.iter().any(|t| t.contains("+380501112233")), "the run's message shows its phone: {texts:?}");
    find(client, "#history-filter").await.select_by_value("failed").await.expect("a status filter");
    wait_displayed(client, "#history-empty").await;
    find(client, "#history-filter").await.select_by_value("queued").await.expect("a status filter");
    wait_displayed(client, "#history-table").await;
    shoot(client, "14-history").await;

    // Ukrainian: the screen on display switches in place.
    click(client, "#lang-uk").await;
    wait_text(client, "#history-title", "the Ukrainian history title", |t| t == "Історія «Orders»").await;
    let badge = text_of(client, "#history-body .badge").await;
    assert_eq!(badge, string(&uk, "entry.queued"), "status badges switch to Ukrainian too");
    let line = text_of(client, "#history-body td").await;
    assert!(line.starts_with("рядок "), "the row column switches to Ukrainian too: {line:?}");
    shoot(client, "15-history-uk").await;
    click(client, "#history-back").await;
    let schedule =
        wait_text(client, &card("Orders", ".schedule-text"), "the Ukrainian schedule", |t| t.contains("щодня")).await;
    assert_eq!(schedule, format!("щодня о {soon}, 23:30"), "the card's schedule is in Ukrainian");
    assert_eq!(
        text_of(client, "#connections-title").await,
        "З'єднання",
        "the main screen's title is Ukrainian, the seed's word"
    );
    shoot(client, "16-connections-uk").await;

    // The wizard in Ukrainian, on an existing connection (edit).
    click(client, &card("Orders", r#"button[id^="edit-"]"#)).await;
    wait_text(client, "#wizard-title", "the edit title", |t| t == "Редагування «Orders»").await;
    wait_text(client, "#w-columns", "the re-read source", |t| t.contains("Телефон")).await;
    shoot(client, "17-wizard-uk").await;
    click(client, "#wizard-close").await;

    // Opt-out list and settings.
    click(client, "#tab-optouts").await;
    type_into(client, "#o-number", "050 111 22 33").await;
    click(client, "#o-add").await;
    wait_displayed(client, r#"#optouts-body tr[data-phone="+380501112233"]"#).await;
    let note = text_of(client, "#optouts-note").await;
    assert!(note.contains("+380501112233"), "adding a number says which number, normalised: {note:?}");
    shoot(client, "18-optouts-uk").await;
    click(client, "#tab-settings").await;
    let data_text = wait_text(client, "#s-data", "the data folder", |t| !t.is_empty()).await;
    assert!(data_text.contains(&session.data_dir), "settings show where the data is: {data_text:?}");
    shoot(client, "19-settings-uk").await;
    // Start at login: an autostart entry that opens this folder in the tray, and gone again.
    let entry = session.home.path().join(".config/autostart/Sendrow.desktop");
    assert!(!entry.exists(), "start at login is off by default");
    click(client, "#s-autostart").await;
    wait_for("the switch to turn on", || async {
        (attr_of(client, "#s-autostart", "aria-checked").await == "true").then_some(())
    })
    .await;
    let desktop = std::fs::read_to_string(&entry).expect("switching it on writes an autostart entry");
    let exec = desktop.lines().find(|l| l.starts_with("Exec=")).unwrap_or_default();
    assert!(
        exec.contains(" --tray") && exec.contains(&format!("--data-dir {}", session.data_dir)),
        "the entry starts Sendrow in the tray on this data folder: {exec:?}"
    );
    click(client, "#s-autostart").await;
    wait_for("the switch to turn off", || async {
        (attr_of(client, "#s-autostart", "aria-checked").await == "false").then_some(())
    })
    .await;
    assert!(!entry.exists(), "switching it off removes the entry");
    click(client, "#lang-en").await;
    wait_text(client, "#settings-title", "the English settings title", |t| t == "Settings").await;

    // Keys go to the keychain only: never back into the page, never on disk.
    let source = client.source().await.expect("the page source");
    for key in [WRONG_KEY, SANDBOX_KEY] {
        assert!(!source.contains(key), "API key {key:?} must not come back into the page");
    }
    for field in ["#f-key", "#wa-key"] {
        let typed = find(client, field).await.prop("value").await.expect("the key field's value");
        assert_eq!(typed.as_deref(), Some(""), "{field} must be emptied once the key is handed to the keychain");
    }
    assert_no_secret_in_files(data.path(), &[WRONG_KEY, SANDBOX_KEY], "while the app runs");
    session.stop().await;
    // On exit SQLite may checkpoint the WAL into sendrow.db: check again.
    assert_no_secret_in_files(data.path(), &[WRONG_KEY, SANDBOX_KEY], "after the app stopped");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_with_a_real_account_works_from_the_keyboard() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let en = ui_strings("en");
    let data = tempfile::tempdir().expect("a temp data folder");
    let session = Session::start(data.path()).await;
    let client = &session.client;

    wait_displayed(client, "#view-welcome").await;
    // Tab from the sandbox button reaches "Connect an account"; Enter opens the form.
    client.execute("document.getElementById('start-sandbox').focus()", vec![]).await.expect("focus the sandbox offer");
    press(client, fantoccini::key::Key::Tab).await;
    let focused = client.active_element().await.unwrap().attr("id").await.unwrap();
    assert_eq!(focused.as_deref(), Some("start-real"), "Tab moves from the sandbox offer to the real-account offer");
    press(client, fantoccini::key::Key::Enter).await;
    wait_displayed(client, "#add-panel").await;
    let focused = client.active_element().await.unwrap().attr("id").await.unwrap();
    assert_eq!(focused.as_deref(), Some("f-name"), "the form opens with the cursor in its first field");
    assert!(displayed(client, "#accounts-empty").await, "no account yet, and the screen says so");
    assert_eq!(
        text_of(client, "#accounts-empty").await,
        string(&en, "accounts.empty"),
        "the empty state is in plain words"
    );
    press(client, fantoccini::key::Key::Escape).await;
    wait_for("Escape to close the add-account form", || async {
        (!displayed(client, "#add-panel").await).then_some(())
    })
    .await;

    click(client, "#show-add").await;
    fill_account_form(client, "f", "Shop main", &session.sim_url, SANDBOX_KEY).await;
    let badge = wait_for_badge(client, "Shop main", "#f-error").await;
    assert!(has_class(&badge, "active").await, "the simulator accepts sandbox-key, so the account is active");
    assert!(!displayed(client, "#accounts-empty").await, "with an account the empty state is gone");
    click(client, "#tab-connections").await;
    wait_displayed(client, "#connections-empty").await;
    shoot(client, "20-first-start-real-account").await;
    session.stop().await;
    assert_no_secret_in_files(data.path(), &[SANDBOX_KEY], "after the app stopped");
}

/// Runs the `sendrow` CLI on `data_dir` with `stdin`, insisting it succeeds.
fn sendrow_cli(data_dir: &Path, args: &[&str], stdin: &str, why: &str) {
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_sendrow")).arg("--data-dir").arg(data_dir).args(args),
        stdin,
        CLI_PATIENCE,
    );
    assert!(
        out.status.success(),
        "{why}: `sendrow {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn append_row(path: &Path, line: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().append(true).open(path).expect("the CSV opens for appending");
    writeln!(file, "{line}").expect("the row is appended");
}

/// Waits until the test's simulator has accepted `count` messages.
async fn wait_for_sms(session: &Session, count: usize, what: &str) -> Vec<Value> {
    wait_for(what, || async {
        let messages = session.sim_messages().await;
        (messages.len() >= count).then_some(messages)
    })
    .await
}

/// Auto-update in the app: nobody presses anything, yet a row appended to a
/// watched CSV is texted by the app's own scheduler, the card shows the run
/// while it lasts and its result after; the schedule keeps going with the
/// window closed to the tray, and the tray's Open brings a fresh window back.
#[tokio::test(flavor = "multi_thread")]
async fn the_app_sends_a_watched_csv_by_itself_in_the_window_and_from_the_tray() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let en = ui_strings("en");
    let data = tempfile::tempdir().expect("a temp data folder");
    let d = data.path().to_owned();
    let csv = d.join("orders.csv");
    std::fs::write(&csv, "ID,Phone\n1,0671111111\n").expect("the orders CSV is written");
    // A slow 8x8 keeps each run going long enough for the card to show it running.
    let session = Session::start_with(&d, &["--latency-ms", "1500"], |sim_url| {
        let account = ["account", "add", "main", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "the account the connection sends through");
        let spec = json!({
            "name": "Orders", "source": {"type": "csv", "path": csv}, "row_key": {"column": "ID"},
            "start_from": "new_rows", "account": "main", "phone_field": "Phone", "message": "Order {{ID}} is ready",
            "schedule": {"on_change": true}
        });
        let spec_path = d.join("spec.json");
        std::fs::write(&spec_path, spec.to_string()).expect("the spec is written");
        let spec_arg = spec_path.to_str().expect("a UTF-8 temp path");
        sendrow_cli(&d, &["connection", "add", "--file", spec_arg], "", "a connection that runs when its CSV changes");
    })
    .await;
    let client = &session.client;

    let next =
        wait_text(client, &card("Orders", ".next-run"), "the on-change connection's card", |t| !t.is_empty()).await;
    assert_eq!(next, string(&en, "sched.changeShort"), "the card says it runs when the file changes");
    assert!(
        !displayed(client, "#scheduler-banner").await,
        "the app runs the schedule itself, so there is no 'runs elsewhere' banner"
    );
    // Record what the page hears from the scheduler, and whether the card ever said it was running.
    let listening = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               window.__seen = []; window.__sawRunning = "";
               new MutationObserver(() => {
                 const p = document.querySelector('article[data-connection="Orders"] .progress');
                 if (p) window.__sawRunning = p.textContent;
               }).observe(document.getElementById("connections-list"), { childList: true, subtree: true });
               window.__TAURI__.event.listen("scheduler", (e) => window.__seen.push(e.payload)).then(() => done(true));"#,
            vec![],
        )
        .await
        .expect("the page can listen to the scheduler's events");
    assert_eq!(listening, json!(true), "the listener is in place before the row is appended");

    append_row(&csv, "2,0672222222");
    let sent = wait_for_sms(&session, 1, "the appended row to reach 8x8 with nobody pressing anything").await;
    assert_eq!(sent.len(), 1, "exactly the new row was texted, never the baseline: {sent:?}");
    assert_eq!(sent[0]["destination"], "380672222222", "the new row's phone got the SMS");
    let last =
        wait_text(client, &card("Orders", ".last-run"), "the scheduled run on the card", |t| t.contains("sent 1"))
            .await;
    assert!(last.contains("failed 0"), "the card shows the scheduled run's result: {last:?}");
    let seen = client.execute("return window.__seen", vec![]).await.expect("the recorded events");
    let seen = seen.as_array().cloned().unwrap_or_default();
    assert!(
        seen.iter().any(|e| e["event"] == "run_started" && e["name"] == "Orders" && e["cause"] == "file_changed"),
        "the window heard the run start because the file changed: {seen:?}"
    );
    assert!(
        seen.iter().any(|e| e["event"] == "run_finished" && e["outcome"]["result"] == "finished"),
        "the window heard the run finish: {seen:?}"
    );
    let running = client.execute("return window.__sawRunning", vec![]).await.expect("the recorded progress");
    assert_eq!(running, json!(string(&en, "conn.running")), "the card said it was running while 8x8 took its time");
    shoot(client, "21-scheduled-run").await;

    // Closed to the tray (a second launch with --tray asks the running app): the
    // window and its webview go, the app and its schedule stay.
    sendrow_cli(&d, &["--tray"], "", "a second launch hands over to the running app");
    wait_for("the window to close to the tray", || async {
        client.windows().await.map_or(true, |w| w.is_empty()).then_some(())
    })
    .await;
    assert!(app_running(&session.data_dir), "closing the window keeps Sendrow running in the tray");
    append_row(&csv, "3,0673333333");
    let sent = wait_for_sms(&session, 2, "a row appended while the window is closed to reach 8x8").await;
    assert_eq!(sent[1]["destination"], "380673333333", "the tray app texted the next row: {sent:?}");

    // A second plain launch (as the tray's Open does) brings a new window showing that run.
    sendrow_cli(&d, &[], "", "a second launch focuses the running app");
    let handle = wait_for("a new window after the second launch", || async {
        client.windows().await.ok().and_then(|w| w.into_iter().next())
    })
    .await;
    client.switch_to_window(handle).await.expect("WebDriver switches to the new window");
    wait_text(client, &card("Orders", ".last-run"), "the re-created window's card", |t| t.contains("sent 1")).await;
    assert!(app_running(&session.data_dir), "the second launch handed over and the first app still runs");
    shoot(client, "22-window-again").await;
    session.stop().await;
}

/// A `sendrow daemon` child, stopped with SIGTERM on drop (SIGKILL if it
/// is not gone within PATIENCE).
struct Daemon(Group);

impl Drop for Daemon {
    fn drop(&mut self) {
        self.0.stop(PATIENCE);
    }
}

/// With `sendrow daemon` already running the schedule on the data folder,
/// the window still opens and works, and says in both languages that the
/// schedule runs elsewhere, instead of failing or running it twice.
#[tokio::test(flavor = "multi_thread")]
async fn the_window_says_so_when_a_daemon_already_runs_the_schedule() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let (en, uk) = (ui_strings("en"), ui_strings("uk"));
    let data = tempfile::tempdir().expect("a temp data folder");
    let mut child = Group::spawn(
        Command::new(env!("CARGO_BIN_EXE_sendrow"))
            .arg("--data-dir")
            .arg(data.path())
            .arg("daemon")
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )
    .expect("sendrow daemon starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let daemon = Daemon(child);
    let mut first = String::new();
    stderr.read_line(&mut first).expect("the daemon announces itself on stderr");
    assert!(first.contains("running the schedule"), "the daemon holds the folder's schedule: {first:?}");
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));

    let session = Session::start(data.path()).await;
    let client = &session.client;
    wait_displayed(client, "#view-welcome").await;
    let banner =
        wait_text(client, "#scheduler-banner", "the 'schedule runs elsewhere' banner", |t| !t.is_empty()).await;
    assert!(
        banner.starts_with(string(&en, "error.scheduler_elsewhere")),
        "the banner explains in plain words that another Sendrow runs the schedule: {banner:?}"
    );
    assert!(displayed(client, "#start-sandbox").await, "the window still works: the first start offers the sandbox");
    click(client, "#lang-uk").await;
    wait_text(client, "#scheduler-banner", "the Ukrainian banner", |t| {
        t.starts_with(string(&uk, "error.scheduler_elsewhere"))
    })
    .await;
    shoot(client, "23-schedule-elsewhere-uk").await;
    // First: `stop` waits until no sendrow process on the folder is left, the daemon included.
    drop(daemon);
    session.stop().await;
}

const SHEET: &str = "1GoogleSheetForTheWindowTest0123456789abcdEF";
const SA_EMAIL: &str = "reports@demo.iam.gserviceaccount.com";
const CLIENT_SECRET: &str = "client-secret-SHOULD-NOT-LEAK-456";

/// A Google sheet from the wizard, against the loopback fake of Google: first
/// through a pasted service-account key (refused until the sheet is shared
/// with the account, with words that say so), then by signing in with Google
/// (the OAuth client pasted once, the consent page opened from the address
/// the window shows). Keys go to the keychain, never to the page or the folder.
#[tokio::test(flavor = "multi_thread")]
async fn a_google_sheet_is_read_by_service_account_and_by_signing_in_from_the_wizard() {
    use sendrow_core::source::google::fake::{self, FakeGoogle, DEFAULT_USER};
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let en = ui_strings("en");
    let google = FakeGoogle::start().await.expect("the fake Google starts");
    let rows: &[&[&str]] =
        &[&["ID", "Name", "Phone"], &["1", "Olena", "067 123 45 67"], &["2", "Ivan", "067 765 43 21"]];
    google.set_tab(SHEET, 7, "Orders", rows);
    let (key_json, public_key) = fake::service_account_key(SA_EMAIL);
    google.add_service_account(SA_EMAIL, &public_key);
    google.add_oauth_client("desktop.apps.googleusercontent.com", CLIENT_SECRET);
    let private_key_line = key_json
        .split("\\n")
        .find(|line| line.len() > 40 && !line.contains("BEGIN"))
        .expect("the key JSON holds a PEM body")
        .to_owned();
    let data = tempfile::tempdir().expect("a temp data folder");
    let d = data.path().to_owned();
    let session = Session::start_with(&d, &[], |sim_url| {
        sendrow_cli(&d, &["google", "base-url", &google.base_url()], "", "Google's endpoints point at the fake");
        let account = ["account", "add", "main", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "an account, so the window opens on its connections");
    })
    .await;
    let client = &session.client;

    click(client, "#new-connection").await;
    click(client, r#"input[name="source-type"][value="google_sheets"]"#).await;
    assert!(displayed(client, "#google-access").await, "a Google source asks how Sendrow may read it");
    type_into(client, "#w-url", &format!("https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=7")).await;

    // A service account: the key is pasted, kept, and the sheet not yet shared with it.
    click(client, r#"input[name="google-mode"][value="service_account"]"#).await;
    client
        .execute("document.getElementById('g-sa-key').value = arguments[0]", vec![json!(key_json)])
        .await
        .expect("the key is pasted");
    click(client, "#w-read").await;
    let refused = wait_text(client, "#w-error", "the unshared sheet's error", |t| !t.is_empty()).await;
    assert!(
        refused.starts_with(string(&en, "error.google_permission")),
        "reading a sheet not shared with the service account says so in words: {refused:?}"
    );
    let note = text_of(client, "#g-sa-note").await;
    assert!(note.contains(SA_EMAIL), "the window says whom to share the sheet with: {note:?}");
    let left = find(client, "#g-sa-key").await.prop("value").await.expect("the key field's value");
    assert_eq!(left.as_deref(), Some(""), "the pasted key leaves the page once it is in the keychain");
    google.share_with(SHEET, SA_EMAIL);
    click(client, "#w-read").await;
    let columns =
        wait_text(client, "#w-columns", "the sheet read by the service account", |t| t.contains("Phone")).await;
    assert!(columns.contains("2 rows"), "both rows of the sheet: {columns:?}");
    shoot(client, "30-google-service-account").await;

    // Signing in: the OAuth client is asked for once, then Google's page opens.
    click(client, r#"input[name="google-mode"][value="oauth"]"#).await;
    wait_displayed(client, "#g-client-id").await;
    type_into(client, "#g-client-id", "desktop.apps.googleusercontent.com").await;
    type_into(client, "#g-client-secret", CLIENT_SECRET).await;
    google.share_with(SHEET, DEFAULT_USER);
    click(client, "#g-sign-in").await;
    let consent = wait_for("the sign-in address", || async {
        let url = find(client, "#g-sign-in-url").await.prop("value").await.ok().flatten().unwrap_or_default();
        (!url.is_empty()).then_some(url)
    })
    .await;
    assert!(consent.starts_with(&google.base_url()), "the consent page is Google's (here, the fake's): {consent}");
    assert!(displayed(client, "#g-sign-in-link").await, "the address is shown in case no browser opened");
    assert!(displayed(client, "#g-sign-in-progress").await, "the window says it waits for the browser");
    shoot(client, "31-google-sign-in-waiting").await;
    // The browser's part: the consent page redirects to the app's loopback
    // address. (If a browser did open here and came first, this finds the
    // sign-in already done, which is as good.)
    let _ = reqwest::get(&consent).await;
    wait_text(client, "#g-sign-in-status", "the finished sign-in", |t| t == string(&en, "google.signedIn")).await;
    assert!(!displayed(client, "#g-client-id").await, "the client is set up now, so it is not asked for again");
    click(client, "#w-read").await;
    wait_for("the sheet read as the signed-in user", || async {
        (!displayed(client, "#w-error").await && text_of(client, "#w-columns").await.contains("Phone")).then_some(())
    })
    .await;
    shoot(client, "32-google-signed-in").await;

    let page = client.source().await.expect("the page source");
    for secret in [CLIENT_SECRET, private_key_line.as_str()] {
        assert!(!page.contains(secret), "a Google secret is in the page: {secret:?}");
    }
    session.stop().await;
    assert_no_secret_in_files(&d, &[CLIENT_SECRET, &private_key_line], "after Google was set up");
    for entry in [format!("google-sa:{SHEET}"), "google-oauth:google".into()] {
        let _ = output_within(
            Command::new(env!("CARGO_BIN_EXE_sendrow")).arg("--data-dir").arg(&d).args(["google", "forget", &entry]),
            "",
            CLI_PATIENCE,
        );
    }
}

/// Runs xdotool with `args`, insisting it succeeds; returns what it printed.
fn xdotool(args: &[&str]) -> String {
    // Bounded: `--sync` waits for as long as the window takes.
    let out = Command::new("timeout")
        .arg(PATIENCE.as_secs().to_string())
        .arg("xdotool")
        .args(args)
        .output()
        .expect("xdotool runs (scripts/deps installs it)");
    assert!(out.status.success(), "xdotool {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The source file chosen in the system's own file dialog (a GTK window,
/// driven like a person would: type the path, press Enter) is read at once.
#[tokio::test(flavor = "multi_thread")]
async fn the_system_file_dialog_picks_the_source_file() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let en = ui_strings("en");
    let data = tempfile::tempdir().expect("a temp data folder");
    let files = tempfile::tempdir().expect("a temp folder for the shop's files");
    let orders = files.path().join("picked-orders.csv");
    std::fs::write(&orders, ORDERS_CSV).expect("the orders CSV is written");
    let d = data.path().to_owned();
    let session = Session::start_with(&d, &[], |sim_url| {
        let account = ["account", "add", "main", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "an account, so the window opens on its connections");
    })
    .await;
    let client = &session.client;
    click(client, "#new-connection").await;
    click(client, "#w-pick").await;
    let title = string(&en, "source.pickTitle");
    let dialog_shown = || {
        let found = Command::new("xdotool").args(["search", "--onlyvisible", "--name", title]).output().ok()?;
        let id = String::from_utf8_lossy(&found.stdout).lines().next()?.trim().to_owned();
        (!id.is_empty()).then_some(id)
    };
    let dialog = wait_for("the file dialog", || std::future::ready(dialog_shown())).await;
    xdotool(&["windowfocus", "--sync", &dialog]);
    // Ctrl+L opens GTK's location field, Ctrl+A replaces what it holds.
    xdotool(&["key", "ctrl+l", "ctrl+a"]);
    xdotool(&["type", orders.to_str().expect("a UTF-8 path")]);
    // GTK completes the typed path in the background and ignores an Enter
    // that comes first; a person presses Enter again, and so does the test.
    let deadline = Instant::now() + PATIENCE;
    while dialog_shown().is_some() && Instant::now() < deadline {
        xdotool(&["key", "Return"]);
        for _ in 0..10 {
            if dialog_shown().is_none() {
                break;
            }
            tokio::time::sleep(POLL).await;
        }
    }
    assert!(dialog_shown().is_none(), "the dialog took the typed file and closed");
    let columns = wait_text(client, "#w-columns", "the picked file's columns", |t| t.contains("Телефон")).await;
    assert!(columns.contains("2 rows"), "the picked file was read at once: {columns:?}");
    let path = find(client, "#w-path").await.prop("value").await.expect("the path field's value");
    assert_eq!(path.as_deref(), orders.to_str(), "the path field shows the chosen file");
    shoot(client, "33-file-picked").await;
    session.stop().await;
}

/// The card's way out of the states a run cannot leave by itself: a sheet
/// that shrank on purpose (dismiss the warning), rows that can no longer be
/// recognised (start over from new rows), and messages 8x8 kept failing
/// (the history's "Resend failed", which sends those and nothing else).
#[tokio::test(flavor = "multi_thread")]
async fn the_cards_lead_out_of_a_shrink_warning_a_pause_and_failed_messages() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let en = ui_strings("en");
    let data = tempfile::tempdir().expect("a temp data folder");
    let d = data.path().to_owned();
    let orders = d.join("orders.csv");
    let returns = d.join("returns.csv");
    let session = Session::start_with(&d, &[], |sim_url| {
        let account = ["account", "add", "main", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "the account both connections send through");
        let mut last_month = String::from("ID,Phone\n");
        for i in 1..=30 {
            last_month.push_str(&format!("{i},+38067{:07}\n", 1_000_000 + i));
        }
        std::fs::write(&orders, last_month).expect("the orders CSV is written");
        std::fs::write(&returns, "Order,Phone,Note\n7,0671234567,gift\n").expect("the returns CSV is written");
        let specs = [
            json!({"name": "Orders", "source": {"type": "csv", "path": orders}, "row_key": {"column": "ID"},
                   "start_from": "new_rows", "account": "main", "phone_field": "Phone", "message": "Order {{ID}}"}),
            json!({"name": "Returns", "source": {"type": "csv", "path": returns}, "start_from": "new_rows",
                   "account": "main", "phone_field": "Phone", "message": "Return {{Order}}"}),
        ];
        for (i, spec) in specs.iter().enumerate() {
            let path = d.join(format!("spec{i}.json"));
            std::fs::write(&path, spec.to_string()).expect("the spec is written");
            sendrow_cli(&d, &["connection", "add", "--file", path.to_str().unwrap()], "", "a connection");
            let name = spec["name"].as_str().unwrap();
            sendrow_cli(&d, &["run", name], "", "the first run sees the rows there are");
        }
        // Last month's orders are archived; one of them stays, one is new.
        std::fs::write(&orders, "ID,Phone\n30,+380671000030\n31,0502222222\n").expect("orders archived");
        // Returns has no ID column, and a column of its rows' fingerprint is renamed.
        std::fs::write(&returns, "Order,Phone,Comment\n7,0671234567,gift\n8,0633333333,\n").expect("column renamed");
        for name in ["Orders", "Returns"] {
            let run = output_within(
                Command::new(env!("CARGO_BIN_EXE_sendrow")).arg("--data-dir").arg(&d).args(["run", name]),
                "",
                CLI_PATIENCE,
            );
            assert!(run.status.success() == (name == "Orders"), "Orders warns, Returns pauses: {run:?}");
        }
    })
    .await;
    let client = &session.client;

    let warning = wait_displayed(client, &card("Orders", ".row-warning")).await;
    assert!(warning.text().await.unwrap().contains("the last read found 30"), "the card shows the shrink");
    let dismiss = card("Orders", ".row-warning button");
    assert_eq!(text_of(client, &dismiss).await, string(&en, "banner.dismissWarning"), "in the shop owner's words");
    wait_displayed(client, &card("Returns", ".start-over")).await;
    shoot(client, "30-shrink-warning-and-pause").await;
    click(client, &dismiss).await;
    wait_text(client, &card("Orders", "[role=status]"), "the note after dismissing", |t| {
        t == string(&en, "banner.warningDismissed")
    })
    .await;
    assert!(!displayed(client, &card("Orders", ".row-warning")).await, "the warning is gone");

    // 8x8 fails every attempt of the next run: the new order ends `failed`.
    let faults = json!({"next": ["503", "503", "503", "503", "503"]});
    reqwest::Client::new()
        .post(format!("{}/_sim/faults", session.sim_url))
        .json(&faults)
        .send()
        .await
        .expect("the simulator takes faults");
    click(client, &card("Orders", "button[id^=run-]")).await;
    wait_text(client, &card("Orders", ".last-run"), "the failed run on the card", |t| t.contains("failed 1")).await;
    assert!(session.sim_messages().await.is_empty(), "8x8 accepted nothing yet");
    // Removing it now would forget that message: the window asks with the
    // count first, and "no" keeps everything. (The browser's own dialog; the
    // test keeps the question and says no.)
    client
        .execute("window.confirm = (q) => { window.asked = q; return false; }", vec![])
        .await
        .expect("the page takes a script");
    click(client, &card("Orders", "button.danger")).await;
    let asked = client.execute("return window.asked || ''", vec![]).await.expect("the question");
    let asked = asked.as_str().unwrap_or_default().to_owned();
    let question = |unknown: &str, failed: &str| {
        string(&en, "conn.confirmRemoveUnsettled")
            .replace("{name}", "Orders")
            .replace("{unknown}", unknown)
            .replace("{failed}", failed)
    };
    assert!(
        asked == question("0", "1") || asked == question("1", "0"),
        "the question names the message a removal would forget: {asked:?}"
    );
    assert!(displayed(client, &card("Orders", ".last-run")).await, "saying no keeps the connection");
    std::fs::write(&orders, "ID,Phone\n30,+380671000030\n31,0502222222\n32,0503333333\n").expect("one more order");
    click(client, "#history-Orders").await;
    wait_text(client, "#history-title", "the history of Orders", |t| t.contains("Orders")).await;
    click(client, "#history-resend").await;
    let sent = wait_for_sms(&session, 1, "the failed message to go again").await;
    assert_eq!(sent.len(), 1, "only the failed message went: {sent:?}");
    assert_eq!(sent[0]["destination"], "380502222222", "order 31, not the new order 32, nor order 30 again");
    click(client, "#history-back").await;

    let start_over = card("Returns", ".start-over button");
    assert_eq!(
        text_of(client, &card("Returns", ".badge")).await,
        string(&en, "connStatus.paused"),
        "Returns is paused"
    );
    // The confirmation is the browser's own dialog; the test says yes to it.
    client.execute("window.confirm = () => true", vec![]).await.expect("the page takes a script");
    click(client, &start_over).await;
    wait_text(client, &card("Returns", ".badge"), "the resumed connection", |t| t == string(&en, "connStatus.active"))
        .await;
    let note = text_of(client, &card("Returns", "[role=status]")).await;
    assert!(note.contains('2'), "the note says the 2 rows there are will not be texted: {note:?}");
    shoot(client, "31-started-over").await;
    append_row(&returns, "9,0674444444,");
    click(client, &card("Returns", "button[id^=run-]")).await;
    let sent = wait_for_sms(&session, 2, "the return added after starting over").await;
    assert_eq!(sent.len(), 2, "starting over texted nobody; only the row added afterwards went: {sent:?}");
    assert_eq!(sent[1]["destination"], "380674444444", "return 9, not 7 or 8 from before: {sent:?}");
    session.stop().await;
}

/// The wizard's "Which rows?" and "When?": a condition built from the
/// source's columns with a live count, and a reminder time from a column
/// with the first reminders shown before saving; the saved spec has both.
#[tokio::test]
async fn a_clinic_builds_a_condition_and_a_reminder_in_the_wizard() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let en = ui_strings("en");
    let data = tempfile::tempdir().expect("a temp data folder");
    let d = data.path().to_owned();
    let visits = d.join("visits.csv");
    let day = |n: i64| (chrono::Local::now() + chrono::Duration::days(n)).format("%d.%m.%Y").to_string();
    std::fs::write(
        &visits,
        format!(
            "ID,Name,Phone,Visit,Status\nV1,Olena,0671234567,{} 14:30,booked\nV2,Ivan,0501112233,{} 10:00,cancelled\n",
            day(3),
            day(4)
        ),
    )
    .expect("the visits CSV is written");
    let session = Session::start_with(&d, &[], |sim_url| {
        let account = ["account", "add", "main", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "the clinic's account");
    })
    .await;
    let client = &session.client;
    click(client, "#new-connection").await;
    type_into(client, "#w-path", visits.to_str().expect("a UTF-8 path")).await;
    click(client, "#w-read").await;
    wait_text(client, "#w-columns", "the columns found", |t| t.contains("Visit")).await;
    type_into(client, "#w-name", "Visits").await;
    click(client, r#"input[name="start-from"][value="all_rows"]"#).await;
    for _ in 0..3 {
        click(client, "#w-next").await;
    }
    wait_displayed(client, r#"label[data-account="main"]"#).await;
    click(client, "#w-next").await;
    wait_displayed(client, "#w-message").await;
    type_into(client, "#w-message", "{{Name}}, see you tomorrow.").await;

    click(client, r#"input[name="which"][value="some"]"#).await;
    wait_displayed(client, "#w-cond-list .cond-row").await;
    let column = find(client, "#w-cond-list .cond-column").await.prop("value").await.unwrap();
    assert_eq!(column.as_deref(), Some("Status"), "the status column is offered first");
    find(client, "#w-cond-list .cond-op").await.select_by_value("not_equals").await.expect("an operator");
    type_into(client, "#w-cond-list .cond-value", "cancelled").await;
    let count = wait_text(client, "#w-cond-count", "the live count", |t| t.contains("1 of 2")).await;
    assert!(count.starts_with("1 of 2 rows match now"), "{count:?}");

    click(client, r#"input[name="when"][value="column"]"#).await;
    let date_column = find(client, "#w-when-col").await.prop("value").await.unwrap();
    assert_eq!(date_column.as_deref(), Some("Visit"), "the date column is guessed");
    find(client, "#w-when-before").await.select_by_value("1440").await.expect("a day before");
    type_into(client, "#w-when-at", "18:00").await;
    let first = wait_text(client, "#w-when-items", "the first reminders", |t| t.contains("18:00")).await;
    assert!(first.contains(&format!("line 2: {} 18:00", day(2))), "V1's reminder, the day before at 18:00: {first:?}");
    assert!(!first.contains("line 3"), "the cancelled visit gets none: {first:?}");
    assert!(text_of(client, "#w-when-list").await.contains(string(&en, "when.first")));
    shoot(client, "40-wizard-which-rows-and-when").await;
    click(client, "#w-next").await;
    wait_displayed(client, "#w-test-send").await;

    let shown = crate::common::sendrow(&d, &["connection", "show", "Visits", "--json"], "");
    let shown: Value = serde_json::from_slice(&shown.stdout).expect("connection show --json");
    assert_eq!(shown["conditions"], json!({"all": [{"column": "Status", "op": "not_equals", "value": "cancelled"}]}));
    assert_eq!(shown["send_at"], json!({"column": "Visit", "minutes_before": 1440, "at_time": "18:00"}));
    session.stop().await;
}

/// The text of the element `css` as the user sees it (`innerText`).
async fn inner_text(client: &Client, css: &str) -> String {
    let script = "const n = document.querySelector(arguments[0]); return n ? n.innerText : '';";
    let text = client.execute(script, vec![json!(css)]).await.expect("the page answers");
    text.as_str().unwrap_or_default().to_owned()
}

/// Switches the window to Ukrainian. A click that lands while the window is
/// still starting has no listener yet, so it is repeated until the window
/// says Ukrainian is chosen.
async fn choose_ukrainian(client: &Client) {
    wait_for("the window to switch to Ukrainian", || async {
        click(client, "#lang-uk").await;
        let chosen =
            wait_for_or_none(|| async { (attr_of(client, "#lang-uk", "aria-pressed").await == "true").then_some(()) });
        tokio::time::timeout(Duration::from_secs(2), chosen).await.ok().flatten()
    })
    .await;
}

/// Asserts the Ukrainian window shows no English word in `css` (names of
/// products and formats aside, as in `i18n.rs`; `user_data` is what the test
/// itself typed in Latin letters: a subaccount ID, a folder, an address).
async fn assert_no_english(client: &Client, css: &str, screen: &str, user_data: &[&str]) {
    let mut text = inner_text(client, css).await;
    for data in user_data {
        text = text.replace(data, " ");
    }
    assert!(!text.trim().is_empty(), "{screen}: {css} shows something to check");
    if let Some(word) = crate::i18n::english_word(&text) {
        panic!("{screen}: the Ukrainian window shows the English {word:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_card_previews_and_tests_like_the_cli_in_ukrainian() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let uk = ui_strings("uk");
    let data = tempfile::tempdir().expect("a temp data folder");
    let d = data.path().to_owned();
    // Ukrainian names throughout, so any Latin word on screen is the window's own.
    let orders = d.join("замовлення.csv");
    let session = Session::start_with(&d, &[], |sim_url| {
        let account = ["account", "add", "основний", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "the account the connection sends through");
        std::fs::write(&orders, "Номер,Телефон,Імя\n1,0671111111,Олена\n2,12,Петро\n3,0673333333,\n")
            .expect("the orders CSV is written");
        let spec = json!({"name": "Замовлення", "source": {"type": "csv", "path": orders},
            "row_key": {"column": "Номер"}, "start_from": "all_rows", "account": "основний",
            "phone_field": "Телефон", "message": "Дякуємо, {{Імя}}! Замовлення {{Номер}} прийнято."});
        let path = d.join("spec.json");
        std::fs::write(&path, spec.to_string()).expect("the spec is written");
        sendrow_cli(&d, &["connection", "add", "--file", path.to_str().unwrap()], "", "the connection");
    })
    .await;
    let client = &session.client;
    let here = |inner: &str| card("Замовлення", inner);

    choose_ukrainian(client).await;
    wait_text(client, "#connections-title", "the Ukrainian main screen", |t| t == string(&uk, "connections.title"))
        .await;
    assert_no_english(client, "main", "the main screen", &[]).await;
    shoot(client, "40-uk-card").await;

    // Preview: every row the next run would send, and why the others will not go.
    click(client, &here("button[id^=preview-]")).await;
    wait_displayed(client, "#pv-table").await;
    let rows = client.find_all(Locator::Css("#pv-body tr")).await.expect("the preview rows");
    assert_eq!(rows.len(), 3, "all three rows are there, the next run would read them all");
    let status = |row: &str| format!(r#"#pv-body tr[data-row="{row}"]"#);
    assert_eq!(
        find(client, &status("1")).await.attr("data-status").await.unwrap().as_deref(),
        Some("ready"),
        "row 1 goes"
    );
    let bad = text_of(client, &format!("{} td:last-child", status("2"))).await;
    assert_eq!(bad, string(&uk, "compose.invalid_phone"), "row 2's phone is bad, said in Ukrainian");
    let typing = text_of(client, &format!("{} td:last-child", status("3"))).await;
    assert_eq!(typing, string(&uk, "compose.incomplete"), "row 3's name is still empty, said in Ukrainian");
    let row1 = text_of(client, &status("1")).await;
    assert!(row1.contains("+380671111111") && row1.contains("Дякуємо, Олена!"), "phone and text: {row1:?}");
    assert!(row1.contains("UCS-2"), "Cyrillic goes as UCS-2: {row1:?}");
    let summary = text_of(client, "#pv-summary").await;
    assert!(
        summary.contains("Піде 1 SMS") && summary.contains("2 рядки не підуть"),
        "counted in Ukrainian: {summary:?}"
    );
    assert_no_english(client, "#preview-dialog", "the preview", &[]).await;
    shoot(client, "41-uk-card-preview").await;
    click(client, "#pv-close").await;
    assert!(session.sim_messages().await.is_empty(), "a preview sends nothing");

    // Test: to my own number, not to a customer.
    click(client, &here("button[id^=test-]")).await;
    type_into(client, "#ct-own", "+380501234567").await;
    assert_no_english(client, "#card-test-dialog", "the test dialog", &[]).await;
    click(client, "#ct-send").await;
    let sent = wait_for_sms(&session, 1, "the test SMS to my own number").await;
    assert_eq!(sent[0]["destination"], "380501234567", "it went to the number typed, not row 1's: {sent:?}");
    let result = wait_text(client, "#ct-result", "the test's result", |t| !t.is_empty()).await;
    assert!(result.contains("+380501234567"), "the result names where it went: {result:?}");
    shoot(client, "42-uk-card-test").await;
    click(client, "#ct-close").await;

    // The history's CSV export is the core's, byte for byte what `history --csv` prints.
    click(client, &here("button[id^=history-]")).await;
    wait_displayed(client, "#history-table").await;
    click(client, "#history-export").await;
    wait_displayed(client, "#export-text").await;
    let exported = find(client, "#export-text").await.prop("value").await.expect("the export's text");
    let cli = Command::new(env!("CARGO_BIN_EXE_sendrow"))
        .arg("--data-dir")
        .arg(&d)
        .args(["history", "Замовлення", "--csv"])
        .output()
        .expect("the sendrow binary runs");
    assert!(cli.status.success(), "history --csv works: {cli:?}");
    assert_eq!(
        exported.as_deref(),
        Some(String::from_utf8_lossy(&cli.stdout).as_ref()),
        "the window shows the CLI's CSV"
    );
    assert!(exported.unwrap_or_default().contains("+380501234567"), "with the test to my own number");
    click(client, "#export-close").await;
    click(client, "#history-back").await;

    // Edit: rename it and change the message, then Save without going on to the schedule.
    click(client, &here("button[id^=edit-]")).await;
    wait_displayed(client, "#w-sample").await;
    type_into(client, "#w-name", "Замовлення з сайту").await;
    for step in 2..=5 {
        click(client, "#w-next").await;
        wait_displayed(client, &format!(r#"#view-wizard .step[data-step="{step}"]"#)).await;
    }
    type_into(client, "#w-message", "Вітаємо, {{Імя}}!").await;
    click(client, "#w-save-edit").await;
    wait_displayed(client, "#view-connections").await;
    let renamed = |inner: &str| card("Замовлення з сайту", inner);
    click(client, &renamed("button[id^=preview-]")).await;
    wait_text(client, r#"#pv-body tr[data-row="1"]"#, "the new message in the preview", |t| {
        t.contains("Вітаємо, Олена!")
    })
    .await;
    assert!(!displayed(client, &here("h2")).await, "the old name is gone from the main screen");
    click(client, "#pv-close").await;

    // Accounts say when 8x8 last accepted them.
    click(client, "#tab-accounts").await;
    let verified = text_of(client, r#"#accounts-body tr[data-account="основний"] .verified"#).await;
    assert!(verified.starts_with("перевірено "), "the account shows when it was last verified: {verified:?}");

    // Opt-outs: a local number means the country chosen, here Poland, not Ukraine.
    click(client, "#tab-optouts").await;
    find(client, "#o-country").await.select_by_value("PL").await.expect("a country for local numbers");
    type_into(client, "#o-number", "501 234 567").await;
    click(client, "#o-add").await;
    wait_displayed(client, r#"#optouts-body tr[data-phone="+48501234567"]"#).await;
    click(client, "#optouts-export").await;
    let list = find(client, "#export-text").await.prop("value").await.expect("the export's text");
    assert!(list.unwrap_or_default().contains("+48501234567"), "the export has the Polish number");
    click(client, "#export-close").await;

    // Every tab in both languages, for the screenshots; the Ukrainian ones checked.
    for lang in ["uk", "en"] {
        click(client, &format!("#lang-{lang}")).await;
        for tab in ["connections", "accounts", "optouts", "settings"] {
            click(client, &format!("#tab-{tab}")).await;
            wait_displayed(client, &format!("#view-{tab}")).await;
            if lang == "uk" {
                let user_data = [SANDBOX_SUBACCOUNT, session.sim_url.as_str(), d.to_str().unwrap()];
                assert_no_english(client, &format!("#view-{tab}"), tab, &user_data).await;
            }
            shoot(client, &format!("43-{lang}-{tab}")).await;
        }
    }
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ukrainian_card_sends_or_skips_a_flood_and_resolves_an_unknown() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let uk = ui_strings("uk");
    let plural = |key: &str, form: &str, n: usize| {
        uk[key][form].as_str().unwrap_or_else(|| panic!("{key}.{form}")).replace("{n}", &n.to_string())
    };
    let data = tempfile::tempdir().expect("a temp data folder");
    let d = data.path().to_owned();
    let orders = d.join("замовлення.csv");
    let returns = d.join("повернення.csv");
    let session = Session::start_with(&d, &[], |sim_url| {
        let account = ["account", "add", "основний", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "the account both connections send through");
        std::fs::write(&orders, "Номер,Телефон\n1,0671000001\n2,0671000002\n3,0671000003\n").expect("orders");
        std::fs::write(&returns, "Номер,Телефон\n7,0677000007\n").expect("returns");
        let specs = [
            json!({"name": "Замовлення", "source": {"type": "csv", "path": orders}, "row_key": {"column": "Номер"},
                   "start_from": "all_rows", "account": "основний", "phone_field": "Телефон",
                   "message": "Замовлення {{Номер}} прийнято", "flood_limit": 2, "auto_update": false}),
            json!({"name": "Повернення", "source": {"type": "csv", "path": returns}, "row_key": {"column": "Номер"},
                   "start_from": "all_rows", "account": "основний", "phone_field": "Телефон",
                   "message": "Повернення {{Номер}} оформлено", "auto_update": false}),
        ];
        for (i, spec) in specs.iter().enumerate() {
            let path = d.join(format!("spec{i}.json"));
            std::fs::write(&path, spec.to_string()).expect("the spec is written");
            sendrow_cli(&d, &["connection", "add", "--file", path.to_str().unwrap()], "", "a connection");
        }
        // Three rows at once against a limit of two: the run holds them.
        let run = Command::new(env!("CARGO_BIN_EXE_sendrow"))
            .arg("--data-dir")
            .arg(&d)
            .args(["run", "Замовлення"])
            .output()
            .expect("the sendrow binary runs");
        assert_eq!(run.status.code(), Some(3), "a held run exits 3: {run:?}");
    })
    .await;
    let client = &session.client;
    let orders_card = |inner: &str| card("Замовлення", inner);
    let returns_card = |inner: &str| card("Повернення", inner);

    choose_ukrainian(client).await;
    let held =
        wait_text(client, &orders_card(".held span"), "the held banner in Ukrainian", |t| t.contains("рядки")).await;
    assert_eq!(held, plural("banner.held", "few", 3), "3 takes the few form");
    shoot(client, "44-uk-held").await;
    click(client, &orders_card(".held button.primary")).await;
    let sent = wait_for_sms(&session, 3, "the three held rows after 'send all'").await;
    assert_eq!(sent.len(), 3, "send all sent exactly the held rows: {sent:?}");
    wait_for("the held banner to go", || async { (!displayed(client, &orders_card(".held")).await).then_some(()) })
        .await;

    // Three more at once: held again, and this time skipped.
    append_row(&orders, "4,0671000004");
    append_row(&orders, "5,0671000005");
    append_row(&orders, "6,0671000006");
    click(client, &orders_card("button.run")).await;
    wait_displayed(client, &orders_card(".held")).await;
    click(client, &orders_card(".held button:not(.primary)")).await;
    let skipped = plural("banner.skipped", "few", 3);
    wait_text(client, &orders_card("p[id^=note-]"), "«Пропущено 3 рядки.» after 'skip all'", |t| {
        t == skipped
    })
    .await;
    assert_eq!(session.sim_messages().await.len(), 3, "skipping sent nothing");

    // 8x8 takes the return, then the answer is cut off: its fate is unknown.
    reqwest::Client::new()
        .post(format!("{}/_sim/faults", session.sim_url))
        .json(&json!({"next": ["reset"]}))
        .send()
        .await
        .expect("the simulator takes faults");
    click(client, &returns_card("button.run")).await;
    let unknown = wait_text(client, &returns_card(".unknown span"), "the unknown banner", |t| !t.is_empty()).await;
    assert_eq!(unknown, plural("banner.unknown", "one", 1), "one message, the one form");
    let messages = wait_for_sms(&session, 4, "8x8 to have taken the return").await;
    shoot(client, "45-uk-unknown").await;
    // "Mark as sent": it did go out, so nothing is sent again.
    click(client, &returns_card(".unknown button.mark-sent")).await;
    wait_for("the unknown banner to go", || async {
        (!displayed(client, &returns_card(".unknown")).await).then_some(())
    })
    .await;
    click(client, &returns_card("button.run")).await;
    wait_text(client, &returns_card(".last-run"), "the run after marking", |t| t.contains("надіслано: 0")).await;
    assert_eq!(session.sim_messages().await.len(), messages.len(), "marked as sent, so never texted twice");

    // The gear: an interval picked and saved shows on the card, in Ukrainian plural forms.
    for (minutes, expected) in [("1", "кожну 1 хв"), ("5", "кожні 5 хв")] {
        click(client, &returns_card("button[id^=gear-]")).await;
        wait_displayed(client, "#gear-dialog").await;
        click(client, r#"#gear-dialog input[value="every"]"#).await;
        find(client, "#g-interval").await.select_by_value(minutes).await.expect("an interval");
        click(client, "#gear-save").await;
        wait_text(client, &returns_card(".schedule-text"), "the saved interval", |t| t == expected).await;
    }
    // Auto-update on: the next run is now a time, not "off".
    assert_eq!(text_of(client, &returns_card(".next-run")).await, string(&uk, "next.off"));
    click(client, &returns_card("button[role=switch]")).await;
    wait_text(client, &returns_card(".next-run"), "a next run time", |t| t.contains(':')).await;
    // "Only after connection X", named on the card.
    click(client, &returns_card("button[id^=gear-]")).await;
    wait_displayed(client, "#gear-dialog").await;
    click(client, r#"#gear-dialog input[value="after"]"#).await;
    find(client, "#g-after").await.select_by_value("Замовлення").await.expect("a connection to follow");
    click(client, "#gear-save").await;
    wait_text(client, &returns_card(".schedule-text"), "the 'after' schedule", |t| t == "після «Замовлення»").await;
    shoot(client, "46-uk-after").await;
    session.stop().await;
}

/// A Ukrainian shop owner's window when things need them: a connection
/// paused because a column its message uses was renamed, another whose sheet
/// was emptied after a run (the shrink warning), an account whose key 8x8
/// refused, rows held by the flood guard and a message whose fate is
/// unknown. No English sentence on the main screen, the accounts screen or
/// any History; 8x8's own words only as quoted small print.
#[tokio::test(flavor = "multi_thread")]
async fn a_ukrainian_window_in_trouble_shows_no_english() {
    require_display_and_bus();
    let _one = ONE_WINDOW.lock().await;
    let uk = ui_strings("uk");
    let data = tempfile::tempdir().expect("a temp data folder");
    let d = data.path().to_owned();
    let orders = d.join("замовлення.csv");
    let returns = d.join("повернення.csv");
    let promo = d.join("акція.csv");
    let delivery = d.join("доставка.csv");
    let session = Session::start_with(&d, &[], |sim_url| {
        let account = ["account", "add", "основний", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        sendrow_cli(&d, &account, SANDBOX_KEY, "the account the connections send through");
        // A key 8x8 refuses: the account is kept, inactive (the CLI exits 1).
        let typo = ["account", "add", "запасний", "--subaccount", SANDBOX_SUBACCOUNT, "--base-url", sim_url];
        let added = output_within(
            Command::new(env!("CARGO_BIN_EXE_sendrow")).arg("--data-dir").arg(&d).args(typo),
            WRONG_KEY,
            CLI_PATIENCE,
        );
        assert!(!added.status.success(), "8x8 refuses the wrong key: {added:?}");
        let mut last_month = String::from("Номер,Телефон\n");
        for i in 1..=30 {
            last_month.push_str(&format!("{i},+38067{:07}\n", 1_000_000 + i));
        }
        std::fs::write(&orders, last_month).expect("orders");
        std::fs::write(&returns, "Номер,Телефон,Імя\n7,0671234567,Олена\n").expect("returns");
        std::fs::write(&promo, "Номер,Телефон\n1,0671000001\n2,0671000002\n3,0671000003\n").expect("promo");
        std::fs::write(&delivery, "Номер,Телефон\n").expect("delivery");
        let specs = [
            json!({"name": "Замовлення", "source": {"type": "csv", "path": orders}, "row_key": {"column": "Номер"},
                   "start_from": "new_rows", "account": "основний", "phone_field": "Телефон",
                   "message": "Замовлення {{Номер}} прийнято", "auto_update": false}),
            json!({"name": "Повернення", "source": {"type": "csv", "path": returns}, "row_key": {"column": "Номер"},
                   "start_from": "new_rows", "account": "основний", "phone_field": "Телефон",
                   "message": "{{Імя}}, повернення {{Номер}} оформлено", "auto_update": false}),
            json!({"name": "Акція", "source": {"type": "csv", "path": promo}, "row_key": {"column": "Номер"},
                   "start_from": "all_rows", "account": "основний", "phone_field": "Телефон",
                   "message": "Знижка для вас, {{Номер}}", "flood_limit": 2, "auto_update": false}),
            json!({"name": "Доставка", "source": {"type": "csv", "path": delivery}, "row_key": {"column": "Номер"},
                   "start_from": "all_rows", "account": "основний", "phone_field": "Телефон",
                   "message": "Посилка {{Номер}} в дорозі", "auto_update": false}),
        ];
        for (i, spec) in specs.iter().enumerate() {
            let path = d.join(format!("spec{i}.json"));
            std::fs::write(&path, spec.to_string()).expect("the spec is written");
            sendrow_cli(&d, &["connection", "add", "--file", path.to_str().unwrap()], "", "a connection");
        }
        let run = |name: &str| {
            output_within(
                Command::new(env!("CARGO_BIN_EXE_sendrow")).arg("--data-dir").arg(&d).args(["run", name]),
                "",
                CLI_PATIENCE,
            )
        };
        for name in ["Замовлення", "Повернення"] {
            assert!(run(name).status.success(), "the first run of {name} sees the rows there are");
        }
        // The orders sheet is emptied but for one new order; the returns
        // sheet's «Імя» (used by the message) is renamed; the promo floods.
        std::fs::write(&orders, "Номер,Телефон\n31,0502222222\n").expect("orders emptied");
        std::fs::write(&returns, "Номер,Телефон,Імя клієнта\n7,0671234567,Олена\n8,0633333333,Петро\n")
            .expect("a column renamed");
        assert!(run("Замовлення").status.success(), "the shrunk sheet warns: the run goes on");
        assert!(!run("Повернення").status.success(), "the renamed column pauses Returns");
        assert_eq!(run("Акція").status.code(), Some(3), "three rows against a limit of two are held");
        sendrow_cli(&d, &["optout", "add", "0676666666"], "", "a customer who replied STOP");
    })
    .await;
    let client = &session.client;

    // 8x8 takes the delivery notice, then the answer is cut off: unknown.
    // Beside it a customer who opted out (skipped) and a number to fix.
    append_row(&delivery, "5,0675555555");
    append_row(&delivery, "6,0676666666");
    append_row(&delivery, "7,12");
    reqwest::Client::new()
        .post(format!("{}/_sim/faults", session.sim_url))
        .json(&json!({"next": ["reset"]}))
        .send()
        .await
        .expect("the simulator takes faults");
    click(client, &card("Доставка", "button.run")).await;
    choose_ukrainian(client).await;
    wait_displayed(client, &card("Доставка", ".unknown")).await;
    let to_fix = text_of(client, &card("Доставка", ".rows-to-fix li")).await;
    assert_eq!(to_fix, string(&uk, "rowfix.invalid_phone").replace("{line}", "4"), "the number to fix, in Ukrainian");
    wait_displayed(client, &card("Замовлення", ".row-warning")).await;
    wait_displayed(client, &card("Повернення", ".start-over")).await;
    wait_displayed(client, &card("Акція", ".held")).await;
    wait_text(client, "#connections-title", "the Ukrainian main screen", |t| t == string(&uk, "connections.title"))
        .await;
    assert_no_english(client, "#view-connections", "the main screen in trouble", &[]).await;
    shoot(client, "50-uk-trouble").await;

    // 8x8's own words for the refused key may follow ours, quoted.
    click(client, "#tab-accounts").await;
    let reason =
        wait_text(client, r#"tr[data-account="запасний"] .reason"#, "the inactive account", |t| !t.is_empty()).await;
    assert!(reason.starts_with(string(&uk, "status.checkAccess")), "our words first: {reason:?}");
    // Quoted, so 8x8's words are set apart as theirs.
    let user_data = [SANDBOX_SUBACCOUNT, session.sim_url.as_str(), "«Request was not authenticated properly»"];
    assert_no_english(client, "#view-accounts", "the accounts screen", &user_data).await;
    shoot(client, "51-uk-accounts-inactive").await;

    click(client, "#tab-connections").await;
    let histories =
        [("Замовлення", "52-orders"), ("Повернення", "53-returns"), ("Акція", "54-promo"), ("Доставка", "55-delivery")];
    for (name, shot) in histories {
        click(client, &card(name, "button[id^=history-]")).await;
        wait_text(client, "#history-title", "the history", |t| t.contains(name)).await;
        wait_for("the history's rows or its empty state", || async {
            (displayed(client, "#history-table").await || displayed(client, "#history-empty").await).then_some(())
        })
        .await;
        assert_no_english(client, "#view-history", &format!("the history of {name}"), &[]).await;
        // Each reason in the shop owner's words, with its particulars.
        let expected = match name {
            "Акція" => {
                vec![("held", string(&uk, "error.held_flood").replace("{rows}", "3").replace("{limit}", "2"))]
            }
            "Доставка" => vec![
                ("unknown", string(&uk, "error.send_unknown").to_owned()),
                ("skipped", string(&uk, "error.row_opted_out").to_owned()),
            ],
            _ => vec![],
        };
        for (status, words) in expected {
            let shown = text_of(client, &format!(r#"#history-body tr[data-status="{status}"] td.detail"#)).await;
            assert_eq!(shown, words, "{name}: why a message is {status}");
        }
        shoot(client, &format!("{shot}-uk-history")).await;
        click(client, "#history-back").await;
    }
    session.stop().await;
}
