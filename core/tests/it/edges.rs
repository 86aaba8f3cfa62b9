//! Exactly once at the edges (ARCHITECTURE.md, "Invariants"): rows typed
//! left to right, numbers corrected later, opt-outs that arrive while a
//! message waits. Real CSV, real SQLite, the loopback simulator; every test
//! checks what 8x8 received.

use sendrow_core::compose::Country;
use sendrow_core::run::RunOptions;
use sendrow_core::sim::Fault;
use sendrow_core::store::EntryStatus;

use crate::run::{kyiv, quick, Shop};

fn ua() -> Country {
    Country::parse("UA").unwrap()
}

/// Orders with an amount the message uses.
fn write_orders(shop: &Shop, rows: &[&str]) {
    let mut text = String::from("Order ID,Name,Phone,Amount\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(shop.csv(), text).unwrap();
}

const WITH_AMOUNT: &str = "{{Name}}, order {{Order ID}}: {{Amount}} UAH.";

#[tokio::test]
async fn a_row_typed_left_to_right_goes_once_complete_with_or_without_an_id_column() {
    for row_key in [serde_json::json!({"column": "Order ID"}), serde_json::Value::Null] {
        let shop = Shop::open().await;
        write_orders(&shop, &["5,Olena,0671234567,"]);
        shop.add(serde_json::json!({"row_key": row_key, "message": WITH_AMOUNT})).await.unwrap();
        let early = shop.run(&quick()).await;
        assert_eq!((early.sent, early.incomplete, early.new_rows), (0, 1, 0), "{row_key}: not yet: {early:?}");
        assert!(
            early.rows_to_fix[0].describe().contains("\"Amount\" still empty"),
            "{row_key}: the run names what is missing: {:?}",
            early.rows_to_fix
        );
        assert!(shop.core.history("Orders").unwrap().is_empty(), "{row_key}: nothing written off");
        let (preview, _) = shop.core.preview("Orders", None).await.unwrap();
        assert_eq!(preview[0].composed.status.as_str(), "incomplete", "{row_key}: the preview says so too");

        write_orders(&shop, &["5,Olena,0671234567,1200"]);
        let done = shop.run(&quick()).await;
        assert_eq!(done.sent, 1, "{row_key}: complete now, sent: {done:?}");
        assert_eq!(shop.run(&quick()).await.sent, 0, "{row_key}: and once");
        let texts: Vec<String> = shop.sim.messages().into_iter().map(|m| m.text).collect();
        assert_eq!(texts, ["Olena, order 5: 1200 UAH."], "{row_key}: never \"Olena, order 5: \"");
    }
}

#[tokio::test]
async fn a_number_fixed_later_is_sent_once_with_or_without_an_id_column() {
    for row_key in [serde_json::json!({"column": "Order ID"}), serde_json::Value::Null] {
        let shop = Shop::open().await;
        shop.write(&["1,Olena,0671234567", "2,Ivan,050 111 22"]);
        shop.add(serde_json::json!({"row_key": row_key})).await.unwrap();
        let first = shop.run(&quick()).await;
        assert_eq!((first.sent, first.skipped), (1, 1), "{row_key}: Ivan's number is too short: {first:?}");
        let named: Vec<String> = first.rows_to_fix.iter().map(|r| r.describe()).collect();
        assert!(named[0].starts_with("line 3: "), "{row_key}: the run names the line: {named:?}");
        let (preview, _) = shop.core.preview("Orders", None).await.unwrap();
        assert_eq!(preview.len(), 1, "{row_key}: the preview still lists it: {preview:?}");
        assert_eq!(preview[0].composed.status.as_str(), "invalid_phone", "{row_key}: with why");
        let again = shop.run(&quick()).await;
        assert_eq!((again.sent, again.skipped), (0, 1), "{row_key}: not lost, still waiting: {again:?}");
        let last = shop.core.connection_view("Orders").unwrap().last_run.unwrap();
        assert_eq!(last.rows_to_fix, again.rows_to_fix, "{row_key}: the card reads it from the last run");

        shop.write(&["1,Olena,0671234567", "2,Ivan,050 111 22 33"]);
        let fixed = shop.run(&quick()).await;
        assert_eq!((fixed.sent, fixed.skipped), (1, 0), "{row_key}: the corrected number goes: {fixed:?}");
        assert_eq!(shop.run(&quick()).await.sent, 0, "{row_key}: once");
        assert_eq!(shop.destinations(), ["380501112233", "380671234567"], "{row_key}: each customer once");
    }
}

#[tokio::test]
async fn a_number_opted_out_while_its_message_waited_is_never_texted() {
    // Held by the flood guard, then "send all".
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111", "2,B,0672222222"]);
    shop.add(serde_json::json!({"flood_limit": 1})).await.unwrap();
    assert_eq!(shop.run(&quick()).await.held, 2, "both held");
    shop.core.add_optout("0672222222", ua(), None).unwrap();
    let released = shop.run(&RunOptions { release_held: true, ..quick() }).await;
    assert_eq!(released.sent, 1, "only A goes: {released:?}");
    assert_eq!(shop.destinations(), ["380671111111"], "B was opted out while held");
    let b = shop.core.history("Orders").unwrap().into_iter().find(|e| e.row_key == "2").unwrap();
    assert_eq!(b.status, EntryStatus::Skipped, "B is skipped: {b:?}");
    assert!(b.reason.as_deref().unwrap_or_default().contains("opt-out list"), "with why: {b:?}");

    // Waiting for quiet hours, then the morning run.
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111"]);
    shop.add(serde_json::json!({"quiet_hours": {"from": "21:00", "to": "08:00"}})).await.unwrap();
    let night = shop.run(&RunOptions { now: kyiv(2026, 5, 1, 23, 0), ..quick() }).await;
    assert_eq!(night.waiting, 1, "waits for the morning");
    shop.core.add_optout("0671111111", ua(), None).unwrap();
    let morning = shop.run(&RunOptions { now: kyiv(2026, 5, 2, 8, 0), ..quick() }).await;
    assert_eq!(morning.sent, 0, "opted out at night: {morning:?}");

    // Failed, then "resend failed".
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([Fault::Unavailable; 5]);
    assert_eq!(shop.run(&quick()).await.failed, 1, "8x8 was busy");
    shop.core.add_optout("0671111111", ua(), None).unwrap();
    let resent = shop.core.resend_failed("Orders", &quick()).await.unwrap();
    assert_eq!(resent.sent, 0, "opted out before the retry: {resent:?}");
    assert!(shop.sim.messages().is_empty(), "8x8 never saw any of them");
}

fn quick_checks() -> sendrow_core::reconcile::Settings {
    sendrow_core::reconcile::Settings {
        first_poll: std::time::Duration::from_millis(5),
        max_poll: std::time::Duration::from_millis(20),
        per_subaccount_gap: std::time::Duration::from_millis(1),
        ..Default::default()
    }
}

#[tokio::test]
async fn unknown_sends_are_settled_by_asking_8x8_and_never_sent_twice() {
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111", "2,B,0672222222"]);
    shop.add(serde_json::json!({})).await.unwrap();
    // A proxy's 502 after 8x8 queued the batch.
    shop.sim.queue_faults([Fault::AcceptedThen502]);
    assert_eq!(shop.run(&quick()).await.unknown, 2, "both unknown");
    shop.write(&["1,A,0671111111", "2,B,0672222222", "3,C,0673333333"]);
    // 8x8's own 500 before it took anything: from the outside, just as unknown.
    shop.sim.queue_faults([Fault::ServerError]);
    assert_eq!(shop.run(&quick()).await.unknown, 1, "C unknown");
    assert_eq!(shop.sim.messages().len(), 2, "8x8 has A and B, not C");

    // Right after the sends, C's absence proves nothing yet.
    let now = chrono::Utc::now();
    let early = shop.core.reconcile(Some("Orders"), &quick_checks(), now).await.unwrap();
    let expected = sendrow_core::reconcile::Report { checked: 3, found: 2, not_found: 0, still_unknown: 1 };
    assert_eq!(early, expected, "A and B found; C too recent to be sure");
    let history = shop.core.history("Orders").unwrap();
    let umids: Vec<String> = shop.sim.messages().into_iter().map(|m| m.umid).collect();
    for e in history.iter().filter(|e| e.row_key != "3") {
        assert_eq!(e.status, EntryStatus::Queued, "found at 8x8: queued: {e:?}");
        assert!(umids.contains(e.umid.as_ref().unwrap()), "with 8x8's own umid: {e:?}");
        assert!(e.check_note.as_deref().unwrap().contains("8x8 received it"), "the decision is kept: {e:?}");
        assert!(e.checked_at.is_some(), "with when");
    }
    let c = history.iter().find(|e| e.row_key == "3").unwrap();
    assert_eq!(c.status, EntryStatus::Unknown, "C waits: {c:?}");
    assert!(c.check_note.as_deref().unwrap().contains("too recent"), "and says why: {c:?}");

    // Nine minutes on is still within the margin; eleven is past it.
    let within = shop.core.reconcile(Some("Orders"), &quick_checks(), now + chrono::Duration::minutes(9)).await;
    assert_eq!(within.unwrap().still_unknown, 1, "still inside the 10-minute margin");
    let later = now + chrono::Duration::minutes(11);
    let proven = shop.core.reconcile(None, &quick_checks(), later).await.unwrap();
    let expected = sendrow_core::reconcile::Report { checked: 1, found: 0, not_found: 1, still_unknown: 0 };
    assert_eq!(proven, expected, "C provably never reached 8x8");
    let c = shop.core.history("Orders").unwrap().into_iter().find(|e| e.row_key == "3").unwrap();
    assert_eq!(c.status, EntryStatus::Pending, "C goes with the next run: {c:?}");
    assert!(c.check_note.as_deref().unwrap().contains("never received it"), "{c:?}");

    let next = shop.run(&quick()).await;
    assert_eq!(next.sent, 1, "the next run sends C: {next:?}");
    assert_eq!(shop.run(&quick()).await.sent, 0, "once");
    assert_eq!(
        shop.destinations(),
        ["380671111111", "380672222222", "380673333333"],
        "8x8's own record: every customer exactly once"
    );
    let nothing = shop.core.reconcile(None, &quick_checks(), later).await.unwrap();
    assert_eq!(nothing.checked, 0, "nothing left unknown");
    assert_eq!(shop.sim.export_downloads(), [true, true, true], "links on the API host get the key");
}

#[tokio::test]
async fn the_key_never_goes_to_an_export_link_on_another_host() {
    let sim = crate::sim_with(sendrow_core::sim::SimConfig {
        export_links_elsewhere: true,
        export_polls_running: 3,
        ..Default::default()
    })
    .await;
    let shop = Shop::with_sim(sim).await;
    shop.write(&["1,A,0671111111"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([Fault::AcceptedThen504]);
    assert_eq!(shop.run(&quick()).await.unknown, 1, "unknown after a 504");
    let report = shop.core.reconcile(None, &quick_checks(), chrono::Utc::now()).await.unwrap();
    assert_eq!(report.found, 1, "found through a link on another host, after three `running` polls: {report:?}");
    assert_eq!(shop.sim.export_downloads(), [false], "which never saw the API key");
}

#[tokio::test]
async fn an_export_that_never_finishes_leaves_the_message_unknown_with_why() {
    let sim =
        crate::sim_with(sendrow_core::sim::SimConfig { export_polls_running: u32::MAX, ..Default::default() }).await;
    let mut shop = Shop::with_sim(sim).await;
    shop.write(&["1,A,0671111111"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([Fault::Timeout]);
    shop.core.set_http_timeout(std::time::Duration::from_millis(300));
    assert_eq!(shop.run(&quick()).await.unknown, 1, "no answer: unknown");
    let settings =
        sendrow_core::reconcile::Settings { give_up_after: std::time::Duration::from_millis(100), ..quick_checks() };
    let report = shop.core.reconcile(None, &settings, chrono::Utc::now() + chrono::Duration::hours(1)).await.unwrap();
    assert_eq!(report.still_unknown, 1, "8x8 never said: still unknown, never resent: {report:?}");
    let e = &shop.core.history("Orders").unwrap()[0];
    assert_eq!(e.status, EntryStatus::Unknown);
    assert!(e.check_note.as_deref().unwrap().contains("did not finish"), "{e:?}");
    assert_eq!(shop.sim.messages().len(), 1, "8x8 got it once");
}

#[tokio::test]
async fn the_simulator_serves_8x8s_log_export_job_as_documented() {
    let sim = crate::sim().await;
    let gw = crate::gateway(&sim);
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1/subaccounts/{}/messages", sim.base_url(), sendrow_core::sim::SANDBOX_SUBACCOUNT);
    let key = sendrow_core::sim::SANDBOX_KEY;

    let started = http.post(format!("{base}/exports")).bearer_auth(key).json(&serde_json::json!({})).send().await;
    let started = started.unwrap();
    assert_eq!(started.status(), 202, "202 Accepted");
    let job: serde_json::Value = started.json().await.unwrap();
    let job_id = job["jobId"].as_str().expect("a jobId").to_owned();
    let first: serde_json::Value =
        http.get(format!("{base}/exports/{job_id}")).bearer_auth(key).send().await.unwrap().json().await.unwrap();
    assert_eq!(first["status"], "running", "running first: {first}");
    let second = gw.export_job(&job_id).await.unwrap();
    assert_eq!(second.status, "empty", "nothing sent yet: empty, a real answer: {second:?}");

    let sms = sendrow_core::gateway::SmsRequest {
        destination: "+380671234567".into(),
        text: "Hi".into(),
        client_message_id: Some("sr-test-1".into()),
        ..Default::default()
    };
    let umid = gw.send(&sms).await.unwrap().umid;
    let request = sendrow_core::gateway::ExportRequest { from: Some("2020-01-01".into()), to: None };
    let job = gw.start_export(&request).await.unwrap().job_id;
    assert!(gw.export_job(&job).await.unwrap().is_pending(), "running first");
    let done = gw.export_job(&job).await.unwrap();
    assert_eq!(done.status, "succeeded", "{done:?}");
    assert!(done.expires.is_some(), "links say until when they work");
    let text = gw.download_export(&done.data.unwrap()[0]).await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(sendrow_core::sim::EXPORT_COLUMNS), "8x8's columns, in order");
    let row = lines.next().unwrap();
    assert!(row.starts_with(&umid) && row.contains(",sr-test-1,"), "the message, with its clientmessageid: {row}");
    assert!(!row.contains("380671234567"), "the number is masked: {row}");

    let missing = gw.export_job("no-such-job").await.unwrap_err();
    assert!(
        matches!(missing, sendrow_core::gateway::Error::Rejected { status: 404, code: 4018, .. }),
        "an unknown job is 404 code 4018: {missing:?}"
    );
    let backwards =
        sendrow_core::gateway::ExportRequest { from: Some("2026-12-05".into()), to: Some("2026-12-01".into()) };
    let refused = gw.start_export(&backwards).await.unwrap_err();
    assert!(
        matches!(refused, sendrow_core::gateway::Error::Rejected { status: 400, .. }),
        "from after to: {refused:?}"
    );
}

fn write_csv(shop: &Shop, header: &str, rows: &[&str]) {
    let text = std::iter::once(header).chain(rows.iter().copied()).collect::<Vec<_>>().join("\n") + "\n";
    std::fs::write(shop.csv(), text).unwrap();
}

/// A connection without an ID column on `Name,Phone,Amount,Status,Today`.
async fn shop_without_ids(rows: &[&str]) -> Shop {
    let shop = Shop::open().await;
    write_csv(&shop, "Name,Phone,Amount,Status,Today", rows);
    let spec = serde_json::json!({"row_key": null, "message": "{{Name}}: your order of {{Amount}} UAH is in."});
    shop.add(spec).await.unwrap();
    shop
}

#[tokio::test]
async fn edits_without_an_id_column_never_text_again() {
    let shop = shop_without_ids(&[
        "Olena,0671111111,1200,new,2026-12-01",
        "Ivan,0672222222,300,new,2026-12-01",
        "Petro,0673333333,450,new,2026-12-01",
    ])
    .await;
    assert_eq!(shop.run(&quick()).await.sent, 3, "the first run texts all three");

    // A Status edit, a typo fixed in a name, and a formula column (TODAY())
    // that changes every row: one read.
    write_csv(
        &shop,
        "Name,Phone,Amount,Status,Today",
        &[
            "Olena,0671111111,1200,paid,2026-12-02",
            "Ivan K.,0672222222,300,new,2026-12-02",
            "Petro,0673333333,450,new,2026-12-02",
        ],
    );
    let edited = shop.run(&quick()).await;
    assert_eq!((edited.sent, edited.held, edited.edited), (0, 0, 3), "three edits, nobody texted: {edited:?}");

    // A sort and an edit in one read.
    write_csv(
        &shop,
        "Name,Phone,Amount,Status,Today",
        &[
            "Petro,0673333333,450,shipped,2026-12-02",
            "Olena,0671111111,1200,paid,2026-12-02",
            "Ivan K.,0672222222,300,new,2026-12-02",
        ],
    );
    let sorted = shop.run(&quick()).await;
    assert_eq!((sorted.sent, sorted.edited), (0, 1), "sorting is no edit; Petro's status is: {sorted:?}");

    // A corrected phone number on a row already texted is the same order.
    write_csv(
        &shop,
        "Name,Phone,Amount,Status,Today",
        &[
            "Petro,0673333334,450,shipped,2026-12-02",
            "Olena,0671111111,1200,paid,2026-12-02",
            "Ivan K.,0672222222,300,new,2026-12-02",
        ],
    );
    let phone = shop.run(&quick()).await;
    assert_eq!((phone.sent, phone.edited), (0, 1), "a number corrected after the SMS went: {phone:?}");
    assert_eq!(shop.sim.messages().len(), 3, "8x8's record: three SMS in all");
}

#[tokio::test]
async fn a_repeat_customers_new_order_is_sent_even_when_the_old_row_changes_in_the_same_read() {
    let shop = shop_without_ids(&["Olena,0671111111,1200,new,2026-12-01"]).await;
    assert_eq!(shop.run(&quick()).await.sent, 1);
    // The old row stays as it was: a new order from the same phone.
    write_csv(
        &shop,
        "Name,Phone,Amount,Status,Today",
        &["Olena,0671111111,1200,new,2026-12-01", "Olena,0671111111,800,new,2026-12-01"],
    );
    assert_eq!(shop.run(&quick()).await.sent, 1, "her second order is new");
    // The formula column moves on for both rows while a third order comes in.
    write_csv(
        &shop,
        "Name,Phone,Amount,Status,Today",
        &[
            "Olena,0671111111,1200,new,2026-12-02",
            "Olena,0671111111,800,new,2026-12-02",
            "Olena,0671111111,95,new,2026-12-02",
        ],
    );
    let third = shop.run(&quick()).await;
    assert_eq!((third.sent, third.edited), (1, 2), "two edits and one new order: {third:?}");
    let texts: Vec<String> = shop.sim.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(
        texts,
        [
            "Olena: your order of 1200 UAH is in.",
            "Olena: your order of 800 UAH is in.",
            "Olena: your order of 95 UAH is in."
        ],
        "each order once"
    );
}

#[tokio::test]
async fn a_row_too_changed_to_tell_is_held_for_a_person_not_texted() {
    let shop = shop_without_ids(&["Olena,0671111111,1200,new,2026-12-01"]).await;
    assert_eq!(shop.run(&quick()).await.sent, 1);
    // Same phone, the old row gone, most cells different: an edit, or the
    // row deleted and a new order typed in its place?
    write_csv(&shop, "Name,Phone,Amount,Status,Today", &["Olena Petrenko,0671111111,95,paid,2026-12-02"]);
    let doubt = shop.run(&quick()).await;
    assert_eq!((doubt.sent, doubt.held), (0, 1), "held, not texted: {doubt:?}");
    let held = shop.core.history("Orders").unwrap().into_iter().find(|e| e.status == EntryStatus::Held).unwrap();
    assert!(held.reason.as_deref().unwrap().contains("first seen on line 2"), "says which row it may be: {held:?}");
    assert_eq!(shop.sim.messages().len(), 1, "nothing more reached 8x8");
    let decided = shop.run(&RunOptions { release_held: true, ..quick() }).await;
    assert_eq!(decided.sent, 1, "a person says it is new: sent: {decided:?}");
}

#[tokio::test]
async fn a_run_stopped_part_way_gives_back_what_it_had_not_sent() {
    // One message a request, one request at a time, each taking 400 ms at 8x8.
    let slow = crate::sim_with(sendrow_core::sim::SimConfig {
        latency: std::time::Duration::from_millis(400),
        ..Default::default()
    })
    .await;
    let shop = Shop::with_sim(slow).await;
    shop.write(&["1,A,0671111111", "2,B,0672222222", "3,C,0673333333"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let mut options = quick();
    options.retry.batch_size = 1;
    options.in_flight = 1;
    // Stopped (Quit, SIGTERM, the scheduler's abort) while the first request
    // is out: its entry is claimed, and 8x8 takes 400 ms to answer.
    {
        let run = shop.core.run("Orders", &options);
        tokio::pin!(run);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            tokio::select! {
                _ = &mut run => panic!("the run ended before it could be stopped"),
                _ = tokio::time::sleep(std::time::Duration::from_millis(5)) => {}
            }
            let history = shop.core.history("Orders").unwrap();
            if history.iter().any(|e| e.status == EntryStatus::Sending) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "the run never claimed anything: {history:?}");
        }
    }
    let statuses: Vec<(String, EntryStatus)> =
        shop.core.history("Orders").unwrap().into_iter().map(|e| (e.row_key, e.status)).collect();
    assert_eq!(
        statuses,
        [
            ("1".to_owned(), EntryStatus::Sending),
            ("2".to_owned(), EntryStatus::Pending),
            ("3".to_owned(), EntryStatus::Pending)
        ],
        "only the message whose request was written may have gone; the others are back to pending"
    );
    let attempts: Vec<i64> = shop.core.history("Orders").unwrap().iter().map(|e| e.attempts).collect();
    assert_eq!(attempts, [1, 0, 0], "a claim given back counts no attempt");

    // The next run: the interrupted one is unknown (asked of 8x8), the others go.
    let next = shop.run(&quick()).await;
    assert_eq!(next.sent, 2, "B and C go: {next:?}");
    let later = chrono::Utc::now() + chrono::Duration::minutes(11);
    let settled = shop.core.reconcile(None, &quick_checks(), later).await.unwrap();
    assert_eq!(settled.checked, 1, "A was asked about: {settled:?}");
    shop.run(&quick()).await;
    assert_eq!(
        shop.destinations(),
        ["380671111111", "380672222222", "380673333333"],
        "by 8x8's own record each customer got exactly one SMS"
    );
}

#[tokio::test]
async fn a_run_stopped_while_waiting_to_retry_gives_its_messages_back() {
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([sendrow_core::sim::Fault::Unavailable]);
    let mut options = quick();
    options.retry.base_delay = std::time::Duration::from_secs(30);
    options.retry.max_delay = std::time::Duration::from_secs(30);
    let stopped = tokio::time::timeout(std::time::Duration::from_millis(500), shop.core.run("Orders", &options)).await;
    assert!(stopped.is_err(), "stopped during the back-off");
    let entry = &shop.core.history("Orders").unwrap()[0];
    assert_eq!(entry.status, EntryStatus::Pending, "8x8 took nothing (503): back to pending, not unknown: {entry:?}");
    assert_eq!(shop.run(&quick()).await.sent, 1, "the next run sends it");
    assert_eq!(shop.sim.messages().len(), 1, "once");
}

#[tokio::test]
async fn pause_reasons_warnings_and_run_errors_carry_a_code_and_parameters_for_the_window() {
    use sendrow_core::code::Code;
    let shop = Shop::open().await;
    let rows: Vec<String> = (0..12).map(|i| format!("{i},Name {i},06711111{i:02}")).collect();
    shop.write(&rows.iter().map(String::as_str).collect::<Vec<_>>());
    shop.add(serde_json::json!({"flood_limit": 1000})).await.unwrap();
    assert_eq!(shop.run(&quick()).await.sent, 12);

    shop.write(&[]);
    shop.run(&quick()).await;
    let view = shop.core.connection_view("Orders").unwrap();
    let warning = view.warning_coded.expect("a shrink warning");
    assert_eq!(warning.code, Code::SourceShrunk, "{warning:?}");
    assert_eq!((warning.params["now"].as_u64(), warning.params["before"].as_u64()), (Some(0), Some(12)));
    assert_eq!(view.warning.as_deref(), Some(warning.text.as_str()), "the English stays for the CLI");

    let renamed = std::iter::once("Order ID,Name,Mobile".to_owned()).chain(rows.iter().cloned()).collect::<Vec<_>>();
    std::fs::write(shop.csv(), renamed.join("\n") + "\n").unwrap();
    let err = shop.core.run("Orders", &quick()).await.unwrap_err();
    let view = shop.core.connection_view("Orders").unwrap();
    let pause = view.status_coded.expect("paused, with a code");
    assert_eq!(pause.code, Code::PausedColumnsMissing, "{pause:?}");
    assert_eq!(pause.params["missing"], serde_json::json!(["Phone"]), "names what is missing");
    assert_eq!(pause.params["columns"], serde_json::json!(["Order ID", "Name", "Mobile"]), "and what is there");
    let last = view.last_run.expect("the run was recorded");
    assert_eq!(last.error_code, Some(err.code()), "the run's error keeps its code in the store");
    assert_eq!(last.error.as_deref(), Some(err.to_string().as_str()), "and its English");
}
