//! Exactly once at the edges, through the real binary against `sendrow sim`:
//! edits without an ID column, rows typed left to right, a number corrected
//! later, an opt-out that arrives while a flood is held, and a proxy's 504
//! after 8x8 queued a batch. Each test checks what the simulator received.

use std::collections::HashMap;
use std::path::Path;

use crate::common::{output_within, require_keychain_session, sendrow, text, Sim, CLI_PATIENCE};

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success() || !out.stdout.is_empty(), "command failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

fn write_csv(dir: &Path, lines: &[&str]) {
    std::fs::write(dir.join("orders.csv"), lines.join("\n") + "\n").unwrap();
}

/// The account "main" on `sim` and the connection "Orders" on orders.csv,
/// the spec's other fields from `extra`.
fn set_up(dir: &Path, sim: &Sim, extra: serde_json::Value) {
    let add =
        sendrow(dir, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    assert!(add.status.success(), "the sandbox account is accepted: {}", text(&add.stderr));
    let mut spec = serde_json::json!({
        "name": "Orders", "source": {"type": "csv", "path": "orders.csv"}, "start_from": "all_rows",
        "account": "main", "phone_field": "Phone", "default_country": "UA",
        "message": "{{Name}}: your order of {{Amount}} UAH is in."
    });
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    std::fs::write(dir.join("spec.json"), spec.to_string()).unwrap();
    let saved = sendrow(dir, &["connection", "add", "--file", dir.join("spec.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "the connection is saved: {}", text(&saved.stderr));
}

fn run(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let args: Vec<&str> = ["run", "Orders", "--json"].into_iter().chain(extra.iter().copied()).collect();
    json(&sendrow(dir, &args, ""))
}

async fn texts(sim: &Sim) -> Vec<String> {
    sim.messages().await.iter().map(|m| m["text"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn edits_without_an_id_column_never_text_again_and_a_repeat_order_does() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_csv(d, &["Name,Phone,Amount,Status", "Olena,0671111111,1200,new", "Ivan,0672222222,300,new"]);
    set_up(d, &sim, serde_json::json!({}));
    assert_eq!(run(d, &[])["sent"], 2, "both orders texted");

    // A status changed, a typo fixed, and the sheet sorted, in one save.
    write_csv(d, &["Name,Phone,Amount,Status", "Ivan K.,0672222222,300,new", "Olena,0671111111,1200,paid"]);
    let edited = run(d, &[]);
    assert_eq!((edited["sent"].as_u64(), edited["edited"].as_u64()), (Some(0), Some(2)), "edits: {edited}");

    // Olena orders again: same phone, a new row beside the old one.
    write_csv(
        d,
        &[
            "Name,Phone,Amount,Status",
            "Ivan K.,0672222222,300,new",
            "Olena,0671111111,1200,paid",
            "Olena,0671111111,95,new",
        ],
    );
    assert_eq!(run(d, &[])["sent"], 1, "her new order is texted");
    assert_eq!(
        texts(&sim).await,
        [
            "Olena: your order of 1200 UAH is in.",
            "Ivan: your order of 300 UAH is in.",
            "Olena: your order of 95 UAH is in."
        ],
        "by 8x8's own record: each order once"
    );
}

#[tokio::test]
async fn rows_go_once_complete_and_once_their_number_is_corrected() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let header = "Order ID,Name,Phone,Amount";
    write_csv(d, &[header, "1,Olena,0671111111,", "2,Ivan,050 111 22,300"]);
    set_up(d, &sim, serde_json::json!({"row_key": {"column": "Order ID"}}));
    let first = run(d, &[]);
    assert_eq!((first["sent"].as_u64(), first["incomplete"].as_u64()), (Some(0), Some(1)), "{first}");
    let to_fix: HashMap<u64, String> = first["rows_to_fix"]
        .as_array()
        .expect("rows_to_fix is a list")
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(to_fix.get(&2).map(String::as_str), Some("incomplete"), "line 2 is being typed: {first}");
    assert_eq!(to_fix.get(&3).map(String::as_str), Some("invalid_phone"), "line 3's number is too short: {first}");
    let shown = sendrow(d, &["run", "Orders"], "");
    assert!(text(&shown.stdout).contains("line 3: "), "the plain run names the line: {}", text(&shown.stdout));
    let preview = json(&sendrow(d, &["preview", "Orders", "--json"], ""));
    let statuses: Vec<&str> = preview.as_array().unwrap().iter().map(|p| p["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["incomplete", "invalid_phone"], "the preview says why each waits: {preview}");

    write_csv(d, &[header, "1,Olena,0671111111,1200", "2,Ivan,050 111 22 33,300"]);
    assert_eq!(run(d, &[])["sent"], 2, "complete and corrected: both go");
    assert_eq!(run(d, &[])["sent"], 0, "once");
    assert_eq!(
        texts(&sim).await,
        ["Olena: your order of 1200 UAH is in.", "Ivan: your order of 300 UAH is in."],
        "never half-typed"
    );
}

#[tokio::test]
async fn an_opt_out_while_a_flood_is_held_and_a_proxys_504_never_text_twice() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_csv(d, &["Order ID,Name,Phone,Amount", "1,A,0671111111,10", "2,B,0672222222,20"]);
    set_up(d, &sim, serde_json::json!({"row_key": {"column": "Order ID"}, "flood_limit": 1}));
    assert_eq!(run(d, &[])["held"], 2, "held by the flood guard");
    let opt = sendrow(d, &["optout", "add", "0672222222"], "");
    assert!(opt.status.success(), "{}", text(&opt.stderr));
    let released = run(d, &["--yes"]);
    assert_eq!(released["sent"], 1, "send all: only A, B opted out meanwhile: {released}");

    // A proxy's 504 after 8x8 queued the message: unknown, not sent again by
    // later runs, and settled by asking 8x8.
    write_csv(d, &["Order ID,Name,Phone,Amount", "1,A,0671111111,10", "2,B,0672222222,20", "3,C,0673333333,30"]);
    sim.queue_faults(&["accepted-504"]).await;
    assert_eq!(run(d, &[])["unknown"], 1, "C's answer was lost");
    for _ in 0..2 {
        assert_eq!(run(d, &[])["sent"], 0, "later runs do not retry it blindly");
    }
    let reconciled = output_within(
        std::process::Command::new(crate::common::BIN).arg("--data-dir").arg(d).args(["reconcile", "Orders", "--json"]),
        "",
        CLI_PATIENCE,
    );
    let report: serde_json::Value = serde_json::from_slice(&reconciled.stdout).unwrap();
    assert_eq!(report["found"], 1, "8x8 has C: {report}");
    let destinations: Vec<String> =
        sim.messages().await.iter().map(|m| m["destination"].as_str().unwrap().to_owned()).collect();
    assert_eq!(destinations, ["380671111111", "380673333333"], "A and C once, B never");
}
