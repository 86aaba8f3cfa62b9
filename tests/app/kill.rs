//! The crash test of the ledger invariant (product.md §4): `sendrow run` over
//! 1,000 rows against a slow simulator, killed with SIGKILL at random moments
//! and started again, over and over. Afterwards no row may have reached 8x8
//! twice, and every row must be sent exactly once or be `unknown` in the
//! history for a person to resolve. Where the kills land differs every time;
//! what must hold does not.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{require_keychain_session, sendrow, text, Sim, BIN};

const ROWS: usize = 1000;
const KILLS: usize = 12;

/// A small xorshift generator; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test]
async fn killing_runs_at_random_never_sends_a_row_twice_nor_loses_one() {
    require_keychain_session();
    let seed = std::env::var("SENDROW_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    eprintln!("kill test seed: {seed} (set SENDROW_KILL_SEED to replay)");
    let mut rng = Rng(seed);

    let sim = Sim::start(&["--latency-ms", "15"]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add =
        sendrow(d, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    assert!(add.status.success(), "account added: {}", text(&add.stderr));
    let mut csv = String::from("ID,Name,Phone\n");
    for i in 0..ROWS {
        // Every row has its own number, so a duplicate SMS shows as a repeated destination.
        csv.push_str(&format!("{i},Customer {i},+38067{:07}\n", 1_000_000 + i));
    }
    std::fs::write(d.join("orders.csv"), csv).unwrap();
    let spec = serde_json::json!({
        "name": "Orders", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "ID"},
        "start_from": "all_rows", "account": "main", "phone_field": "Phone", "message": "Hello {{Name}}",
        "flood_limit": 100000
    });
    std::fs::write(d.join("spec.json"), spec.to_string()).unwrap();
    let saved = sendrow(d, &["connection", "add", "--file", d.join("spec.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "connection saved: {}", text(&saved.stderr));

    let run = || {
        Command::new(BIN)
            .arg("--data-dir")
            .arg(d)
            .args(["run", "Orders", "--json"])
            .env("SENDROW_BATCH_SIZE", "25")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut killed = 0;
    let mut killed_mid_send = 0;
    for round in 0..KILLS {
        let before = sim.messages().await.len();
        let mut child = run();
        if round % 2 == 0 {
            // Anywhere: 40 batches of 25 at 15 ms each take about 0.6 s, so
            // some kills land before the first request, some mid-run.
            std::thread::sleep(Duration::from_millis(rng.below(700)));
        } else {
            // Surely mid-send: once 8x8 has accepted this run's first
            // batch, a moment later (or as soon as the run ends, if it
            // had little left).
            let waiting_since = std::time::Instant::now();
            while child.try_wait().unwrap().is_none()
                && sim.messages().await.len() == before
                && waiting_since.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(Duration::from_millis(rng.below(60)));
        }
        if child.try_wait().unwrap().is_none() {
            let had_sent = sim.messages().await.len() > before;
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            killed += 1;
            killed_mid_send += usize::from(had_sent);
        }
        child.wait().unwrap();
    }
    eprintln!(
        "{killed} of {KILLS} runs were killed, {killed_mid_send} of them after 8x8 had accepted some of their SMS"
    );
    assert!(killed_mid_send > 0, "at least one kill must land while a run is sending, or this test proves nothing");
    // Runs to completion until nothing is left to send.
    for _ in 0..5 {
        let mut child = run();
        let status = child.wait().unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        assert!(status.success(), "a clean run after the kills succeeds: {out}");
        let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
        if summary["sent"] == 0 && summary["failed"] == 0 {
            break;
        }
    }

    let mut received: HashMap<String, usize> = HashMap::new();
    for m in sim.messages().await {
        *received.entry(m["destination"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "no customer may get the SMS twice (seed {seed}): {twice:?}");

    let history = sendrow(d, &["history", "Orders", "--json"], "");
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&history.stdout).unwrap();
    let real: Vec<_> = entries.iter().filter(|e| e["test"] == false).collect();
    assert_eq!(real.len(), ROWS, "every row has exactly one ledger entry (seed {seed})");
    let mut unknown = 0;
    for e in &real {
        let phone = e["phone"].as_str().unwrap().trim_start_matches('+');
        let got = received.get(phone).copied().unwrap_or(0);
        match e["status"].as_str().unwrap() {
            "queued" => assert_eq!(got, 1, "a queued row reached 8x8 exactly once: {e} (seed {seed})"),
            "unknown" => unknown += 1,
            other => panic!("after the final runs a row is queued or unknown, not {other}: {e} (seed {seed})"),
        }
    }
    eprintln!("{} rows sent once, {unknown} unknown for a person to resolve", real.len() - unknown);
    assert!(received.values().sum::<usize>() <= ROWS, "8x8 never got more messages than there are rows");
    let _ = sendrow(d, &["account", "remove", "main"], "");
    let _ = std::io::stderr().flush();
}

#[tokio::test]
async fn runs_through_a_faulty_8x8_end_with_each_row_sent_once_or_unknown() {
    require_keychain_session();
    const FAULT_ROWS: usize = 300;
    let sim = Sim::start(&["--fail-rate", "0.2", "--faults", "429,500,timeout,reset"]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add =
        sendrow(d, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    // The probe itself may meet no fault (faults hit sends only), so the account is active.
    assert!(add.status.success(), "account added: {}", text(&add.stderr));
    let mut csv = String::from("ID,Phone\n");
    for i in 0..FAULT_ROWS {
        csv.push_str(&format!("{i},+38050{:07}\n", 2_000_000 + i));
    }
    std::fs::write(d.join("orders.csv"), csv).unwrap();
    let spec = serde_json::json!({
        "name": "Orders", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "ID"},
        "start_from": "all_rows", "account": "main", "phone_field": "Phone", "message": "Order {{ID}} is ready",
        "flood_limit": 100000
    });
    std::fs::write(d.join("spec.json"), spec.to_string()).unwrap();
    let saved = sendrow(d, &["connection", "add", "--file", d.join("spec.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "connection saved: {}", text(&saved.stderr));

    let mut runs = 0;
    loop {
        runs += 1;
        let out = Command::new(BIN)
            .arg("--data-dir")
            .arg(d)
            .args(["run", "Orders", "--json"])
            .env("SENDROW_BATCH_SIZE", "20")
            .env("SENDROW_HTTP_TIMEOUT_MS", "400")
            .output()
            .unwrap();
        assert!(!text(&out.stderr).contains("panicked"), "nothing crashes: {}", text(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("run {runs} printed no summary ({e}): {}", text(&out.stderr)));
        if summary["failed"] == 0 && summary["sent"] == 0 && summary["new_rows"] == 0 {
            break;
        }
        assert!(runs < 40, "the failed rows drain within 40 runs: {summary}");
    }

    let mut received: HashMap<String, usize> = HashMap::new();
    for m in sim.messages().await {
        *received.entry(m["destination"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert!(received.values().all(|n| *n == 1), "no row reached 8x8 twice through the faults");
    let history = sendrow(d, &["history", "Orders", "--json"], "");
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(entries.len(), FAULT_ROWS, "one entry per row");
    let mut statuses: HashMap<String, usize> = HashMap::new();
    for e in &entries {
        let status = e["status"].as_str().unwrap().to_owned();
        let got = received.get(e["phone"].as_str().unwrap().trim_start_matches('+')).copied().unwrap_or(0);
        match status.as_str() {
            "queued" => assert_eq!(got, 1, "queued means 8x8 has it once: {e}"),
            "unknown" => assert!(got <= 1, "unknown may or may not have arrived, never twice: {e}"),
            other => panic!("every row ends queued or unknown, not {other}: {e}"),
        }
        *statuses.entry(status).or_default() += 1;
    }
    eprintln!("after {runs} runs through 20 % faults: {statuses:?}");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}
