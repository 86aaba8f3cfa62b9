//! The seed's flow from the command line, as outside tests drive it: an
//! account, a CSV connection, the preview, the one-click test send, runs, the
//! history and the opt-out list — against `sendrow sim` and the real keychain.

use std::path::Path;

use crate::common::{require_keychain_session, sendrow, text, Sim};

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success() || !out.stdout.is_empty(), "command failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

/// The orders sheet `setup` writes, with these rows under its header.
fn write_rows(dir: &Path, rows: &str) {
    std::fs::write(dir.join("orders.csv"), format!("Order ID;Ім'я;Телефон\n{rows}")).unwrap();
}

/// The connection's real (not test) history lines, by row key.
fn history_of(dir: &Path) -> std::collections::HashMap<String, serde_json::Value> {
    let history = json(&sendrow(dir, &["history", "Orders", "--json"], ""));
    let lines = history.as_array().expect("history --json prints an array");
    lines.iter().filter(|l| l["test"] == false).map(|l| (l["row"].as_str().unwrap().to_owned(), l.clone())).collect()
}

/// How many SMS 8x8 accepted for each destination (digits, as 8x8 echoes them).
async fn received(sim: &Sim) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for m in sim.messages().await {
        *counts.entry(m["destination"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    counts
}

fn setup(dir: &Path, sim: &Sim, rows: &str, extra: serde_json::Value) {
    let add =
        sendrow(dir, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "sandbox-key");
    assert!(add.status.success(), "the sandbox account is accepted: {}", text(&add.stderr));
    write_rows(dir, rows);
    let mut spec = serde_json::json!({
        "name": "Orders",
        "source": {"type": "csv", "path": "orders.csv"},
        "row_key": {"column": "Order ID"},
        "start_from": "all_rows",
        "account": "main",
        "phone_field": "Телефон",
        "default_country": "UA",
        "sender": "MyShop",
        "message": "{{Ім'я}}, замовлення {{Order ID}} підтверджено.",
        "schedule": {"at": ["09:00", "18:30"]},
        "auto_update": true
    });
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    std::fs::write(dir.join("spec.json"), spec.to_string()).unwrap();
    let spec_path = dir.join("spec.json");
    let saved = sendrow(dir, &["connection", "add", "--file", spec_path.to_str().unwrap()], "");
    assert!(saved.status.success(), "the connection is saved: {}", text(&saved.stderr));
}

#[tokio::test]
async fn preview_test_send_run_and_history_from_a_csv() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, &sim, "1001;Олена;067 123 45 67\n1002;Іван;050 111 22 33\n1003;Без номера;\n", serde_json::json!({}));

    let preview = json(&sendrow(d, &["preview", "Orders", "--json"], ""));
    let items = preview.as_array().expect("preview --json prints an array");
    assert_eq!(items.len(), 3, "one object per pending row: {preview}");
    assert_eq!(items[0]["row"], "1001", "row key");
    assert_eq!(items[0]["phone"], "+380671234567", "E.164");
    assert_eq!(items[0]["text"], "Олена, замовлення 1001 підтверджено.", "rendered text");
    assert_eq!(items[0]["encoding"], "UCS2", "Cyrillic is UCS-2");
    assert_eq!(items[0]["segments"], 1, "one part");
    assert_eq!(items[0]["status"], "ready", "ready");
    assert_eq!(items[2]["status"], "missing_phone", "a row without a number is shown with its status");
    assert!(sim.messages().await.is_empty(), "a preview sends nothing");

    let test = sendrow(d, &["test-send", "Orders"], "");
    assert!(test.status.success(), "the test send works: {}", text(&test.stderr));
    let after_test = sim.messages().await;
    assert_eq!(after_test.len(), 1, "the simulator shows exactly the test message");
    let umid = after_test[0]["umid"].as_str().expect("8x8 gave the message a umid");
    assert!(
        text(&test.stdout).contains(&format!("queued it as {umid}")),
        "it prints the umid 8x8 gave the message ({umid}): {}",
        text(&test.stdout)
    );
    assert_eq!(after_test[0]["text"], "Олена, замовлення 1001 підтверджено.", "with the previewed text");
    assert_eq!(after_test[0]["destination"], "380671234567", "to the first row's phone");

    let run = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    for field in ["sent", "rejected", "failed", "skipped", "unknown", "held"] {
        assert!(run[field].is_u64(), "run --json has {field}: {run}");
    }
    assert_eq!(
        (run["sent"].as_u64(), run["skipped"].as_u64()),
        (Some(1), Some(1)),
        "Ivan sent, the empty phone skipped, Olena not again: {run}"
    );
    let texts: Vec<String> =
        sim.messages().await.iter().map(|m| m["destination"].as_str().unwrap().to_owned()).collect();
    assert_eq!(texts.iter().filter(|d| *d == "380671234567").count(), 1, "Olena got one SMS in all: {texts:?}");

    let history = json(&sendrow(d, &["history", "Orders", "--json"], ""));
    let lines = history.as_array().unwrap();
    for field in ["row", "phone", "text", "status", "umid"] {
        assert!(lines.iter().all(|l| l.get(field).is_some()), "history --json has {field}: {history}");
    }
    assert!(lines.iter().any(|l| l["row"] == "1002" && l["status"] == "queued"), "Ivan's message is queued: {history}");
    let csv = sendrow(d, &["history", "Orders", "--csv"], "");
    assert!(
        text(&csv.stdout).starts_with("row,line,phone,text,status"),
        "history --csv has a header: {}",
        text(&csv.stdout)
    );

    let show = json(&sendrow(d, &["connection", "show", "Orders", "--json"], ""));
    for field in ["name", "account", "auto_update", "schedule", "next_run", "status"] {
        assert!(show.get(field).is_some(), "connection show --json has {field}: {show}");
    }
    let next = show["next_run"].as_str().expect("a daily schedule has a next run");
    assert!(chrono::DateTime::parse_from_rfc3339(next).is_ok(), "next_run is RFC 3339: {next}");
    let off = json(&sendrow(d, &["connection", "disable", "Orders", "--json"], ""));
    assert_eq!(off["auto_update"], false, "the toggle switches auto-update off");
    assert!(off["next_run"].is_null(), "and then nothing is scheduled: {off}");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}

#[tokio::test]
async fn a_flood_is_held_until_run_yes_and_opt_outs_are_skipped() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let optout = sendrow(d, &["optout", "add", "050 111 22 33"], "");
    assert!(optout.status.success(), "opt-out add works: {}", text(&optout.stderr));
    let list = json(&sendrow(d, &["optout", "list", "--json"], ""));
    assert_eq!(list[0]["phone"], "+380501112233", "stored in E.164: {list}");
    setup(d, &sim, "1;A;0671111111\n2;B;0501112233\n3;C;0673333333\n", serde_json::json!({"flood_limit": 1}));

    let held = sendrow(d, &["run", "Orders", "--json"], "");
    assert!(!held.status.success(), "a held run exits non-zero");
    assert!(text(&held.stderr).contains("held"), "and says so: {}", text(&held.stderr));
    let summary = json(&held);
    assert_eq!(summary["held"], 2, "two ready rows over a limit of one are held: {summary}");
    assert!(sim.messages().await.is_empty(), "nothing of a held flood is sent");
    let yes = json(&sendrow(d, &["run", "Orders", "--json", "--yes"], ""));
    assert_eq!(yes["sent"], 2, "--yes sends them: {yes}");
    let numbers: Vec<String> =
        sim.messages().await.iter().map(|m| m["destination"].as_str().unwrap().to_owned()).collect();
    assert!(!numbers.contains(&"380501112233".to_owned()), "the opted-out number was never texted: {numbers:?}");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}

#[tokio::test]
async fn connections_are_listed_switched_shown_with_their_last_run_and_removed() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(
        d,
        &sim,
        "1001;Олена;067 123 45 67\n1002;Іван;050 111 22 33\n1003;Без номера;\n",
        serde_json::json!({"price_per_segment": 0.07}),
    );
    let mut second: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("spec.json")).unwrap()).unwrap();
    second["name"] = "Returns".into();
    second["schedule"] = serde_json::Value::Null;
    std::fs::write(d.join("returns.json"), second.to_string()).unwrap();
    let saved = sendrow(d, &["connection", "add", "--file", d.join("returns.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "a second connection is saved: {}", text(&saved.stderr));

    let list = json(&sendrow(d, &["connection", "list", "--json"], ""));
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Orders", "Returns"], "list --json has both, by name: {list}");
    assert_eq!(list[0]["account"], "main", "with the account: {list}");
    assert_eq!((list[0]["status"].as_str(), list[0]["auto_update"].as_bool()), (Some("active"), Some(true)));
    assert!(list[1]["next_run"].is_null(), "a connection without a schedule has no next run: {list}");

    // The plain preview shows why the text is UCS-2 and what it costs.
    let preview = sendrow(d, &["preview", "Orders"], "");
    let shown = text(&preview.stdout);
    assert!(preview.status.success(), "preview works: {}", text(&preview.stderr));
    assert!(
        shown.contains("(UCS2 because of \"О\" \"л\" \"е\" \"н\" \"а\" \"з\" \"м\" \"о\" …, 1 part(s), cost 0.07)"),
        "each line names the characters that forced UCS-2 and the cost: {shown}"
    );
    assert!(shown.contains("2 message(s) ready, 2 part(s), cost 0.14"), "and the run's total: {shown}");

    let off = json(&sendrow(d, &["connection", "disable", "Orders", "--json"], ""));
    assert_eq!((off["auto_update"].as_bool(), off["next_run"].as_str()), (Some(false), None), "switched off: {off}");
    let on = json(&sendrow(d, &["connection", "enable", "Orders", "--json"], ""));
    assert_eq!(on["name"], "Orders", "enable --json prints the connection: {on}");
    assert_eq!((on["auto_update"].as_bool(), on["status"].as_str()), (Some(true), Some("active")), "on: {on}");
    let next = on["next_run"].as_str().expect("switched on, the daily schedule has a next run again");
    assert!(chrono::DateTime::parse_from_rfc3339(next).is_ok(), "next_run is RFC 3339: {next}");

    let before = json(&sendrow(d, &["connection", "show", "Orders", "--json"], ""));
    assert!(before["last_run"].is_null(), "no run yet, no last run: {before}");
    let run = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!((run["sent"].as_u64(), run["skipped"].as_u64()), (Some(2), Some(1)), "the run: {run}");
    let after = json(&sendrow(d, &["connection", "show", "Orders", "--json"], ""));
    assert_eq!(after["last_run"], run, "show --json has the last run's summary, as the run printed it");
    assert_eq!(sim.messages().await.len(), 2, "and 8x8 got those two messages");

    let removed = json(&sendrow(d, &["connection", "remove", "Returns", "--json"], ""));
    assert_eq!(removed, serde_json::json!({"removed": "Returns"}), "remove --json says what went");
    let gone = sendrow(d, &["connection", "show", "Returns", "--json"], "");
    assert!(!gone.status.success(), "showing a removed connection fails");
    assert!(gone.stdout.is_empty(), "with no JSON on stdout: {}", text(&gone.stdout));
    let why = text(&gone.stderr);
    assert!(
        why.contains("no connection named \"Returns\"") && why.contains("sendrow connection list"),
        "naming it and where to look: {why}"
    );
    let list = json(&sendrow(d, &["connection", "list", "--json"], ""));
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Orders"], "the other connection is untouched: {list}");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}

/// `{{$date}} {{$time}}` are the machine's local time: the real binary run
/// under `TZ=<+14>-14`, where the local date and hour always differ from UTC's.
#[tokio::test]
async fn template_times_follow_the_machines_time_zone() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, &sim, "1001;Олена;067 123 45 67\n", serde_json::json!({"message": "{{$date}} {{$time}}"}));
    // The wall clock 14 hours ahead of UTC, as `{{$date}} {{$time}}` writes it.
    let kiritimati = || (chrono::Utc::now() + chrono::Duration::hours(14)).format("%Y-%m-%d %H:%M").to_string();
    let in_kiritimati = |args: &[&str]| {
        crate::common::output_within(
            std::process::Command::new(crate::common::BIN).arg("--data-dir").arg(d).args(args).env("TZ", "<+14>-14"),
            "",
            crate::common::CLI_PATIENCE,
        )
    };

    let before = kiritimati();
    let preview = json(&in_kiritimati(&["preview", "Orders", "--json"]));
    let after = kiritimati();
    let shown = preview[0]["text"].as_str().expect("the previewed text").to_owned();
    assert!(before <= shown && shown <= after, "the preview shows local time {shown:?}, between {before} and {after}");

    let before = kiritimati();
    let run = in_kiritimati(&["run", "Orders"]);
    let after = kiritimati();
    assert!(run.status.success(), "the run succeeds: {}", text(&run.stderr));
    let sent = sim.messages().await;
    let sent = sent[0]["text"].as_str().expect("the sent text");
    assert!(
        before.as_str() <= sent && sent <= after.as_str(),
        "8x8 got local time {sent:?}, between {before} and {after}"
    );
}

/// A run stopped part-way (here 8x8 refuses the key) still prints what it
/// did as JSON, with the error and what is left for the next run, and exits
/// non-zero with the reason on stderr.
#[tokio::test]
async fn a_run_stopped_by_a_refused_key_still_prints_its_summary() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let add =
        sendrow(d, &["account", "add", "main", "--subaccount", "sandbox_hq", "--base-url", &sim.url], "revoked-key");
    assert!(!add.status.success(), "a wrong key is saved as inactive: {}", text(&add.stdout));
    std::fs::write(d.join("orders.csv"), "ID,Phone\n1,0671234567\n2,0501112233\n").unwrap();
    let spec = serde_json::json!({"name": "Orders", "source": {"type": "csv", "path": "orders.csv"},
        "row_key": {"column": "ID"}, "start_from": "all_rows", "account": "main", "phone_field": "Phone",
        "message": "Order {{ID}}"});
    std::fs::write(d.join("spec.json"), spec.to_string()).unwrap();
    let saved = sendrow(d, &["connection", "add", "--file", d.join("spec.json").to_str().unwrap()], "");
    assert!(saved.status.success(), "the connection is saved: {}", text(&saved.stderr));

    let run = sendrow(d, &["run", "Orders", "--json"], "");
    assert!(!run.status.success(), "a refused key fails the run");
    assert!(text(&run.stderr).contains("8x8 refused the account"), "stderr says why: {}", text(&run.stderr));
    let summary = json(&run);
    assert_eq!((summary["new_rows"].as_u64(), summary["sent"].as_u64()), (Some(2), Some(0)), "{summary}");
    assert_eq!(summary["pending"], 2, "both rows are kept for the next run, not lost: {summary}");
    assert!(summary["error"].as_str().is_some_and(|e| e.contains("main")), "the error names the account: {summary}");
    assert!(sim.messages().await.is_empty(), "8x8 accepted nothing");
}

/// A message that may or may not have reached 8x8 waits for a person:
/// `resend --row` sends it again with the next run, `mark-sent` settles it.
#[tokio::test]
async fn unknown_messages_are_resent_or_marked_sent_by_a_person() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, &sim, "1;Олена;067 123 45 67\n", serde_json::json!({}));
    sim.queue_faults(&["reset"]).await;
    let cut = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!(cut["unknown"], 1, "8x8 took it, then the answer was cut off: {cut}");
    assert_eq!(history_of(d)["1"]["status"], "unknown", "the history says so");
    let next = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!(next["sent"], 0, "no run resends it on a guess: {next}");

    let resend = sendrow(d, &["resend", "Orders", "--row", "1"], "");
    assert!(resend.status.success(), "resend --row works: {}", text(&resend.stderr));
    assert!(text(&resend.stdout).contains("will be sent again"), "and says what happens: {}", text(&resend.stdout));
    assert_eq!(history_of(d)["1"]["status"], "pending", "the row waits for the next run");
    let run = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!(run["sent"], 1, "the next run sends it: {run}");
    assert_eq!(received(&sim).await["380671234567"], 2, "the person chose a second SMS, and got exactly that");
    let olena = &history_of(d)["1"];
    let last = sim.messages().await.pop().unwrap();
    assert_eq!((&olena["status"], &olena["umid"]), (&"queued".into(), &last["umid"]), "queued as 8x8 said: {olena}");

    write_rows(d, "1;Олена;067 123 45 67\n2;Іван;050 111 22 33\n");
    sim.queue_faults(&["reset"]).await;
    let cut = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!((cut["new_rows"].as_u64(), cut["unknown"].as_u64()), (Some(1), Some(1)), "Ivan's is unknown: {cut}");
    let mark = sendrow(d, &["mark-sent", "Orders", "--row", "2"], "");
    assert!(mark.status.success(), "mark-sent works: {}", text(&mark.stderr));
    assert!(text(&mark.stdout).contains("marked as sent"), "and says so: {}", text(&mark.stdout));
    let ivan = &history_of(d)["2"];
    assert_eq!(ivan["status"], "sent", "the history shows it sent: {ivan}");
    assert_eq!(ivan["reason"], "marked as sent by a person", "and who decided: {ivan}");
    let run = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!(run["sent"], 0, "a run does not send it again: {run}");
    assert_eq!(received(&sim).await["380501112233"], 1, "Ivan got the one SMS that did arrive");

    let settled = sendrow(d, &["mark-sent", "Orders", "--row", "2"], "");
    assert!(!settled.status.success(), "a settled row has nothing to resolve");
    let why = text(&settled.stderr);
    assert!(
        why.contains("no unknown or failed message") && why.contains("sendrow history Orders"),
        "saying so and where to look: {why}"
    );
    let _ = sendrow(d, &["account", "remove", "main"], "");
}

/// "Resend failed" sends the messages 8x8 kept failing, now, and nothing
/// else: a row added to the sheet since waits for a run.
#[tokio::test]
async fn resend_failed_sends_only_the_failed_messages() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, &sim, "1;Олена;067 123 45 67\n", serde_json::json!({}));
    // One 503 for each of a run's five attempts.
    sim.queue_faults(&["503"; 5]).await;
    let failed = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!((failed["failed"].as_u64(), failed["sent"].as_u64()), (Some(1), Some(0)), "8x8 kept failing: {failed}");
    assert_eq!(history_of(d)["1"]["status"], "failed", "the history says so");
    assert!(sim.messages().await.is_empty(), "8x8 accepted nothing");

    write_rows(d, "1;Олена;067 123 45 67\n2;Іван;050 111 22 33\n");
    let again = json(&sendrow(d, &["resend", "Orders", "--failed", "--json"], ""));
    assert_eq!((again["sent"].as_u64(), again["new_rows"].as_u64()), (Some(1), Some(0)), "Olena's went: {again}");
    let to: Vec<String> = received(&sim).await.into_keys().collect();
    assert_eq!(to, ["380671234567"], "only the failed message went, not Ivan's new row");
    assert!(!history_of(d).contains_key("2"), "the sheet was not even read");

    let run = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!((run["new_rows"].as_u64(), run["sent"].as_u64()), (Some(1), Some(1)), "a run then sends Ivan: {run}");
    let counts = received(&sim).await;
    assert_eq!((counts["380671234567"], counts["380501112233"]), (1, 1), "each customer once: {counts:?}");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}

/// The opt-out list goes out as CSV and comes back in (another Sendrow,
/// or this one again) unchanged, and a run skips an imported number.
#[tokio::test]
async fn the_opt_out_list_round_trips_through_csv_and_runs_skip_imported_numbers() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stop = d.join("stop.csv");
    std::fs::write(&stop, "Name;Телефон\nІван;050 111 22 33\nPetro;+380 93 123 45 67\nBad;not a number\n").unwrap();
    let import = sendrow(d, &["optout", "import", stop.to_str().unwrap()], "");
    assert!(import.status.success(), "the import works: {}", text(&import.stderr));
    assert!(text(&import.stdout).contains("2 added, 0 already on the list"), "{}", text(&import.stdout));
    assert!(text(&import.stderr).contains("line 4"), "the bad line is named: {}", text(&import.stderr));

    let export = sendrow(d, &["optout", "export"], "");
    assert!(export.status.success(), "the export works: {}", text(&export.stderr));
    let csv = text(&export.stdout);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("phone,note,added_at"), "a CSV header: {csv}");
    let mut phones: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    phones.sort();
    assert_eq!(phones, ["+380501112233", "+380931234567"], "the imported numbers, in E.164: {csv}");

    let other = tempfile::tempdir().unwrap();
    std::fs::write(other.path().join("list.csv"), &csv).unwrap();
    let moved = sendrow(other.path(), &["optout", "import", other.path().join("list.csv").to_str().unwrap()], "");
    assert!(text(&moved.stdout).contains("2 added"), "the export imports cleanly: {}", text(&moved.stderr));
    assert!(moved.stderr.is_empty(), "with no line refused: {}", text(&moved.stderr));
    let list = json(&sendrow(other.path(), &["optout", "list", "--json"], ""));
    let mut there: Vec<&str> = list.as_array().unwrap().iter().map(|o| o["phone"].as_str().unwrap()).collect();
    there.sort();
    assert_eq!(there, phones, "the other Sendrow has the same list");
    std::fs::write(d.join("again.csv"), &csv).unwrap();
    let again = sendrow(d, &["optout", "import", d.join("again.csv").to_str().unwrap()], "");
    assert!(text(&again.stdout).contains("0 added, 2 already on the list"), "no number twice: {}", text(&again.stdout));

    setup(d, &sim, "1;Олена;067 123 45 67\n2;Іван;050 111 22 33\n", serde_json::json!({}));
    let run = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!((run["sent"].as_u64(), run["skipped"].as_u64()), (Some(1), Some(1)), "Ivan is skipped: {run}");
    let to: Vec<String> = received(&sim).await.into_keys().collect();
    assert_eq!(to, ["380671234567"], "8x8 never saw the imported number");
    let ivan = &history_of(d)["2"];
    assert_eq!((&ivan["status"], &ivan["reason"]), (&"skipped".into(), &"the number is on the opt-out list".into()));
    let _ = sendrow(d, &["account", "remove", "main"], "");
}

/// The flood guard's "skip all": held rows become `skipped` for good.
#[tokio::test]
async fn skip_held_drops_a_held_flood_for_good() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, &sim, "1;A;0671111111\n2;B;0672222222\n3;C;0673333333\n", serde_json::json!({"flood_limit": 2}));
    let held = sendrow(d, &["run", "Orders", "--json"], "");
    assert_eq!(held.status.code(), Some(3), "a held run exits 3: {}", text(&held.stderr));
    assert!(text(&held.stderr).contains("sendrow skip-held Orders"), "and offers to skip: {}", text(&held.stderr));
    assert_eq!(json(&held)["held"], 3, "three rows over a limit of two are held");

    let skip = json(&sendrow(d, &["skip-held", "Orders", "--json"], ""));
    assert_eq!(skip, serde_json::json!({"skipped": 3}), "skip-held --json says how many");
    let history = history_of(d);
    for row in ["1", "2", "3"] {
        let line = &history[row];
        assert_eq!(line["status"], "skipped", "row {row} is skipped: {line}");
        assert!(line["reason"].as_str().is_some_and(|r| r.contains("skipped by a person")), "and why: {line}");
    }
    let yes = json(&sendrow(d, &["run", "Orders", "--json", "--yes"], ""));
    assert_eq!((yes["sent"].as_u64(), yes["held"].as_u64()), (Some(0), Some(0)), "not even --yes sends them: {yes}");
    assert!(sim.messages().await.is_empty(), "8x8 got nothing of the flood");

    let nothing = sendrow(d, &["skip-held", "Orders"], "");
    assert!(nothing.status.success(), "skipping again is harmless: {}", text(&nothing.stderr));
    assert!(text(&nothing.stdout).contains("no rows held"), "and says so: {}", text(&nothing.stdout));
    write_rows(d, "1;A;0671111111\n2;B;0672222222\n3;C;0673333333\n4;D;0674444444\n");
    let later = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!(later["sent"], 1, "a row added later goes as usual: {later}");
    let to: Vec<String> = received(&sim).await.into_keys().collect();
    assert_eq!(to, ["380674444444"], "and only that row");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}

/// Removing a connection forgets its history: with messages nobody settled
/// (unknown, failed) the command line refuses without `--force`, naming them.
#[tokio::test]
async fn a_connection_with_unsettled_messages_is_removed_only_with_force() {
    require_keychain_session();
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, &sim, "1;Олена;067 123 45 67\n", serde_json::json!({}));
    sim.queue_faults(&["reset"]).await;
    let cut = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!(cut["unknown"], 1, "8x8 took it, then the answer was cut off: {cut}");
    write_rows(d, "1;Олена;067 123 45 67\n2;Іван;050 111 22 33\n");
    // 429 proves nothing was queued: one for each of a run's five attempts.
    sim.queue_faults(&["429"; 5]).await;
    let failed = json(&sendrow(d, &["run", "Orders", "--json"], ""));
    assert_eq!(failed["failed"], 1, "8x8 kept refusing Ivan's: {failed}");

    let refused = sendrow(d, &["connection", "remove", "Orders", "--json"], "");
    assert!(!refused.status.success(), "the removal is refused");
    assert!(refused.stdout.is_empty(), "with no JSON on stdout: {}", text(&refused.stdout));
    let why = text(&refused.stderr);
    for words in
        ["\"Orders\"", "1 message that may have reached 8x8 (unknown)", "1 that failed", "sendrow history", "--force"]
    {
        assert!(why.contains(words), "the error names {words:?}: {why}");
    }
    let history = history_of(d);
    assert_eq!((history["1"]["status"].as_str(), history["2"]["status"].as_str()), (Some("unknown"), Some("failed")));

    let forced = json(&sendrow(d, &["connection", "remove", "Orders", "--force", "--json"], ""));
    assert_eq!(forced, serde_json::json!({"removed": "Orders"}), "--force removes it: {forced}");
    let list = json(&sendrow(d, &["connection", "list", "--json"], ""));
    assert_eq!(list, serde_json::json!([]), "and it is gone: {list}");
    let _ = sendrow(d, &["account", "remove", "main"], "");
}
