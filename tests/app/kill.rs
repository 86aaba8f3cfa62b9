//! The crash test of the ledger invariant (`docs/message-states.md`): `sendrow run` over
//! 1,000 rows against a slow simulator, killed with SIGKILL at random moments
//! and started again, over and over. Afterwards no row may have reached 8x8
//! twice, and every row must be sent exactly once or be `unknown` in the
//! history for a person to resolve. Where the kills land differs every time;
//! what must hold does not.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::{output_within, require_keychain_session, sendrow, text, Group, Sim, BIN, CLI_PATIENCE};

const ROWS: usize = 1000;
const KILLS: usize = 12;
/// Messages per batch request in the kill test's runs.
const BATCH: usize = 25;

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

/// The real (not test) ledger entries of the connection "Orders".
fn history(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let out = sendrow(dir, &["history", "Orders", "--json"], "");
    assert!(out.status.success(), "history works: {}", text(&out.stderr));
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    entries.into_iter().filter(|e| e["test"] == false).collect()
}

fn count_unknown(entries: &[serde_json::Value]) -> usize {
    entries.iter().filter(|e| e["status"] == "unknown").count()
}

/// How many messages 8x8 (the simulator) got for each destination.
async fn received_by_phone(sim: &Sim) -> HashMap<String, usize> {
    let mut by_phone: HashMap<String, usize> = HashMap::new();
    for m in sim.messages().await {
        *by_phone.entry(m["destination"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    by_phone
}

/// `sendrow reconcile [NAME] --json` with no margin (the simulator's export
/// is exact at once), as its JSON report.
fn reconcile_now(dir: &std::path::Path, name: Option<&str>) -> serde_json::Value {
    let out = output_within(
        Command::new(BIN)
            .arg("--data-dir")
            .arg(dir)
            .arg("reconcile")
            .args(name)
            .arg("--json")
            .env("SENDROW_RECONCILE_MARGIN_SECS", "0"),
        "",
        CLI_PATIENCE,
    );
    assert!(out.status.success(), "reconcile works: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The account "main" on `sim`, `csv` as orders.csv and the connection
/// "Orders" on it (keyed by its `ID` column) with `message`.
fn set_up_orders(d: &std::path::Path, sim: &Sim, csv: &str, message: &str) {
    let add =
        sendrow(d, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    assert!(add.status.success(), "account added: {}", text(&add.stderr));
    std::fs::write(d.join("orders.csv"), csv).unwrap();
    let spec = serde_json::json!({
        "name": "Orders", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "ID"},
        "start_from": "all_rows", "account": "main", "phone_field": "Phone", "message": message,
        "flood_limit": 100000
    });
    std::fs::write(d.join("spec.json"), spec.to_string()).unwrap();
    let saved = sendrow(d, &["connection", "add", "--file", d.join("spec.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "connection saved: {}", text(&saved.stderr));
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
    let mut csv = String::from("ID,Name,Phone\n");
    for i in 0..ROWS {
        // Every row has its own number, so a duplicate SMS shows as a repeated destination.
        csv.push_str(&format!("{i},Customer {i},+38067{:07}\n", 1_000_000 + i));
    }
    set_up_orders(d, &sim, &csv, "Hello {{Name}}");

    let run = || {
        Group::spawn(
            Command::new(BIN)
                .arg("--data-dir")
                .arg(d)
                .args(["run", "Orders", "--json"])
                .env("SENDROW_BATCH_SIZE", BATCH.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .unwrap()
    };
    // A run claims a batch per request it keeps in flight, just before
    // sending it: a kill can strand at most those in `sending`, which the
    // next start calls `unknown`. Claiming rows any earlier would strand more.
    let strandable = sendrow_core::run::IN_FLIGHT * BATCH;
    let mut killed = 0;
    let mut killed_mid_send = 0;
    let mut unknown_so_far = 0;
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
        let mut was_killed = false;
        if child.try_wait().unwrap().is_none() {
            let had_sent = sim.messages().await.len() > before;
            child.kill().unwrap(); // SIGKILL: no chance to clean up
            killed += 1;
            killed_mid_send += usize::from(had_sent);
            was_killed = true;
        }
        child.wait().unwrap();
        // Opening the data folder turns what the killed run left in `sending` into `unknown`.
        let unknown = count_unknown(&history(d));
        let stranded = unknown.checked_sub(unknown_so_far).expect("unknown rows stay unknown until a person decides");
        if was_killed {
            assert!(
                stranded <= strandable,
                "one kill left {stranded} rows unknown, more than the {strandable} a run has in flight \
                 ({} requests of {BATCH}): rows were claimed long before their request (seed {seed})",
                sendrow_core::run::IN_FLIGHT
            );
        } else {
            assert_eq!(stranded, 0, "a run that ended on its own leaves nothing unknown (seed {seed})");
        }
        unknown_so_far = unknown;
    }
    eprintln!(
        "{killed} of {KILLS} runs were killed, {killed_mid_send} of them after 8x8 had accepted some of their SMS"
    );
    assert!(killed_mid_send > 0, "at least one kill must land while a run is sending, or this test proves nothing");
    // Runs to completion until nothing is left to send.
    for _ in 0..5 {
        let done = output_within(
            Command::new(BIN)
                .arg("--data-dir")
                .arg(d)
                .args(["run", "Orders", "--json"])
                .env("SENDROW_BATCH_SIZE", BATCH.to_string()),
            "",
            CLI_PATIENCE,
        );
        let out = text(&done.stdout);
        assert!(done.status.success(), "a clean run after the kills succeeds: {out}");
        let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
        if summary["sent"] == 0 && summary["failed"] == 0 {
            break;
        }
    }

    let received = received_by_phone(&sim).await;
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "no customer may get the SMS twice (seed {seed}): {twice:?}");

    let real = history(d);
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
    assert!(
        unknown <= killed * strandable,
        "{unknown} rows unknown after {killed} kills: more than {strandable} a kill (seed {seed})"
    );
    assert!(received.values().sum::<usize>() <= ROWS, "8x8 never got more messages than there are rows");

    // Sendrow then asks 8x8 about the unknown rows: those 8x8 has become
    // queued, the others go with the next run. Nothing is left to a person.
    let report = reconcile_now(d, None);
    assert_eq!(report["checked"], unknown, "every unknown row was checked (seed {seed}): {report}");
    assert_eq!(report["still_unknown"], 0, "and settled (seed {seed}): {report}");
    let last =
        output_within(Command::new(BIN).arg("--data-dir").arg(d).args(["run", "Orders", "--json"]), "", CLI_PATIENCE);
    assert!(last.status.success(), "the run after reconciling works: {}", text(&last.stderr));
    let received = received_by_phone(&sim).await;
    assert_eq!(received.len(), ROWS, "by 8x8's own record every row arrived (seed {seed})");
    assert!(received.values().all(|n| *n == 1), "exactly once (seed {seed})");
    assert!(history(d).iter().all(|e| e["status"] == "queued"), "nothing is left unknown (seed {seed})");
    let _ = sendrow(d, &["account", "remove", "main"], "");
    let _ = std::io::stderr().flush();
}

#[tokio::test]
async fn runs_through_a_faulty_8x8_end_with_each_row_sent_once_or_unknown() {
    require_keychain_session();
    const FAULT_ROWS: usize = 300;
    let sim = Sim::start(&[
        "--fail-rate",
        "0.2",
        "--faults",
        "429,503,500,timeout,reset,accepted-500,accepted-502,accepted-504",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut csv = String::from("ID,Phone\n");
    for i in 0..FAULT_ROWS {
        csv.push_str(&format!("{i},+38050{:07}\n", 2_000_000 + i));
    }
    // The account's probe meets no fault (faults hit sends only), so it is active.
    set_up_orders(d, &sim, &csv, "Order {{ID}} is ready");

    // Two messages a request: the rows take at least 150 requests, each
    // meeting a fault with a chance of 1 in 5 (1 in 20 one that is retried,
    // 3 in 20 one that leaves its messages unknown), so a test that met no
    // fault of either kind is a chance of 0.95^150 ≈ 5e-4: the assertions
    // below can insist on both.
    // A run through the faults: two messages a request, a short timeout.
    let faulty_run = || {
        output_within(
            Command::new(BIN)
                .arg("--data-dir")
                .arg(d)
                .args(["run", "Orders", "--json"])
                .env("SENDROW_BATCH_SIZE", "2")
                .env("SENDROW_HTTP_TIMEOUT_MS", "400"),
            "",
            CLI_PATIENCE,
        )
    };
    let mut runs = 0;
    let mut unknown_reported = 0;
    loop {
        runs += 1;
        let out = faulty_run();
        assert!(!text(&out.stderr).contains("panicked"), "nothing crashes: {}", text(&out.stderr));
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("run {runs} printed no summary ({e}): {}", text(&out.stderr)));
        assert!(summary["error"].is_null(), "faults are no reason for a run to stop: {summary}");
        unknown_reported += summary["unknown"].as_u64().unwrap() as usize;
        if summary["failed"] == 0 && summary["sent"] == 0 && summary["new_rows"] == 0 {
            break;
        }
        assert!(runs < 40, "the failed rows drain within 40 runs: {summary}");
    }

    let before_reconciling = received_by_phone(&sim).await;
    assert!(before_reconciling.values().all(|n| *n == 1), "no row reached 8x8 twice through the faults");
    let history = sendrow(d, &["history", "Orders", "--json"], "");
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&history.stdout).unwrap();
    assert_eq!(entries.len(), FAULT_ROWS, "one entry per row");
    let mut statuses: HashMap<String, usize> = HashMap::new();
    for e in &entries {
        let status = e["status"].as_str().unwrap().to_owned();
        let got = before_reconciling.get(e["phone"].as_str().unwrap().trim_start_matches('+')).copied().unwrap_or(0);
        match status.as_str() {
            "queued" => assert_eq!(got, 1, "queued means 8x8 has it once: {e}"),
            "unknown" => assert!(got <= 1, "unknown may or may not have arrived, never twice: {e}"),
            other => panic!("every row ends queued or unknown, not {other}: {e}"),
        }
        *statuses.entry(status).or_default() += 1;
    }
    // A 429 or 500 that was retried shows as more than one request for its
    // messages; a timeout or reset after 8x8 took a request as `unknown`.
    let retried = entries.iter().filter(|e| e["attempts"].as_u64().unwrap() > 1).count();
    let unknown = statuses.get("unknown").copied().unwrap_or(0);
    eprintln!("after {runs} runs through 20 % faults: {statuses:?}, {retried} rows needed more than one request");
    assert!(retried > 0, "the 429s and 500s were met and retried: {statuses:?}");
    assert!(unknown > 0, "timeouts and resets were met and left their rows unknown: {statuses:?}");
    assert_eq!(unknown_reported, unknown, "the runs reported every unknown row the history has");

    // Sendrow asks 8x8 about the unknown rows, the next runs send those 8x8
    // never got (meeting faults again, so again), until nothing is unknown.
    let (mut found, mut not_found) = (0, 0);
    for round in 0.. {
        assert!(round < 20, "reconciling and running settle every row within 20 rounds");
        let report = reconcile_now(d, Some("Orders"));
        let n = |k: &str| report[k].as_u64().unwrap_or_else(|| panic!("{k} in {report}")) as usize;
        assert_eq!(n("still_unknown"), 0, "the simulator's export answers for every message: {report}");
        assert_eq!(n("found") + n("not_found"), n("checked"), "each checked message is settled: {report}");
        found += n("found");
        not_found += n("not_found");
        let out = faulty_run();
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("a run printed no summary ({e}): {}", text(&out.stderr)));
        let entries: Vec<serde_json::Value> =
            serde_json::from_slice(&sendrow(d, &["history", "Orders", "--json"], "").stdout).unwrap();
        if entries.iter().all(|e| e["status"] == "queued") {
            break;
        }
        eprintln!("round {round}: {summary}");
    }
    eprintln!("reconciled: {found} found at 8x8, {not_found} never got there and were sent again");
    assert!(found > 0, "messages 8x8 took before a lost answer were found: {found}");
    let after = received_by_phone(&sim).await;
    assert_eq!(after.len(), FAULT_ROWS, "by 8x8's own record every row arrived");
    assert!(after.values().all(|n| *n == 1), "and exactly once: {after:?}");

    let _ = sendrow(d, &["account", "remove", "main"], "");
}

/// SIGTERM (or Ctrl-C) to `sendrow run` mid-send: the messages it had not
/// put in a request yet go back to the next run; only those whose request
/// was out may be `unknown`, and asking 8x8 settles them.
#[tokio::test]
async fn sigterm_to_a_run_strands_nothing() {
    require_keychain_session();
    let sim = Sim::start(&["--latency-ms", "200"]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut csv = String::from("ID,Phone\n");
    for i in 0..20 {
        csv.push_str(&format!("{i},+38050{:07}\n", 3_000_000 + i));
    }
    set_up_orders(d, &sim, &csv, "Order {{ID}} is ready");

    let mut child = Group::spawn(
        Command::new(BIN)
            .arg("--data-dir")
            .arg(d)
            .args(["run", "Orders", "--json"])
            .env("SENDROW_BATCH_SIZE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .unwrap();
    // Once 8x8 has some of this run's messages (each request takes 200 ms).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sim.messages().await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the run never reached 8x8");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success(), "SIGTERM delivered");
    let stopped = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the run stops on SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(stopped.code(), Some(130), "a stopped run says so in its exit code: {err}");
    assert!(err.contains("go with the next run"), "and in words: {err}");

    let entries = history(d);
    let count = |s: &str| entries.iter().filter(|e| e["status"] == s).count();
    assert!(count("pending") > 0, "messages not yet in a request went back to pending: {entries:?}");
    assert!(
        count("sending") + count("unknown") <= sendrow_core::run::IN_FLIGHT,
        "at most the requests in flight may have gone without an answer: {entries:?}"
    );
    assert_eq!(count("pending") + count("queued") + count("sending") + count("unknown"), 20, "{entries:?}");

    // The next run sends the rest, reconciling settles the rest, once each.
    let next = sendrow(d, &["run", "Orders", "--json"], "");
    assert!(next.status.success(), "the next run works: {}", text(&next.stderr));
    let reconciled = reconcile_now(d, Some("Orders"));
    assert_eq!(reconciled["still_unknown"], 0, "8x8 settles every message whose request was out: {reconciled}");
    let last = sendrow(d, &["run", "Orders", "--json"], "");
    assert!(last.status.success(), "{}", text(&last.stderr));
    let received = received_by_phone(&sim).await;
    assert_eq!(received.len(), 20, "every customer got the SMS: {received:?}");
    assert!(received.values().all(|n| *n == 1), "once: {received:?}");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}
