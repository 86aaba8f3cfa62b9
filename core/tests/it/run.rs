//! Connections and runs through `Core`, end to end: a real CSV file, the real
//! SQLite store, the loopback simulator. Each test checks what 8x8 actually
//! received, not only what Sendrow reports.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, TimeZone};
use sendrow_core::account::{AccountInput, AccountStatus, Target};
use sendrow_core::compose::Country;
use sendrow_core::connection::ConnectionSpec;
use sendrow_core::run::RunOptions;
use sendrow_core::secrets::{MemorySecrets, Secret, SecretStore};
use sendrow_core::send::RetryPolicy;
use sendrow_core::sim::{Fault, SimConfig, Simulator, SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::store::{EntryStatus, Resolution};
use sendrow_core::Core;

use crate::{sim, sim_with};

/// A shop: a data folder with the account "main" on a simulator, and an
/// orders CSV (`Order ID,Name,Phone` unless written otherwise).
pub(crate) struct Shop {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) core: Core,
    secrets: Arc<MemorySecrets>,
    pub(crate) sim: Simulator,
}

impl Shop {
    pub(crate) async fn open() -> Shop {
        Shop::with_sim(sim().await).await
    }

    pub(crate) async fn with_sim(sim: Simulator) -> Shop {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Arc::new(MemorySecrets::new());
        let core = Core::open(&dir.path().join("data"), secrets.clone()).unwrap();
        crate::add_main_account(&core, &sim).await;
        Shop { dir, core, secrets, sim }
    }

    pub(crate) fn csv(&self) -> PathBuf {
        self.dir.path().join("orders.csv")
    }

    pub(crate) fn write(&self, rows: &[&str]) {
        let mut text = String::from("Order ID,Name,Phone\n");
        for r in rows {
            text.push_str(r);
            text.push('\n');
        }
        std::fs::write(self.csv(), text).unwrap();
    }

    pub(crate) fn spec(&self, extra: serde_json::Value) -> ConnectionSpec {
        let mut spec = serde_json::json!({
            "name": "Orders",
            "source": {"type": "csv", "path": "orders.csv"},
            "row_key": {"column": "Order ID"},
            "start_from": "all_rows",
            "account": "main",
            "phone_field": "Phone",
            "default_country": "UA",
            "sender": "MyShop",
            "message": "{{Name}}, your order {{Order ID}} is confirmed.",
            "schedule": {"every_minutes": 15}
        });
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        serde_json::from_value(spec).unwrap()
    }

    pub(crate) async fn add(
        &self,
        extra: serde_json::Value,
    ) -> Result<sendrow_core::connection::Saved, sendrow_core::Error> {
        self.core.add_connection(self.spec(extra), self.dir.path()).await
    }

    pub(crate) async fn run(&self, options: &RunOptions) -> sendrow_core::run::RunSummary {
        self.core.run("Orders", options).await.unwrap()
    }

    pub(crate) fn destinations(&self) -> Vec<String> {
        let mut d: Vec<String> = self.sim.messages().into_iter().map(|m| m.destination).collect();
        d.sort();
        d
    }
}

pub(crate) fn quick() -> RunOptions {
    RunOptions {
        retry: RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..Default::default()
        },
        ..RunOptions::default()
    }
}

pub(crate) fn kyiv(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(2 * 3600).unwrap().with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

#[tokio::test]
async fn all_rows_are_sent_once_and_later_rows_once_more() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,067 123 45 67", "2,Ivan,+380501112233", "3,Bad,12"]);
    let saved = shop.add(serde_json::json!({})).await.unwrap();
    assert_eq!((saved.rows, saved.will_send), (3, 3), "all_rows reports the rows and sends them all");

    let first = shop.run(&quick()).await;
    assert_eq!((first.new_rows, first.sent, first.skipped), (2, 2, 1), "two sent, the bad number skipped: {first:?}");
    let to_fix: Vec<String> = first.rows_to_fix.iter().map(|r| r.describe()).collect();
    assert_eq!(to_fix.len(), 1, "the bad number is named: {to_fix:?}");
    assert!(to_fix[0].starts_with("line 4: ") && to_fix[0].contains("too short"), "line and reason: {to_fix:?}");
    assert_eq!(shop.destinations(), vec!["380501112233", "380671234567"], "8x8 got exactly those two");
    let texts: Vec<String> = shop.sim.messages().into_iter().map(|m| m.text).collect();
    assert!(texts.contains(&"Olena, your order 1 is confirmed.".to_owned()), "the template was filled: {texts:?}");
    assert!(shop.sim.messages().iter().all(|m| m.source.as_deref() == Some("MyShop")), "with the sender ID");

    let second = shop.run(&quick()).await;
    assert_eq!((second.new_rows, second.sent), (0, 0), "nothing new, nothing sent: {second:?}");

    shop.write(&["1,Olena,067 123 45 67", "2,Ivan,+380501112233", "3,Bad,12", "4,Petro,0931234567"]);
    let third = shop.run(&quick()).await;
    assert_eq!((third.new_rows, third.sent), (1, 1), "only the appended row: {third:?}");
    assert_eq!(shop.sim.messages().len(), 3, "three messages in all, none twice");
    let history = shop.core.history("Orders").unwrap();
    assert!(history.iter().all(|e| e.row_key != "3"), "the bad row is not written off: it waits for a correction");
    let to_fix = third.rows_to_fix.iter().map(|r| r.describe()).collect::<Vec<_>>();
    assert!(to_fix.len() == 1 && to_fix[0].contains("too short"), "every run names it, with why: {to_fix:?}");
}

/// The window's arrow pressed during a scheduled run (both call `Core::run`
/// on one `Core`): the second run waits for the first, then finds nothing new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_of_one_connection_take_turns() {
    let slow = sim_with(SimConfig { latency: Duration::from_millis(300), ..SimConfig::default() }).await;
    let shop = Shop::with_sim(slow).await;
    shop.write(&["1,Olena,067 123 45 67", "2,Ivan,+380501112233"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let (options_a, options_b) = (quick(), quick());
    let (a, b) = tokio::join!(shop.core.run("Orders", &options_a), shop.core.run("Orders", &options_b));
    let (a, b) = (a.unwrap(), b.unwrap());
    let (first, second) = if a.started_at <= b.started_at { (a, b) } else { (b, a) };
    assert!(
        second.started_at >= first.finished_at,
        "the second run started only after the first ended: {first:?} then {second:?}"
    );
    assert_eq!((first.sent, second.sent, second.new_rows), (2, 0, 0), "the rows went once, in the first run");
    assert_eq!(shop.sim.messages().len(), 2, "8x8 got each row once");
}

#[tokio::test]
async fn new_rows_start_never_sends_what_was_there_at_save() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,067 123 45 67", "2,Ivan,+380501112233"]);
    let saved = shop.add(serde_json::json!({"start_from": "new_rows"})).await.unwrap();
    assert_eq!((saved.rows, saved.will_send), (2, 0), "two rows there, none will be sent");
    assert!(shop.core.preview("Orders", None).await.unwrap().0.is_empty(), "the preview agrees");
    shop.write(&["1,Olena,067 123 45 67", "2,Ivan,+380501112233", "3,Petro,0931234567"]);
    let run = shop.run(&quick()).await;
    assert_eq!(run.sent, 1, "only the row added after saving: {run:?}");
    assert_eq!(shop.destinations(), vec!["380931234567"], "and it was Petro's");
}

#[tokio::test]
async fn saving_refuses_bad_specs_by_field_and_saves_nothing() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,067 123 45 67"]);
    let cases = [
        (serde_json::json!({"message": "Hi {{Surname}}"}), "Surname"),
        (serde_json::json!({"phone_field": "Mobile"}), "phone_field"),
        (serde_json::json!({"row_key": {"column": "ID"}}), "row_key.column"),
        (serde_json::json!({"account": "ghost"}), "account"),
        (serde_json::json!({"sender": "A sender name that is far too long"}), "sender"),
        (serde_json::json!({"schedule": {"every_minutes": 7}}), "schedule"),
        (serde_json::json!({"schedule": {"after": "Nobody"}}), "schedule.after"),
        (serde_json::json!({"default_country": "XX"}), "default_country"),
        (serde_json::json!({"message": "Hi {{Name"}), "message"),
        (serde_json::json!({"source": {"type": "csv", "path": "missing.csv"}}), "source"),
        (serde_json::json!({"quiet_hours": {"from": "21:00", "to": "8am"}}), "quiet_hours.to"),
    ];
    for (extra, expected) in cases {
        let err = shop.add(extra.clone()).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{extra} should be refused naming {expected:?}: {err}");
    }
    let err = shop.add(serde_json::json!({"message": "Hi {{Surname}}"})).await.unwrap_err().to_string();
    assert!(err.contains("\"Name\"") && err.contains("\"Phone\""), "an unknown column lists the ones there are: {err}");
    let unknown = ConnectionSpec::parse(r#"{"name": "x", "colour": "red"}"#).unwrap_err().to_string();
    assert!(unknown.contains("colour"), "an unknown key is named: {unknown}");
    assert!(shop.core.connections().unwrap().is_empty(), "no refused spec left anything behind");
}

#[tokio::test]
async fn chains_that_loop_are_refused_naming_the_loop() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,067 123 45 67"]);
    shop.add(serde_json::json!({"name": "A", "schedule": null})).await.unwrap();
    shop.add(serde_json::json!({"name": "B", "schedule": {"after": "A"}})).await.unwrap();
    let own = shop.add(serde_json::json!({"name": "C", "schedule": {"after": "C"}})).await.unwrap_err().to_string();
    assert!(own.contains("after itself"), "a self-loop is refused: {own}");
    shop.add(serde_json::json!({"name": "C", "schedule": {"after": "B"}}))
        .await
        .expect("a chain without a loop is fine");
    let removal = shop.core.remove_connection("A", false).unwrap_err().to_string();
    assert!(removal.contains("\"B\""), "a connection others run after cannot be removed silently: {removal}");
}

#[tokio::test]
async fn the_flood_guard_holds_until_a_person_says_send() {
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111", "2,B,0672222222", "3,C,0673333333"]);
    shop.add(serde_json::json!({"flood_limit": 2})).await.unwrap();
    let held = shop.run(&quick()).await;
    assert_eq!((held.held, held.sent), (3, 0), "three new rows over a limit of two: all held: {held:?}");
    assert!(shop.sim.messages().is_empty(), "nothing reached 8x8");
    let again = shop.run(&quick()).await;
    assert_eq!(again.sent, 0, "a plain run does not release them either");
    let released = shop.run(&RunOptions { release_held: true, ..quick() }).await;
    assert_eq!(released.sent, 3, "run --yes sends them: {released:?}");
    assert_eq!(shop.sim.messages().len(), 3, "each once");
}

#[tokio::test]
async fn skipping_held_rows_drops_them_for_good() {
    let shop = Shop::open().await;
    shop.write(&["1,A,0671111111", "2,B,0672222222"]);
    shop.add(serde_json::json!({"flood_limit": 1})).await.unwrap();
    shop.run(&quick()).await;
    assert_eq!(shop.core.skip_held("Orders").unwrap(), 2, "both held rows are skipped");
    let after = shop.run(&RunOptions { release_held: true, ..quick() }).await;
    assert_eq!(after.sent, 0, "skipped rows are never sent: {after:?}");
}

#[tokio::test]
async fn opted_out_numbers_are_skipped_with_that_reason() {
    let shop = Shop::open().await;
    shop.core.add_optout("+380671234567", Country::parse("UA").unwrap(), None).unwrap();
    shop.write(&["1,Olena,067 123 45 67", "2,Ivan,0501112233"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let run = shop.run(&quick()).await;
    assert_eq!((run.sent, run.skipped), (1, 1), "the opted-out row is skipped: {run:?}");
    assert_eq!(shop.destinations(), vec!["380501112233"], "and 8x8 never saw it");
    let entry = shop.core.history("Orders").unwrap().into_iter().find(|e| e.row_key == "1").unwrap();
    assert_eq!(entry.reason.as_deref(), Some("the number is on the opt-out list"), "the reason is kept");
}

/// The simulator, like 8x8, truncates text past 10 parts and sends it; only
/// Sendrow's composer stands between a long template and a cut-off SMS.
#[tokio::test]
async fn text_over_ten_parts_is_never_sent() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    // 1,530 septets fill 10 parts exactly; the name tips Olena's into an 11th.
    let filler = "x".repeat(1530 - "Ivan".len());
    shop.add(serde_json::json!({"message": format!("{{{{Name}}}}{filler}")})).await.unwrap();
    let run = shop.run(&quick()).await;
    assert_eq!((run.sent, run.skipped), (1, 1), "the 11-part message is held back: {run:?}");
    assert_eq!(shop.destinations(), vec!["380501112233"], "8x8 saw only the 10-part one");
    let entry = shop.core.history("Orders").unwrap().into_iter().find(|e| e.row_key == "1").unwrap();
    assert!(entry.reason.as_deref().unwrap_or("").contains("needs 11 parts"), "with why: {entry:?}");
}

#[tokio::test]
async fn rows_found_in_quiet_hours_wait_for_their_end() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    shop.add(serde_json::json!({"quiet_hours": {"from": "21:00", "to": "08:00"}})).await.unwrap();
    let night = shop.run(&RunOptions { now: kyiv(2026, 5, 1, 22, 30), ..quick() }).await;
    assert_eq!((night.waiting, night.sent), (2, 0), "found at 22:30: both wait: {night:?}");
    let job = shop.core.jobs().unwrap().into_iter().find(|j| j.name == "Orders").unwrap();
    assert_eq!(
        job.waiting_until,
        Some(kyiv(2026, 5, 2, 8, 0).with_timezone(&chrono::Utc)),
        "the scheduler learns when quiet hours end, so a run sends them then whatever the schedule"
    );
    let early = shop.run(&RunOptions { now: kyiv(2026, 5, 2, 7, 59), ..quick() }).await;
    assert_eq!(early.sent, 0, "07:59 is still quiet");
    assert!(shop.sim.messages().is_empty(), "nothing went out at night");
    let morning = shop.run(&RunOptions { now: kyiv(2026, 5, 2, 8, 1), ..quick() }).await;
    assert_eq!(morning.sent, 2, "after 08:00 they go out: {morning:?}");
}

#[tokio::test]
async fn a_message_that_waited_shows_the_time_it_was_sent() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    let template = "{{Name}}, {{$date}} {{$time}} ({{$day}}.{{$month}}.{{$year}})";
    let quiet = serde_json::json!({"from": "21:00", "to": "08:00"});
    shop.add(serde_json::json!({"quiet_hours": quiet, "message": template, "date_format": "DD.MM.YYYY"}))
        .await
        .unwrap();
    shop.run(&RunOptions { now: kyiv(2026, 5, 1, 22, 30), ..quick() }).await;
    let waiting = shop.core.history("Orders").unwrap().remove(0);
    assert_eq!(waiting.text, "Olena, 01.05.2026 22:30 (01.05.2026)", "composed when found");
    shop.run(&RunOptions { now: kyiv(2026, 5, 2, 8, 5), ..quick() }).await;
    let texts: Vec<String> = shop.sim.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["Olena, 02.05.2026 08:05 (02.05.2026)"], "{{$date}} and {{$time}} are the send time");
    assert_eq!(shop.core.history("Orders").unwrap()[0].text, texts[0], "and the history shows what was sent");
}

#[tokio::test]
async fn a_run_inside_quiet_hours_moves_every_due_message_to_the_end_of_this_window() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({"quiet_hours": {"from": "21:00", "to": "08:00"}, "flood_limit": 1})).await.unwrap();
    shop.run(&RunOptions { now: kyiv(2026, 5, 1, 22, 30), ..quick() }).await;
    // The laptop slept through 08:00 and wakes at 22:00 the next evening,
    // when two more orders have come in (over the flood limit of 1).
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233", "3,Petro,0931234567"]);
    let next_night = shop.run(&RunOptions { now: kyiv(2026, 5, 2, 22, 0), release_held: true, ..quick() }).await;
    assert_eq!((next_night.sent, next_night.waiting), (0, 3), "all three wait, the released flood too: {next_night:?}");
    let job = shop.core.jobs().unwrap().into_iter().find(|j| j.name == "Orders").unwrap();
    assert_eq!(
        job.waiting_until,
        Some(kyiv(2026, 5, 3, 8, 0).with_timezone(&chrono::Utc)),
        "the wake-up is this window's end, after the run, not yesterday's 08:00 that the scheduler would skip"
    );
    let morning = shop.run(&RunOptions { now: kyiv(2026, 5, 3, 8, 0), ..quick() }).await;
    assert_eq!(morning.sent, 3, "at 08:00 all three go out: {morning:?}");
}

#[tokio::test]
async fn a_refused_key_pauses_the_connection_before_consuming_rows() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    shop.add(serde_json::json!({})).await.unwrap();
    // The key is revoked in the portal.
    let account = shop.core.account("main").unwrap();
    shop.secrets.set(&account.secret_ref, &Secret::new("revoked")).unwrap();
    let err = shop.core.run("Orders", &quick()).await.unwrap_err().to_string();
    assert!(
        err.contains("\"main\"") && err.contains("Request was not authenticated properly"),
        "names account and reason: {err}"
    );
    let view = shop.core.connection_view("Orders").unwrap();
    assert_eq!(view.status, "paused", "the connection is paused");
    assert_eq!(shop.core.account("main").unwrap().status.as_str(), "inactive", "the account is inactive");
    assert!(shop.sim.messages().is_empty(), "nothing was sent");
    let pending = shop.core.history("Orders").unwrap().into_iter().filter(|e| e.status == EntryStatus::Pending).count();
    assert_eq!(pending, 2, "the rows are kept pending, not lost");

    shop.secrets.set(&account.secret_ref, &Secret::new(SANDBOX_KEY)).unwrap();
    let off = shop.core.set_auto_update("Orders", false).unwrap();
    assert!(!off.auto_update && !off.spec.auto_update, "the toggle and the spec agree");
    shop.core.set_auto_update("Orders", true).unwrap();
    let fixed = shop.run(&quick()).await;
    assert_eq!(fixed.sent, 2, "once the key works, the kept rows go out: {fixed:?}");
}

/// The owner pastes the key of their other subaccount: 8x8 knows the key
/// but says the subaccount is not its own (1001), which stops the run like
/// a revoked key does.
#[tokio::test]
async fn a_key_of_another_subaccount_pauses_the_connection_and_the_account() {
    let sim = sim_with(SimConfig {
        accounts: vec![(SANDBOX_SUBACCOUNT.into(), SANDBOX_KEY.into()), ("branch_hq".into(), "branch-key".into())],
        ..SimConfig::default()
    })
    .await;
    let shop = Shop::with_sim(sim).await;
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let account = shop.core.account("main").unwrap();
    shop.secrets.set(&account.secret_ref, &Secret::new("branch-key")).unwrap();
    let err = shop.core.run("Orders", &quick()).await.unwrap_err().to_string();
    assert!(
        err.contains("\"main\"") && err.contains("Provided subAccountId doesn't belongs to your account"),
        "names the account and 8x8's reason: {err}"
    );
    let view = shop.core.connection_view("Orders").unwrap();
    assert_eq!(view.status, "paused", "the connection is paused");
    assert!(view.status_reason.is_some_and(|r| r.contains("\"main\"")), "saying which account");
    match shop.core.account("main").unwrap().status {
        AccountStatus::Inactive { code, reason } => {
            assert_eq!(code, Some(1001), "the account keeps 8x8's code: {reason}");
            assert!(reason.contains("doesn't belongs to your account"), "and 8x8's words: {reason}");
        }
        AccountStatus::Active => panic!("a key refused for the subaccount leaves the account inactive"),
    }
    assert!(shop.sim.messages().is_empty(), "nothing was sent");
    let pending = shop.core.history("Orders").unwrap().into_iter().filter(|e| e.status == EntryStatus::Pending).count();
    assert_eq!(pending, 2, "the rows are kept pending, not lost");
}

#[tokio::test]
async fn a_test_send_to_the_rows_phone_counts_as_its_message() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let test = shop.core.test_send("Orders", None, None).await.unwrap();
    assert_eq!(test.status, EntryStatus::Queued, "the test went out: {test:?}");
    assert!(test.counts_as_row_message, "it reached the row's own phone");
    let other = shop.core.test_send("Orders", Some(2), Some("+380931234567")).await.unwrap();
    assert!(!other.counts_as_row_message, "a test to another phone leaves the row pending");
    let (next, _) = shop.core.preview("Orders", None).await.unwrap();
    let rows: Vec<&str> = next.iter().map(|i| i.row.as_str()).collect();
    assert_eq!(rows, ["2"], "the preview shows what the run will send: not Olena again");
    let run = shop.run(&quick()).await;
    assert_eq!(run.sent, 1, "the first run texts only the customer who has no message yet: {run:?}");
    assert_eq!((run.new_rows, run.already_sent), (2, 1), "and says one new row already had its SMS: {run:?}");
    let mut counts = std::collections::HashMap::new();
    for m in shop.sim.messages() {
        *counts.entry(m.destination).or_insert(0) += 1;
    }
    assert_eq!(counts.get("380671234567"), Some(&1), "Olena got exactly one SMS (the test)");
    assert_eq!(counts.get("380501112233"), Some(&1), "Ivan got exactly one SMS (the run)");
    assert_eq!(counts.get("380931234567"), Some(&1), "the owner got the second test");
    let tests = shop.core.history("Orders").unwrap().into_iter().filter(|e| e.is_test).count();
    assert_eq!(tests, 2, "test sends are in the history as tests");
}

/// Every way a test send is refused before anything goes out names what is
/// wrong and what to do, and leaves nothing behind.
#[tokio::test]
async fn test_sends_that_cannot_go_say_why_and_what_to_do() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567", "2,,0501112233", "3,Petro,"]);
    shop.add(serde_json::json!({})).await.unwrap();
    // Only the name: row 2 (no name) has nothing to say.
    shop.add(serde_json::json!({"name": "Bare", "message": "{{Name}}"})).await.unwrap();
    // 1,530 septets fill ten parts; any name tips it into an eleventh.
    shop.add(serde_json::json!({"name": "Long", "message": format!("{{{{Name}}}}{}", "x".repeat(1530))}))
        .await
        .unwrap();
    // (connection, --row, --to, what the refusal must say)
    type Case = (&'static str, Option<usize>, Option<&'static str>, &'static [&'static str]);
    let cases: [Case; 9] = [
        ("Orders", Some(4), None, &["--row 4", "data rows 1 to 3"]),
        ("Orders", Some(0), None, &["--row 0", "data rows 1 to 3"]),
        ("Orders", Some(3), None, &["row 3", "no usable phone number", "the phone number is empty", "your own phone"]),
        ("Orders", Some(1), Some("12"), &["send the test to, \"12\"", "too short", "+380 have 9 digits after it"]),
        ("Orders", None, Some("call 067 123 45 67"), &["send the test to", "contains \"c\"", "only digits"]),
        ("Orders", None, Some(" "), &["the phone to send the test to is empty", "your own number"]),
        ("Orders", Some(3), Some("+380 11 123 45 67"), &["send the test to", "is not a valid", "check the digits"]),
        ("Long", Some(1), None, &["row 1 cannot be sent", "needs 11 parts", "at most 10", "shorten it"]),
        (
            "Bare",
            Some(2),
            None,
            &["row 2 cannot be sent", "still empty", "once every cell the message uses is filled in"],
        ),
    ];
    for (connection, row, to, words) in cases {
        let err = match shop.core.test_send(connection, row, to).await {
            Err(e) => e.to_string(),
            Ok(sent) => panic!("{connection} row {row:?} to {to:?} should be refused, but went: {sent:?}"),
        };
        for word in words {
            assert!(err.contains(word), "{connection} row {row:?} to {to:?}: the refusal should say {word:?}: {err}");
        }
    }
    assert!(shop.sim.messages().is_empty(), "8x8 saw nothing");
    for connection in ["Orders", "Bare", "Long"] {
        assert!(shop.core.history(connection).unwrap().is_empty(), "{connection}: nothing was half-written");
    }
    let (next, _) = shop.core.preview("Orders", None).await.unwrap();
    assert_eq!(next.len(), 3, "every row is still there for the first run");
}

/// A stand-in for an 8x8 that knows the key but refuses the destination,
/// as 8x8 may for a number Sendrow found valid: the probe gets "not found"
/// (the key works), every single send 8x8's 1002 in its error envelope.
async fn refusing_8x8() -> String {
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use axum::Json;
    let envelope = |code: i64, message: &str| {
        Json(serde_json::json!({
            "code": code, "message": message,
            "errorId": "5f7b1c2e-0000-4000-8000-000000000000", "timestamp": "2026-05-01T10:00:00.00Z"
        }))
    };
    let app = axum::Router::new()
        .route(
            "/api/v1/subaccounts/{sub}/messages/{umid}",
            get(move || async move { (StatusCode::NOT_FOUND, envelope(1300, "Message not found")) }),
        )
        .route(
            "/api/v1/subaccounts/{sub}/messages",
            post(move || async move {
                (StatusCode::BAD_REQUEST, envelope(1002, "Invalid MSISDN format (not E.164 international number)"))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test]
async fn a_test_send_8x8_refuses_carries_8x8s_words_and_settles_the_row_as_refused() {
    let shop = Shop::open().await;
    shop.core
        .add_account(AccountInput {
            name: "strict".into(),
            subaccount_id: SANDBOX_SUBACCOUNT.into(),
            target: Target::BaseUrl(refusing_8x8().await),
            api_key: Secret::new(SANDBOX_KEY),
        })
        .await
        .unwrap();
    assert_eq!(shop.core.account("strict").unwrap().status.as_str(), "active", "the key itself works");
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({"account": "strict"})).await.unwrap();
    let sent = shop.core.test_send("Orders", None, None).await.unwrap();
    assert_eq!(sent.status, EntryStatus::Rejected, "8x8 refused it: {sent:?}");
    assert_eq!(
        sent.reason.as_deref(),
        Some("Invalid MSISDN format (not E.164 international number)"),
        "the reason is 8x8's own words: {sent:?}"
    );
    assert!(!sent.counts_as_row_message, "a refused test did not reach the customer");
    // To the row's own phone the test was the row's SMS: a run would meet
    // the same refusal, so the row is settled as refused, with 8x8's code.
    let history = shop.core.history("Orders").unwrap();
    let rows: Vec<(bool, EntryStatus, Option<i64>)> =
        history.iter().map(|e| (e.is_test, e.status, e.error_code)).collect();
    assert_eq!(
        rows,
        [(false, EntryStatus::Rejected, Some(1002)), (true, EntryStatus::Rejected, Some(1002))],
        "the row's entry and the record of the test: {history:?}"
    );
    assert!(history[1].reason.as_deref().is_some_and(|r| r.contains("Invalid MSISDN")), "the test says why");
    let (next, _) = shop.core.preview("Orders", None).await.unwrap();
    assert!(next.is_empty(), "the next run does not try the same refusal again: {next:?}");
}

#[tokio::test]
async fn a_sheet_emptied_on_purpose_goes_on_once_the_warning_is_dismissed() {
    let shop = Shop::open().await;
    let rows: Vec<String> = (1..=40).map(|i| format!("{i},Customer {i},+38067{:07}", 1_000_000 + i)).collect();
    shop.write(&rows.iter().map(String::as_str).collect::<Vec<_>>());
    shop.add(serde_json::json!({})).await.unwrap();
    assert_eq!(shop.run(&quick()).await.sent, 40, "the first run sends the 40 rows there are");
    // The owner archives last month's orders, then two new ones come in.
    shop.write(&["40,Customer 40,+380671000040", "41,Olena,0671234567", "42,Ivan,0501112233"]);
    let warned = shop.run(&quick()).await;
    assert!(warned.warning.is_some() && warned.sent == 0, "3 rows where there were 40: a warning first: {warned:?}");
    shop.core.dismiss_warning("Orders").unwrap();
    assert_eq!(shop.core.connection_view("Orders").unwrap().warning, None, "the warning is gone");
    let run = shop.run(&quick()).await;
    assert_eq!((run.new_rows, run.sent), (2, 2), "the two new orders go out, row 40 not again: {run:?}");
    assert_eq!(shop.sim.messages().len(), 42, "42 customers, 42 SMS");
}

#[tokio::test]
async fn starting_over_counts_the_rows_there_are_as_seen_and_lifts_the_pause() {
    let shop = Shop::open().await;
    let sheet = |header: &str, rows: &[&str]| {
        std::fs::write(shop.csv(), format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    };
    sheet("Order ID,Name,Phone,Note", &["1,Olena,0671234567,gift"]);
    // No ID column: rows are told apart by all their columns.
    shop.add(serde_json::json!({"row_key": null})).await.unwrap();
    assert_eq!(shop.run(&quick()).await.sent, 1, "Olena is texted");
    sheet("Order ID,Name,Phone,Comment", &["1,Olena,0671234567,gift", "2,Ivan,0501112233,"]);
    assert!(shop.core.run("Orders", &quick()).await.is_err(), "a renamed column of the fingerprint pauses it");
    assert_eq!(shop.core.connection_view("Orders").unwrap().status, "paused");

    assert_eq!(shop.core.start_over("Orders").await.unwrap(), 2, "both rows there are now count as seen");
    assert_eq!(shop.core.connection_view("Orders").unwrap().status, "active", "and the pause is lifted");
    let quiet = shop.run(&quick()).await;
    assert_eq!((quiet.new_rows, quiet.sent), (0, 0), "nobody is texted for starting over, not even Ivan: {quiet:?}");
    sheet("Order ID,Name,Phone,Comment", &["1,Olena,0671234567,gift", "2,Ivan,0501112233,", "3,Petro,0931234567,"]);
    let next = shop.run(&quick()).await;
    assert_eq!(next.sent, 1, "a row added afterwards is sent: {next:?}");
    assert_eq!(shop.destinations(), ["380671234567", "380931234567"], "Olena once, Petro once");
}

#[tokio::test]
async fn a_row_caught_before_its_phone_was_typed_is_sent_once_it_is() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.run(&quick()).await;
    // The shop assistant has typed the order number and name; the phone comes next.
    shop.write(&["1,Olena,0671234567", "2,Ivan,"]);
    let early = shop.run(&quick()).await;
    assert_eq!((early.new_rows, early.incomplete, early.sent), (0, 1, 0), "Ivan's row is not taken yet: {early:?}");
    assert_eq!(early.skipped, 1, "it is skipped this time");
    assert!(shop.core.history("Orders").unwrap().iter().all(|e| e.row_key != "2"), "nor written off as skipped");
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    let done = shop.run(&quick()).await;
    assert_eq!((done.new_rows, done.sent), (1, 1), "once the phone is there, Ivan is texted: {done:?}");
    assert_eq!(shop.destinations(), ["380501112233", "380671234567"], "each customer once");
}

#[tokio::test]
async fn resend_failed_sends_only_the_failed_messages() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([Fault::Unavailable; 5]);
    let first = shop.run(&quick()).await;
    assert_eq!(first.failed, 1, "8x8 kept failing: {first:?}");
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    let again = shop.core.resend_failed("Orders", &quick()).await.unwrap();
    assert_eq!((again.sent, again.new_rows), (1, 0), "Olena's message went; the sheet was not read: {again:?}");
    assert_eq!(shop.destinations(), ["380671234567"], "Ivan's new row waits for a run");
    let run = shop.run(&quick()).await;
    assert_eq!((run.new_rows, run.sent), (1, 1), "the next run finds and sends Ivan: {run:?}");
}

#[tokio::test]
async fn a_test_send_that_may_have_reached_the_row_makes_the_row_unknown_not_resent() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([Fault::Reset]);
    let test = shop.core.test_send("Orders", None, None).await.unwrap();
    assert_eq!(test.status, EntryStatus::Unknown, "the answer was cut off after 8x8 took it: {test:?}");
    assert!(test.counts_as_row_message, "Olena may have it already");
    let run = shop.run(&quick()).await;
    assert_eq!((run.sent, run.already_sent), (0, 1), "the run does not text her on a guess: {run:?}");
    assert_eq!(shop.sim.messages().len(), 1, "8x8 has the test once, nothing more");
    let row = shop.core.history("Orders").unwrap().into_iter().find(|e| !e.is_test).unwrap();
    assert_eq!(row.status, EntryStatus::Unknown, "the row waits for a person: {row:?}");
    shop.core.resolve("Orders", "1", Resolution::MarkSent).expect("a person can settle it");
}

#[tokio::test]
async fn a_test_send_and_a_run_of_another_process_text_the_customer_once() {
    // 8x8 takes its time, so the run below starts while the test is on the wire.
    let shop =
        Shop::with_sim(sim_with(SimConfig { latency: Duration::from_millis(400), ..SimConfig::default() }).await).await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    // The window's test send, and a `sendrow run` from a terminal on the same folder.
    let cli = Core::open(&shop.dir.path().join("data"), shop.secrets.clone()).unwrap();
    let test = shop.core.test_send("Orders", None, None);
    let run = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cli.run("Orders", &quick()).await
    };
    let (test, run) = tokio::join!(test, run);
    let sent_by_test = test.map(|t| t.status == EntryStatus::Queued).unwrap_or(false);
    let sent_by_run = run.unwrap().sent;
    assert_eq!(shop.sim.messages().len(), 1, "Olena got one SMS (test: {sent_by_test}, run sent {sent_by_run})");
    let again = shop.core.test_send("Orders", None, None).await.unwrap_err().to_string();
    assert!(
        again.contains("already has its SMS") && again.contains("--to"),
        "a second test to her phone is refused with what to do instead: {again}"
    );
    assert_eq!(shop.sim.messages().len(), 1, "still one");
}

#[tokio::test]
async fn a_test_send_through_a_refused_key_says_so_and_leaves_the_row_for_the_first_run() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let account = shop.core.account("main").unwrap();
    shop.secrets.set(&account.secret_ref, &Secret::new("revoked")).unwrap();
    for to in [None, Some("+380931234567")] {
        let err = shop.core.test_send("Orders", None, to).await.unwrap_err().to_string();
        assert!(err.contains("8x8 refused the account \"main\"") && err.contains("verify"), "{to:?}: {err}");
    }
    let history = shop.core.history("Orders").unwrap();
    let statuses: Vec<(bool, EntryStatus)> = history.iter().map(|e| (e.is_test, e.status)).collect();
    assert_eq!(
        statuses,
        [(false, EntryStatus::Pending), (true, EntryStatus::Failed)],
        "the row's own entry waits for a run; the test to the owner is over, not pending for ever"
    );
    shop.secrets.set(&account.secret_ref, &Secret::new(SANDBOX_KEY)).unwrap();
    shop.core.verify_account("main").await.unwrap();
    let run = shop.run(&quick()).await;
    assert_eq!(run.sent, 1, "once the key works, Olena gets her SMS from the run: {run:?}");
}

#[tokio::test]
async fn a_test_send_keys_rows_as_runs_do_even_after_a_column_was_added() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    // No ID column: rows are told apart by the columns of the first read.
    shop.add(serde_json::json!({"row_key": null})).await.unwrap();
    assert_eq!(shop.run(&quick()).await.sent, 1, "Olena is texted by the run");
    std::fs::write(shop.csv(), "Order ID,Name,Phone,Notes\n1,Olena,0671234567,called back\n").unwrap();
    let err = shop.core.test_send("Orders", None, None).await.unwrap_err().to_string();
    assert!(err.contains("already has its SMS"), "a new column does not make her a new customer: {err}");
    assert_eq!(shop.sim.messages().len(), 1, "she got one SMS");
}

#[tokio::test]
async fn resend_failed_at_night_waits_for_the_end_of_quiet_hours() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({"quiet_hours": {"from": "21:00", "to": "08:00"}})).await.unwrap();
    shop.sim.queue_faults([Fault::Unavailable; 5]);
    assert_eq!(shop.run(&RunOptions { now: kyiv(2026, 5, 1, 20, 0), ..quick() }).await.failed, 1, "8x8 failed");
    let night = shop.core.resend_failed("Orders", &RunOptions { now: kyiv(2026, 5, 1, 23, 0), ..quick() }).await;
    assert_eq!((night.as_ref().unwrap().sent, night.unwrap().waiting), (0, 1), "not at 23:00: it waits");
    assert!(shop.sim.messages().is_empty(), "nobody is texted at night");
    let job = shop.core.jobs().unwrap().into_iter().find(|j| j.name == "Orders").unwrap();
    assert_eq!(job.waiting_until, Some(kyiv(2026, 5, 2, 8, 0).with_timezone(&chrono::Utc)), "it goes at 08:00");
    let morning = shop.run(&RunOptions { now: kyiv(2026, 5, 2, 8, 0), ..quick() }).await;
    assert_eq!(morning.sent, 1, "and does: {morning:?}");
}

#[tokio::test]
async fn a_test_send_never_texts_an_opted_out_number() {
    let shop = Shop::open().await;
    shop.core.add_optout("+380671234567", Country::parse("UA").unwrap(), None).unwrap();
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let err = shop.core.test_send("Orders", None, None).await.unwrap_err().to_string();
    assert!(
        err.contains("+380671234567 is on the opt-out list") && err.contains("--to"),
        "says why and what to do: {err}"
    );
    let to = shop.core.test_send("Orders", None, Some("067 123 45 67")).await.unwrap_err().to_string();
    assert!(to.contains("opt-out list"), "an opted-out --to is refused too: {to}");
    assert!(shop.sim.messages().is_empty(), "8x8 saw nothing");
    assert!(shop.core.history("Orders").unwrap().is_empty(), "and nothing was half-written to the history");
    let own = shop.core.test_send("Orders", None, Some("+380931234567")).await.unwrap();
    assert_eq!(own.status, EntryStatus::Queued, "the owner's own phone still works");
}

#[tokio::test]
async fn ambiguous_sends_wait_for_a_person_then_go_when_told() {
    let shop = Shop::open().await;
    shop.sim.queue_faults([Fault::Reset]);
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    let first = shop.run(&quick()).await;
    assert_eq!(first.unknown, 1, "a cut connection after sending is unknown: {first:?}");
    let second = shop.run(&quick()).await;
    assert_eq!(second.sent, 0, "unknown is never resent automatically");
    assert_eq!(shop.sim.messages().len(), 1, "8x8 has it once");
    shop.core.resolve("Orders", "1", Resolution::Resend).unwrap();
    let third = shop.run(&quick()).await;
    assert_eq!(third.sent, 1, "a person chose to resend: {third:?}");
    let err = shop.core.resolve("Orders", "1", Resolution::MarkSent).unwrap_err().to_string();
    assert!(err.contains("no unknown or failed message"), "a sent row has nothing to resolve: {err}");
}

#[tokio::test]
async fn a_renamed_column_pauses_the_connection_with_words() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.run(&quick()).await;
    std::fs::write(shop.csv(), "Order ID,Name,Mobile\n1,Olena,0671234567\n2,Ivan,0501112233\n").unwrap();
    let err = shop.core.run("Orders", &quick()).await.unwrap_err().to_string();
    assert!(err.contains("Phone"), "the missing column is named: {err}");
    assert_eq!(shop.core.connection_view("Orders").unwrap().status, "paused", "and the connection pauses");
    assert_eq!(shop.sim.messages().len(), 1, "Ivan's row was not sent with a broken mapping");
}

#[tokio::test]
async fn a_connection_failing_n_runs_in_a_row_is_paused() {
    let shop = Shop::with_sim(
        sim_with(SimConfig { fail_rate: 1.0, faults: vec![Fault::Unavailable], ..SimConfig::default() }).await,
    )
    .await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({"pause_after_failures": 3})).await.unwrap();
    for i in 0..2 {
        let run = shop.run(&quick()).await;
        assert_eq!(run.failed, 1, "run {i} fails transiently: {run:?}");
        assert_eq!(shop.core.connection_view("Orders").unwrap().status, "active", "not paused after {} runs", i + 1);
    }
    shop.run(&quick()).await;
    let view = shop.core.connection_view("Orders").unwrap();
    assert_eq!(view.status, "paused", "the third failed run pauses it (pause_after_failures: 3)");
    assert!(view.status_reason.unwrap().contains("3 failed runs"), "and says why");
    shop.core.set_auto_update("Orders", true).unwrap();
    let after_resume = shop.run(&quick()).await;
    assert_eq!(after_resume.failed, 1, "8x8 still fails: {after_resume:?}");
    assert_eq!(
        shop.core.connection_view("Orders").unwrap().status,
        "active",
        "resumed, one more failure is one, not the fourth in a row"
    );
}

#[tokio::test]
async fn a_file_caught_half_saved_again_and_again_does_not_pause_the_connection() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567"]);
    shop.add(serde_json::json!({"pause_after_failures": 2})).await.unwrap();
    shop.run(&quick()).await;
    // Excel is still writing: the last line is cut in the middle of a cell.
    std::fs::write(shop.csv(), "Order ID,Name,Phone\n1,Olena,0671234567\n2,Iv").unwrap();
    for _ in 0..3 {
        let err = shop.core.run("Orders", &quick()).await.unwrap_err();
        assert!(err.is_transient(), "a half-saved file is worth another look, not a failure: {err}");
    }
    let view = shop.core.connection_view("Orders").unwrap();
    assert_eq!(view.status, "active", "three half-saved reads in a row do not pause it: {:?}", view.status_reason);
    assert!(view.last_run.unwrap().transient, "the run says its error goes away by itself");
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    assert_eq!(shop.run(&quick()).await.sent, 1, "once saved, Ivan is texted");
}

#[tokio::test]
async fn preview_shows_what_would_go_with_encoding_and_cost() {
    let shop = Shop::open().await;
    let long_name = "Олександра-Вікторія Костянтинівна Шевченко-Запорізька";
    shop.write(&["1,Олена,0671234567", "2,Ivan,", &format!("3,{long_name},0501112233")]);
    shop.add(serde_json::json!({"price_per_segment": 0.05})).await.unwrap();
    let (items, _) = shop.core.preview("Orders", None).await.unwrap();
    let json = serde_json::to_value(&items).unwrap();
    assert_eq!(json[0]["row"], "1", "rows are named by key: {json}");
    assert_eq!(json[0]["phone"], "+380671234567", "phones in E.164");
    assert_eq!(json[0]["encoding"], "UCS2", "Cyrillic forces UCS-2");
    assert_eq!(json[0]["segments"], 1, "one part");
    assert_eq!(json[0]["status"], "ready", "ready to go");
    assert_eq!(json[0]["cost"], 0.05, "priced per segment");
    assert_eq!(json[1]["status"], "missing_phone", "an empty phone cell is shown, not dropped");
    assert_eq!(json[1]["cost"], serde_json::Value::Null, "and costs nothing, as it is not sent");
    assert_eq!(
        (json[2]["segments"].as_u64(), json[2]["cost"].as_f64()),
        (Some(2), Some(0.1)),
        "two parts, twice the price"
    );
    assert!(shop.sim.messages().is_empty(), "a preview sends nothing");
    let (limited, _) = shop.core.preview("Orders", Some(1)).await.unwrap();
    assert_eq!(limited.len(), 1, "--limit is honoured");
    let run = shop.run(&quick()).await;
    assert_eq!((run.new_rows, run.incomplete), (2, 1), "the preview recorded nothing: the run finds every row");
    assert_eq!(run.segments, 3, "1 + 2 segments queued (the row without a phone is not): {run:?}");
    assert!(run.cost.is_some_and(|c| (c - 0.15).abs() < 1e-9), "the run's cost is theirs together: {run:?}");
    let recorded = shop.core.connection_view("Orders").unwrap().last_run.unwrap();
    assert_eq!((recorded.segments, recorded.cost), (run.segments, run.cost), "and is kept with the run");
}

#[tokio::test]
async fn drafts_are_checked_and_previewed_and_edits_keep_what_was_sent() {
    let shop = Shop::open().await;
    shop.write(&["1,Olena,0671234567", "2,Ivan,0501112233"]);
    let draft = shop.core.check_draft(&shop.spec(serde_json::json!({})), shop.dir.path()).await.unwrap();
    assert_eq!(draft.sample.headers, vec!["Order ID", "Name", "Phone"], "the wizard sees the columns");
    assert_eq!(draft.sample.total, 2, "and the row count");
    let preview = draft.preview.expect("the first row is composed");
    assert_eq!(preview.text, "Olena, your order 1 is confirmed.", "from the test row");
    let bad = shop.core.check_draft(&shop.spec(serde_json::json!({"message": "{{Nope}}"})), shop.dir.path()).await;
    assert!(bad.unwrap_err().to_string().contains("Nope"), "a draft is checked like a save");
    assert!(shop.core.connections().unwrap().is_empty(), "checking saves nothing");

    shop.add(serde_json::json!({})).await.unwrap();
    shop.run(&quick()).await;
    let edited = shop.spec(serde_json::json!({"message": "Dear {{Name}}, order {{Order ID}} shipped."}));
    shop.core.update_connection(edited, shop.dir.path()).await.unwrap();
    let after = shop.run(&quick()).await;
    assert_eq!(after.sent, 0, "editing the message does not resend rows already sent: {after:?}");
    let rekeyed = shop.spec(serde_json::json!({"row_key": null}));
    let err = shop.core.update_connection(rekeyed, shop.dir.path()).await.unwrap_err().to_string();
    assert!(err.contains("row_key"), "changing the row identity is refused: {err}");
}

#[tokio::test]
async fn the_sandbox_gives_a_newcomer_a_working_connection() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Arc::new(MemorySecrets::new())).unwrap();
    core.create_sandbox(&sim.base_url()).await.unwrap();
    core.create_sandbox(&sim.base_url()).await.expect("creating it twice is harmless");
    let (preview, _) = core.preview(sendrow_core::sandbox::SAMPLE_CONNECTION, None).await.unwrap();
    assert_eq!(preview.len(), 3, "the sample has three rows to preview");
    let test = core.test_send(sendrow_core::sandbox::SAMPLE_CONNECTION, None, None).await.unwrap();
    assert_eq!(test.status, EntryStatus::Queued, "a test SMS reaches the simulator: {test:?}");
    assert_eq!(sim.messages().len(), 1, "exactly one message");
}

/// product.md §4: the sandbox is a flag, never a name. These are the calls
/// the app makes: `sandbox_account` + `move_sandbox` at every start,
/// `create_sandbox` for "Open the sandbox".
#[tokio::test]
async fn a_users_own_sandbox_account_is_never_rewired() {
    let real = sim().await; // the user's own "8x8"
    let built_in = sim().await; // the app's simulator at this start
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Arc::new(MemorySecrets::new())).unwrap();
    let input = sendrow_core::account::AccountInput {
        name: "Sandbox".into(),
        subaccount_id: sendrow_core::sim::SANDBOX_SUBACCOUNT.into(),
        target: sendrow_core::account::Target::BaseUrl(real.base_url()),
        api_key: sendrow_core::secrets::Secret::new(sendrow_core::sim::SANDBOX_KEY),
    };
    let mine = core.add_account(input).await.unwrap();
    assert!(!mine.sandbox, "an account the user added is not the sandbox");

    assert!(core.sandbox_account().unwrap().is_none(), "the app starts no simulator for it");
    assert!(!core.move_sandbox(&built_in.base_url()).unwrap(), "an app start finds no sandbox to move");
    assert_eq!(core.account("Sandbox").unwrap(), mine, "an app start leaves the user's account as it was");

    core.create_sandbox(&built_in.base_url()).await.unwrap();
    assert_eq!(core.account("Sandbox").unwrap(), mine, "opening the sandbox leaves it as it was too");
    let sandbox = core.sandbox_account().unwrap().expect("the sandbox has its own account");
    assert_eq!((sandbox.name.as_str(), sandbox.base_url.as_str()), ("Sandbox 2", built_in.base_url().as_str()));
    let sample = core.connection_view(sendrow_core::sandbox::SAMPLE_CONNECTION).unwrap();
    assert_eq!(sample.account, "Sandbox 2", "the sample sends through the sandbox, not the user's account");

    let next_start = sim().await;
    assert!(core.move_sandbox(&next_start.base_url()).unwrap(), "the next start moves the sandbox");
    assert_eq!(core.sandbox_account().unwrap().unwrap().base_url, next_start.base_url());
    assert_eq!(core.account("Sandbox").unwrap(), mine, "and only the sandbox");
    core.test_send(sendrow_core::sandbox::SAMPLE_CONNECTION, None, None).await.unwrap();
    assert_eq!((next_start.messages().len(), real.messages().len()), (1, 0), "the sample goes to the simulator");
}

#[tokio::test]
async fn removing_a_connection_with_unknown_or_failed_messages_needs_force() {
    let shop = Shop::open().await;
    shop.write(&["1001,Olena,067 123 45 67"]);
    shop.add(serde_json::json!({})).await.unwrap();
    shop.sim.queue_faults([Fault::Reset]);
    let cut = shop.run(&quick()).await;
    assert!(cut.unknown > 0, "the cut-off batch is unknown: {cut:?}");
    let err = shop.core.remove_connection("Orders", false).unwrap_err();
    assert_eq!(err.code().as_str(), "unsettled", "{err}");
    assert!(err.to_string().contains("may have reached 8x8 (unknown)"), "{err}");
    assert!(shop.core.connection_view("Orders").is_ok(), "the connection and its history stay");
    shop.core.remove_connection("Orders", true).expect("forced");
    assert!(shop.core.connections().unwrap().is_empty(), "forced, it goes");
}

/// A run big enough to be composed on worker threads and written chunk by
/// chunk while later chunks are composed: every row is taken in order, the
/// rows left for later are not marked seen, and nobody is texted twice —
/// through the path that waits for every row (the flood guard may hold)
/// and the one that does not.
#[tokio::test]
async fn a_big_run_written_while_composed_keeps_every_row_once_in_order() {
    const ROWS: usize = 9_500;
    let rows = |fixed: bool| -> Vec<String> {
        (0..ROWS)
            .map(|i| match i % 997 {
                // Still being typed: the message uses Name.
                5 if !fixed => format!("{i},,0671{i:06}"),
                // A number to correct.
                6 if !fixed => format!("{i},Bad {i},12"),
                _ => format!("{i},Customer {i},0671{i:06}"),
            })
            .collect()
    };
    let later = (0..ROWS).filter(|i| matches!(i % 997, 5 | 6)).count();
    // More new rows than the limit, all ready ones within it: composed in
    // full first (the flood guard might have held them); then a limit over
    // the rows: written while composed.
    for limit in [ROWS - later - 1, 20_000] {
        let shop = Shop::open().await;
        shop.core.add_optout("+380671000007", Country::parse("UA").unwrap(), None).unwrap();
        let first = rows(false);
        shop.write(&first.iter().map(String::as_str).collect::<Vec<_>>());
        shop.add(serde_json::json!({"flood_limit": limit, "message": "{{Name}}: order {{Order ID}}"})).await.unwrap();
        let run = shop.run(&quick()).await;
        let why = if limit < ROWS { "composed in full first" } else { "written while composed" };
        assert_eq!(run.new_rows, ROWS - later, "{why}: every complete row is taken: {run:?}");
        assert_eq!((run.sent, run.skipped), (ROWS - later - 1, later + 1), "{why}: the opted-out number is skipped");
        assert_eq!(run.rows_to_fix.len(), later, "{why}: each row left for later is named");
        let history = shop.core.history("Orders").unwrap();
        let mut by_id = history.clone();
        by_id.sort_by_key(|e| e.id);
        let lines: Vec<i64> = by_id.iter().filter_map(|e| e.row_line).collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{why}: entries are written in the rows' order");
        let sent = shop.sim.messages();
        let mut ids: Vec<String> = sent.iter().map(|m| m.text.split(": order ").nth(1).unwrap().to_owned()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), sent.len(), "{why}: no row texted twice");

        let fixed = rows(true);
        shop.write(&fixed.iter().map(String::as_str).collect::<Vec<_>>());
        let next = shop.run(&quick()).await;
        assert_eq!((next.new_rows, next.sent), (later, later), "{why}: the corrected rows go next time: {next:?}");
        assert_eq!(shop.sim.messages().len(), ROWS - 1, "{why}: everyone once, but the opted-out number");
    }
}
