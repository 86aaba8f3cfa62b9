//! Which rows and when (product.md §8–9) through the binary, as outside
//! tests drive it: conditions turning true, and a reminder scheduled at 8x8,
//! moved and cancelled — against `sendrow sim` and the real keychain.

use std::path::Path;

use crate::common::{require_keychain_session, sendrow, text, Sim};

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "command failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

fn add_connection(dir: &Path, spec: serde_json::Value) {
    std::fs::write(dir.join("spec.json"), spec.to_string()).unwrap();
    let spec_path = dir.join("spec.json");
    let saved = sendrow(dir, &["connection", "add", "--file", spec_path.to_str().unwrap()], "");
    assert!(saved.status.success(), "the connection is saved: {}", text(&saved.stderr));
}

fn history(dir: &Path, name: &str, row: &str) -> Vec<serde_json::Value> {
    let all = json(&sendrow(dir, &["history", name, "--json"], ""));
    all.as_array().unwrap().iter().filter(|l| l["row"] == row && l["test"] == false).cloned().collect()
}

fn account(dir: &Path, sim: &Sim) {
    let add =
        sendrow(dir, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    assert!(add.status.success(), "the sandbox account is accepted: {}", text(&add.stderr));
}

#[tokio::test]
async fn a_status_turning_paid_texts_once() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    account(d, &sim);
    let write = |rows: &str| std::fs::write(d.join("orders.csv"), format!("ID;Ім'я;Телефон;Статус\n{rows}")).unwrap();
    write("1;Олена;067 123 45 67;нове\n2;Іван;050 111 22 33;Оплачено\n");
    add_connection(
        d,
        serde_json::json!({
            "name": "Paid", "source": {"type": "csv", "path": "orders.csv"}, "row_key": {"column": "ID"},
            "start_from": "all_rows", "account": "main", "phone_field": "Телефон",
            "message": "{{Ім'я}}, оплату отримано.",
            "conditions": {"all": [{"column": "Статус", "op": "equals", "value": "оплачено"}]}
        }),
    );
    let shown = json(&sendrow(d, &["connection", "show", "Paid", "--json"], ""));
    assert_eq!(shown["conditions"]["all"][0]["column"], "Статус", "{shown}");
    let preview = json(&sendrow(d, &["preview", "Paid", "--json"], ""));
    let rows: Vec<&str> = preview.as_array().unwrap().iter().map(|p| p["row"].as_str().unwrap()).collect();
    assert_eq!(rows, ["2"], "only the paid order would go: {preview}");

    let run = json(&sendrow(d, &["run", "Paid", "--json"], ""));
    assert_eq!((run["sent"].as_u64(), run["not_matching"].as_u64()), (Some(1), Some(1)), "{run}");
    write("1;Олена;067 123 45 67;оплачено\n2;Іван;050 111 22 33;Оплачено\n");
    let run = json(&sendrow(d, &["run", "Paid", "--json"], ""));
    assert_eq!((run["sent"].as_u64(), run["not_matching"].as_u64()), (Some(1), Some(0)), "{run}");
    write("1;Олена;067 123 45 67;нове\n2;Іван;050 111 22 33;Оплачено\n");
    json(&sendrow(d, &["run", "Paid", "--json"], ""));
    write("1;Олена;067 123 45 67;оплачено\n2;Іван;050 111 22 33;Оплачено\n");
    let run = json(&sendrow(d, &["run", "Paid", "--json"], ""));
    assert_eq!(run["sent"].as_u64(), Some(0), "paid again is not a second SMS: {run}");
    assert_eq!(sim.messages().await.len(), 2, "one SMS per order");
}

#[tokio::test]
async fn a_reminder_is_scheduled_at_8x8_moved_and_cancelled() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    account(d, &sim);
    let in_days = |days: i64| (chrono::Local::now() + chrono::Duration::days(days)).format("%d.%m.%Y").to_string();
    let write = |rows: &str| std::fs::write(d.join("visits.csv"), format!("ID,Name,Phone,Visit\n{rows}")).unwrap();
    write(&format!("V1,Olena,0671234567,{} 14:30\n", in_days(3)));
    add_connection(
        d,
        serde_json::json!({
            "name": "Visits", "source": {"type": "csv", "path": "visits.csv"}, "row_key": {"column": "ID"},
            "start_from": "all_rows", "account": "main", "phone_field": "Phone",
            "message": "{{Name}}, a reminder: your visit is tomorrow. Sent {{$date}} {{$time}}.",
            "send_at": {"column": "Visit", "minutes_before": 1440, "at_time": "18:00"}
        }),
    );
    let run = json(&sendrow(d, &["run", "Visits", "--json"], ""));
    assert_eq!((run["scheduled"].as_u64(), run["sent"].as_u64()), (Some(1), Some(0)), "{run}");
    let first = history(d, "Visits", "V1");
    assert_eq!(first[0]["status"], "scheduled", "{first:?}");
    let send_at = chrono::DateTime::parse_from_rfc3339(first[0]["send_at"].as_str().unwrap()).unwrap();
    let local = send_at.with_timezone(&chrono::Local);
    assert_eq!(local.format("%d.%m.%Y %H:%M").to_string(), format!("{} 18:00", in_days(2)), "{first:?}");
    let umid = first[0]["umid"].as_str().unwrap().to_owned();
    let at_8x8 = sim.messages().await;
    assert_eq!(at_8x8.len(), 1);
    assert_eq!(at_8x8[0]["umid"], umid.as_str());
    assert!(at_8x8[0]["scheduled"].is_string(), "held by 8x8 until its time: {at_8x8:?}");
    assert!(at_8x8[0]["text"].as_str().unwrap().ends_with(&format!("Sent {} 18:00.", local.format("%Y-%m-%d"))));

    // The visit moves a day later: the old one is cancelled at 8x8, a new one scheduled.
    write(&format!("V1,Olena,0671234567,{} 14:30\n", in_days(4)));
    let run = json(&sendrow(d, &["run", "Visits", "--json"], ""));
    assert_eq!((run["cancelled"].as_u64(), run["scheduled"].as_u64()), (Some(1), Some(1)), "{run}");
    let moved = history(d, "Visits", "V1");
    let statuses: Vec<&str> = moved.iter().map(|l| l["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["cancelled", "scheduled"], "the history keeps both: {moved:?}");
    let at_8x8 = sim.messages().await;
    assert_eq!(at_8x8.iter().find(|m| m["umid"] == umid.as_str()).unwrap()["cancelled"], true, "{at_8x8:?}");

    // The row is deleted: its reminder is cancelled too.
    write("");
    let run = json(&sendrow(d, &["run", "Visits", "--json"], ""));
    assert_eq!(run["cancelled"].as_u64(), Some(0), "an emptied sheet is a warning, nothing is cancelled: {run}");
    write(&format!("V2,Ivan,0501112233,{} 10:00\n", in_days(30)));
    let run = json(&sendrow(d, &["run", "Visits", "--json"], ""));
    assert_eq!((run["cancelled"].as_u64(), run["scheduled"].as_u64()), (Some(1), Some(1)), "{run}");
    let statuses: Vec<String> =
        history(d, "Visits", "V1").iter().map(|l| l["status"].as_str().unwrap().to_owned()).collect();
    assert_eq!(statuses, ["cancelled", "cancelled"]);
    let far = history(d, "Visits", "V2");
    assert_eq!((far[0]["status"].as_str(), far[0]["umid"].is_null()), (Some("waiting"), true), "{far:?}");
    assert!(sim.messages().await.iter().all(|m| m["cancelled"] == true), "nothing left to go out");
}
