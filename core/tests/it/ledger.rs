//! The send ledger and delivery: exactly-once claims across processes, every
//! outcome recorded, and nothing resent that may already have gone out.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sendrow_core::gateway::{Endpoint, Gateway};
use sendrow_core::send::{deliver, RetryPolicy};
use sendrow_core::sim::{Fault, SimConfig, SANDBOX_KEY, SANDBOX_SUBACCOUNT};
use sendrow_core::store::{Claim, EntryStatus, NewEntry, Outcome, Resolution, Store};

use crate::{gateway, gateway_as, sim, sim_with};

fn entry(key: &str, phone: &str) -> NewEntry {
    NewEntry {
        row_key: key.into(),
        row_line: None,
        phone: Some(phone.into()),
        text: format!("Order {key} is confirmed"),
        status: EntryStatus::Pending,
        reason: None,
        is_test: false,
        not_before: None,
        time_slots: None,
    }
}

fn store_with_connection() -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let id = store.insert_connection("orders", &serde_json::json!({}), true, Utc::now()).unwrap();
    (dir, store, id)
}

/// Tiny back-offs: the tests exercise the retry path, not the waiting.
fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..Default::default()
    }
}

#[test]
fn one_real_entry_per_row_and_short_client_ids() {
    let (_dir, store, conn) = store_with_connection();
    let ids = store.insert_entries(conn, &[entry("A-1", "+380671234567")], Utc::now()).unwrap();
    let again = store.insert_entries(conn, &[entry("A-1", "+380671234567")], Utc::now()).unwrap();
    assert!(again.is_empty(), "a second real entry for the same row is not written");
    assert_eq!(store.history(conn).unwrap().len(), 1, "the row still has exactly one entry");
    let test = NewEntry { is_test: true, ..entry("A-1", "+380671234567") };
    store.insert_entries(conn, &[test], Utc::now()).expect("test sends do not count as the row's entry");
    let stored = store.entries(&ids).unwrap();
    assert!(stored[0].client_message_id.len() <= 50, "8x8 once capped clientMessageId at 50");
    let install = store.setting("install_id").unwrap().and_then(|v| v.as_str().map(str::to_owned)).unwrap();
    assert_eq!(install.len(), 16, "a random id of the data folder: {install}");
    assert_eq!(stored[0].client_message_id, format!("sr-{install}-{}", ids[0]), "the folder's id and the entry's");

    // Another data folder (a second computer, a reinstall) on the same 8x8
    // subaccount never writes the same clientMessageId.
    let (_other_dir, other, other_conn) = store_with_connection();
    let other_ids = other.insert_entries(other_conn, &[entry("A-1", "+380671234567")], Utc::now()).unwrap();
    assert_eq!(other_ids, ids, "both folders number their first entry alike");
    let theirs = other.entries(&other_ids).unwrap()[0].client_message_id.clone();
    assert_ne!(theirs, stored[0].client_message_id, "but their clientMessageIds differ");
}

#[test]
fn two_processes_never_claim_the_same_entry() {
    let (dir, store, conn) = store_with_connection();
    let rows: Vec<NewEntry> = (0..200).map(|i| entry(&format!("R{i}"), "+380671234567")).collect();
    store.insert_entries(conn, &rows, Utc::now()).unwrap();
    drop(store);
    // Two handles on one file stand for the window and a CLI run.
    let path = Arc::new(dir.path().to_owned());
    let claimers: Vec<_> = (0..2)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = Store::open(&path).unwrap();
                let mut mine = Vec::new();
                loop {
                    let claimed = store.claim(conn, false, 7, Utc::now()).unwrap();
                    if claimed.is_empty() {
                        break mine;
                    }
                    mine.extend(claimed.into_iter().map(|e| e.row_key));
                }
            })
        })
        .collect();
    let mut all: Vec<String> = claimers.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(total, 200, "every entry was claimed");
    assert_eq!(all.len(), 200, "and none twice");
}

#[test]
fn outcomes_only_land_on_entries_being_sent_and_crashes_become_unknown() {
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "+380671234568")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 10, Utc::now()).unwrap();
    assert_eq!(claimed.len(), 2, "both pending entries are claimed");
    store.record(&[(claimed[0].id, Outcome::Queued { umid: "u-1".into() })], Utc::now()).unwrap();
    // A late duplicate outcome must not overwrite the first one.
    store.record(&[(claimed[0].id, Outcome::Failed { reason: "late".into() })], Utc::now()).unwrap();
    // The process dies with B in flight.
    assert_eq!(store.recover_interrupted(Utc::now()).unwrap(), 1, "only the in-flight entry is affected");
    let history = store.history(conn).unwrap();
    assert_eq!(history[0].status, EntryStatus::Queued, "the first outcome stands");
    assert_eq!(history[0].umid.as_deref(), Some("u-1"), "with its umid");
    assert_eq!(history[1].status, EntryStatus::Unknown, "an interrupted send is unknown, not resent");
    assert!(store.claim(conn, true, 10, Utc::now()).unwrap().is_empty(), "unknown entries are never claimed again");

    assert!(store.resolve(conn, "B", Resolution::MarkSent, Utc::now()).unwrap(), "a person can mark it sent");
    assert_eq!(store.history(conn).unwrap()[1].status, EntryStatus::Sent, "and it stays sent");
    assert!(!store.resolve(conn, "A", Resolution::Resend, Utc::now()).unwrap(), "a queued entry cannot be resent");
}

#[test]
fn opening_the_folder_after_a_crash_shows_interrupted_sends_as_unknown_unless_someone_is_sending() {
    let (dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567")], Utc::now()).unwrap();
    store.claim(conn, false, 10, Utc::now()).unwrap();
    drop(store);
    let secrets = Arc::new(sendrow_core::secrets::MemorySecrets::default());
    let status = || Store::open(dir.path()).unwrap().history(conn).unwrap().remove(0).status;
    {
        // Another process is mid-send: its `sending` entry is its own business.
        let _sending = sendrow_core::lock::sending(dir.path()).unwrap();
        sendrow_core::Core::open(dir.path(), secrets.clone()).unwrap();
        assert_eq!(status(), EntryStatus::Sending, "a live send is left alone");
    }
    // Nobody sends any more: the process that claimed it died.
    sendrow_core::Core::open(dir.path(), secrets).unwrap();
    assert_eq!(status(), EntryStatus::Unknown, "at start-up, before any run");
}

#[tokio::test]
async fn batch_delivery_records_queued_and_rejected_items() {
    let sim = sim().await;
    let (_dir, store, conn) = store_with_connection();
    store
        .insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "12"), entry("C", "+447700900123")], Utc::now())
        .unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let delivery = deliver(&store, &gateway(&sim), &claimed, Some("MyShop"), &quick()).await.unwrap();
    assert_eq!((delivery.queued, delivery.rejected), (2, 1), "two queued, one refused: {delivery:?}");
    let history = store.history(conn).unwrap();
    assert_eq!(history[1].status, EntryStatus::Rejected, "the bad number is rejected");
    assert_eq!(
        history[1].reason.as_deref(),
        Some("Invalid MSISDN format (not E.164 international number)"),
        "with 8x8's words"
    );
    let sent = sim.messages();
    assert_eq!(sent.len(), 2, "the simulator got exactly the two good ones");
    assert!(sent.iter().all(|m| m.batch_id.is_some()), "more than one message goes as a batch");
    assert_eq!(history[0].umid.as_deref(), Some(sent[0].umid.as_str()), "umids are matched by clientMessageId");
}

#[tokio::test]
async fn a_single_message_uses_the_single_endpoint() {
    let sim = sim().await;
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let delivery = deliver(&store, &gateway(&sim), &claimed, None, &quick()).await.unwrap();
    assert_eq!(delivery.queued, 1, "sent: {delivery:?}");
    assert_eq!(sim.messages()[0].batch_id, None, "one message is not a batch");
}

#[tokio::test]
async fn transient_faults_are_retried_then_succeed_once() {
    let sim = sim().await;
    sim.queue_faults([Fault::Unavailable, Fault::TooManyRequests]);
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "+380671234568")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let policy = RetryPolicy { max_delay: Duration::from_millis(5), ..quick() };
    let started = std::time::Instant::now();
    let delivery = deliver(&store, &gateway(&sim), &claimed, None, &policy).await.unwrap();
    assert_eq!(delivery.queued, 2, "after a 503 and a 429 the batch went through: {delivery:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "8x8's `Retry-After: 1` is waited out in full, though back-offs are capped at 5 ms"
    );
    assert_eq!(sim.messages().len(), 2, "each message reached 8x8 exactly once");
    let attempts: Vec<i64> = store.history(conn).unwrap().iter().map(|e| e.attempts).collect();
    assert_eq!(attempts, [3, 3], "the history counts every request made for a message");
}

#[tokio::test]
async fn a_retry_after_longer_than_a_run_waits_leaves_the_messages_to_a_later_run() {
    let sim = sim().await;
    sim.queue_faults([Fault::TooManyRequests]);
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let policy = RetryPolicy { max_retry_after: Duration::from_millis(500), ..quick() };
    let delivery = deliver(&store, &gateway(&sim), &claimed, None, &policy).await.unwrap();
    assert_eq!(delivery.failed, 1, "not sent sooner than 8x8 asked, and not waited for here: {delivery:?}");
    assert!(sim.messages().is_empty(), "nothing was accepted");
    assert_eq!(store.claim(conn, true, 100, Utc::now()).unwrap().len(), 1, "a later run sends it");
}

#[tokio::test]
async fn exhausted_retries_fail_and_the_next_run_tries_again() {
    let sim = sim_with(SimConfig { fail_rate: 1.0, faults: vec![Fault::Unavailable], ..SimConfig::default() }).await;
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let delivery = deliver(&store, &gateway(&sim), &claimed, None, &quick()).await.unwrap();
    assert_eq!(delivery.failed, 1, "a 503 that never stops ends failed: {delivery:?}");
    assert_eq!(store.history(conn).unwrap()[0].attempts, 4, "each of the policy's 4 requests counts");
    assert!(store.claim(conn, false, 100, Utc::now()).unwrap().is_empty(), "failed entries wait for a retrying run");
    let again = store.claim(conn, true, 100, Utc::now()).unwrap();
    assert_eq!(again.len(), 1, "the next run picks the failed entry up again");
}

#[tokio::test]
async fn an_ambiguous_send_is_unknown_and_not_retried() {
    let sim = sim().await;
    sim.queue_faults([Fault::Reset]);
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "+380671234568")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let delivery = deliver(&store, &gateway(&sim), &claimed, None, &quick()).await.unwrap();
    assert_eq!(delivery.unknown, 2, "a reset after sending leaves both unknown: {delivery:?}");
    assert_eq!(sim.messages().len(), 2, "8x8 did accept them: a retry would have texted twice");
    assert!(store.claim(conn, true, 100, Utc::now()).unwrap().is_empty(), "unknown entries are not claimed again");
}

#[tokio::test]
async fn a_5xx_after_8x8_queued_the_batch_is_unknown_and_never_sent_twice() {
    // The numbers: two rows, three runs, and a proxy that answers
    // 504 after 8x8 queued the batch each time used to text each customer 15
    // times. Each of 500, 502 and 504 accepts the messages first.
    for fault in [Fault::AcceptedThen500, Fault::AcceptedThen502, Fault::AcceptedThen504] {
        let sim = sim_with(SimConfig { fail_rate: 1.0, faults: vec![fault], ..SimConfig::default() }).await;
        let (_dir, store, conn) = store_with_connection();
        store.insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "+380671234568")], Utc::now()).unwrap();
        for run in 1..=3 {
            let claimed = store.claim(conn, true, 100, Utc::now()).unwrap();
            let delivery = deliver(&store, &gateway(&sim), &claimed, None, &quick()).await.unwrap();
            if run == 1 {
                assert_eq!(delivery.unknown, 2, "{fault:?}: both unknown after the first run: {delivery:?}");
            } else {
                assert!(claimed.is_empty(), "{fault:?}: run {run} claims nothing: unknown is never retried blindly");
            }
        }
        assert_eq!(sim.messages().len(), 2, "{fault:?}: each customer got exactly one SMS, not 15");
        let history = store.history(conn).unwrap();
        assert!(
            history.iter().all(|e| e.status == EntryStatus::Unknown && e.attempts == 1),
            "{fault:?}: one request each, left for reconciliation: {history:?}"
        );
    }
}

#[tokio::test]
async fn a_per_item_internal_error_is_retried_by_the_next_run() {
    // 8x8 documents "Internal server error" among the per-item refusals of a
    // batch: 8x8's own trouble, not the message's.
    let status = |code: &str, description: &str| sendrow_core::gateway::wire::SendStatus {
        code: code.into(),
        description: description.into(),
    };
    assert!(status("REJECTED", "Internal server error").is_transient_refusal(), "8x8's own error is passing");
    assert!(!status("REJECTED", "Invalid MSISDN format (not E.164 international number)").is_transient_refusal());
    assert!(!status("QUEUED", "Internal server error").is_transient_refusal(), "a queued message is not refused");
}

#[tokio::test]
async fn a_delivery_dropped_part_way_gives_back_the_claims_it_had_not_sent() {
    let slow = sim_with(SimConfig { latency: Duration::from_millis(400), ..SimConfig::default() }).await;
    let (_dir, store, conn) = store_with_connection();
    let rows = [entry("A", "+380671111111"), entry("B", "+380672222222"), entry("C", "+380673333333")];
    store.insert_entries(conn, &rows, Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let one_by_one = RetryPolicy { batch_size: 1, ..quick() };
    let to_slow = gateway(&slow);
    {
        let delivery = deliver(&store, &to_slow, &claimed, None, &one_by_one);
        tokio::pin!(delivery);
        // Stopped while A's request is out (8x8 takes 400 ms to answer).
        let stopped = tokio::time::timeout(Duration::from_millis(100), &mut delivery).await;
        assert!(stopped.is_err(), "cut short");
    }
    let statuses: Vec<EntryStatus> = store.history(conn).unwrap().iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [EntryStatus::Sending, EntryStatus::Pending, EntryStatus::Pending],
        "A's request was written: it may have gone (unknown at the next start); B and C never left: pending"
    );
    assert_eq!(store.recover_interrupted(Utc::now()).unwrap(), 1, "only A is left to reconcile");
}

#[tokio::test]
async fn an_unreachable_8x8_ends_failed_after_the_retries_and_the_next_run_sends_it() {
    // A simulator that stopped: nothing listens on its port any more, so
    // every request is refused before a byte of it left the machine.
    let gone = sim().await;
    let url = gone.base_url();
    gone.stop().await;
    let endpoint = Endpoint {
        base_url: url,
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        api_key: sendrow_core::secrets::Secret::new(SANDBOX_KEY),
    };
    let unreachable = Gateway::with_timeout(endpoint, Duration::from_secs(5));
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "+380671234568")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let delivery = deliver(&store, &unreachable, &claimed, None, &quick()).await.unwrap();
    assert_eq!(delivery.failed, 2, "unreachable on every attempt: failed, not unknown: {delivery:?}");
    let history = store.history(conn).unwrap();
    assert!(
        history.iter().all(|e| e.status == EntryStatus::Failed && e.attempts == 4),
        "both failed after the policy's 4 attempts: {history:?}"
    );
    assert!(history.iter().all(|e| e.reason.as_deref().is_some_and(|r| !r.is_empty())), "with why: {history:?}");
    assert!(store.claim(conn, false, 100, Utc::now()).unwrap().is_empty(), "not claimed by a run that skips failed");

    // The next run, with 8x8 reachable again, sends them once.
    let live = sim().await;
    let again = store.claim(conn, true, 100, Utc::now()).unwrap();
    assert_eq!(again.len(), 2, "the next run claims both failed entries");
    let delivery = deliver(&store, &gateway(&live), &again, None, &quick()).await.unwrap();
    assert_eq!(delivery.queued, 2, "and 8x8 queues them: {delivery:?}");
    assert_eq!(live.messages().len(), 2, "each reached 8x8 once");
}

#[tokio::test]
async fn a_timeout_after_8x8_took_the_request_is_unknown_and_never_claimed_again() {
    let sim = sim().await;
    sim.queue_faults([Fault::Timeout]);
    let endpoint = Endpoint {
        base_url: sim.base_url(),
        subaccount_id: SANDBOX_SUBACCOUNT.into(),
        api_key: sendrow_core::secrets::Secret::new(SANDBOX_KEY),
    };
    // The simulator never answers a timed-out request; the client gives up first.
    let impatient = Gateway::with_timeout(endpoint, Duration::from_millis(300));
    let (_dir, store, conn) = store_with_connection();
    store.insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "+380671234568")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let delivery = deliver(&store, &impatient, &claimed, None, &quick()).await.unwrap();
    assert_eq!(delivery.unknown, 2, "no answer after the request went out: unknown: {delivery:?}");
    assert_eq!(sim.messages().len(), 2, "8x8 did take both: a retry would text them twice");
    let history = store.history(conn).unwrap();
    assert!(
        history.iter().all(|e| e.status == EntryStatus::Unknown && e.attempts == 1),
        "unknown after one request, not retried: {history:?}"
    );
    for scope in [Claim::Due, Claim::DueButFailed, Claim::OnlyFailed] {
        assert!(
            store.claim_scope(conn, scope, 100, Utc::now()).unwrap().is_empty(),
            "no run, nor \"resend failed\", claims an unknown entry ({scope:?})"
        );
    }
    assert_eq!(sim.messages().len(), 2, "nothing more reached 8x8");
}

#[tokio::test]
async fn a_refused_key_stops_delivery_and_returns_entries_to_pending() {
    let sim = sim().await;
    let (_dir, store, conn) = store_with_connection();
    let rows: Vec<NewEntry> = (0..5).map(|i| entry(&format!("R{i}"), "+380671234567")).collect();
    store.insert_entries(conn, &rows, Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 100, Utc::now()).unwrap();
    let policy = RetryPolicy { batch_size: 2, ..quick() };
    let bad = gateway_as(&sim, sendrow_core::sim::SANDBOX_SUBACCOUNT, "revoked");
    let delivery = deliver(&store, &bad, &claimed, None, &policy).await.unwrap();
    let refusal = delivery.account_refused.clone().expect("the refusal is reported");
    assert_eq!(refusal.code, Some(1200), "with 8x8's code");
    assert_eq!(delivery.unsent, 5, "no later chunk was tried and nothing counts as sent: {delivery:?}");
    let history = store.history(conn).unwrap();
    assert!(history.iter().all(|e| e.status == EntryStatus::Pending && e.attempts == 0), "all back to pending");
    assert!(sim.messages().is_empty(), "8x8 accepted nothing");
}

#[tokio::test]
async fn delivery_states_are_polled_and_recorded_with_the_carriers_reason() {
    use sendrow_core::account::{AccountInput, Target};
    use sendrow_core::delivery::PollSettings;
    use sendrow_core::secrets::{MemorySecrets, Secret};

    let sim = sim_with(SimConfig {
        undeliverable: vec!["+380500000000".into()],
        delivery_step: Duration::ZERO,
        ..SimConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let core = sendrow_core::Core::open(dir.path(), Arc::new(MemorySecrets::new())).unwrap();
    core.add_account(AccountInput {
        name: "main".into(),
        subaccount_id: sendrow_core::sim::SANDBOX_SUBACCOUNT.into(),
        target: Target::BaseUrl(sim.base_url()),
        api_key: Secret::new(sendrow_core::sim::SANDBOX_KEY),
    })
    .await
    .unwrap();
    // A second handle on the same file, as another process would have.
    let store = Store::open(dir.path()).unwrap();
    let conn = store.insert_connection("orders", &serde_json::json!({"account": "main"}), true, Utc::now()).unwrap();
    store.insert_entries(conn, &[entry("A", "+380671234567"), entry("B", "+380500000000")], Utc::now()).unwrap();
    let claimed = store.claim(conn, false, 10, Utc::now()).unwrap();
    deliver(&store, &gateway(&sim), &claimed, None, &quick()).await.unwrap();

    let settings = PollSettings { per_subaccount_gap: Duration::from_millis(1100), ..PollSettings::default() };
    let report = core.check_deliveries(Utc::now(), &settings).await.unwrap();
    assert_eq!(report.checked, 2, "both queued messages were looked up: {report:?}");
    let history = store.history(conn).unwrap();
    assert_eq!(history[0].delivery_state.as_deref(), Some("delivered"), "a good number is delivered");
    assert_eq!(history[1].delivery_state.as_deref(), Some("undelivered"), "the configured number is not");
    assert_eq!(history[1].delivery_error.as_deref(), Some("Absent subscriber (code 1)"), "with the carrier's reason");

    let again = core.check_deliveries(Utc::now(), &settings).await.unwrap();
    assert_eq!(again.checked, 0, "settled messages are not asked about again");
}

#[tokio::test]
async fn receipts_are_asked_for_48_hours_after_queueing_one_request_a_second_per_subaccount() {
    use sendrow_core::account::{AccountInput, Target};
    use sendrow_core::delivery::PollSettings;
    use sendrow_core::secrets::{MemorySecrets, Secret};

    let sim = sim_with(SimConfig { delivery_step: Duration::ZERO, ..SimConfig::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let core = sendrow_core::Core::open(dir.path(), Arc::new(MemorySecrets::new())).unwrap();
    // Two accounts on one subaccount (say, two shops of one owner): 8x8's
    // one request a second is theirs together.
    for name in ["main", "second"] {
        core.add_account(AccountInput {
            name: name.into(),
            subaccount_id: sendrow_core::sim::SANDBOX_SUBACCOUNT.into(),
            target: Target::BaseUrl(sim.base_url()),
            api_key: Secret::new(sendrow_core::sim::SANDBOX_KEY),
        })
        .await
        .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let orders = store.insert_connection("orders", &serde_json::json!({"account": "main"}), true, Utc::now()).unwrap();
    let returns =
        store.insert_connection("returns", &serde_json::json!({"account": "second"}), true, Utc::now()).unwrap();
    // Found three days ago (say the flood guard held them), queued only now.
    let found = Utc::now() - chrono::Duration::hours(72);
    for key in ["A", "B"] {
        for conn in [orders, returns] {
            store.insert_entries(conn, &[entry(key, "+380671234567")], found).unwrap();
        }
    }
    for conn in [orders, returns] {
        let claimed = store.claim(conn, false, 10, Utc::now()).unwrap();
        deliver(&store, &gateway(&sim), &claimed, None, &quick()).await.unwrap();
    }

    // Adding the accounts verified them with a details request: let that second pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let settings = PollSettings { per_subaccount_gap: Duration::from_millis(1100), ..PollSettings::default() };
    let late = core.check_deliveries(Utc::now() + chrono::Duration::hours(49), &settings).await.unwrap();
    assert_eq!(late.checked, 0, "49 hours after queueing 8x8 forwards no receipts: {late:?}");
    let report = core.check_deliveries(Utc::now() + chrono::Duration::hours(47), &settings).await.unwrap();
    assert_eq!(report.checked, 4, "47 hours after queueing (119 after the rows were found) they are asked: {report:?}");
    assert_eq!(report.told_to_wait, 0, "paced per subaccount, not per account, so 8x8 never said 429: {report:?}");
}
