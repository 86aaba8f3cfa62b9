//! `sendrow daemon` end to end: rows appended to a watched CSV reach the
//! simulator by themselves; the daemon killed and started again keeps its
//! schedule and texts nobody twice; a second scheduler on the same folder is
//! refused; SIGTERM stops it cleanly.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{output_within, require_keychain_session, sendrow, text, Group, Sim, BIN, CLI_PATIENCE};

/// Starts `sendrow daemon` and waits for its first stderr line, which it
/// prints once it holds the folder's scheduler lock and has loaded its jobs.
fn start_daemon(dir: &std::path::Path) -> Group {
    let mut child = Group::spawn(
        Command::new(BIN).arg("--data-dir").arg(dir).arg("daemon").stdout(Stdio::null()).stderr(Stdio::piped()),
    )
    .expect("the daemon starts");
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut first).unwrap();
    assert!(first.contains("running the schedule"), "the daemon announces itself: {first:?}");
    // Keep draining stderr so the daemon never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    child
}

fn append(path: &std::path::Path, line: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    writeln!(f, "{line}").unwrap();
}

/// Polls the simulator until `count` messages arrived (bounded; no speed assumed).
async fn wait_for(sim: &Sim, count: usize) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let messages = sim.messages().await;
        if messages.len() >= count || Instant::now() > deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_watched_csv_is_sent_by_itself_across_a_daemon_restart() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add =
        sendrow(d, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    assert!(add.status.success(), "account: {}", text(&add.stderr));
    let csv = d.join("orders.csv");
    std::fs::write(&csv, "ID,Phone\n1,0671111111\n").unwrap();
    let spec = serde_json::json!({
        "name": "Orders", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "ID"},
        "start_from": "new_rows", "account": "main", "phone_field": "Phone", "message": "Order {{ID}} is ready",
        "schedule": {"on_change": true}
    });
    std::fs::write(d.join("spec.json"), spec.to_string()).unwrap();
    let saved = sendrow(d, &["connection", "add", "--file", d.join("spec.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "connection: {}", text(&saved.stderr));

    let mut daemon = start_daemon(d);
    let second = output_within(Command::new(BIN).arg("--data-dir").arg(d).arg("daemon"), "", CLI_PATIENCE);
    assert!(!second.status.success(), "a second scheduler on the same folder is refused");
    assert!(text(&second.stderr).contains("already running the schedule"), "and told why: {}", text(&second.stderr));
    append(&csv, "2,0672222222");
    let first = wait_for(&sim, 1).await;
    assert_eq!(first.len(), 1, "the appended row was sent without anyone running it: {first:?}");
    assert_eq!(first[0]["destination"], "380672222222", "and it was the new row, not the baseline");

    daemon.kill().unwrap(); // SIGKILL: no clean shutdown
    daemon.wait().unwrap();
    append(&csv, "3,0673333333");
    let mut daemon = start_daemon(d);
    let all = wait_for(&sim, 2).await;
    // Either the restart's catch-up or the watcher picks row 3 up; never row 2 again.
    let mut per_number: HashMap<String, usize> = HashMap::new();
    for m in &all {
        *per_number.entry(m["destination"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert_eq!(per_number.get("380673333333"), Some(&1), "the row added while the daemon was down went out: {all:?}");
    assert_eq!(per_number.get("380672222222"), Some(&1), "the earlier row was not sent again: {all:?}");
    assert!(!per_number.contains_key("380671111111"), "the baseline row was never sent");

    // SIGTERM: a clean stop.
    let stopped = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status().unwrap();
    assert!(stopped.success(), "SIGTERM delivered");
    let deadline = Instant::now() + Duration::from_secs(40);
    let status = loop {
        if let Some(status) = daemon.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the daemon stops within its grace period after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "a SIGTERM stop is a clean exit: {status:?}");
    let history = sendrow(d, &["history", "Orders", "--json"], "");
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&history.stdout).unwrap();
    assert!(
        entries.iter().all(|e| e["status"] != "sending"),
        "nothing left in sending after a clean stop: {entries:?}"
    );
    let _ = sendrow(d, &["account", "remove", "main"], "");
}
