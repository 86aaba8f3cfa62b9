//! `cargo bench -p sendrow-core --bench send`: 100,000 new rows through the
//! whole pipeline — read, detect, compose, ledger, batch send, record — to the
//! simulator on loopback, in messages per second; beside it, in the same run,
//! the same pipeline sending one request per row, one at a time, as a
//! per-row integration (a hosted tool's "action") does. Goals: ≥ 25,000 messages/s
//! (8x8's own documented batch throughput, so Sendrow is never the
//! bottleneck) and ≥ 50× the one-per-row path.
//!
//! The one-per-row path sends the same 100,000 rows (a few minutes);
//! `SENDROW_BENCH_SINGLE_ROWS=N` times it on the first N rows instead, for a
//! quick look (it is linear in the row count). Not a test: it prints figures
//! beside the goals.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use sendrow_core::account::{AccountInput, Target};
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::{MemorySecrets, Secret};
use sendrow_core::send::RetryPolicy;
use sendrow_core::sim::{SimConfig, Simulator, SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::Core;

const ROWS: usize = 100_000;
/// Rows of the one-request-per-row comparison shown "for reference".
const PIPELINED_ROWS: usize = 2_000;
const GOAL_RATE: f64 = 25_000.0;
const GOAL_RATIO: f64 = 50.0;

fn write_csv(path: &Path, rows: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create the CSV"));
    writeln!(out, "Order ID,Name,Phone").unwrap();
    for i in 0..rows {
        writeln!(out, "{i},Customer {i},+38067{:07}", i).unwrap();
    }
}

/// Sends `rows` rows through a fresh data folder with `batch_size` messages
/// per request and `in_flight` requests at once; returns (seconds, messages sent).
async fn pipeline(sim: &Simulator, rows: usize, batch_size: usize, in_flight: usize) -> (f64, usize) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let core = Core::open(&dir.path().join("data"), Arc::new(MemorySecrets::new())).expect("open");
    core.add_account(AccountInput {
        name: "bench".into(),
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        target: Target::BaseUrl(sim.base_url()),
        api_key: Secret::new(SANDBOX_KEY),
    })
    .await
    .expect("the account");
    write_csv(&dir.path().join("orders.csv"), rows);
    let spec: ConnectionSpec = serde_json::from_value(serde_json::json!({
        "name": "bench", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "Order ID"},
        "start_from": "all_rows", "account": "bench", "phone_field": "Phone",
        "message": "Hello {{Name}}, your order {{Order ID}} is confirmed.", "flood_limit": 1_000_000
    }))
    .expect("the spec");
    core.add_connection(spec, dir.path()).await.expect("the connection");
    let options =
        RunOptions { retry: RetryPolicy { batch_size, ..RetryPolicy::default() }, in_flight, ..RunOptions::default() };
    let started = Instant::now();
    let summary = core.run("bench", &options).await.expect("the run");
    (started.elapsed().as_secs_f64(), summary.sent)
}

#[tokio::main]
async fn main() {
    // 8x8 allows 1,800 requests/s per subaccount; lifted here so the
    // one-per-row path measures Sendrow, not the simulator's limiter.
    let sim = Simulator::start(SimConfig { rate_limit: Some(u32::MAX), ..SimConfig::default() }, 0)
        .await
        .expect("the simulator");

    let (batch_secs, batch_sent) = pipeline(&sim, ROWS, 10_000, sendrow_core::run::IN_FLIGHT).await;
    assert_eq!(batch_sent, ROWS, "every row was sent in the batched run");
    let batch_rate = batch_sent as f64 / batch_secs;

    let single_rows = std::env::var("SENDROW_BENCH_SINGLE_ROWS").ok().and_then(|n| n.parse().ok()).unwrap_or(ROWS);
    let (single_secs, single_sent) = pipeline(&sim, single_rows, 1, 1).await;
    let (pipelined_secs, pipelined_sent) = pipeline(&sim, PIPELINED_ROWS, 1, sendrow_core::run::IN_FLIGHT).await;
    assert_eq!(single_sent, single_rows, "every row was sent one by one");
    let single_rate = single_sent as f64 / single_secs;
    let ratio = batch_rate / single_rate;

    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    println!("send pipeline, {ROWS} new rows → simulator on loopback");
    println!(
        "  batched (10,000 per request): {batch_secs:.2} s, {batch_rate:.0} messages/s  (goal ≥ {GOAL_RATE:.0}: {})",
        verdict(batch_rate >= GOAL_RATE)
    );
    println!(
        "  one request per row, one at a time ({single_rows} rows): {single_secs:.2} s, {single_rate:.0} messages/s"
    );
    println!(
        "  (for reference: one request per row, {} in flight, {PIPELINED_ROWS} rows: {:.0} messages/s, batched is {:.0}× that)",
        sendrow_core::run::IN_FLIGHT,
        pipelined_sent as f64 / pipelined_secs,
        batch_rate / (pipelined_sent as f64 / pipelined_secs)
    );
    println!("  batched / one-per-row: {ratio:.0}×  (goal ≥ {GOAL_RATIO:.0}×: {})", verdict(ratio >= GOAL_RATIO));
}
