//! Closing the window to the tray, for real and without WebDriver (whose
//! session would pin the process image): the app replaces itself with
//! `sendrow --tray` — the same process, its WebKit processes gone — and its
//! schedule keeps texting new rows; a second launch brings the window and
//! WebKit back; closing it again releases them again. No row is texted twice.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    cmdline, processes, require_keychain_session, sendrow, single_instance_owner, text, Group, Sim, BIN,
};

const PATIENCE: Duration = Duration::from_secs(60);

/// The app started without WebDriver; it, its WebKit processes and
/// whatever else it started are killed on drop (its own process group).
struct App(Group);

/// Names of every process below `root`.
fn descendants(root: u32) -> Vec<String> {
    let all = processes();
    let mut parents = vec![root];
    let mut names = Vec::new();
    while let Some(parent) = parents.pop() {
        for p in &all {
            if p.ppid == parent {
                parents.push(p.pid);
                names.push(p.name.clone());
            }
        }
    }
    names
}

fn has_webkit(pid: u32) -> bool {
    descendants(pid).iter().any(|name| name.starts_with("WebKit"))
}

/// Started over in the tray: the new image (same PID), without WebKit, and
/// listening for second launches again.
fn in_tray(pid: u32) -> bool {
    cmdline(pid).contains(&"--tray".to_owned()) && !has_webkit(pid) && single_instance_owner() == Some(pid)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_sms(sim: &Sim, count: usize, what: &str) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let messages = sim.messages().await;
        if messages.len() >= count {
            return messages;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}: {messages:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn append(path: &Path, line: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    writeln!(f, "{line}").unwrap();
}

/// A data folder with an account on `sim` and the connection "Orders" on
/// `orders.csv` (one row, ID 1), its spec changed by `extra`.
struct Shop {
    dir: tempfile::TempDir,
    csv: std::path::PathBuf,
}

impl Shop {
    fn new(sim: &Sim, extra: serde_json::Value) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let add = sendrow(
            d,
            &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url],
            "sandbox-key",
        );
        assert!(add.status.success(), "account: {}", text(&add.stderr));
        let csv = d.join("orders.csv");
        std::fs::write(&csv, "ID,Phone\n1,0671111111\n").unwrap();
        let mut spec = serde_json::json!({
            "name": "Orders", "source": {"type": "csv", "path": csv}, "row_key": {"column": "ID"},
            "start_from": "new_rows", "account": "main", "phone_field": "Phone", "message": "Order {{ID}} is ready"
        });
        for (key, value) in extra.as_object().expect("extra spec fields") {
            spec[key] = value.clone();
        }
        std::fs::write(d.join("spec.json"), spec.to_string()).unwrap();
        let added = sendrow(d, &["connection", "add", "--file", d.join("spec.json").to_str().unwrap()], "");
        assert!(added.status.success(), "connection: {}", text(&added.stderr));
        Shop { dir, csv }
    }
}

/// `sendrow --data-dir DIR ARGS…` as the desktop starts it (no WebDriver).
fn start_app(dir: &Path, args: &[&str]) -> App {
    let child = Group::spawn(
        Command::new(BIN)
            .arg("--data-dir")
            .arg(dir)
            .args(args)
            .env_remove("TAURI_WEBVIEW_AUTOMATION")
            .stdin(Stdio::null())
            .stdout(Stdio::null()),
    )
    .expect("the app starts");
    App(child)
}

/// A second launch on the folder, as the desktop or autostart would start it;
/// it hands its arguments to the running app and exits.
fn second_launch(dir: &Path, args: &[&str]) {
    let out = sendrow(dir, args, "");
    assert!(out.status.success(), "the second launch hands over and exits: {}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_window_releases_webkit_and_the_schedule_carries_on() {
    require_keychain_session();
    assert!(std::env::var_os("DISPLAY").is_some(), "this test opens a real window: run it with scripts/test");
    // One app at a time in the D-Bus session: the single-instance name is shared.
    let _one = crate::window::ONE_WINDOW.lock().await;
    let sim = Sim::start(&[]);
    let shop = Shop::new(&sim, serde_json::json!({"schedule": {"on_change": true}}));
    let (d, csv) = (shop.dir.path(), &shop.csv);

    let app = start_app(d, &[]);
    let pid = app.0.id();
    wait_until("the window's WebKit processes", || has_webkit(pid) && single_instance_owner() == Some(pid)).await;
    assert!(!cmdline(pid).contains(&"--tray".to_owned()), "started with its window: {:?}", cmdline(pid));

    second_launch(d, &["--tray"]);
    wait_until("the app to start over in the tray without WebKit", || in_tray(pid)).await;
    assert_eq!(cmdline(pid)[1..3], ["--data-dir".to_owned(), d.display().to_string()], "same folder after exec");

    append(csv, "2,0672222222");
    let sent = wait_for_sms(&sim, 1, "a row appended with the window closed").await;
    assert_eq!(sent[0]["destination"], "380672222222", "the tray app texted the new row");

    second_launch(d, &[]);
    wait_until("the window (and WebKit) to come back", || has_webkit(pid)).await;
    append(csv, "3,0673333333");
    wait_for_sms(&sim, 2, "a row appended with the window open again").await;

    second_launch(d, &["--tray"]);
    wait_until("WebKit to go again", || in_tray(pid)).await;
    append(csv, "4,0674444444");
    let sent = wait_for_sms(&sim, 3, "a row appended after the second close").await;

    let mut per_phone = HashMap::new();
    for message in &sent {
        *per_phone.entry(message["destination"].as_str().unwrap_or_default().to_owned()).or_insert(0) += 1;
    }
    assert!(per_phone.values().all(|&n| n == 1), "nobody was texted twice across the restarts: {per_phone:?}");
    assert!(!per_phone.contains_key("380671111111"), "the row present before the start is never texted");
    assert_eq!(per_phone.len(), 3, "rows 2, 3 and 4 were texted: {per_phone:?}");
}

/// What the stand-in notification server was asked to show.
#[derive(Clone, Default)]
struct Shown(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

impl Shown {
    fn list(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }
}

/// `org.freedesktop.Notifications`, the desktop's notification server, as
/// far as a sender needs it: the tests' D-Bus session has none of its own.
struct NotificationServer(Shown);

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl NotificationServer {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.0 .0.lock().unwrap();
        shown.push((summary, body));
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("sendrow-tests".into(), "sendrow".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

/// Nobody at the computer, the window never opened: a flood of new rows is
/// held, then the sheet is emptied, and the desktop is told each in words,
/// through a real D-Bus call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_flood_is_told_by_a_desktop_notification() {
    require_keychain_session();
    let _one = crate::window::ONE_WINDOW.lock().await;
    let shown = Shown::default();
    let _server = zbus::blocking::connection::Builder::session()
        .and_then(|b| b.name("org.freedesktop.Notifications"))
        .and_then(|b| b.serve_at("/org/freedesktop/Notifications", NotificationServer(shown.clone())))
        .and_then(|b| b.build())
        .expect("the stand-in notification server takes the name on the tests' D-Bus session");
    let sim = Sim::start(&[]);
    let shop = Shop::new(&sim, serde_json::json!({"schedule": {"on_change": true}, "flood_limit": 1}));
    let (d, csv) = (shop.dir.path(), &shop.csv);

    let app = start_app(d, &["--tray"]);
    let pid = app.0.id();
    wait_until("the app to take second launches", || single_instance_owner() == Some(pid)).await;
    append(csv, "2,0672222222\n3,0673333333");
    wait_until("a notification about the held rows", || {
        shown.list().iter().any(|(summary, _)| summary == "Orders: 2 rows wait for you")
    })
    .await;
    let (_, body) = shown.list().into_iter().find(|(s, _)| s.starts_with("Orders:")).unwrap();
    assert!(body.contains("send them or skip them"), "the body says what to do: {body:?}");
    assert!(sim.messages().await.is_empty(), "held rows are not texted");

    // Someone empties the sheet: new rows would wait unseen, so the desktop is told.
    std::fs::write(csv, "ID,Phone\n").unwrap();
    wait_until("a notification about the emptied sheet", || {
        shown.list().iter().any(|(summary, _)| summary == "Orders: the sheet has far fewer rows")
    })
    .await;
    let (_, body) = shown.list().into_iter().find(|(s, _)| s.ends_with("far fewer rows")).unwrap();
    assert!(body.contains("it was on purpose"), "the body says what to do: {body:?}");
    assert!(!has_webkit(pid), "all of it without a window");
}

/// Who registered a tray item: (its bus name, the path it gave).
#[derive(Clone, Default)]
struct Items(std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>);

/// `org.kde.StatusNotifierWatcher`, the tray host's side that tray icons
/// register with, as far as an icon needs it: Xvfb has no tray of its own.
struct TrayHost(Items);

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl TrayHost {
    fn register_status_notifier_item(&self, service: String, #[zbus(header)] header: zbus::message::Header<'_>) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.0 .0.lock().unwrap().push((sender, service));
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.0 .0.lock().unwrap().iter().map(|(sender, _)| sender.clone()).collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// Runs `gdbus call` on the session bus; its GVariant text, or why it failed.
fn gdbus_call(dest: &str, path: &str, method: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new("gdbus")
        .args(["call", "--session", "--dest", dest, "--object-path", path, "--method", method, "--"])
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

/// The tray menu's items as (id, label), read through com.canonical.dbusmenu.
fn menu_items(dest: &str, menu: &str) -> Vec<(i32, String)> {
    let layout = gdbus_call(dest, menu, "com.canonical.dbusmenu.GetLayout", &["0", "-1", "[]"]).unwrap_or_default();
    // Items print as `<(ID, {'label': <'Words'>, …}, …)>`.
    let mut items = Vec::new();
    for part in layout.split("<(").skip(1) {
        let Some((id, rest)) = part.split_once(',') else { continue };
        let label =
            rest.split_once("'label': <'").and_then(|(_, l)| l.split_once("'>")).map(|(l, _)| l.replace('_', ""));
        if let (Ok(id), Some(label)) = (id.trim().parse(), label) {
            items.push((id, label));
        }
    }
    items
}

fn click_menu_item(dest: &str, menu: &str, id: i32) {
    let id = id.to_string();
    let clicked = gdbus_call(dest, menu, "com.canonical.dbusmenu.Event", &[&id, "clicked", "<0>", "0"]);
    assert!(clicked.is_ok(), "the tray menu takes the click: {clicked:?}");
}

/// The tray menu, driven the way a tray host drives it (StatusNotifierItem
/// and dbusmenu over D-Bus): it shows the status and the actions; "Run all
/// now" runs a connection with no schedule; "Pause all" turns into "Resume
/// all"; "Quit" ends the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_menu_runs_pauses_and_quits() {
    require_keychain_session();
    let _one = crate::window::ONE_WINDOW.lock().await;
    let items = Items::default();
    let _host = zbus::blocking::connection::Builder::session()
        .and_then(|b| b.name("org.kde.StatusNotifierWatcher"))
        .and_then(|b| b.serve_at("/StatusNotifierWatcher", TrayHost(items.clone())))
        .and_then(|b| b.build())
        .expect("the stand-in tray host takes the name on the tests' D-Bus session");
    let sim = Sim::start(&[]);
    let shop = Shop::new(&sim, serde_json::json!({"start_from": "all_rows", "schedule": null}));
    let d = shop.dir.path();

    let mut app = start_app(d, &["--tray"]);
    let pid = app.0.id();
    wait_until("the tray icon to register", || !items.0.lock().unwrap().is_empty()).await;
    let (bus_name, item_path) = items.0.lock().unwrap()[0].clone();
    let item_path = if item_path.starts_with('/') { item_path } else { "/StatusNotifierItem".to_owned() };
    let menu = gdbus_call(
        &bus_name,
        &item_path,
        "org.freedesktop.DBus.Properties.Get",
        &["org.kde.StatusNotifierItem", "Menu"],
    )
    .expect("the tray item has a menu");
    let menu = menu.split('\'').nth(1).expect("the menu's object path").to_owned();
    let labels = || menu_items(&bus_name, &menu);
    let find = |label: &str| labels().into_iter().find(|(_, l)| l == label).map(|(id, _)| id);
    wait_until("the menu's words", || find("Quit").is_some()).await;
    for label in ["Open Sendrow", "Pause all", "Run all now"] {
        assert!(find(label).is_some(), "the tray menu offers {label:?}: {:?}", labels());
    }

    click_menu_item(&bus_name, &menu, find("Run all now").unwrap());
    let sent = wait_for_sms(&sim, 1, "the row a forced run from the tray sends").await;
    assert_eq!(sent[0]["destination"], "380671111111", "Run all now ran the connection with no schedule");

    click_menu_item(&bus_name, &menu, find("Pause all").unwrap());
    wait_until("Pause all to become Resume all", || find("Resume all").is_some()).await;

    click_menu_item(&bus_name, &menu, find("Quit").unwrap());
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = app.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "Quit in the tray menu must end the app (pid {pid})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "Quit ends the app cleanly: {status:?}");
}
