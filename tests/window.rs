//! End-to-end test of the real desktop window, driven through tauri-driver
//! and WebKitWebDriver the way a shop owner would use it: connect a working
//! 8x8 account and one with a wrong key (both against the simulator), switch
//! to Ukrainian, and check that the API key never leaks into the page or the
//! data folder.
//!
//! It needs an X display and a D-Bus session with an unlocked GNOME Keyring
//! (the app stores keys in the Secret Service): `scripts/test`, the README's
//! test command, provides both.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Every wait is bounded by this; polling keeps the test independent of speed.
const PATIENCE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

const SANDBOX_SUBACCOUNT: &str = "sandbox_hq";
const SANDBOX_KEY: &str = "sandbox-key";
/// Distinctive so a leak anywhere can be found by a plain substring search.
const WRONG_KEY: &str = "wrong-key-SHOULD-NOT-LEAK-123";

const RUN_HINT: &str = "run it with `scripts/test` (the README's test command), which provides Xvfb, \
    a throwaway D-Bus session and an unlocked GNOME Keyring";

/// The child processes of one test run, stopped even when an assert panics.
struct Processes {
    sim: Child,
    // Held open so the simulator never writes into a closed pipe.
    _sim_stdout: BufReader<ChildStdout>,
    driver: Option<Child>,
}

impl Processes {
    /// Stops tauri-driver with SIGTERM: only its signal handler stops
    /// WebKitWebDriver (and with it the app); after SIGKILL they are orphaned
    /// and keep the test's output pipe open.
    fn stop_driver(&mut self) {
        let Some(mut driver) = self.driver.take() else {
            return;
        };
        let _ = Command::new("kill").args(["-TERM", &driver.id().to_string()]).status();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = driver.try_wait() {
                return;
            }
            std::thread::sleep(POLL);
        }
        eprintln!("tauri-driver ignored SIGTERM for {PATIENCE:?}; killing it");
        let _ = driver.kill();
        let _ = driver.wait();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.stop_driver();
        let _ = self.sim.kill();
        let _ = self.sim.wait();
    }
}

/// Starts `sendrow sim --port 0` and returns it with the URL it listens on.
fn start_sim() -> (Child, BufReader<ChildStdout>, String) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_sendrow"))
        .args(["sim", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
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

/// Fills and submits the add-account form the way a user would, choosing
/// "Another address…" so the account points at the simulator.
async fn add_account(client: &Client, name: &str, base_url: &str, key: &str) {
    click(client, "#show-add").await;
    type_into(client, "#f-name", name).await;
    let region = wait_displayed(client, "#f-region").await;
    // The second account is added in a re-opened form that remembers the
    // previous region; choosing it again must still show the address field.
    region.select_by_value("custom").await.expect("the region list must offer `custom`");
    // The address field only appears once the region changes.
    type_into(client, "#f-base-url", base_url).await;
    type_into(client, "#f-subaccount", SANDBOX_SUBACCOUNT).await;
    type_into(client, "#f-key", key).await;
    click(client, "#add-submit").await;
}

/// Waits for the account's row to show a status badge, failing fast with the
/// form's own error if the add was refused.
async fn wait_for_badge(client: &Client, name: &str) -> Element {
    let badge = format!(r#"tr[data-account="{name}"] .badge"#);
    wait_for(&format!("the row of account {name:?} with a status badge"), || async {
        if displayed(client, "#add-error").await {
            panic!("adding account {name:?} failed: {}", text_of(client, "#add-error").await);
        }
        client.find(Locator::Css(&badge)).await.ok()
    })
    .await
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

#[tokio::test(flavor = "multi_thread")]
async fn shop_owner_connects_accounts_in_the_real_window() {
    assert!(std::env::var_os("DISPLAY").is_some(), "this test opens a real window and DISPLAY is not set; {RUN_HINT}");
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "this test stores API keys in the Secret Service and there is no D-Bus session; {RUN_HINT}"
    );
    let en = ui_strings("en");
    let uk = ui_strings("uk");

    let data = tempfile::tempdir().expect("a temp data folder");
    let data_dir = data.path().to_str().expect("a UTF-8 temp path").to_owned();
    let (sim, sim_stdout, sim_url) = start_sim();

    let (port, native_port) = (free_port(), free_port());
    let driver = Command::new(find_tauri_driver())
        .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("tauri-driver must start");
    let mut procs = Processes { sim, _sim_stdout: sim_stdout, driver: Some(driver) };

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
    let client = ClientBuilder::rustls()
        .expect("a rustls WebDriver connector")
        .capabilities(caps.as_object().expect("capabilities are an object").clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("tauri-driver must open a session with the sendrow window");

    // A fresh data folder: the empty state, in English by default.
    let empty = wait_displayed(&client, "#accounts-empty").await;
    assert_eq!(
        empty.text().await.expect("empty-state text"),
        string(&en, "accounts.empty"),
        "a fresh data folder shows the English empty state when the OS locale is not Ukrainian"
    );
    assert_eq!(
        text_of(&client, "#accounts-title").await,
        string(&en, "accounts.title"),
        "the title is English by default"
    );
    let about = text_of(&client, "#about").await;
    assert!(about.contains(&data_dir), "the window must use the test's data folder {data_dir}, footer says {about:?}");

    // A working account: 8x8 (the simulator) accepts the key.
    add_account(&client, "Shop main", &sim_url, SANDBOX_KEY).await;
    let badge = wait_for_badge(&client, "Shop main").await;
    assert!(has_class(&badge, "active").await, "the simulator accepts sandbox-key, so the account is active");
    assert!(!displayed(&client, "#accounts-empty").await, "with an account the empty state is gone");

    // A wrong key: the account is kept but inactive, with 8x8's own words.
    add_account(&client, "Shop typo", &sim_url, WRONG_KEY).await;
    let badge = wait_for_badge(&client, "Shop typo").await;
    assert!(has_class(&badge, "inactive").await, "8x8 refuses a wrong key, so the account must be inactive");
    let reason = text_of(&client, r#"tr[data-account="Shop typo"] .reason"#).await;
    assert!(
        reason.contains("Request was not authenticated properly"),
        "the row must say why 8x8 refused the key, in 8x8's words; it says {reason:?}"
    );

    // Switching language re-renders the screen in place.
    click(&client, "#lang-uk").await;
    let uk_title = string(&uk, "accounts.title");
    assert_eq!(uk_title, "Облікові записи 8x8", "uk.json keeps the agreed Ukrainian title");
    wait_for("the title to switch to Ukrainian", || async {
        (text_of(&client, "#accounts-title").await == uk_title).then_some(())
    })
    .await;
    let status = text_of(&client, r#"tr[data-account="Shop main"] .badge"#).await;
    assert_eq!(status, string(&uk, "status.active"), "the status badges switch to Ukrainian too");

    // Keys go to the keychain only: never back into the page, never on disk.
    let source = client.source().await.expect("the page source");
    for key in [WRONG_KEY, SANDBOX_KEY] {
        assert!(!source.contains(key), "API key {key:?} must not come back into the page");
    }
    // A field's typed value is a DOM property, not markup: check it apart.
    let typed = find(&client, "#f-key").await.prop("value").await.expect("the key field's value");
    assert_eq!(typed.as_deref(), Some(""), "the key field must be emptied once the key is handed to the keychain");
    assert_no_secret_in_files(data.path(), &[WRONG_KEY, SANDBOX_KEY], "while the app runs");

    let png = client.screenshot().await.expect("a WebDriver screenshot");
    // CARGO_BIN_EXE is target/<profile>/sendrow, so this honours CARGO_TARGET_DIR.
    let shot = Path::new(env!("CARGO_BIN_EXE_sendrow")).parent().and_then(Path::parent).expect("the target dir");
    let shot = shot.join("window-test.png");
    std::fs::write(&shot, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", shot.display()));
    println!("screenshot: {}", shot.display());

    client.close().await.expect("the WebDriver session must close");
    procs.stop_driver();
    wait_for("the app to quit with its WebDriver session", || {
        std::future::ready((!app_running(&data_dir)).then_some(()))
    })
    .await;
    // On exit SQLite may checkpoint the WAL into sendrow.db: check again.
    assert_no_secret_in_files(data.path(), &[WRONG_KEY, SANDBOX_KEY], "after the app stopped");
}
