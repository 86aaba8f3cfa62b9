//! The log in the data folder's `logs/`: at the most verbose level it tells
//! a run, 8x8's HTTP statuses and refusal codes, and never a key the test used.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{output_within, require_keychain_session, text, Sim, BIN, CLI_PATIENCE};

const KEY: &str = "log-key-SHOULD-NOT-LEAK-789";
const WRONG_KEY: &str = "wrong-log-key-SHOULD-NOT-LEAK-012";

/// `sendrow --data-dir DIR ARGS…` logging everything (`SENDROW_LOG=trace`).
fn verbose(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--data-dir").arg(dir).args(args).env("SENDROW_LOG", "trace");
    output_within(&mut cmd, stdin, CLI_PATIENCE)
}

/// Every log file's text, and how many files there are.
fn read_logs(dir: &Path) -> (String, usize) {
    let logs = dir.join("logs");
    let mut text = String::new();
    let mut files = 0;
    let listing = || std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>());
    for entry in std::fs::read_dir(&logs)
        .unwrap_or_else(|e| panic!("no log folder {}: {e}; the data folder holds {:?}", logs.display(), listing()))
    {
        let path = entry.expect("a log folder entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        assert!(
            name.starts_with("sendrow.") && name.ends_with(".log"),
            "only daily sendrow.DATE.log files in logs/: {name}"
        );
        text.push_str(&std::fs::read_to_string(&path).expect("a log file is text"));
        files += 1;
    }
    (text, files)
}

#[tokio::test]
async fn the_log_tells_runs_and_8x8_answers_but_no_key() {
    require_keychain_session();
    let sim = Sim::start(&["--account", &format!("shop_hq:{KEY}")]);
    let dir = tempfile::tempdir().expect("a temp data folder");
    let d = dir.path();

    let wrong = verbose(d, &["account", "add", "bad", "--subaccount", "shop_hq", "--base-url", &sim.url], WRONG_KEY);
    let add = verbose(d, &["account", "add", "main", "--subaccount", "shop_hq", "--base-url", &sim.url], KEY);
    assert!(add.status.success(), "the right key is accepted: {}", text(&add.stderr));
    std::fs::write(d.join("orders.csv"), "ID,Phone\n1,0671111111\n2,0672222222\n").expect("the CSV is written");
    let spec = serde_json::json!({
        "name": "Orders", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "ID"},
        "start_from": "all_rows", "account": "main", "phone_field": "Phone", "message": "Order {{ID}} is ready"
    });
    std::fs::write(d.join("spec.json"), spec.to_string()).expect("the spec is written");
    let saved = verbose(d, &["connection", "add", "--file", d.join("spec.json").to_str().expect("UTF-8")], "");
    assert!(
        saved.status.success(),
        "the connection is saved: {:?} {} {}",
        saved.status,
        text(&saved.stdout),
        text(&saved.stderr)
    );
    // 8x8 answers the first try with a 503 (it took nothing): the log must say so, and the retry still sends.
    sim.queue_faults(&["503"]).await;
    let run = verbose(d, &["run", "Orders", "--json"], "");
    assert!(run.status.success(), "the run succeeds: {}", text(&run.stderr));
    assert_eq!(sim.messages().await.len(), 2, "both rows were texted");

    let (log, files) = read_logs(d);
    assert!(files >= 1, "the commands wrote a log file");
    for expected in ["sendrow started", "run{connection=Orders}", "run finished", "sent=2", "status=200", "status=503"]
    {
        assert!(log.contains(expected), "the log has {expected:?}:\n{log}");
    }
    assert!(log.contains("code=Some(1200)"), "the wrong key's refusal is logged with 8x8's code:\n{log}");
    for secret in [KEY, WRONG_KEY] {
        assert!(!log.contains(secret), "the key {secret:?} leaked into the log:\n{log}");
    }
    for out in [&wrong, &add, &saved, &run] {
        assert!(!text(&out.stdout).contains("INFO") && !text(&out.stderr).contains("INFO"), "logs go to the file only");
    }
}
